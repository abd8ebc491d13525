/**
 * The commands a machine answers over SSH `exec` (see README.md's table), with just enough shell around
 * them: quoting, `&&`, `||`, `;`, and output sent to `/dev/null`.
 */
import { formatShow, formatShowField } from './wireguard';
import type { CloudInitStatus, WireguardInterfaceShow, WireguardUnitState } from './types';

/** How a command ended. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** What the commands see of their machine, at the moment they run. */
export interface MachineShell {
  name: string;
  adminUsername: string;
  now(): number;
  cloudInit(): CloudInitStatus;
  /** When cloud-init ends (ms), for `cloud-init status --wait`. */
  cloudInitEndMs(): number | undefined;
  wireguard(): WireguardUnitState;
  /** The machine's `wg0` while it is up. */
  wg0(): WireguardInterfaceShow | undefined;
  /** The cloud-init wrote `/etc/wireguard/wg0.conf`. */
  hasWg0Config(): boolean;
  lockHeld(): boolean;
  releaseLock(): void;
  k0s(): { version: string; role: string } | undefined;
}

const LOCK_FILE = '/run/lock/k0sctl';
const OK: ExecResult = { stdout: '', stderr: '', code: 0 };

function result(code: number, stdout = '', stderr = ''): ExecResult {
  return { stdout, stderr, code };
}

type Token = { word: string } | { op: string } | { redirect: string; target: string };

/** Splits a command line into words, operators and redirections; throws on what it cannot run. */
function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i] ?? '';
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const op = /^(&&|\|\||;|\||&(?!>))/.exec(line.slice(i));
    if (op) {
      tokens.push({ op: op[0] });
      i += op[0].length;
      continue;
    }
    const redirect = /^(&>|[12]?>>?)(&[12])?/.exec(line.slice(i));
    if (redirect && (c === '>' || c === '&' || /^[12]>/.test(line.slice(i)))) {
      i += redirect[0].length;
      if (redirect[2]) {
        tokens.push({ redirect: redirect[1] ?? '>', target: redirect[2] });
        continue;
      }
      while (/\s/.test(line[i] ?? '')) i++;
      const start = i;
      while (i < line.length && !/[\s;&|]/.test(line[i] ?? '')) i++;
      tokens.push({ redirect: redirect[1] ?? '>', target: line.slice(start, i) });
      continue;
    }
    let word = '';
    while (i < line.length && !/[\s;&|>]/.test(line[i] ?? '')) {
      const ch = line[i] ?? '';
      if (ch === "'") {
        const end = line.indexOf("'", i + 1);
        if (end < 0) throw new Error("unexpected EOF while looking for matching `''");
        word += line.slice(i + 1, end);
        i = end + 1;
      } else if (ch === '"') {
        i++;
        while (i < line.length && line[i] !== '"') {
          if (line[i] === '\\' && /["\\$`]/.test(line[i + 1] ?? '')) i++;
          word += line[i] ?? '';
          i++;
        }
        if (i >= line.length) throw new Error('unexpected EOF while looking for matching `"\'');
        i++;
      } else if (ch === '\\') {
        word += line[i + 1] ?? '';
        i += 2;
      } else {
        word += ch;
        i++;
      }
    }
    tokens.push({ word });
  }
  return tokens;
}

interface Simple {
  words: string[];
  redirects: { redirect: string; target: string }[];
}

function applyRedirects(r: ExecResult, redirects: Simple['redirects']): ExecResult {
  let { stdout, stderr } = r;
  for (const { redirect, target } of redirects) {
    if (target === '&1' && redirect.startsWith('2')) {
      stdout += stderr;
      stderr = '';
    } else if (target === '&2' && !redirect.startsWith('2')) {
      stderr += stdout;
      stdout = '';
    } else if (redirect === '&>') {
      stdout = '';
      stderr = '';
    } else if (redirect.startsWith('2')) stderr = '';
    else stdout = '';
  }
  return { stdout, stderr, code: r.code };
}

