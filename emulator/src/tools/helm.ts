/** Emulated `helm`: install, upgrade, status, list and uninstall of the OCI charts the emulator serves. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import type { FlagSpecs, ParsedArgs } from './args';
import { ArgError, goDurationError, parseArgs } from './args';
import type { ToolIO, ToolMain } from './client';
import { ToolError, crash, errorMessage, worldCall } from './client';
import type { KubeAccess } from './kubeconfig';
import { KubeconfigError, loadKubeconfig } from './kubeconfig';
import { holderName, recorded } from './run';

const VERSION = 'v3.18.4';

const GLOBAL: FlagSpecs = {
  kubeconfig: { names: ['--kubeconfig'], value: true },
  kubeContext: { names: ['--kube-context'], value: true },
  namespace: { names: ['-n', '--namespace'], value: true },
  debug: { names: ['--debug'] },
};

const OUTPUT: FlagSpecs = { output: { names: ['-o', '--output'], value: true } };

const INSTALL: FlagSpecs = {
  ...GLOBAL,
  ...OUTPUT,
  version: { names: ['--version'], value: true },
  createNamespace: { names: ['--create-namespace'] },
  wait: { names: ['--wait'] },
  waitForJobs: { names: ['--wait-for-jobs'] },
  timeout: { names: ['--timeout'], value: true },
  set: { names: ['--set'], value: true },
  setString: { names: ['--set-string'], value: true },
  values: { names: ['-f', '--values'], value: true },
};

const FLAGS: Record<string, FlagSpecs> = {
  install: INSTALL,
  upgrade: {
    ...INSTALL,
    install: { names: ['-i', '--install'] },
    resetValues: { names: ['--reset-values'] },
    reuseValues: { names: ['--reuse-values'] },
  },
  status: { ...GLOBAL, ...OUTPUT },
  list: {
    ...GLOBAL,
    ...OUTPUT,
    allNamespaces: { names: ['-A', '--all-namespaces'] },
    all: { names: ['-a', '--all'] },
    deployed: { names: ['--deployed'] },
    failed: { names: ['--failed'] },
    pending: { names: ['--pending'] },
    short: { names: ['-q', '--short'] },
  },
  uninstall: {
    ...GLOBAL,
    wait: { names: ['--wait'] },
    timeout: { names: ['--timeout'], value: true },
    ignoreNotFound: { names: ['--ignore-not-found'] },
  },
  version: { short: { names: ['--short'] } },
};

const ALIASES: Record<string, string> = {
  ls: 'list',
  un: 'uninstall',
  del: 'uninstall',
  delete: 'uninstall',
};

const USAGE: Record<string, string> = {
  install: 'helm install [NAME] [CHART] [flags]',
  upgrade: 'helm upgrade [RELEASE] [CHART] [flags]',
  status: 'helm status RELEASE_NAME [flags]',
  list: 'helm list [flags]',
  uninstall: 'helm uninstall RELEASE_NAME [...] [flags]',
  version: 'helm version [flags]',
};

function usageError(command: string, message: string): ToolError {
  return new ToolError(`Error: ${message}\nUsage:  ${USAGE[command] ?? 'helm [command]'}`);
}

function fail(message: string): ToolError {
  return new ToolError(`Error: ${message}`);
}

/** The release namespace: `-n`, else the kubeconfig context's. */
function namespaceOf(args: ParsedArgs, a: KubeAccess): string {
  return args.last('namespace') ?? a.namespace;
}

function access(io: ToolIO, args: ParsedArgs, prefix: string): KubeAccess {
  try {
    return loadKubeconfig(io, args.last('kubeconfig'), args.last('kubeContext'));
  } catch (err) {
    if (!(err instanceof KubeconfigError)) throw err;
    if (err.kind === 'none')
      throw fail(
        `${prefix}Kubernetes cluster unreachable: Get "http://localhost:8080/version": dial tcp 127.0.0.1:8080: connect: connection refused`
      );
    throw fail(`${prefix}Kubernetes cluster unreachable: ${err.message}`);
  }
}

