/**
 * Validation of a parsed config document: the schema below (one entry per YAML key, typed against
 * `K0rdentConfig` so a key cannot be forgotten), deep-merged over `DEFAULT_CONFIG`, then the rules that
 * span several keys. Every issue names the YAML path it concerns. Pure code (no Node built-ins).
 */
import { cidrContains, cidrOverlaps, formatCidr, parseCidr } from './cidr';
import type { Ipv4Cidr } from './cidr';
import { DEFAULT_CONFIG } from './defaults';
import type { ConfigIssue } from './errors';
import type { K0rdentConfig } from './types';

/** One step of a YAML path: a map key or a list index. */
export type PathSegment = string | number;

/** What validation found: the merged config (defaults where a value was missing or wrong) and the issues. */
export interface ValidationResult {
  config: K0rdentConfig;
  /** Problems that make the config unusable; empty when it is valid. */
  issues: ConfigIssue[];
  /** Things that work but are probably not what the author meant. */
  warnings: ConfigIssue[];
}

/** Options of `validateConfig`. */
export interface ValidateOptions {
  /**
   * The text a scalar was written as, when known. A number where text is expected (`version: 1.10`) is
   * then kept as written instead of as the number it parses to.
   */
  sourceText?: (path: readonly PathSegment[]) => string | undefined;
}

interface TextLeaf {
  kind: 'text';
  nonEmpty?: boolean;
  /** Checked when the value is not empty. */
  pattern?: RegExp;
  patternHint?: string;
}
interface IntLeaf {
  kind: 'int';
  min: number;
  max?: number;
}
interface BoolLeaf {
  kind: 'bool';
}
interface ChoiceLeaf {
  kind: 'choice';
  values: readonly string[];
  /** Accept any letter case, normalise to the listed spelling and warn. */
  ignoreCase?: boolean;
}
interface CidrLeaf {
  kind: 'cidr';
  /** Required prefix length, with the reason. */
  prefix?: { length: number; why: string };
}
interface ZonesLeaf {
  kind: 'zones';
}
interface MapLeaf {
  kind: 'map';
}
type Leaf = TextLeaf | IntLeaf | BoolLeaf | ChoiceLeaf | CidrLeaf | ZonesLeaf | MapLeaf;
interface SectionNode {
  kind: 'section';
  fields: Record<string, SchemaNode>;
}
type SchemaNode = Leaf | SectionNode;

type NodeFor<T> = [T] extends [readonly number[]]
  ? ZonesLeaf
  : [T] extends [boolean]
    ? BoolLeaf
    : [T] extends [number]
      ? IntLeaf
      : [T] extends [string]
        ? TextLeaf | ChoiceLeaf | CidrLeaf
        : string extends keyof T
          ? MapLeaf
          : { kind: 'section'; fields: SchemaOf<T> };
type SchemaOf<T> = { [K in keyof T]-?: NodeFor<NonNullable<T[K]>> };

const anyText: TextLeaf = { kind: 'text' };
const name: TextLeaf = { kind: 'text', nonEmpty: true };
const int = (min: number, max?: number): IntLeaf =>
  max === undefined ? { kind: 'int', min } : { kind: 'int', min, max };
/**
 * Longest wait any duration may ask for: a week. Node timers overflow past 24.8 days and then fire at
 * once, so a larger value would turn into no wait at all.
 */
const MAX_WAIT_SECONDS = 7 * 24 * 3600;
/** Upper bound of retry counts: more attempts than this are a typo, not a plan. */
const MAX_RETRIES = 100;
const seconds = int(1, MAX_WAIT_SECONDS);
const command: TextLeaf = { kind: 'text', nonEmpty: true };
const bool: BoolLeaf = { kind: 'bool' };
const cidr: CidrLeaf = { kind: 'cidr' };
const zones: ZonesLeaf = { kind: 'zones' };
/** Hosts get `.11` to `.254` of the WireGuard /24. */
const MAX_HOSTS = 244;