/** Runs a command line on a machine. */
export async function runCommandLine(line: string, shell: MachineShell): Promise<ExecResult> {
  let tokens: Token[];
  try {
    tokens = tokenize(line);
  } catch (err) {
    return result(2, '', `bash: -c: line 1: ${(err as Error).message}\n`);
  }
  const steps: { simple: Simple; before?: string }[] = [];
  let current: Simple = { words: [], redirects: [] };
  let before: string | undefined;
  for (const t of tokens) {
    if ('op' in t) {
      if (t.op === '|' || t.op === '&')
        return result(
          2,
          '',
          `bash: the emulated machine ${shell.name} runs no pipelines or background jobs\n`
        );
      if (current.words.length === 0)
        return result(2, '', `bash: syntax error near unexpected token \`${t.op}'\n`);
      steps.push({ simple: current, before });
      before = t.op;
      current = { words: [], redirects: [] };
    } else if ('redirect' in t) {
      if (t.target !== '/dev/null' && t.target !== '&1' && t.target !== '&2')
        return result(
          2,
          '',
          `bash: the emulated machine ${shell.name} writes no files (only to /dev/null)\n`
        );
      current.redirects.push(t);
    } else current.words.push(t.word);
  }
  if (current.words.length > 0) steps.push({ simple: current, before });
  else if (before !== undefined && before !== ';')
    return result(2, '', 'bash: syntax error: unexpected end of file\n');

  const out: ExecResult = { stdout: '', stderr: '', code: 0 };
  for (const step of steps) {
    if (step.before === '&&' && out.code !== 0) continue;
    if (step.before === '||' && out.code === 0) continue;
    const r = applyRedirects(await runSimple(step.simple.words, shell), step.simple.redirects);
    out.stdout += r.stdout;
    out.stderr += r.stderr;
    out.code = r.code;
  }
  return out;
}

async function runSimple(words: string[], shell: MachineShell): Promise<ExecResult> {
  let args = words;
  let sudo = false;
  if (args[0] === 'sudo') {
    sudo = true;
    args = args.slice(1);
    while (args[0]?.startsWith('-')) {
      if (args[0] === '-n' || args[0] === '-E' || args[0] === '-H') args = args.slice(1);
      else return result(1, '', `sudo: the emulated machine knows no option ${args[0]}\n`);
    }
    if (args.length === 0) return result(1, '', 'usage: sudo command\n');
  }
  const [program = '', ...rest] = args;
  switch (program) {
    case 'echo':
      return echo(rest);
    case 'true':
      return OK;
    case 'false':
      return result(1);
    case 'hostname':
      return result(0, `${shell.name}\n`);
    case 'whoami':
      return result(0, `${sudo ? 'root' : shell.adminUsername}\n`);
    case 'cloud-init':
      return cloudInit(rest, shell);
    case 'systemctl':
      return systemctl(rest, shell);
    case 'wg':
      return wg(rest, sudo, shell);
    case 'test':
    case '[':
      return test(program === '[' ? rest.slice(0, -1) : rest, sudo, shell);
    case 'rm':
      return rm(rest, sudo, shell);
    case 'k0s':
      return k0s(rest, sudo, shell);
    default:
      return result(127, '', `bash: ${program}: command not found\n`);
  }
}

function echo(args: string[]): ExecResult {
  const newline = args[0] !== '-n';
  const words = newline ? args : args.slice(1);
  return result(0, `${words.join(' ')}${newline ? '\n' : ''}`);
}

async function cloudInit(args: string[], shell: MachineShell): Promise<ExecResult> {
  if (args[0] !== 'status')
    return result(
      2,
      '',
      'usage: cloud-init [-h] {status} ...\ncloud-init: the emulated machine answers `cloud-init status` only\n'
    );
  const flags = args.slice(1);
  const unknown = flags.find((f) => !['--wait', '-w', '--long', '-l'].includes(f));
  if (unknown)
    return result(
      2,
      '',
      `usage: cloud-init status [-h] [-l] [-w]\ncloud-init status: error: unrecognized arguments: ${unknown}\n`
    );
  let dots = '';
  if (flags.includes('--wait') || flags.includes('-w')) {
    for (;;) {
      const end = shell.cloudInitEndMs();
      if (shell.cloudInit() !== 'running' || end === undefined) break;
      dots += '.';
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(250, end - shell.now()))));
    }
    if (dots !== '') dots += '\n';
  }
  const status = shell.cloudInit();
  const long = flags.includes('--long') || flags.includes('-l');
  const detail =
    status === 'done'
      ? 'DataSourceAzure [seed=/dev/sr0]'
      : status === 'error'
        ? 'errors were reported while running the cloud-config modules'
        : 'Running in stage: modules-final';
  return result(status === 'error' ? 1 : 0, `${dots}status: ${status}\n${long ? `detail: ${detail}\n` : ''}`);
}

function systemctl(args: string[], shell: MachineShell): ExecResult {
  const [verb, ...units] = args.filter((a) => a !== '--quiet' && a !== '-q');
  const quiet = args.includes('--quiet') || args.includes('-q');
  if (verb !== 'is-active')
    return result(1, '', `Unknown command verb ${verb ?? ''} (the emulated machine answers is-active).\n`);
  if (units.length === 0) return result(1, '', 'Too few arguments.\n');
  const states = units.map((unit) => {
    if (unit === 'wg-quick@wg0' || unit === 'wg-quick@wg0.service') return shell.wireguard();
    const k0s = shell.k0s();
    if (k0s && (unit === `k0s${k0s.role}` || unit === `k0s${k0s.role}.service`)) return 'active';
    return 'inactive';
  });
  return result(
    states.every((s) => s === 'active') ? 0 : 3,
    quiet ? '' : states.map((s) => `${s}\n`).join('')
  );
}