async function helmCall(io: ToolIO, a: KubeAccess, op: string, body: Record<string, unknown>) {
  return worldCall(io, 'POST', `/world/helm/${op}`, {
    auth: { server: a.server, token: a.token },
    ...body,
  });
}

function checkOutput(command: string, args: ParsedArgs): 'table' | 'json' | 'yaml' {
  const o = args.last('output') ?? 'table';
  if (o !== 'table' && o !== 'json' && o !== 'yaml')
    throw usageError(command, `invalid argument "${o}" for "-o, --output" flag: invalid format type`);
  return o;
}

/** `--timeout` must be a Go duration; the error is pflag's around Go's own. */
function checkTimeout(command: string, args: ParsedArgs): void {
  const timeout = args.last('timeout');
  const problem = timeout === undefined ? undefined : goDurationError(timeout);
  if (problem) throw usageError(command, `invalid argument "${timeout}" for "--timeout" flag: ${problem}`);
}

/** `a.b=1,c=x` into nested values, typed as `--set` types them (`--set-string` keeps strings). */
function setValues(target: Record<string, unknown>, spec: string, typed: boolean, flag: string): void {
  const parts = spec.split(/(?<!\\),/);
  for (const [i, part] of parts.entries()) {
    const eq = part.indexOf('=');
    // Helm names the last key of the path, and says when a comma followed it.
    if (eq <= 0)
      throw fail(
        `failed parsing ${flag} data: key "${part.slice(part.lastIndexOf('.') + 1)}" has no value${i < parts.length - 1 ? ' (cannot end with ,)' : ''}`
      );
    const keys = part.slice(0, eq).split('.');
    const raw = part.slice(eq + 1).replace(/\\,/g, ',');
    let value: unknown = raw;
    if (typed) {
      if (raw === 'true' || raw === 'false') value = raw === 'true';
      else if (raw === 'null') value = null;
      else if (/^-?\d+$/.test(raw)) value = Number(raw);
    }
    let node = target;
    for (const k of keys.slice(0, -1)) {
      const next = node[k];
      node[k] = next !== null && typeof next === 'object' && !Array.isArray(next) ? next : {};
      node = node[k] as Record<string, unknown>;
    }
    node[keys[keys.length - 1] as string] = value;
  }
}

function mergeDeep(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] =
      v !== null &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      cur !== null &&
      typeof cur === 'object' &&
      !Array.isArray(cur)
        ? mergeDeep(cur as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

async function userValues(io: ToolIO, args: ParsedArgs): Promise<Record<string, unknown>> {
  let values: Record<string, unknown> = {};
  for (const f of args.all('values')) {
    let text: string;
    try {
      text = await readFile(path.resolve(io.cwd, f), 'utf8');
    } catch {
      throw fail(`open ${f}: no such file or directory`);
    }
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (err) {
      throw fail(
        `failed to parse ${f}: error converting YAML to JSON: ${(err as Error).message.split('\n')[0] ?? ''}`
      );
    }
    if (doc === null || doc === undefined) continue;
    if (typeof doc !== 'object' || Array.isArray(doc))
      throw fail(
        `failed to parse ${f}: error unmarshaling JSON: json: cannot unmarshal into Go value of type map[string]interface {}`
      );
    values = mergeDeep(values, doc as Record<string, unknown>);
  }
  for (const s of args.all('set')) setValues(values, s, true, '--set');
  for (const s of args.all('setString')) setValues(values, s, false, '--set-string');
  return values;
}

interface StatusJson {
  name: string;
  namespace: string;
  version: number;
  info: { last_deployed: string; status: string; description: string };
  chart: { metadata: { name: string; version: string } };
}

function ansic(iso: string): string {
  const d = new Date(iso);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()] ?? ''} ${months[d.getUTCMonth()] ?? ''} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