const SCHEMA: SchemaOf<K0rdentConfig> = {
  metadata: {
    kind: 'section',
    fields: { version: anyText, schema: anyText, description: anyText, owner: anyText },
  },
  azure: {
    kind: 'section',
    fields: {
      subscription_id: {
        kind: 'text',
        pattern: /^$|^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
        patternHint: 'a subscription GUID',
      },
      credential: { kind: 'choice', values: ['cli', 'service_principal', 'default'] },
      location: name,
      vm_image: name,
      vm_priority: { kind: 'choice', values: ['Regular', 'Spot'], ignoreCase: true },
      eviction_policy: { kind: 'choice', values: ['Deallocate', 'Delete'], ignoreCase: true },
    },
  },
  network: {
    kind: 'section',
    fields: {
      vnet_prefix: cidr,
      subnet_prefix: cidr,
      wireguard_network: {
        kind: 'cidr',
        prefix: { length: 24, why: 'the address plan gives the laptop .1 and host i .(10+i) of one /24' },
      },
    },
  },
  vm_sizing: {
    kind: 'section',
    fields: {
      controller: { kind: 'section', fields: { size: name } },
      worker: { kind: 'section', fields: { size: name } },
    },
  },
  cluster: {
    kind: 'section',
    fields: {
      controllers: { kind: 'section', fields: { count: int(1, MAX_HOSTS), zones } },
      workers: { kind: 'section', fields: { count: int(0, MAX_HOSTS), zones } },
    },
  },
  ssh: { kind: 'section', fields: { username: name, key_comment: anyText } },
  software: {
    kind: 'section',
    fields: {
      k0s: { kind: 'section', fields: { version: name } },
      k0rdent: { kind: 'section', fields: { version: name, registry: name, namespace: name } },
    },
  },
  timeouts: {
    kind: 'section',
    fields: {
      ssh_connect: seconds,
      ssh_command: seconds,
      k0s_install_wait: seconds,
      k0rdent_install_wait: seconds,
      wireguard_connect_wait: seconds,
      vm_creation_minutes: int(1, MAX_WAIT_SECONDS / 60),
      vm_wait_check_interval: seconds,
      cloud_init_timeout: seconds,
      cloud_init_check_interval: seconds,
      // A count, not a duration: no retry at all is a valid choice.
      verification_retries: int(0, MAX_RETRIES),
      verification_retry_delay: seconds,
    },
  },
  kof: {
    kind: 'section',
    fields: {
      enabled: bool,
      version: name,
      istio: { kind: 'section', fields: { version: name, namespace: name } },
      mothership: {
        kind: 'section',
        fields: {
          namespace: name,
          storage_class: name,
          install_retries: int(1, MAX_RETRIES),
          retry_delay_seconds: int(0, MAX_WAIT_SECONDS),
          collectors: { kind: 'section', fields: { global: { kind: 'map' } } },
        },
      },
      regional: {
        kind: 'section',
        fields: {
          cluster_name: {
            kind: 'text',
            pattern: /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
            patternHint: 'a Kubernetes name: lowercase letters, digits and "-", at most 63 characters',
          },
          domain: anyText,
          admin_email: anyText,
          location: name,
          template: name,
          credential: name,
          cp_instance_size: name,
          worker_instance_size: name,
          root_volume_size: {
            kind: 'text',
            nonEmpty: true,
            pattern: /^[1-9][0-9]*$/,
            patternHint: 'a whole number of GB, like "32"',
          },
          namespace: name,
          cluster_label: {
            kind: 'text',
            nonEmpty: true,
            pattern: /^[^=\s]+=[^=\s]+$/,
            patternHint: 'a label in key=value form',
          },
        },
      },
    },
  },
  orchestrator: {
    kind: 'section',
    fields: {
      task_queue: {
        kind: 'text',
        nonEmpty: true,
        // The Temporal server refuses names over 1000 characters (its default ID length limit).
        pattern: /^\P{Cc}{1,1000}$/u,
        patternHint: 'a Temporal task queue name: at most 1000 characters, no control characters',
      },
      activity_preset: { kind: 'choice', values: ['provisioning', 'quick'] },
      heartbeat_seconds: seconds,
      max_attempts: int(1, MAX_RETRIES),
      parallel_vms: int(1, 50),
      write_private_keys_to_state: bool,
      cloud: { kind: 'choice', values: ['emulator', 'azure'] },
      wireguard_up_command: command,
      wireguard_down_command: command,
      wg_command: command,
      poll_initial_ms: int(10, 60_000),
      poll_max_ms: int(10, MAX_WAIT_SECONDS * 1000),
      worker: {
        kind: 'section',
        fields: {
          tuner: { kind: 'choice', values: ['fixed', 'resource'] },
          max_workflow_tasks: int(2, 1000),
          max_activities: int(1, 2000),
          max_local_activities: int(1, 2000),
          target_cpu_percent: int(10, 100),
          target_memory_percent: int(10, 100),
          keygen_threads: int(1, 64),
        },
      },
    },
  },
};

const ROOT: SectionNode = { kind: 'section', fields: SCHEMA };

