/** Emulated `kubectl`: get, apply, delete, create namespace, label, against the cluster its kubeconfig names. */
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import type { ParsedArgs } from './args';
import { ArgError, parseArgs } from './args';
import type { ToolIO, ToolMain } from './client';
import { ToolError, crash, errorMessage, worldCall } from './client';
import type { KubeAccess } from './kubeconfig';
import { KubeconfigError, loadKubeconfig } from './kubeconfig';
import type { ServedObject, ServedType } from './kube-print';
import { JsonPathError, jsonpath, table } from './kube-print';
import { recorded } from './run';

const CLIENT_VERSION = 'v1.33.2';

const FLAGS = {
  kubeconfig: { names: ['--kubeconfig'], value: true },
  namespace: { names: ['-n', '--namespace'], value: true },
  context: { names: ['--context'], value: true },
  allNamespaces: { names: ['-A', '--all-namespaces'] },
  output: { names: ['-o', '--output'], value: true },
  selector: { names: ['-l', '--selector'], value: true },
  filename: { names: ['-f', '--filename'], value: true },
  ignoreNotFound: { names: ['--ignore-not-found'] },
  overwrite: { names: ['--overwrite'] },
  wait: { names: ['--wait'] },
  timeout: { names: ['--timeout'], value: true },
  requestTimeout: { names: ['--request-timeout'], value: true },
  verbosity: { names: ['-v', '--v'], value: true },
  client: { names: ['--client'] },
};

type FlagKey = keyof typeof FLAGS;

const GLOBAL: FlagKey[] = ['kubeconfig', 'namespace', 'context', 'requestTimeout', 'verbosity'];

const ALLOWED: Record<string, FlagKey[]> = {
  get: [...GLOBAL, 'allNamespaces', 'output', 'selector', 'ignoreNotFound'],
  apply: [...GLOBAL, 'filename'],
  delete: [...GLOBAL, 'ignoreNotFound', 'wait', 'timeout'],
  create: [...GLOBAL],
  label: [...GLOBAL, 'overwrite'],
  version: [...GLOBAL, 'client', 'output'],
};

const OUTPUTS =
  'custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml';

function usageError(command: string, message: string): ToolError {
  return new ToolError(`error: ${message}\nSee 'kubectl ${command} --help' for usage.`);
}

function parse(io: ToolIO): { command: string; args: ParsedArgs; rest: string[] } {
  let args: ParsedArgs;
  try {
    args = parseArgs(io.args, FLAGS);
  } catch (err) {
    if (err instanceof ArgError) throw usageError(io.args.find((a) => a in ALLOWED) ?? '', err.message);
    throw err;
  }
  const [command, ...rest] = args.positionals;
  if (!command)
    throw new ToolError(
      'error: no command given\nUsage: kubectl [--kubeconfig FILE] [-n NAMESPACE] get|apply|delete|create namespace|label ...'
    );
  const allowed = ALLOWED[command];
  if (!allowed)
    throw new ToolError(`error: unknown command "${command}" for "kubectl"\nRun 'kubectl --help' for usage.`);
  for (const key of Object.keys(FLAGS) as FlagKey[])
    if (args.given(key) && !allowed.includes(key)) {
      const names = FLAGS[key].names;
      throw usageError(command, `unknown flag: ${names[names.length - 1] ?? key}`);
    }
  return { command, args, rest };
}

function access(io: ToolIO, args: ParsedArgs): KubeAccess {
  try {
    return loadKubeconfig(io, args.last('kubeconfig'), args.last('context'));
  } catch (err) {
    if (!(err instanceof KubeconfigError)) throw err;
    if (err.kind === 'none')
      throw new ToolError(
        'The connection to the server localhost:8080 was refused - did you specify the right host or port?'
      );
    throw new ToolError(`error: ${err.message}`);
  }
}

async function kube(io: ToolIO, a: KubeAccess, op: string, body: Record<string, unknown>): Promise<unknown> {
  const res = await worldCall(io, 'POST', `/world/kube/${op}`, {
    auth: { server: a.server, token: a.token },
    ...body,
  });
  if (res.status !== 200) throw new ToolError(errorMessage(res));
  return res.body;
}