function printStatus(r: StatusJson, format: 'table' | 'json' | 'yaml'): string {
  if (format === 'json') return `${JSON.stringify(r)}\n`;
  if (format === 'yaml') return stringify(r, { lineWidth: 0 });
  return [
    `NAME: ${r.name}`,
    `LAST DEPLOYED: ${ansic(r.info.last_deployed)}`,
    `NAMESPACE: ${r.namespace}`,
    `STATUS: ${r.info.status}`,
    `REVISION: ${r.version}`,
    'TEST SUITE: None',
    '',
  ].join('\n');
}

async function installOrUpgrade(
  io: ToolIO,
  command: 'install' | 'upgrade',
  args: ParsedArgs
): Promise<number> {
  const [release, chart, ...extra] = args.positionals;
  if (!release || !chart || extra.length) throw usageError(command, `"helm ${command}" requires 2 arguments`);
  if (
    !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(release) ||
    release.length > 53
  )
    throw fail(
      `release name "${release}": invalid release name, must match regex ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ and the length must not be longer than 53`
    );
  const format = checkOutput(command, args);
  checkTimeout(command, args);
  const mode = command === 'install' ? 'install' : args.bool('install') ? 'upgrade-install' : 'upgrade';
  if (args.bool('resetValues') && args.bool('reuseValues'))
    throw fail('--reset-values and --reuse-values cannot be used together');
  const values = await userValues(io, args);
  const a = access(io, args, mode === 'install' ? 'INSTALLATION FAILED: ' : '');
  const holder = holderName(io, 'helm', command);
  return recorded(io, 'helm', command, release, async (crashFault) => {
    const namespace = namespaceOf(args, a);
    const begin = await helmCall(io, a, 'begin', {
      release,
      namespace,
      chart,
      version: args.last('version'),
      values,
      valuesGiven: args.given('set') || args.given('setString') || args.given('values'),
      resetValues: args.bool('resetValues'),
      reuseValues: args.bool('reuseValues'),
      createNamespace: args.bool('createNamespace'),
      mode,
      holder,
    });
    if (begin.status !== 200) throw fail(errorMessage(begin));
    const plan = begin.body as {
      action: 'install' | 'upgrade';
      helmInstallMs: number;
      chart: { ref: string; version: string; digest: string };
    };
    io.stderr(
      `Pulled: ${plan.chart.ref.replace(/^oci:\/\//, '')}:${plan.chart.version}\nDigest: ${plan.chart.digest}\n`
    );
    if (mode === 'upgrade-install' && plan.action === 'install' && format === 'table')
      io.stdout(`Release "${release}" does not exist. Installing it now.\n`);
    if (crashFault) crash(io, 'helm', command);
    await io.sleep(plan.helmInstallMs);
    const finish = await helmCall(io, a, 'finish', { release, namespace, holder });
    if (finish.status !== 200) {
      const prefix =
        mode === 'install' ? 'INSTALLATION FAILED: ' : plan.action === 'upgrade' ? 'UPGRADE FAILED: ' : '';
      throw fail(prefix + errorMessage(finish));
    }
    const done = finish.body as { release: StatusJson; waitMs: number };
    if (args.bool('wait') && done.waitMs > 0) await io.sleep(done.waitMs);
    if (plan.action === 'upgrade' && format === 'table')
      io.stdout(`Release "${release}" has been upgraded. Happy Helming!\n`);
    io.stdout(printStatus(done.release, format));
    return 0;
  });
}

async function status(io: ToolIO, args: ParsedArgs): Promise<number> {
  const [release, ...extra] = args.positionals;
  if (!release || extra.length) throw usageError('status', '"helm status" requires 1 argument');
  const format = checkOutput('status', args);
  const a = access(io, args, '');
  return recorded(io, 'helm', 'status', release, async (crashFault) => {
    const res = await helmCall(io, a, 'status', { release, namespace: namespaceOf(args, a) });
    if (res.status !== 200) throw fail(errorMessage(res));
    if (crashFault) crash(io, 'helm', 'status');
    io.stdout(printStatus(res.body as StatusJson, format));
    return 0;
  });
}