function wg(args: string[], sudo: boolean, shell: MachineShell): ExecResult {
  if (args[0] !== 'show')
    return result(1, '', `Invalid subcommand: \`${args[0] ?? ''}' (the emulated machine answers wg show)\n`);
  if (!sudo) return result(1, '', 'Unable to access interface: Operation not permitted\n');
  const wg0 = shell.wg0();
  const [iface, field] = args.slice(1);
  if (iface === 'interfaces') return result(0, wg0 ? 'wg0\n' : '');
  if (iface === undefined || iface === 'all') {
    if (!wg0) return OK;
    if (field === undefined) return result(0, formatShow(wg0, shell.now()));
    const text = formatShowField(wg0, field, true);
    return text === undefined ? result(1, '', `Invalid parameters: \`${field}'\n`) : result(0, text);
  }
  if (iface !== 'wg0' || !wg0) return result(1, '', 'Unable to access interface: No such device\n');
  if (field === undefined) return result(0, formatShow(wg0, shell.now()));
  const text = formatShowField(wg0, field);
  return text === undefined ? result(1, '', `Invalid parameters: \`${field}'\n`) : result(0, text);
}

function exists(path: string, sudo: boolean, shell: MachineShell): boolean {
  switch (path) {
    case LOCK_FILE:
      return shell.lockHeld();
    case '/etc/wireguard/wg0.conf':
      // /etc/wireguard is root's alone.
      return sudo && shell.hasWg0Config();
    case '/var/lib/cloud/instance/boot-finished':
      return shell.cloudInit() !== 'running';
    case '/usr/local/bin/k0s':
      return shell.k0s() !== undefined;
    case '/':
    case '/tmp':
    case '/etc':
    case '/run/lock':
      return true;
    default:
      return false;
  }
}

function test(args: string[], sudo: boolean, shell: MachineShell): ExecResult {
  if (args.length === 0) return result(1);
  if (args.length === 1) return result(args[0] === '' ? 1 : 0);
  const [flag, path = ''] = args;
  if (args.length === 2 && (flag === '-e' || flag === '-f')) return result(exists(path, sudo, shell) ? 0 : 1);
  if (args.length === 2 && flag === '-d')
    return result(['/', '/tmp', '/etc', '/run/lock'].includes(path) ? 0 : 1);
  return result(2, '', `test: the emulated machine answers test -e|-f|-d <path> only\n`);
}

function rm(args: string[], sudo: boolean, shell: MachineShell): ExecResult {
  const force = args.some((a) => /^-[a-zA-Z]*f/.test(a));
  const paths = args.filter((a) => !a.startsWith('-'));
  if (paths.length === 0)
    return result(1, '', "rm: missing operand\nTry 'rm --help' for more information.\n");
  let stderr = '';
  for (const path of paths) {
    if (path === LOCK_FILE && shell.lockHeld()) {
      if (sudo) shell.releaseLock();
      else stderr += `rm: cannot remove '${path}': Permission denied\n`;
    } else if (!force && !exists(path, sudo, shell)) {
      stderr += `rm: cannot remove '${path}': No such file or directory\n`;
    } else if (path !== LOCK_FILE && exists(path, sudo, shell)) {
      stderr += `rm: the emulated machine ${shell.name} removes nothing but ${LOCK_FILE}\n`;
    }
  }
  return result(stderr === '' ? 0 : 1, '', stderr);
}

function k0s(args: string[], sudo: boolean, shell: MachineShell): ExecResult {
  const installed = shell.k0s();
  if (!installed)
    return sudo
      ? result(1, '', 'sudo: k0s: command not found\n')
      : result(127, '', 'bash: k0s: command not found\n');
  if (args[0] === 'version') return result(0, `${installed.version}\n`);
  if (args[0] !== 'status')
    return result(
      1,
      '',
      `Error: unknown command "${args[0] ?? ''}" for "k0s" (the emulated machine answers status, version)\n`
    );
  if (!sudo)
    return result(
      1,
      '',
      'Error: failed to get the status: dial unix /run/k0s/status.sock: connect: permission denied\n'
    );
  const workloads = installed.role !== 'controller';
  return result(
    0,
    [
      `Version: ${installed.version}`,
      `Process ID: ${1000 + (hash(shell.name) % 9000)}`,
      `Role: ${installed.role}`,
      `Workloads: ${workloads}`,
      'SingleNode: false',
      '',
    ].join('\n')
  );
}

function hash(text: string): number {
  let h = 0;
  for (const ch of text) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h;
}
