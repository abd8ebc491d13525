/**
 * Bad config documents, generated from `DEFAULT_CONFIG` and `knownConfigPaths()`: for every key the
 * wrong types, out-of-range numbers, empty or malformed text, bad enum values and CIDRs; unknown and
 * misspelt keys at every level; YAML syntax errors and documents that are not a map. Each input says
 * which YAML path its error must name.
 *
 * What each key accepts is restated here from the README's table (ranges, choices, which text may be
 * empty), not read from the validator, so the two can disagree and the suite notices.
 */
import { stringify } from 'yaml';
import { DEFAULT_CONFIG } from '../../src/config/defaults';
import { knownConfigPaths } from '../../src/config/validate';

/** The kinds of bad config, one `it` each. */
export const CONFIG_KINDS = [
  'wrong type',
  'out of range',
  'zero controllers',
  'bad enum value',
  'bad CIDR',
  'empty or malformed text',
  'KOF setting',
  'unknown key',
  'misspelt key',
  'YAML syntax error',
  'not a map',
] as const;

/** One kind of bad config. */
export type ConfigKind = (typeof CONFIG_KINDS)[number];

/** A generated bad config. */
export interface BadConfig {
  kind: ConfigKind;
  label: string;
  /** The YAML text. */
  text: string;
  /** The document as plain data, when it was built as one (also checked through `validateConfig`). */
  doc?: Record<string, unknown>;
  /** The path the error must name: a YAML path, `''` for the file as a whole, or a pattern (line and column). */
  path: string | RegExp;
  /** What the message at that path must say, when it matters. */
  says?: RegExp;
}

/** Whole-number keys and their range (README: counts, seconds, minutes). */
const MAX_WAIT = 604_800;
export const RANGES: Record<string, [number, number]> = {
  'cluster.controllers.count': [1, 244],
  'cluster.workers.count': [0, 244],
  'timeouts.ssh_connect': [1, MAX_WAIT],
  'timeouts.ssh_command': [1, MAX_WAIT],
  'timeouts.k0s_install_wait': [1, MAX_WAIT],
  'timeouts.k0rdent_install_wait': [1, MAX_WAIT],
  'timeouts.wireguard_connect_wait': [1, MAX_WAIT],
  'timeouts.vm_creation_minutes': [1, MAX_WAIT / 60],
  'timeouts.vm_wait_check_interval': [1, MAX_WAIT],
  'timeouts.cloud_init_timeout': [1, MAX_WAIT],
  'timeouts.cloud_init_check_interval': [1, MAX_WAIT],
  'timeouts.verification_retries': [0, 100],
  'timeouts.verification_retry_delay': [1, MAX_WAIT],
  'kof.mothership.install_retries': [1, 100],
  'kof.mothership.retry_delay_seconds': [0, MAX_WAIT],
  'orchestrator.heartbeat_seconds': [1, MAX_WAIT],
  'orchestrator.max_attempts': [1, 100],
  'orchestrator.parallel_vms': [1, 50],
  'orchestrator.poll_initial_ms': [10, 60_000],
  'orchestrator.poll_max_ms': [10, MAX_WAIT * 1000],
  'orchestrator.worker.max_workflow_tasks': [2, 1000],
  'orchestrator.worker.max_activities': [1, 2000],
  'orchestrator.worker.max_local_activities': [1, 2000],
  'orchestrator.worker.target_cpu_percent': [10, 100],
  'orchestrator.worker.target_memory_percent': [10, 100],
  'orchestrator.worker.keygen_threads': [1, 64],
};

/** Keys with a fixed set of values; `folded` ones accept another letter case (with a warning). */
export const CHOICES: Record<string, { values: string[]; folded?: boolean }> = {
  'azure.credential': { values: ['cli', 'service_principal', 'default'] },
  'azure.vm_priority': { values: ['Regular', 'Spot'], folded: true },
  'azure.eviction_policy': { values: ['Deallocate', 'Delete'], folded: true },
  'orchestrator.activity_preset': { values: ['provisioning', 'quick'] },
  'orchestrator.cloud': { values: ['emulator', 'azure'] },
  'orchestrator.worker.tuner': { values: ['fixed', 'resource'] },
};