function listTable(rows: Record<string, string>[]): string {
  const headers = ['NAME', 'NAMESPACE', 'REVISION', 'UPDATED', 'STATUS', 'CHART', 'APP VERSION'];
  const keys = ['name', 'namespace', 'revision', 'updated', 'status', 'chart', 'app_version'];
  const all = [headers, ...rows.map((r) => keys.map((k) => r[k] ?? ''))];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map(
      (r) =>
        r
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join('\t')
          .trimEnd() + '\n'
    )
    .join('');
}

async function list(io: ToolIO, args: ParsedArgs): Promise<number> {
  if (args.positionals.length) throw usageError('list', `"helm list" accepts no arguments`);
  const format = checkOutput('list', args);
  const a = access(io, args, '');
  const statuses = (['deployed', 'failed', 'pending'] as const).filter((s) => args.bool(s));
  return recorded(
    io,
    'helm',
    'list',
    args.bool('allNamespaces') ? undefined : namespaceOf(args, a),
    async (crashFault) => {
      const res = await helmCall(io, a, 'list', {
        namespace: args.bool('allNamespaces') ? undefined : namespaceOf(args, a),
        all: args.bool('all'),
        statuses,
      });
      if (res.status !== 200) throw fail(errorMessage(res));
      if (crashFault) crash(io, 'helm', 'list');
      const rows = res.body as Record<string, string>[];
      if (args.bool('short')) io.stdout(rows.map((r) => `${r.name ?? ''}\n`).join(''));
      else if (format === 'json') io.stdout(`${JSON.stringify(rows)}\n`);
      else if (format === 'yaml') io.stdout(stringify(rows));
      else io.stdout(listTable(rows));
      return 0;
    }
  );
}

async function uninstall(io: ToolIO, args: ParsedArgs): Promise<number> {
  const releases = args.positionals;
  if (!releases.length) throw usageError('uninstall', '"helm uninstall" requires at least 1 argument');
  checkTimeout('uninstall', args);
  const a = access(io, args, '');
  return recorded(io, 'helm', 'uninstall', releases.join(','), async (crashFault) => {
    for (const release of releases) {
      const res = await helmCall(io, a, 'uninstall', { release, namespace: namespaceOf(args, a) });
      if (res.status === 404 && args.bool('ignoreNotFound')) continue;
      if (res.status !== 200) throw fail(errorMessage(res));
      if (crashFault) crash(io, 'helm', 'uninstall');
      io.stdout(`${(res.body as { message: string }).message}\n`);
    }
    return 0;
  });
}

/** `helm install|upgrade|status|list|uninstall|version`. */
export const helm: ToolMain = async (io) => {
  const [first, ...rest] = io.args;
  const command = first === undefined ? undefined : (ALIASES[first] ?? first);
  const specs = command === undefined ? undefined : FLAGS[command];
  if (!command || !specs)
    throw new ToolError(
      `Error: unknown command "${first ?? ''}" for "helm"\nUsage:  helm install|upgrade|status|list|uninstall|version [flags]`
    );
  let args: ParsedArgs;
  try {
    args = parseArgs(rest, specs);
  } catch (err) {
    if (err instanceof ArgError) throw usageError(command, err.message);
    throw err;
  }
  switch (command) {
    case 'install':
    case 'upgrade':
      return installOrUpgrade(io, command, args);
    case 'status':
      return status(io, args);
    case 'list':
      return list(io, args);
    case 'uninstall':
      return uninstall(io, args);
    default:
      io.stdout(
        args.bool('short')
          ? `${VERSION}+g1e2d3c4\n`
          : `version.BuildInfo{Version:"${VERSION}", GitCommit:"emulated", GitTreeState:"clean", GoVersion:"go1.24.4"}\n`
      );
      return 0;
  }
};
