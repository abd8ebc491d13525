/** Emulated `az`: `account show` and the `ad sp` commands, on the emulator's tenant. */
import { stringify } from 'yaml';
import type { FlagSpecs, ParsedArgs } from './args';
import { ArgError, expandAbbreviations, parseArgs } from './args';
import type { ToolIO, ToolMain } from './client';
import { ToolError, crash, errorMessage, worldCall } from './client';
import { recorded } from './run';

const GLOBAL: FlagSpecs = {
  output: { names: ['-o', '--output'], value: true },
  query: { names: ['--query'], value: true },
  onlyShowErrors: { names: ['--only-show-errors'] },
  debug: { names: ['--debug'] },
  verbose: { names: ['--verbose'] },
  subscription: { names: ['--subscription'], value: true },
};

const ID: FlagSpecs = { id: { names: ['--id'], value: true } };

interface Command {
  path: string[];
  flags: FlagSpecs;
  usage: string;
  required?: string[];
}

const COMMANDS: Command[] = [
  { path: ['account', 'show'], flags: GLOBAL, usage: 'az account show [--subscription ID]' },
  {
    path: ['ad', 'sp', 'create-for-rbac'],
    flags: {
      ...GLOBAL,
      name: { names: ['-n', '--name', '--display-name'], value: true },
      role: { names: ['--role'], value: true },
      scopes: { names: ['--scopes'], value: true },
      years: { names: ['--years'], value: true },
    },
    usage: 'az ad sp create-for-rbac [--name NAME] [--role ROLE --scopes SCOPE [SCOPE ...]] [--years YEARS]',
  },
  {
    path: ['ad', 'sp', 'list'],
    flags: { ...GLOBAL, displayName: { names: ['--display-name'], value: true }, all: { names: ['--all'] } },
    usage: 'az ad sp list [--display-name NAME] [--all]',
  },
  {
    path: ['ad', 'sp', 'show'],
    flags: { ...GLOBAL, ...ID },
    usage: 'az ad sp show --id ID',
    required: ['id'],
  },
  {
    path: ['ad', 'sp', 'delete'],
    flags: { ...GLOBAL, ...ID },
    usage: 'az ad sp delete --id ID',
    required: ['id'],
  },
  {
    path: ['ad', 'sp', 'credential', 'reset'],
    flags: {
      ...GLOBAL,
      ...ID,
      years: { names: ['--years'], value: true },
      append: { names: ['--append'] },
      displayName: { names: ['--display-name'], value: true },
    },
    usage: 'az ad sp credential reset --id ID [--years YEARS] [--append] [--display-name NAME]',
    required: ['id'],
  },
];

const OUTPUTS = ['json', 'jsonc', 'yaml', 'yamlc', 'table', 'tsv', 'none'];
const SCOPE_RE =
  /^\/subscriptions\/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(\/resourceGroups\/[-\w._()]+(\/.*)?)?$/;

/** A refused command line: exit 2 where argparse refuses it, 1 where az's own checks do. */
function usageError(cmd: Command, message: string, exitCode = 2): ToolError {
  return new ToolError(`ERROR: ${message}\nusage: ${cmd.usage}`, exitCode);
}

/** argparse's `nargs='+'` for `--scopes a b`: every following word until the next flag. */
function expandScopes(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    out.push(a);
    if (a !== '--scopes') continue;
    let j = i + 1;
    const scopes: string[] = [];
    while (j < args.length && !(args[j] as string).startsWith('-')) scopes.push(args[j++] as string);
    out.push(...scopes.flatMap((s, k) => (k === 0 ? [s] : ['--scopes', s])));
    i = j - 1;
  }
  return out;
}

/** The JMESPath subset scripts use: `a.b`, `[0]`, `[].a`, `[*].a`. */
function query(expr: string, data: unknown): unknown {
  const tokens = expr.match(/\[\d+\]|\[\*?\]|[^.[\]]+/g) ?? [];
  let projected = false;
  let current: unknown = data;
  for (const t of tokens) {
    const apply = (v: unknown): unknown => {
      if (/^\[\d+\]$/.test(t)) return Array.isArray(v) ? (v[Number(t.slice(1, -1))] as unknown) : null;
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
      return (v as Record<string, unknown>)[t] ?? null;
    };
    if (t === '[]' || t === '[*]') {
      if (!Array.isArray(current)) return null;
      projected = true;
      continue;
    }
    current =
      projected && Array.isArray(current) ? current.map(apply).filter((v) => v !== null) : apply(current);
  }
  return current;
}