/** IPv4 CIDR keys. */
export const CIDRS = ['network.vnet_prefix', 'network.subnet_prefix', 'network.wireguard_network'];

/** Text keys that may be empty (the rest must not be). */
export const MAY_BE_EMPTY = [
  'metadata.version',
  'metadata.schema',
  'metadata.description',
  'metadata.owner',
  'azure.subscription_id',
  'ssh.key_comment',
  'kof.regional.cluster_name',
  'kof.regional.domain',
  'kof.regional.admin_email',
];

/** Text keys with a shape, and values of the wrong shape. */
export const MALFORMED: Record<string, string[]> = {
  'azure.subscription_id': [
    'my-subscription',
    '12345678-1234-1234-1234-12345678901',
    '{12345678-1234-1234-1234-123456789012}',
  ],
  'kof.regional.cluster_name': ['Regional_1', '-regional', 'r'.repeat(64), 'regional.cluster'],
  'kof.regional.root_volume_size': ['32GB', '0', '-5', '3.5', '032'],
  'kof.regional.cluster_label': ['child', 'a=b=c', 'a b=c', '=x', 'x='],
  'orchestrator.task_queue': ['q'.repeat(1001), 'queue\nname', 'tab\there'],
};

/** Keys without a default, with the kind of value they take. */
const OPTIONAL: Record<string, 'text' | 'int'> = {
  'metadata.description': 'text',
  'metadata.owner': 'text',
  'orchestrator.heartbeat_seconds': 'int',
  'orchestrator.max_attempts': 'int',
};

/** How a key is checked. */
type LeafClass =
  | { kind: 'int'; range: [number, number] }
  | { kind: 'bool' }
  | { kind: 'zones' }
  | { kind: 'map' }
  | { kind: 'choice'; values: string[]; folded: boolean }
  | { kind: 'cidr' }
  | { kind: 'text'; mayBeEmpty: boolean };

function valueAt(path: string): unknown {
  let at: unknown = DEFAULT_CONFIG;
  for (const key of path.split('.')) at = (at as Record<string, unknown> | undefined)?.[key];
  return at;
}

/** Every key (leaf) path, and every section path, from the validator's list of known paths. */
export function configPaths(): { leaves: string[]; sections: string[] } {
  const all = knownConfigPaths();
  const sections = all.filter((p) => all.some((q) => q.startsWith(`${p}.`)));
  return { leaves: all.filter((p) => !sections.includes(p)), sections };
}

/** The class of a key, from its default and the tables above; throws for a key nobody classified. */
export function classify(path: string): LeafClass {
  const value = valueAt(path);
  const optional = OPTIONAL[path];
  const range = RANGES[path];
  if (typeof value === 'number' || optional === 'int') {
    if (!range) throw new Error(`${path}: a number without a range in RANGES`);
    return { kind: 'int', range };
  }
  if (typeof value === 'boolean') return { kind: 'bool' };
  if (Array.isArray(value)) return { kind: 'zones' };
  if (typeof value === 'object' && value !== null) return { kind: 'map' };
  if (typeof value === 'string' || optional === 'text') {
    const choice = CHOICES[path];
    if (choice) return { kind: 'choice', values: choice.values, folded: choice.folded === true };
    if (CIDRS.includes(path)) return { kind: 'cidr' };
    return { kind: 'text', mayBeEmpty: MAY_BE_EMPTY.includes(path) };
  }
  throw new Error(`${path}: no default and not in OPTIONAL`);
}

/** A copy of the defaults with `value` set at `path` (created along the way). */
function withValue(path: string, value: unknown): Record<string, unknown> {
  const doc = structuredClone(DEFAULT_CONFIG) as unknown as Record<string, unknown>;
  const keys = path.split('.');
  let at = doc;
  for (const key of keys.slice(0, -1)) at = at[key] as Record<string, unknown>;
  at[keys[keys.length - 1] as string] = value;
  return doc;
}