/** `TYPE NAME...` or `TYPE/NAME...`, as kubectl takes resources. */
function resources(command: string, rest: string[]): { resource: string; names: string[] } {
  const first = rest[0];
  if (first === undefined)
    throw usageError(command, 'You must provide one or more resources by argument or filename.');
  if (first.includes('/')) {
    const pairs = rest.map((r) => r.split('/'));
    const resource = pairs[0]?.[0] ?? '';
    if (pairs.some((p) => p.length !== 2 || !p[1] || p[0] !== resource))
      throw usageError(command, 'arguments in resource/name form must all name the same resource type here');
    return { resource, names: pairs.map((p) => p[1] as string) };
  }
  return { resource: first, names: rest.slice(1) };
}

function namespaceOf(args: ParsedArgs, a: KubeAccess): string {
  return args.last('namespace') ?? a.namespace;
}

function printJson(value: unknown): string {
  return `${JSON.stringify(value, null, 4)}\n`;
}

/** Prints what `get` found in the `-o` format (a table without one). */
function render(
  t: ServedType,
  items: ServedObject[],
  value: unknown,
  output: string,
  allNamespaces: boolean
): string {
  const format = output.replace(/=.*$/s, '');
  if (format === 'json') return printJson(value);
  if (format === 'yaml') return stringify(value, { lineWidth: 0 });
  if (format === 'name') return items.map((o) => `${t.name}/${o.metadata.name}\n`).join('');
  if (format !== 'jsonpath') return table(t, items, allNamespaces);
  const template = output.slice(output.indexOf('=') + 1);
  try {
    return jsonpath(template, value);
  } catch (err) {
    if (err instanceof JsonPathError)
      throw new ToolError(
        `error: error executing jsonpath ${JSON.stringify(template)}: Error executing template: ${err.message}`
      );
    throw err;
  }
}

async function get(io: ToolIO, args: ParsedArgs, rest: string[]): Promise<number> {
  const { resource, names } = resources('get', rest);
  const output = args.last('output') ?? '';
  const format = output.replace(/=.*$/s, '');
  if (output && !['json', 'yaml', 'name', 'wide', 'jsonpath'].includes(format))
    throw new ToolError(
      `error: unable to match a printer suitable for the output format "${output}", allowed formats are: ${OUTPUTS}`
    );
  if (format === 'jsonpath' && !output.includes('='))
    throw new ToolError('error: template format specified but no template given');
  const a = access(io, args);
  const target = names.length ? `${resource}/${names.join(',')}` : resource;
  return recorded(io, 'kubectl', 'get', target, async (crashFault) => {
    const res = (await kube(io, a, 'get', {
      resource,
      names,
      namespace: namespaceOf(args, a),
      allNamespaces: args.bool('allNamespaces'),
      labelSelector: args.last('selector'),
    })) as { resource: ServedType; items: ServedObject[]; notFound: string[] };
    if (crashFault) crash(io, 'kubectl', 'get');
    const errors = args.bool('ignoreNotFound') ? [] : res.notFound;
    const single = names.length === 1 && !args.given('selector');
    const structured = format === 'json' || format === 'yaml' || format === 'jsonpath';
    if (single ? res.items.length === 1 : structured || res.items.length > 0) {
      const value = single
        ? res.items[0]
        : { apiVersion: 'v1', items: res.items, kind: 'List', metadata: { resourceVersion: '' } };
      io.stdout(render(res.resource, res.items, value, output, args.bool('allNamespaces')));
    } else if (!names.length) {
      const where =
        res.resource.namespaced && !args.bool('allNamespaces') ? ` in ${namespaceOf(args, a)} namespace` : '';
      io.stderr(`No resources found${where}.\n`);
    }
    for (const e of errors) io.stderr(`${e}\n`);
    return errors.length ? 1 : 0;
  });
}

/** The documents of one `-f` source. */
interface Source {
  name: string;
  docs: unknown[];
}

function documentsOf(name: string, text: string): unknown[] {
  const docs: unknown[] = [];
  for (const d of parseAllDocuments(text)) {
    if (d.errors.length)
      throw new ToolError(
        `error: error parsing ${name}: error converting YAML to JSON: ${d.errors[0]?.message.split('\n')[0] ?? ''}`
      );
    const value: unknown = d.toJS();
    if (value === null || value === undefined) continue;
    const list = value as { kind?: unknown; items?: unknown };
    if (typeof list.kind === 'string' && list.kind.endsWith('List') && Array.isArray(list.items))
      docs.push(...(list.items as unknown[]));
    else docs.push(value);
  }
  return docs;
}