function scalar(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

function tsv(value: unknown): string {
  const cell = scalar;
  const row = (v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.values(v).map(cell).join('\t')
      : cell(v);
  return Array.isArray(value) ? value.map((v) => `${row(v)}\n`).join('') : `${row(value)}\n`;
}

function tableOf(value: unknown): string {
  const rows = (Array.isArray(value) ? value : [value]).filter(
    (v) => v !== null && typeof v === 'object'
  ) as Record<string, unknown>[];
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r).filter((k) => typeof r[k] !== 'object')))];
  if (!keys.length) return tsv(value);
  const all = [
    keys,
    keys.map((k) => '-'.repeat(k.length)),
    ...rows.map((r) => keys.map((k) => scalar(r[k]))),
  ];
  const widths = keys.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map(
      (r) =>
        r
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd() + '\n'
    )
    .join('');
}

function print(io: ToolIO, args: ParsedArgs, value: unknown): void {
  const q = args.last('query');
  const v = q ? query(q, value) : value;
  const format = args.last('output') ?? 'json';
  if (format === 'none') return;
  if (format === 'tsv') io.stdout(tsv(v));
  else if (format === 'table') io.stdout(tableOf(v));
  else if (format === 'yaml' || format === 'yamlc') io.stdout(stringify(v));
  else io.stdout(`${JSON.stringify(v, null, 2)}\n`);
}

async function call(io: ToolIO, method: string, route: string, body?: unknown): Promise<unknown> {
  const res = await worldCall(io, method, `/world/az/${route}`, body);
  if (res.status === 200) return res.body;
  const code = (res.body as { error?: { code?: string } } | null)?.error?.code;
  throw new ToolError(`ERROR: ${errorMessage(res)}`, code === 'NotFound' ? 3 : 1);
}

function timestampName(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `azure-cli-${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}-${p(d.getUTCHours())}-${p(d.getUTCMinutes())}-${p(d.getUTCSeconds())}`;
}

