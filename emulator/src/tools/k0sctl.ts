/** Emulated `k0sctl`: `apply`, `kubeconfig` and `reset` of the cluster a k0sctl config describes. */
import { isIP } from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import type { ToolIO, ToolMain } from './client';
import { ToolError, crash, errorMessage, worldCall } from './client';
import type { FlagSpecs } from './args';
import { ArgError, parseArgs } from './args';
import { holderName, recorded } from './run';
import { publicKeyOf } from './ssh-key';

const VERSION = 'v0.25.1';
const USAGE =
  'Usage: k0sctl apply|kubeconfig|reset [--config k0sctl.yaml] [--force] [--no-wait] [--disable-telemetry]';
const ROLES = ['controller', 'worker', 'controller+worker', 'single'];
const K0S_VERSION_RE = /^v\d+\.\d+\.\d+\+k0s\.\d+$/;

/** A host of the config, checked, with the public key of its `ssh.keyPath`. */
interface ConfigHost {
  address: string;
  user: string;
  role: string;
  publicKey: string;
}

/** A checked k0sctl config. */
interface K0sctlConfig {
  name: string;
  version: string;
  hosts: ConfigHost[];
}

function both(long: string, short?: string): string[] {
  // urfave/cli takes a long flag with one dash as well as two
  return [`--${long}`, `-${long}`, ...(short ? [`-${short}`] : [])];
}

const COMMON: FlagSpecs = {
  config: { names: both('config', 'c'), value: true },
  debug: { names: both('debug', 'd') },
  trace: { names: both('trace') },
  telemetry: { names: both('disable-telemetry') },
  upgradeCheck: { names: both('disable-upgrade-check') },
};

const FLAGS: Record<string, FlagSpecs> = {
  apply: { ...COMMON, noWait: { names: both('no-wait') }, noDrain: { names: both('no-drain') } },
  kubeconfig: { ...COMMON },
  reset: { ...COMMON, force: { names: both('force', 'f') } },
};