async function readSources(io: ToolIO, files: string[]): Promise<Source[]> {
  const sources: Source[] = [];
  for (const f of files) {
    if (f === '-') {
      sources.push({ name: 'STDIN', docs: documentsOf('STDIN', await io.stdin()) });
      continue;
    }
    if (/^https?:\/\//.test(f))
      throw new ToolError(`error: the emulated kubectl does not fetch ${f}: give a local file`);
    const full = path.resolve(io.cwd, f);
    let entries: string[] = [full];
    try {
      if ((await stat(full)).isDirectory())
        entries = (await readdir(full))
          .filter((e) => /\.(ya?ml|json)$/.test(e))
          .sort()
          .map((e) => path.join(full, e));
    } catch {
      throw new ToolError(`error: the path "${f}" does not exist`);
    }
    for (const e of entries) {
      const shown = e === full ? f : path.join(f, path.basename(e));
      sources.push({ name: shown, docs: documentsOf(shown, await readFile(e, 'utf8')) });
    }
  }
  return sources;
}

function firstRef(sources: Source[]): string | undefined {
  const doc = sources.flatMap((s) => s.docs)[0] as
    | { kind?: unknown; metadata?: { name?: unknown } }
    | undefined;
  if (!doc || typeof doc.kind !== 'string') return undefined;
  return `${doc.kind.toLowerCase()}/${typeof doc.metadata?.name === 'string' ? doc.metadata.name : ''}`;
}

/** A document as Go's encoding/json writes a decoded one: object keys sorted. */
function goJson(value: unknown): string {
  const sorted = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sorted);
    if (v === null || typeof v !== 'object') return v;
    const record = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(record)
        .sort()
        .map((k) => [k, sorted(record[k])])
    );
  };
  return JSON.stringify(sorted(value));
}

/** kubectl decodes every document before it maps any to the server: one without a kind stops the apply. */
function checkKinds(sources: Source[]): void {
  const problems = sources.flatMap((s) =>
    s.docs
      .filter((d) => d !== null && typeof d === 'object' && !(d as { kind?: unknown }).kind)
      .map((d) => `unable to decode "${s.name}": Object 'Kind' is missing in '${goJson(d)}'`)
  );
  if (problems.length) throw new ToolError(`error: ${problems.join('\n')}`);
}

async function apply(io: ToolIO, args: ParsedArgs, rest: string[]): Promise<number> {
  if (rest.length) throw usageError('apply', `unexpected args: [${rest.join(' ')}]`);
  const files = args.all('filename');
  if (!files.length) throw usageError('apply', 'must specify one of -f and -k');
  const sources = await readSources(io, files);
  checkKinds(sources);
  const a = access(io, args);
  const explicitNs = args.last('namespace');
  return recorded(io, 'kubectl', 'apply', firstRef(sources), async (crashFault) => {
    const lines: string[] = [];
    const errors: string[] = [];
    for (const s of sources) {
      const docs = s.docs.filter((d) => {
        const ns = (d as { metadata?: { namespace?: unknown } } | null)?.metadata?.namespace;
        if (explicitNs === undefined || typeof ns !== 'string' || ns === explicitNs) return true;
        errors.push(
          `error: the namespace from the provided object "${ns}" does not match the namespace "${explicitNs}". You must pass '--namespace=${ns}' to perform this operation.`
        );
        return false;
      });
      if (!docs.length) continue;
      const res = (await kube(io, a, 'apply', {
        documents: docs,
        namespace: namespaceOf(args, a),
        source: s.name,
      })) as {
        results: ({ ref: string; action: string } | { error: string })[];
      };
      for (const r of res.results) {
        if ('error' in r) errors.push(r.error);
        else lines.push(`${r.ref} ${r.action}\n`);
      }
    }
    if (crashFault) crash(io, 'kubectl', 'apply');
    io.stdout(lines.join(''));
    for (const e of errors) io.stderr(`${e}\n`);
    return errors.length ? 1 : 0;
  });
}