async function run(io: ToolIO, cmd: Command, args: ParsedArgs): Promise<number> {
  const verb = cmd.path.join(' ');
  switch (verb) {
    case 'account show':
      return recorded(io, 'az', verb, undefined, async (crashFault) => {
        const account = await call(io, 'GET', 'account');
        if (crashFault) crash(io, 'az', verb);
        print(io, args, account);
        return 0;
      });
    case 'ad sp create-for-rbac': {
      const name = args.last('name') ?? timestampName();
      const role = args.last('role');
      const scopes = args.all('scopes');
      if (role !== undefined && !scopes.length)
        throw usageError(
          cmd,
          'Usage error: To create role assignments, specify both --role and --scopes.',
          1
        );
      for (const s of scopes)
        if (!SCOPE_RE.test(s))
          throw usageError(
            cmd,
            `--scopes: '${s}' is not a valid scope: expected /subscriptions/<subscription id>[/resourceGroups/<name>...]`,
            1
          );
      const years = args.last('years');
      if (years !== undefined && !/^[1-9]\d*$/.test(years))
        throw usageError(cmd, `argument --years: invalid int value: '${years}'`);
      return recorded(io, 'az', verb, name, async (crashFault) => {
        const res = (await call(io, 'POST', 'sp/create-for-rbac', { displayName: name, role, scopes })) as {
          appId: string;
          displayName: string;
          password: string;
          tenant: string;
          created: boolean;
        };
        if (crashFault) crash(io, 'az', verb);
        if (!args.bool('onlyShowErrors')) {
          if (!res.created)
            io.stderr(`Found an existing application instance: (id) ${res.appId}. We will patch it.\n`);
          for (const s of role ? scopes : [])
            io.stderr(`Creating '${role ?? ''}' role assignment under scope '${s}'\n`);
          io.stderr(
            'The output includes credentials that you must protect. Be sure that you do not include these credentials in your code or check the credentials into your source control. For more information, see https://aka.ms/azadsp-cli\n'
          );
        }
        print(io, args, {
          appId: res.appId,
          displayName: res.displayName,
          password: res.password,
          tenant: res.tenant,
        });
        return 0;
      });
    }
    case 'ad sp list': {
      const displayName = args.last('displayName');
      return recorded(io, 'az', verb, displayName, async (crashFault) => {
        const q = displayName === undefined ? '' : `?${new URLSearchParams({ displayName }).toString()}`;
        const list = await call(io, 'GET', `sp/list${q}`);
        if (crashFault) crash(io, 'az', verb);
        print(io, args, list);
        return 0;
      });
    }
    case 'ad sp show': {
      const id = args.last('id') as string;
      return recorded(io, 'az', verb, id, async (crashFault) => {
        const sp = await call(io, 'GET', `sp/show?${new URLSearchParams({ id }).toString()}`);
        if (crashFault) crash(io, 'az', verb);
        print(io, args, sp);
        return 0;
      });
    }
    case 'ad sp delete': {
      const id = args.last('id') as string;
      return recorded(io, 'az', verb, id, async (crashFault) => {
        await call(io, 'POST', 'sp/delete', { id });
        if (crashFault) crash(io, 'az', verb);
        return 0;
      });
    }
    default: {
      const id = args.last('id') as string;
      return recorded(io, 'az', verb, id, async (crashFault) => {
        const res = await call(io, 'POST', 'sp/credential-reset', { id });
        if (crashFault) crash(io, 'az', verb);
        if (!args.bool('onlyShowErrors'))
          io.stderr(
            'The output includes credentials that you must protect. Be sure that you do not include these credentials in your code or check the credentials into your source control. For more information, see https://aka.ms/azadsp-cli\n'
          );
        print(io, args, res);
        return 0;
      });
    }
  }
}

/** `az account show`, `az ad sp create-for-rbac|list|show|delete`, `az ad sp credential reset`. */
export const az: ToolMain = async (io) => {
  const words: string[] = [];
  for (const a of io.args) {
    if (a.startsWith('-')) break;
    words.push(a);
  }
  const cmd = COMMANDS.filter((c) => c.path.every((p, i) => words[i] === p)).sort(
    (x, y) => y.path.length - x.path.length
  )[0];
  if (!cmd) {
    // az names the first word no command continues with, and exits 2 as argparse does.
    let known = 0;
    while (
      known < words.length &&
      COMMANDS.some((c) => words.slice(0, known + 1).every((w, i) => c.path[i] === w))
    )
      known++;
    const shown = words[known] ?? '(none)';
    throw new ToolError(
      `ERROR: '${shown}' is misspelled or not recognized by the system.\nThe emulated az knows: ${COMMANDS.map((c) => `az ${c.path.join(' ')}`).join(', ')}`,
      2
    );
  }
  const rest = io.args.slice(cmd.path.length);
  let args: ParsedArgs;
  try {
    args = parseArgs(expandScopes(expandAbbreviations(rest, cmd.flags)), cmd.flags);
  } catch (err) {
    if (!(err instanceof ArgError)) throw err;
    if (err.message.startsWith('ambiguous option')) throw usageError(cmd, err.message);
    if (err.problem === 'missing-value') throw usageError(cmd, `argument ${err.flag}: expected one argument`);
    throw usageError(cmd, `unrecognized arguments: ${err.message.replace(/^[^:]*: /, '')}`);
  }
  if (args.positionals.length) throw usageError(cmd, `unrecognized arguments: ${args.positionals.join(' ')}`);
  for (const r of cmd.required ?? [])
    if (!args.last(r)) throw usageError(cmd, `the following arguments are required: --${r}`);
  const output = args.last('output');
  if (output !== undefined && !OUTPUTS.includes(output))
    throw usageError(
      cmd,
      `az ${cmd.path.join(' ')}: '${output}' is not a valid value for '--output'. Allowed values: ${OUTPUTS.join(', ')}.`
    );
  return run(io, cmd, args);
};