/** A copy of the defaults with an extra `key: value` in the section at `section` (`''`: the top). */
function withKey(section: string, key: string, value: unknown): Record<string, unknown> {
  const doc = structuredClone(DEFAULT_CONFIG) as unknown as Record<string, unknown>;
  let at = doc;
  for (const part of section === '' ? [] : section.split('.')) at = at[part] as Record<string, unknown>;
  at[key] = value;
  return doc;
}

/** A copy of the defaults with the key at `path` renamed to `renamed`, its value kept. */
function withRenamedKey(path: string, renamed: string): Record<string, unknown> {
  const doc = structuredClone(DEFAULT_CONFIG) as unknown as Record<string, unknown>;
  const keys = path.split('.');
  let at = doc;
  for (const key of keys.slice(0, -1)) at = at[key] as Record<string, unknown>;
  const last = keys[keys.length - 1] as string;
  const value = at[last] ?? (OPTIONAL[path] === 'int' ? 5 : 'text');
  delete at[last];
  at[renamed] = value;
  return doc;
}

function fromDoc(
  kind: ConfigKind,
  label: string,
  doc: Record<string, unknown>,
  path: string,
  says?: RegExp
): BadConfig {
  return { kind, label, text: stringify(doc), doc, path, says };
}

function shown(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** Wrong types: every value kind a key does not take (text keys take numbers as written: `version: 1.10`). */
function wrongTypes(path: string, leaf: LeafClass): BadConfig[] {
  const candidates: Record<LeafClass['kind'], unknown[]> = {
    int: ['many', '5', [1], { value: 1 }, true],
    bool: ['true', 'yes', 1, 0, [true], { on: true }, ''],
    zones: ['1', 1, { 1: 1 }, true],
    map: ['text', 5, [1], true],
    choice: [1, true, [valueAt(path)], { value: valueAt(path) }],
    cidr: [10, true, [valueAt(path)], { cidr: valueAt(path) }],
    text: [true, false, ['text'], { text: 'value' }],
  };
  return candidates[leaf.kind].map((value) =>
    fromDoc('wrong type', `${path}: ${shown(value)}`, withValue(path, value), path, /^must be/)
  );
}

/** Numbers out of range: below, above, fractional, unsafe, infinite, not a number. */
function outOfRange(path: string, [min, max]: [number, number]): BadConfig[] {
  const values = [min - 1, max + 1, -1, 0, 1.5, min + 0.5, 2 ** 53, 1e21, NaN, Infinity, -Infinity];
  const bad = values.filter((v) => !(Number.isInteger(v) && v >= min && v <= max));
  const unique = bad.filter((v, i) => bad.findIndex((w) => Object.is(w, v)) === i);
  return unique.map((value) =>
    fromDoc(
      'out of range',
      `${path}: ${String(value)}`,
      withValue(path, value),
      path,
      /^must be (a whole number|between)/
    )
  );
}

/** Zones that are no availability zone, each naming the bad entry. */
function badZones(path: string): BadConfig[] {
  const lists: [unknown[], string][] = [
    [[], path],
    [[0], `${path}[0]`],
    [[4], `${path}[0]`],
    [[1, -1], `${path}[1]`],
    [[1.5], `${path}[0]`],
    [['1'], `${path}[0]`],
    [[1, 2, null], `${path}[2]`],
    [[true], `${path}[0]`],
    [[[1]], `${path}[0]`],
  ];
  return lists.map(([value, at]) =>
    fromDoc('out of range', `${path}: ${shown(value)}`, withValue(path, value), at, /availability zone/)
  );
}

/** Enum values that are none of the choices. */
function badChoices(path: string, values: string[], folded: boolean): BadConfig[] {
  const first = values[0] as string;
  const bad = [first.slice(1), `${first}x`, '', '  ', 'none', first.replace(/_/g, '-')];
  if (!folded) bad.push(first.toUpperCase());
  const unique = [...new Set(bad)].filter((v) => !values.includes(v));
  return unique.map((value) =>
    fromDoc('bad enum value', `${path}: ${shown(value)}`, withValue(path, value), path, /^must be one of /)
  );
}

/** CIDRs: bad syntax, /33, host bits, and values refused because of the other network keys. */
function badCidrs(path: string): BadConfig[] {
  const syntax = [
    '10.0.0.0',
    '10.0.0/16',
    'abc',
    '10.0.0.0/',
    '/16',
    '10.0.0.256/16',
    '010.0.0.0/16',
    '10.0.0.0/-1',
    '10.0.0.0/16/1',
    '1.2.3.4.5/6',
    'fd00::/64',
    '',
  ];
  const inputs = syntax.map((value) =>
    fromDoc('bad CIDR', `${path}: ${shown(value)}`, withValue(path, value), path, /IPv4 CIDR|invalid address/)
  );
  const base = String(valueAt(path));
  const [address, prefix] = base.split('/') as [string, string];
  const hostBits = `${address.replace(/\.0$/, '.1')}/${prefix}`;
  inputs.push(
    fromDoc('bad CIDR', `${path}: /33`, withValue(path, `${address}/33`), path, /prefix length over 32/),
    fromDoc('bad CIDR', `${path}: host bits`, withValue(path, hostBits), path, /host bits set/)
  );
  return inputs;
}

/** CIDRs each fine alone, refused next to the defaults of the other network keys. */
function crossCidrs(): BadConfig[] {
  const cases: [string, string, string, RegExp][] = [
    ['network.subnet_prefix', '10.1.1.0/24', 'network.subnet_prefix', /is not inside network\.vnet_prefix/],
    ['network.subnet_prefix', '10.0.0.0/8', 'network.subnet_prefix', /is not inside/],
    ['network.subnet_prefix', '192.168.100.0/24', 'network.subnet_prefix', /is not inside/],
    ['network.vnet_prefix', '172.16.0.0/16', 'network.subnet_prefix', /is not inside/],
    [
      'network.wireguard_network',
      '10.0.5.0/24',
      'network.wireguard_network',
      /overlaps network\.vnet_prefix/,
    ],
    ['network.wireguard_network', '10.0.1.0/24', 'network.wireguard_network', /overlaps/],
    ['network.vnet_prefix', '192.168.0.0/16', 'network.wireguard_network', /overlaps/],
    ['network.wireguard_network', '192.168.100.0/25', 'network.wireguard_network', /must be a \/24 network/],
    ['network.wireguard_network', '192.168.0.0/16', 'network.wireguard_network', /must be a \/24 network/],
    ['network.wireguard_network', '192.168.100.0/32', 'network.wireguard_network', /must be a \/24 network/],
  ];
  return cases.map(([at, value, path, says]) =>
    fromDoc('bad CIDR', `${at}: ${value}`, withValue(at, value), path, says)
  );
}

/** Text: empty where required, malformed where it has a shape, a Temporal-refused task queue. */
function badText(path: string, mayBeEmpty: boolean): BadConfig[] {
  const values = [...(mayBeEmpty ? [] : ['', '   ', '\t']), ...(MALFORMED[path] ?? [])];
  return values.map((value) =>
    fromDoc(
      'empty or malformed text',
      `${path}: ${shown(value)}`,
      withValue(path, value),
      path,
      /^must (not be empty|be )/
    )
  );
}

/** Zero controllers, alone and with workers, and more hosts than the WireGuard plan holds. */
function zeroControllers(): BadConfig[] {
  const inputs: BadConfig[] = [];
  for (const workers of [0, 1, 3]) {
    const doc = withValue('cluster.controllers.count', 0);
    ((doc.cluster as Record<string, Record<string, unknown>>).workers as Record<string, unknown>).count =
      workers;
    inputs.push(
      fromDoc(
        'zero controllers',
        `0 controllers, ${workers} workers`,
        doc,
        'cluster.controllers.count',
        /between 1 and/
      )
    );
  }
  const crowded = withValue('cluster.controllers.count', 200);
  ((crowded.cluster as Record<string, Record<string, unknown>>).workers as Record<string, unknown>).count =
    45;
  inputs.push(fromDoc('zero controllers', '200 controllers + 45 workers', crowded, 'cluster', /245 hosts/));
  return inputs;
}

/** KOF switched on with regional settings it cannot use. */
function kofSettings(): BadConfig[] {
  const cases: [string, string, RegExp][] = [
    ['kof.regional.domain', '', /must be set when KOF is enabled/],
    ['kof.regional.domain', '  ', /must be set when KOF is enabled/],
    ['kof.regional.domain', 'my domain', /must be a DNS name/],
    ['kof.regional.domain', 'nodots', /must be a DNS name/],
    ['kof.regional.domain', '-bad-.example.com', /must be a DNS name/],
    ['kof.regional.admin_email', '', /must be set when KOF is enabled/],
    ['kof.regional.admin_email', 'admin', /must be an email address/],
    ['kof.regional.admin_email', 'admin@localhost', /must be an email address/],
    ['kof.regional.admin_email', 'a b@example.com', /must be an email address/],
  ];
  return cases.map(([path, value, says]) => {
    const doc = withValue(path, value);
    (doc.kof as Record<string, unknown>).enabled = true;
    return fromDoc('KOF setting', `kof.enabled with ${path}: ${shown(value)}`, doc, path, says);
  });
}

/** Unknown keys in every section: made up, an extension key below the top, and a key of another section. */
function unknownKeys(sections: string[], leaves: string[]): BadConfig[] {
  const inputs: BadConfig[] = [];
  for (const section of ['', ...sections]) {
    const siblings = new Set(
      [...sections, ...leaves]
        .filter((p) => (section === '' ? !p.includes('.') : p.startsWith(`${section}.`)))
        .map((p) => p.slice(section === '' ? 0 : section.length + 1))
        .filter((p) => !p.includes('.'))
    );
    // A free map: any key goes there.
    if (section === 'kof.mothership.collectors.global') continue;
    const foreign = leaves
      .map((p) => p.split('.').pop() as string)
      .find((k) => !siblings.has(k) && k.length > 8);
    const keys = [
      'bogus_setting',
      '123',
      ...(section === '' ? [] : ['x-extension']),
      ...(foreign ? [foreign] : []),
    ];
    for (const key of keys) {
      const path = section === '' ? key : `${section}.${key}`;
      inputs.push(fromDoc('unknown key', path, withKey(section, key, 1), path, /^unknown key \(/));
    }
  }
  return inputs;
}

/** Misspellings of every key and section name; the message must suggest the right path. */
function misspeltKeys(paths: string[]): BadConfig[] {
  const inputs: BadConfig[] = [];
  for (const path of paths) {
    const parts = path.split('.');
    const key = parts[parts.length - 1] as string;
    const parent = parts.slice(0, -1).join('.');
    const siblings = knownConfigPaths()
      .filter((p) => p.split('.').length === parts.length && p.startsWith(parent))
      .map((p) => p.split('.').pop() as string);
    const camel = key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
    const variants = [
      key.slice(0, -1),
      `${key.charAt(1)}${key.charAt(0)}${key.slice(2)}`,
      camel,
      key.replace(/_/g, '-'),
      key.toUpperCase(),
    ];
    for (const variant of [...new Set(variants)]) {
      if (variant === key || siblings.includes(variant)) continue;
      const at = parent === '' ? variant : `${parent}.${variant}`;
      const says = new RegExp(`^unknown key \\(did you mean ${path.replace(/\./g, '\\.')}[ ?]`);
      inputs.push(fromDoc('misspelt key', `${path} as ${variant}`, withRenamedKey(path, variant), at, says));
    }
  }
  return inputs;
}

/** YAML syntax errors, each made by breaking the first entry of one section of the default file. */
function syntaxErrors(): BadConfig[] {
  const lines = stringify(DEFAULT_CONFIG).split('\n');
  const inputs: BadConfig[] = [];
  const breakers: [string, (line: string) => string[]][] = [
    ['a tab as indentation', (line) => [line.replace(/^ +/, '\t')]],
    ['a duplicated key', (line) => [line, line]],
    ['an unclosed quote', (line) => [`${line.replace(/:.*$/, ':')} "unterminated`]],
    ['an unclosed flow list', (line) => [`${line.replace(/:.*$/, ':')} [1, 2`]],
    ['a key indented one space too far', (line) => [` ${line}`]],
  ];
  lines.forEach((line, index) => {
    if (!/^[a-z_]+:$/.test(line)) return;
    const section = line.slice(0, -1);
    const child = index + 1;
    for (const [what, broken] of breakers) {
      const text = [...lines.slice(0, child), ...broken(lines[child] ?? ''), ...lines.slice(child + 1)].join(
        '\n'
      );
      inputs.push({
        kind: 'YAML syntax error',
        label: `${what} in ${section} (line ${child + 1})`,
        text,
        path: /^line \d+, column \d+$/,
        says: /YAML syntax error/,
      });
    }
  });
  return inputs;
}

/** Documents that are not a map of sections, and files that are no YAML map at all. */
function notMaps(sections: string[]): BadConfig[] {
  const docs: [string, string][] = [
    ['a list', '- azure\n- network\n'],
    ['a number', '42\n'],
    ['a text', 'westus2\n'],
    ['a boolean', 'true\n'],
    ['a set', '!!set {azure, network}\n'],
    ['an ordered map', '!!omap [ {azure: {location: eastus}} ]\n'],
    ['binary data', '!!binary aGVsbG8=\n'],
  ];
  const inputs: BadConfig[] = docs.map(([what, text]) => ({
    kind: 'not a map',
    label: `a document that is ${what}`,
    text,
    path: '',
    says: /^the file must hold a map of sections/,
  }));
  for (const [what, text, says] of [
    ['two documents', 'azure: {}\n---\nnetwork: {}\n', /YAML syntax error/],
    ['an alias bomb', `a: &a [x, x, x, x, x, x, x, x, x, x]\n${bombLines()}`, /Excessive alias count|YAML/],
    ['NUL bytes', 'azure:\n  location: "\u0000\u0001"\0\0\n', /YAML syntax error|control/],
  ] as const) {
    inputs.push({
      kind: 'not a map',
      label: `a file with ${what}`,
      text,
      path: /^(line \d+, column \d+)?$/,
      says,
    });
  }
  for (const section of sections) {
    for (const value of ['text', 5, [1], true]) {
      inputs.push(
        fromDoc(
          'not a map',
          `${section}: ${shown(value)}`,
          withValue(section, value),
          section,
          /^must be a map with the keys/
        )
      );
    }
  }
  return inputs;
}

/** Lines of a billion-laughs document, each level ten aliases of the one before. */
function bombLines(): string {
  const levels = ['b', 'c', 'd', 'e', 'f', 'g'];
  return levels
    .map((name, i) => {
      const prev = i === 0 ? 'a' : (levels[i - 1] as string);
      return `${name}: &${name} [${Array.from({ length: 10 }, () => `*${prev}`).join(', ')}]`;
    })
    .join('\n');
}

/** Every generated bad config. */
export function badConfigs(): BadConfig[] {
  const { leaves, sections } = configPaths();
  const inputs: BadConfig[] = [];
  for (const path of leaves) {
    const leaf = classify(path);
    inputs.push(...wrongTypes(path, leaf));
    if (leaf.kind === 'int') inputs.push(...outOfRange(path, leaf.range));
    if (leaf.kind === 'zones') inputs.push(...badZones(path));
    if (leaf.kind === 'choice') inputs.push(...badChoices(path, leaf.values, leaf.folded));
    if (leaf.kind === 'cidr') inputs.push(...badCidrs(path));
    if (leaf.kind === 'text') inputs.push(...badText(path, leaf.mayBeEmpty));
  }
  inputs.push(...crossCidrs(), ...zeroControllers(), ...kofSettings());
  inputs.push(...unknownKeys(sections, leaves), ...misspeltKeys([...sections, ...leaves]));
  inputs.push(...syntaxErrors(), ...notMaps(sections));
  return inputs;
}