function fatal(message: string): ToolError {
  return new ToolError(`FATA ${message}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Reads and checks the config; every error names the field. */
async function loadConfig(io: ToolIO, file: string): Promise<K0sctlConfig> {
  const full = path.resolve(io.cwd, file);
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch {
    throw fatal(`failed to read config file ${file}: open ${file}: no such file or directory`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw fatal(`failed to parse config ${file}: ${(err as Error).message.split('\n')[0] ?? ''}`);
  }
  if (!isRecord(doc)) throw fatal(`${file}: the config is not a YAML mapping`);
  const problems: string[] = [];
  if (doc.apiVersion !== 'k0sctl.k0sproject.io/v1beta1')
    problems.push(
      `apiVersion: must be k0sctl.k0sproject.io/v1beta1, not ${JSON.stringify(doc.apiVersion ?? null)}`
    );
  if (doc.kind !== 'Cluster') problems.push(`kind: must be Cluster, not ${JSON.stringify(doc.kind ?? null)}`);
  const metadata = isRecord(doc.metadata) ? doc.metadata : {};
  const name = typeof metadata.name === 'string' ? metadata.name : '';
  if (!name) problems.push('metadata.name: required');
  const spec = isRecord(doc.spec) ? doc.spec : {};
  const k0s = isRecord(spec.k0s) ? spec.k0s : {};
  const version = typeof k0s.version === 'string' ? k0s.version : '';
  if (!version)
    problems.push('spec.k0s.version: required (the emulator does not look up the latest k0s release)');
  else if (!K0S_VERSION_RE.test(version))
    problems.push(`spec.k0s.version: "${version}" is not a k0s version like v1.33.2+k0s.0`);
  const rawHosts = Array.isArray(spec.hosts) ? spec.hosts : [];
  if (rawHosts.length === 0) problems.push('spec.hosts: at least one host is required');
  const hosts: ConfigHost[] = [];
  const seen = new Set<string>();
  for (const [i, raw] of rawHosts.entries()) {
    const at = `spec.hosts[${i}]`;
    const host = isRecord(raw) ? raw : {};
    const ssh = isRecord(host.ssh) ? host.ssh : undefined;
    if (!ssh) {
      problems.push(`${at}.ssh: required (the emulator connects over SSH only)`);
      continue;
    }
    const address = typeof ssh.address === 'string' ? ssh.address : '';
    if (isIP(address) !== 4)
      problems.push(`${at}.ssh.address: ${JSON.stringify(ssh.address ?? null)} is not an IPv4 address`);
    else if (seen.has(address))
      problems.push(`${at}.ssh.address: ${address} is already used by another host`);
    seen.add(address);
    if (ssh.port !== undefined && ssh.port !== 22)
      problems.push(`${at}.ssh.port: the machines listen on 22, not ${JSON.stringify(ssh.port)}`);
    const user = typeof ssh.user === 'string' ? ssh.user : '';
    if (!user) problems.push(`${at}.ssh.user: required`);
    const role = typeof host.role === 'string' ? host.role : '';
    if (!ROLES.includes(role))
      problems.push(
        `${at}.role: must be one of ${ROLES.join(', ')}, not ${JSON.stringify(host.role ?? null)}`
      );
    let publicKey = '';
    const keyPath = typeof ssh.keyPath === 'string' ? ssh.keyPath : '';
    if (!keyPath) problems.push(`${at}.ssh.keyPath: required (the emulator does not use an SSH agent)`);
    else {
      const home = io.env.HOME ?? '';
      const keyFile = path.resolve(
        io.cwd,
        keyPath.startsWith('~/') ? path.join(home, keyPath.slice(2)) : keyPath
      );
      let keyText: string | undefined;
      try {
        keyText = await readFile(keyFile, 'utf8');
      } catch {
        problems.push(`${at}.ssh.keyPath: open ${keyPath}: no such file or directory`);
      }
      if (keyText !== undefined) {
        const derived = await publicKeyOf(keyText);
        if (derived) publicKey = derived;
        else problems.push(`${at}.ssh.keyPath: ${keyPath} is not an unencrypted private key`);
      }
    }
    hosts.push({ address, user, role, publicKey });
  }
  if (hosts.length && !hosts.some((h) => h.role !== 'worker'))
    problems.push(
      'spec.hosts: no controller host: at least one host needs role controller, controller+worker or single'
    );
  if (hosts.some((h) => h.role === 'single') && hosts.length > 1)
    problems.push('spec.hosts: a host with role single must be the only host');
  if (problems.length) throw fatal(`configuration validation failed:\n  ${problems.join('\n  ')}`);
  return { name, version, hosts };
}

/** How k0sctl ends an apply or reset that failed on a host. */
function runFailure(
  io: ToolIO,
  operation: 'apply' | 'reset',
  res: { status: number; body: unknown }
): ToolError {
  io.stdout(`INFO ==> ${operation === 'apply' ? 'Apply' : 'Reset'} failed\n`);
  const log = path.join(io.env.HOME ?? '~', '.cache', 'k0sctl', 'k0sctl.log');
  return fatal(`${operation} failed - log file saved to ${log}: ${errorMessage(res)}`);
}

function phase(io: ToolIO, text: string): void {
  io.stdout(`INFO ==> Running phase: ${text}\n`);
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

async function apply(io: ToolIO, cfg: K0sctlConfig): Promise<number> {
  return recorded(io, 'k0sctl', 'apply', cfg.name, async (crashFault) => {
    const started = Date.now();
    const holder = holderName(io, 'k0sctl', 'apply');
    io.stdout(`k0sctl ${VERSION} Copyright 2025, k0sctl authors.\n`);
    phase(io, 'Set k0s version');
    io.stdout(`INFO Using k0s version ${cfg.version}\n`);
    phase(io, 'Connect to hosts');
    const begin = await worldCall(io, 'POST', '/world/k0sctl/apply-begin', { ...cfg, holder });
    if (begin.status !== 200) throw runFailure(io, 'apply', begin);
    const plan = begin.body as {
      k0sApplyMs: number;
      plan: string;
      hosts: { address: string; machine: string }[];
    };
    for (const h of plan.hosts) io.stdout(`INFO [ssh] ${h.address}:22: connected\n`);
    phase(io, 'Detect host operating systems');
    for (const h of plan.hosts)
      io.stdout(`INFO [ssh] ${h.address}:22: is running Debian GNU/Linux 12 (bookworm)\n`);
    phase(io, 'Acquire exclusive host lock');
    if (crashFault) crash(io, 'k0sctl', 'apply');
    phase(io, 'Prepare hosts');
    phase(io, 'Gather host facts');
    for (const h of plan.hosts) io.stdout(`INFO [ssh] ${h.address}:22: using ${h.machine} as hostname\n`);
    phase(io, 'Validate hosts');
    phase(io, 'Gather k0s facts');
    phase(io, 'Validate facts');
    await io.sleep(plan.k0sApplyMs / 3);
    if (plan.plan !== 'noop') {
      phase(io, 'Download k0s on hosts');
      await io.sleep(plan.k0sApplyMs / 3);
      phase(io, 'Configure k0s');
      phase(io, plan.plan === 'install' ? 'Initialize the k0s cluster' : 'Upgrade controllers');
      await io.sleep(plan.k0sApplyMs / 3);
      phase(io, plan.plan === 'install' ? 'Install workers' : 'Upgrade workers');
    } else {
      await io.sleep((2 * plan.k0sApplyMs) / 3);
    }
    phase(io, 'Release exclusive host lock');
    const finish = await worldCall(io, 'POST', '/world/k0sctl/apply-finish', { name: cfg.name, holder });
    if (finish.status !== 200) throw runFailure(io, 'apply', finish);
    phase(io, 'Disconnect from hosts');
    io.stdout(`INFO ==> Finished in ${duration(Date.now() - started)}\n`);
    io.stdout(`INFO k0s cluster version ${cfg.version} is now installed\n`);
    io.stdout('INFO Tip: To access the cluster you can now fetch the admin kubeconfig using:\n');
    io.stdout('INFO      k0sctl kubeconfig\n');
    return 0;
  });
}

async function kubeconfig(io: ToolIO, cfg: K0sctlConfig): Promise<number> {
  return recorded(io, 'k0sctl', 'kubeconfig', cfg.name, async (crashFault) => {
    const res = await worldCall(io, 'POST', '/world/k0sctl/kubeconfig', cfg);
    if (res.status !== 200) throw fatal(errorMessage(res));
    if (crashFault) crash(io, 'k0sctl', 'kubeconfig');
    io.stdout((res.body as { kubeconfig: string }).kubeconfig);
    return 0;
  });
}

async function reset(io: ToolIO, cfg: K0sctlConfig): Promise<number> {
  return recorded(io, 'k0sctl', 'reset', cfg.name, async (crashFault) => {
    const started = Date.now();
    const holder = holderName(io, 'k0sctl', 'reset');
    io.stdout(`k0sctl ${VERSION} Copyright 2025, k0sctl authors.\n`);
    phase(io, 'Connect to hosts');
    const begin = await worldCall(io, 'POST', '/world/k0sctl/reset-begin', { ...cfg, holder });
    if (begin.status !== 200) throw runFailure(io, 'reset', begin);
    const plan = begin.body as { k0sApplyMs: number; hosts: { address: string }[] };
    for (const h of plan.hosts) io.stdout(`INFO [ssh] ${h.address}:22: connected\n`);
    phase(io, 'Acquire exclusive host lock');
    if (crashFault) crash(io, 'k0sctl', 'reset');
    phase(io, 'Gather k0s facts');
    phase(io, 'Reset workers');
    await io.sleep(plan.k0sApplyMs / 2);
    phase(io, 'Reset controllers');
    await io.sleep(plan.k0sApplyMs / 2);
    phase(io, 'Release exclusive host lock');
    const finish = await worldCall(io, 'POST', '/world/k0sctl/reset-finish', { name: cfg.name, holder });
    if (finish.status !== 200) throw runFailure(io, 'reset', finish);
    phase(io, 'Disconnect from hosts');
    io.stdout(`INFO ==> Finished in ${duration(Date.now() - started)}\n`);
    return 0;
  });
}

/** `k0sctl apply|kubeconfig|reset --config <file>`, `k0sctl version`. */
export const k0sctl: ToolMain = async (io) => {
  const [command, ...rest] = io.args;
  if (command === 'version') {
    io.stdout(`version: ${VERSION}\ncommit: emulated\n`);
    return 0;
  }
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    io.stdout(`${USAGE}\n`);
    return command === undefined ? 1 : 0;
  }
  const specs = FLAGS[command];
  if (!specs) throw new ToolError(`Incorrect Usage: command "${command}" not found\n${USAGE}`);
  let args;
  try {
    args = parseArgs(rest, specs);
  } catch (err) {
    if (err instanceof ArgError)
      throw new ToolError(
        `Incorrect Usage: ${err.message.replace(/^unknown (shorthand )?flag: /, 'flag provided but not defined: ')}\n${USAGE}`
      );
    throw err;
  }
  if (args.positionals.length)
    throw new ToolError(
      `Incorrect Usage: k0sctl ${command} takes no arguments, got ${args.positionals.join(' ')}\n${USAGE}`
    );
  if (command === 'reset' && !args.bool('force')) throw fatal('reset requires --force');
  const cfg = await loadConfig(io, args.last('config') ?? 'k0sctl.yaml');
  if (command === 'apply') return apply(io, cfg);
  if (command === 'kubeconfig') return kubeconfig(io, cfg);
  return reset(io, cfg);
};