async function del(io: ToolIO, args: ParsedArgs, rest: string[]): Promise<number> {
  const { resource, names } = resources('delete', rest);
  if (!names.length) throw new ToolError('error: resource(s) were provided, but no name was specified');
  const a = access(io, args);
  return recorded(io, 'kubectl', 'delete', `${resource}/${names.join(',')}`, async (crashFault) => {
    const res = (await kube(io, a, 'delete', {
      resource,
      names,
      namespace: namespaceOf(args, a),
      ignoreNotFound: args.bool('ignoreNotFound'),
    })) as { results: ({ deleted: string } | { error: string } | { ignored: string })[] };
    if (crashFault) crash(io, 'kubectl', 'delete');
    let failed = 0;
    for (const r of res.results) {
      if ('deleted' in r) io.stdout(`${r.deleted}\n`);
      else if ('error' in r) {
        io.stderr(`${r.error}\n`);
        failed++;
      }
    }
    return failed ? 1 : 0;
  });
}

async function create(io: ToolIO, args: ParsedArgs, rest: string[]): Promise<number> {
  const [what, ...names] = rest;
  if (what !== 'namespace' && what !== 'ns')
    throw new ToolError(
      what === undefined
        ? 'error: Required resource not specified.\nUse "kubectl explain <resource>" for a detailed description of that resource (e.g. kubectl explain pods).\nSee \'kubectl create -h\' for help and examples'
        : `error: unknown command "${what}" for "kubectl create"\nThe emulated kubectl creates namespaces only: kubectl create namespace NAME`
    );
  if (names.length !== 1)
    throw usageError('create namespace', `exactly one NAME is required, got ${names.length}`);
  const name = names[0] as string;
  const a = access(io, args);
  return recorded(io, 'kubectl', 'create', `namespace/${name}`, async (crashFault) => {
    const res = (await kube(io, a, 'create-namespace', { name })) as { message: string };
    if (crashFault) crash(io, 'kubectl', 'create');
    io.stdout(`${res.message}\n`);
    return 0;
  });
}

const LABEL_KEY_RE =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

async function label(io: ToolIO, args: ParsedArgs, rest: string[]): Promise<number> {
  const specs = rest.filter((r) => r.includes('=') || (r.endsWith('-') && !r.includes('/')));
  const targets = rest.filter((r) => !specs.includes(r));
  const { resource, names } = resources('label', targets);
  if (names.length !== 1)
    throw usageError(
      'label',
      'one resource name is required (the emulated kubectl labels one object at a time)'
    );
  if (!specs.length) throw usageError('label', 'at least one label update is required');
  const labels: Record<string, string | null> = {};
  for (const s of specs) {
    const removal = s.endsWith('-') && !s.includes('=');
    const key = removal ? s.slice(0, -1) : s.slice(0, s.indexOf('='));
    const value = removal ? null : s.slice(s.indexOf('=') + 1);
    if (!LABEL_KEY_RE.test(key) || (value !== null && !LABEL_VALUE_RE.test(value)))
      throw new ToolError(`error: invalid label spec: ${s}`);
    labels[key] = value;
  }
  const name = names[0] as string;
  const a = access(io, args);
  return recorded(io, 'kubectl', 'label', `${resource}/${name}`, async (crashFault) => {
    const res = (await kube(io, a, 'label', {
      resource,
      name,
      namespace: namespaceOf(args, a),
      labels,
      overwrite: args.bool('overwrite'),
    })) as { message: string };
    if (crashFault) crash(io, 'kubectl', 'label');
    io.stdout(`${res.message}\n`);
    return 0;
  });
}

/** `kubectl get|apply|delete|create namespace|label`, `kubectl version --client`. */
export const kubectl: ToolMain = async (io) => {
  const { command, args, rest } = parse(io);
  switch (command) {
    case 'get':
      return get(io, args, rest);
    case 'apply':
      return apply(io, args, rest);
    case 'delete':
      return del(io, args, rest);
    case 'create':
      return create(io, args, rest);
    case 'label':
      return label(io, args, rest);
    default:
      if (!args.bool('client'))
        throw new ToolError('error: the emulated kubectl answers `kubectl version --client` only');
      io.stdout(
        args.last('output') === 'json'
          ? printJson({
              clientVersion: { gitVersion: CLIENT_VERSION, platform: `${process.platform}/${process.arch}` },
            })
          : `Client Version: ${CLIENT_VERSION}\nKustomize Version: v5.6.0\n`
      );
      return 0;
  }
};