const DNS_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** `cluster.controllers.zones[1]` from its segments. */
export function formatPath(path: readonly PathSegment[]): string {
  return path
    .map((segment, index) =>
      typeof segment === 'number' ? `[${segment}]` : index === 0 ? segment : `.${segment}`
    )
    .join('');
}

/** Every section and key path the schema knows, for "did you mean" suggestions. */
const KNOWN_PATHS: { key: string; path: string }[] = [];
(function collect(node: SectionNode, prefix: string[]): void {
  for (const [key, child] of Object.entries(node.fields)) {
    const path = [...prefix, key];
    KNOWN_PATHS.push({ key, path: path.join('.') });
    if (child.kind === 'section') {
      collect(child, path);
    }
  }
})(ROOT, []);

function normaliseKey(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[-\s]/g, '_');
}

/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps cost 1. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [];
    for (let j = 0; j <= b.length; j++) {
      if (i === 0 || j === 0) {
        row.push(i + j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const above = rows[i - 1] ?? [];
      let best = Math.min((above[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (above[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      }
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? Math.max(a.length, b.length);
}

function unknownKeyMessage(key: string, parent: readonly PathSegment[], siblings: string[]): string {
  const wanted = normaliseKey(key);
  const allowed = wanted.length <= 3 ? 1 : wanted.length <= 6 ? 2 : 3;
  const near = siblings
    .map((sibling) => ({ sibling, distance: editDistance(wanted, normaliseKey(sibling)) }))
    .filter((candidate) => candidate.distance <= allowed)
    .sort((x, y) => x.distance - y.distance)[0];
  if (near) {
    return `unknown key (did you mean ${formatPath([...parent, near.sibling])}?)`;
  }
  const elsewhere = KNOWN_PATHS.filter((known) => normaliseKey(known.key) === wanted).map(
    (known) => known.path
  );
  if (elsewhere.length > 0) {
    return `unknown key (did you mean ${elsewhere.slice(0, 3).join(' or ')}?)`;
  }
  return `unknown key (known keys here: ${siblings.join(', ')})`;
}

/** Text as quoted in a message: at most 60 characters, control characters escaped. */
function quoted(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
}

function describe(value: unknown): string {
  if (typeof value === 'string') {
    return `the text ${quoted(value)}`;
  }
  if (value instanceof Uint8Array) {
    return 'binary data';
  }
  if (value instanceof Date) {
    return 'a timestamp';
  }
  if (value instanceof Map) {
    return 'an ordered map (!!omap)';
  }
  if (value instanceof Set) {
    return 'a set (!!set)';
  }
  if (value === null || value === undefined) {
    return 'nothing';
  }
  if (Array.isArray(value)) {
    return 'a list';
  }
  if (typeof value === 'object') {
    return 'a map';
  }
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : typeof value;
}

/** A plain map; YAML's `!!omap`, `!!set`, `!!binary` and timestamps are objects too, but not maps of keys. */
function isMap(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function copy<T>(value: T): T {
  return value === undefined ? value : structuredClone(value);
}

class Walk {
  readonly issues: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];
  /** Formatted paths whose value was refused (the default stands in for it). */
  readonly refused = new Set<string>();

  constructor(private readonly options: ValidateOptions) {}

  fail(path: readonly PathSegment[], message: string): void {
    const formatted = formatPath(path);
    this.issues.push({ path: formatted, message });
    this.refused.add(formatted);
  }

  warn(path: readonly PathSegment[], message: string): void {
    this.warnings.push({ path: formatPath(path), message });
  }

  ok(path: string): boolean {
    return !this.refused.has(path);
  }

  section(node: SectionNode, raw: unknown, fallback: unknown, path: PathSegment[]): Record<string, unknown> {
    const keys = Object.keys(node.fields);
    let given: Record<string, unknown> = {};
    if (isMap(raw)) {
      given = raw;
    } else if (raw !== undefined && raw !== null) {
      this.fail(path, `must be a map with the keys ${keys.join(', ')}, got ${describe(raw)}`);
    }
    for (const key of Object.keys(given)) {
      // Top-level `x-...` keys are free for YAML anchors, as in compose files.
      const extension = path.length === 0 && key.startsWith('x-');
      if (!extension && !Object.hasOwn(node.fields, key)) {
        this.fail([...path, key], unknownKeyMessage(key, path, keys));
      }
    }
    const defaults = isMap(fallback) ? fallback : {};
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(node.fields)) {
      const childPath = [...path, key];
      const value =
        child.kind === 'section'
          ? this.section(child, given[key], defaults[key], childPath)
          : this.leaf(child, given[key], defaults[key], childPath);
      if (value !== undefined) {
        out[key] = value;
      }
    }
    return out;
  }

  leaf(node: Leaf, raw: unknown, fallback: unknown, path: PathSegment[]): unknown {
    if (raw === undefined || raw === null) {
      return copy(fallback);
    }
    const value = this.read(node, raw, path);
    return value === undefined ? copy(fallback) : value;
  }

  /** The checked value, or undefined after recording why it was refused. */
  private read(node: Leaf, raw: unknown, path: PathSegment[]): unknown {
    switch (node.kind) {
      case 'text':
        return this.text(node, raw, path);
      case 'int':
        return this.int(node, raw, path);
      case 'bool':
        if (typeof raw !== 'boolean') {
          this.fail(path, `must be true or false, got ${describe(raw)}`);
          return undefined;
        }
        return raw;
      case 'choice':
        return this.choice(node, raw, path);
      case 'cidr':
        return this.cidr(node, raw, path);
      case 'zones':
        return this.zones(raw, path);
      case 'map':
        if (!isMap(raw)) {
          this.fail(path, `must be a map, got ${describe(raw)}`);
          return undefined;
        }
        return copy(raw);
    }
  }

  private text(node: TextLeaf, raw: unknown, path: PathSegment[]): string | undefined {
    let value: string;
    if (typeof raw === 'string') {
      value = raw;
    } else if (typeof raw === 'number') {
      // A plain scalar like `1.10` parses as a number; keep it as written.
      value = this.options.sourceText?.(path) ?? String(raw);
    } else {
      this.fail(path, `must be text, got ${describe(raw)}`);
      return undefined;
    }
    if (value.trim() === '') {
      if (node.nonEmpty) {
        this.fail(path, 'must not be empty');
        return undefined;
      }
      return value;
    }
    if (node.pattern && !node.pattern.test(value)) {
      this.fail(
        path,
        `must be ${node.patternHint ?? `text matching ${String(node.pattern)}`}, got ${quoted(value)}`
      );
      return undefined;
    }
    return value;
  }

  private int(node: IntLeaf, raw: unknown, path: PathSegment[]): number | undefined {
    if (typeof raw !== 'number' || !Number.isSafeInteger(raw)) {
      const hint = typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? ' (remove the quotes)' : '';
      this.fail(path, `must be a whole number, got ${describe(raw)}${hint}`);
      return undefined;
    }
    if (raw < node.min || (node.max !== undefined && raw > node.max)) {
      const range = node.max === undefined ? `at least ${node.min}` : `between ${node.min} and ${node.max}`;
      this.fail(path, `must be ${range}, got ${raw}`);
      return undefined;
    }
    return raw;
  }

  private choice(node: ChoiceLeaf, raw: unknown, path: PathSegment[]): string | undefined {
    const allowed = node.values.join(', ');
    if (typeof raw !== 'string') {
      this.fail(path, `must be one of ${allowed}, got ${describe(raw)}`);
      return undefined;
    }
    if (node.values.includes(raw)) {
      return raw;
    }
    const folded = node.ignoreCase
      ? node.values.find((v) => v.toLowerCase() === raw.trim().toLowerCase())
      : undefined;
    if (folded !== undefined) {
      this.warn(path, `"${raw}" read as "${folded}"; write "${folded}" (the Bash tool matches it exactly)`);
      return folded;
    }
    this.fail(path, `must be one of ${allowed}, got ${quoted(raw)}`);
    return undefined;
  }

  private cidr(node: CidrLeaf, raw: unknown, path: PathSegment[]): string | undefined {
    if (typeof raw !== 'string') {
      this.fail(path, `must be an IPv4 CIDR like 10.0.0.0/16, got ${describe(raw)}`);
      return undefined;
    }
    const parsed = parseCidr(raw);
    if (!parsed.ok) {
      this.fail(path, parsed.reason);
      return undefined;
    }
    if (node.prefix && parsed.cidr.prefix !== node.prefix.length) {
      this.fail(path, `must be a /${node.prefix.length} network (${node.prefix.why}), got ${raw}`);
      return undefined;
    }
    return formatCidr(parsed.cidr);
  }

  private zones(raw: unknown, path: PathSegment[]): number[] | undefined {
    if (!Array.isArray(raw)) {
      this.fail(path, `must be a list of availability zones like [1, 2, 3], got ${describe(raw)}`);
      return undefined;
    }
    if (raw.length === 0) {
      this.fail(path, 'must list at least one availability zone (1, 2 or 3)');
      return undefined;
    }
    let good = true;
    raw.forEach((zone: unknown, index) => {
      if (typeof zone !== 'number' || !Number.isInteger(zone) || zone < 1 || zone > 3) {
        this.fail([...path, index], `must be an availability zone 1, 2 or 3, got ${describe(zone)}`);
        good = false;
      }
    });
    return good ? [...(raw as number[])] : undefined;
  }
}

function cidrAt(walk: Walk, path: string, text: string): Ipv4Cidr | undefined {
  if (!walk.ok(path)) {
    return undefined;
  }
  const parsed = parseCidr(text);
  return parsed.ok ? parsed.cidr : undefined;
}

function checkAcrossKeys(config: K0rdentConfig, walk: Walk): void {
  const { network, cluster, kof } = config;
  const vnet = cidrAt(walk, 'network.vnet_prefix', network.vnet_prefix);
  const subnet = cidrAt(walk, 'network.subnet_prefix', network.subnet_prefix);
  const wireguard = cidrAt(walk, 'network.wireguard_network', network.wireguard_network);
  if (vnet && subnet && !cidrContains(vnet, subnet)) {
    walk.fail(
      ['network', 'subnet_prefix'],
      `${network.subnet_prefix} is not inside network.vnet_prefix ${network.vnet_prefix}`
    );
  }
  if (vnet && wireguard && cidrOverlaps(vnet, wireguard)) {
    walk.fail(
      ['network', 'wireguard_network'],
      `${network.wireguard_network} overlaps network.vnet_prefix ${network.vnet_prefix}; the tunnel needs addresses of its own`
    );
  }

  const controllers = cluster.controllers.count;
  const workers = cluster.workers.count;
  if (walk.ok('cluster.controllers.count') && walk.ok('cluster.workers.count')) {
    if (controllers + workers > MAX_HOSTS) {
      walk.fail(
        ['cluster'],
        `${controllers} controllers + ${workers} workers = ${controllers + workers} hosts; the WireGuard plan (.11 to .254 of one /24) has room for ${MAX_HOSTS}`
      );
    }
    if (workers === 0) {
      walk.warn(['cluster', 'workers', 'count'], 'no workers: workloads have to run on the controllers');
    }
    if (controllers > 1 && controllers % 2 === 0) {
      walk.warn(
        ['cluster', 'controllers', 'count'],
        `${controllers} controllers: an even count tolerates no more failures than ${controllers - 1}; use an odd number`
      );
    }
  }

  if (kof.enabled && walk.ok('kof.enabled')) {
    for (const issue of kofSettingsIssues(config)) {
      if (walk.ok(issue.path)) {
        walk.fail(issue.path.split('.'), issue.message);
      }
    }
  }
}

/**
 * Problems with the KOF regional settings that matter once KOF is on, whatever `kof.enabled` says (the
 * CLI's `--with-kof` switches KOF on without it).
 */
export function kofSettingsIssues(config: K0rdentConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const { domain, admin_email: email } = config.kof.regional;
  if (domain.trim() === '') {
    issues.push({ path: 'kof.regional.domain', message: 'must be set when KOF is enabled' });
  } else if (!DNS_NAME.test(domain)) {
    issues.push({
      path: 'kof.regional.domain',
      message: `must be a DNS name like regional.example.com, got ${quoted(domain)}`,
    });
  }
  if (email.trim() === '') {
    issues.push({ path: 'kof.regional.admin_email', message: 'must be set when KOF is enabled' });
  } else if (!EMAIL.test(email)) {
    issues.push({
      path: 'kof.regional.admin_email',
      message: `must be an email address like admin@example.com, got ${quoted(email)}`,
    });
  }
  return issues;
}

/**
 * Check a parsed config document (the YAML as plain data) and merge it over the defaults. Missing or
 * null keys take their default; a refused value is reported and replaced by its default in `config`.
 */
export function validateConfig(raw: unknown, options: ValidateOptions = {}): ValidationResult {
  const walk = new Walk(options);
  let document: unknown = raw;
  if (raw !== undefined && raw !== null && !isMap(raw)) {
    walk.fail(
      [],
      `the file must hold a map of sections (${Object.keys(SCHEMA).join(', ')}), got ${describe(raw)}`
    );
    document = {};
  }
  const config = walk.section(ROOT, document, DEFAULT_CONFIG, []) as unknown as K0rdentConfig;
  checkAcrossKeys(config, walk);
  return { config, issues: walk.issues, warnings: walk.warnings };
}

/** Every YAML path the schema knows (sections and keys), dotted. */
export function knownConfigPaths(): string[] {
  return KNOWN_PATHS.map((known) => known.path);
}
