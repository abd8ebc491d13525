/**
 * Validation of a parsed config document against the schema in `schema.ts`: each issue names the YAML
 * path it concerns (an unknown key with a "did you mean"), a refused value gives way to its default, and
 * the rules that span several keys run on the result. Pure code (no Node built-ins).
 */
import { z } from 'zod';
import { cidrContains, cidrOverlaps, parseCidr } from './cidr';
import type { Ipv4Cidr } from './cidr';
import type { ConfigIssue } from './errors';
import { CONFIG_SCHEMA, LEAF_META, MAX_HOSTS, isMap, quoted } from './schema';
import type { LeafMeta } from './schema';
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

/** A section or key of the schema: its path and, for a leaf, what it tells beyond its type. */
interface KnownKey {
  path: string[];
  meta?: LeafMeta;
}

function sectionShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  return schema instanceof z.ZodPipe && schema.out instanceof z.ZodObject ? schema.out.shape : undefined;
}

function leafMeta(schema: z.ZodType): LeafMeta | undefined {
  let inner: z.core.$ZodType = schema;
  while (inner instanceof z.ZodDefault || inner instanceof z.ZodOptional) {
    inner = inner.unwrap();
  }
  return LEAF_META.get(inner);
}

function keysOf(schema: z.ZodType, prefix: string[]): KnownKey[] {
  return Object.entries(sectionShape(schema) ?? {}).flatMap(([key, child]) => {
    const path = [...prefix, key];
    return sectionShape(child) ? [{ path }, ...keysOf(child, path)] : [{ path, meta: leafMeta(child) }];
  });
}

/** Every section and key of the schema, parents before children, in schema order. */
const KNOWN_KEYS = keysOf(CONFIG_SCHEMA, []);

function isUnder(path: readonly PathSegment[], parent: readonly PathSegment[]): boolean {
  return parent.every((segment, index) => path[index] === segment);
}

/** The keys of the section at `parent`. */
function keysAt(parent: readonly PathSegment[]): string[] {
  return KNOWN_KEYS.filter(
    (known) => known.path.length === parent.length + 1 && isUnder(known.path, parent)
  ).map((known) => known.path[parent.length] ?? '');
}

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

function unknownKeyMessage(key: string, parent: readonly PathSegment[]): string {
  const siblings = keysAt(parent);
  const wanted = normaliseKey(key);
  const allowed = wanted.length <= 3 ? 1 : wanted.length <= 6 ? 2 : 3;
  const near = siblings
    .map((sibling) => ({ sibling, distance: editDistance(wanted, normaliseKey(sibling)) }))
    .filter((candidate) => candidate.distance <= allowed)
    .sort((x, y) => x.distance - y.distance)[0];
  if (near) {
    return `unknown key (did you mean ${formatPath([...parent, near.sibling])}?)`;
  }
  const elsewhere = KNOWN_KEYS.filter(
    (known) => normaliseKey(known.path[known.path.length - 1] ?? '') === wanted
  ).map((known) => known.path.join('.'));
  if (elsewhere.length > 0) {
    return `unknown key (did you mean ${elsewhere.slice(0, 3).join(' or ')}?)`;
  }
  return `unknown key (known keys here: ${siblings.join(', ')})`;
}

/** An issue before its path is formatted. */
interface Found {
  path: PathSegment[];
  message: string;
}

/**
 * zod's issues in the order a walk of the document meets them: one issue per unknown key, ahead of the
 * issues inside its section (zod reports those first).
 */
function issuesOf(error: z.ZodError): Found[] {
  const found: Found[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment));
    if (issue.code !== 'unrecognized_keys') {
      found.push({ path, message: issue.message });
      continue;
    }
    const unknown = issue.keys.map((key) => ({
      path: [...path, key],
      message: unknownKeyMessage(key, path),
    }));
    const inside = found.findIndex((other) => isUnder(other.path, path));
    found.splice(inside === -1 ? found.length : inside, 0, ...unknown);
  }
  return found;
}

function valueAt(document: unknown, path: readonly PathSegment[]): unknown {
  let value = document;
  for (const segment of path) {
    value = isMap(value) ? value[segment] : undefined;
  }
  return value;
}

/** A copy of `document` with the value at `path` replaced, or removed when `value` is undefined. */
function replaceAt(document: unknown, path: readonly PathSegment[], value: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) {
    return value;
  }
  if (!isMap(document)) {
    return document;
  }
  const copy = { ...document };
  const replaced = replaceAt(copy[head], rest, value);
  if (replaced === undefined) {
    delete copy[head];
  } else {
    copy[head] = replaced;
  }
  return copy;
}

/** The document with each number at a text key replaced by the text it was written as. */
function asWritten(document: unknown, sourceText: NonNullable<ValidateOptions['sourceText']>): unknown {
  let written = document;
  for (const known of KNOWN_KEYS) {
    const source =
      known.meta?.text && typeof valueAt(written, known.path) === 'number'
        ? sourceText(known.path)
        : undefined;
    if (source !== undefined) {
      written = replaceAt(written, known.path, source);
    }
  }
  return written;
}

/** The document without what was refused: unknown keys, and refused values (a whole list for one bad entry). */
function withoutRefused(document: unknown, found: readonly Found[]): unknown {
  let kept = document;
  for (const { path } of found) {
    const list = path.findIndex((segment) => typeof segment === 'number');
    kept = replaceAt(kept, list === -1 ? path : path.slice(0, list), undefined);
  }
  return kept;
}

/** A warning for each choice written in another letter case than the one it was read as. */
function foldedChoices(
  document: unknown,
  config: K0rdentConfig,
  refused: ReadonlySet<string>
): ConfigIssue[] {
  return KNOWN_KEYS.flatMap((known) => {
    const path = formatPath(known.path);
    const written = valueAt(document, known.path);
    const read = String(valueAt(config, known.path));
    return known.meta?.folded && !refused.has(path) && typeof written === 'string' && written !== read
      ? [
          {
            path,
            message: `"${written}" read as "${read}"; write "${read}" (the Bash tool matches it exactly)`,
          },
        ]
      : [];
  });
}

function cidrAt(refused: ReadonlySet<string>, path: string, text: string): Ipv4Cidr | undefined {
  if (refused.has(path)) {
    return undefined;
  }
  const parsed = parseCidr(text);
  return parsed.ok ? parsed.cidr : undefined;
}

/** The rules that span several keys, on the keys that passed their own checks. */
function checkAcrossKeys(
  config: K0rdentConfig,
  refused: ReadonlySet<string>
): Pick<ValidationResult, 'issues' | 'warnings'> {
  const issues: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const { network, cluster, kof } = config;
  const vnet = cidrAt(refused, 'network.vnet_prefix', network.vnet_prefix);
  const subnet = cidrAt(refused, 'network.subnet_prefix', network.subnet_prefix);
  const wireguard = cidrAt(refused, 'network.wireguard_network', network.wireguard_network);
  if (vnet && subnet && !cidrContains(vnet, subnet)) {
    issues.push({
      path: 'network.subnet_prefix',
      message: `${network.subnet_prefix} is not inside network.vnet_prefix ${network.vnet_prefix}`,
    });
  }
  if (vnet && wireguard && cidrOverlaps(vnet, wireguard)) {
    issues.push({
      path: 'network.wireguard_network',
      message: `${network.wireguard_network} overlaps network.vnet_prefix ${network.vnet_prefix}; the tunnel needs addresses of its own`,
    });
  }

  const controllers = cluster.controllers.count;
  const workers = cluster.workers.count;
  if (!refused.has('cluster.controllers.count') && !refused.has('cluster.workers.count')) {
    if (controllers + workers > MAX_HOSTS) {
      issues.push({
        path: 'cluster',
        message: `${controllers} controllers + ${workers} workers = ${controllers + workers} hosts; the WireGuard plan (.11 to .254 of one /24) has room for ${MAX_HOSTS}`,
      });
    }
    if (workers === 0) {
      warnings.push({
        path: 'cluster.workers.count',
        message: 'no workers: workloads have to run on the controllers',
      });
    }
    if (controllers > 1 && controllers % 2 === 0) {
      warnings.push({
        path: 'cluster.controllers.count',
        message: `${controllers} controllers: an even count tolerates no more failures than ${controllers - 1}; use an odd number`,
      });
    }
  }

  if (kof.enabled && !refused.has('kof.enabled')) {
    issues.push(...kofSettingsIssues(config).filter((issue) => !refused.has(issue.path)));
  }
  return { issues, warnings };
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
  const document = options.sourceText ? asWritten(raw, options.sourceText) : raw;
  const parsed = CONFIG_SCHEMA.safeParse(document);
  const found = parsed.success ? [] : issuesOf(parsed.error);
  const config = parsed.success ? parsed.data : CONFIG_SCHEMA.parse(withoutRefused(document, found));
  const refused = new Set(found.map((issue) => formatPath(issue.path)));
  const across = checkAcrossKeys(config, refused);
  return {
    config,
    issues: [
      ...found.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
      ...across.issues,
    ],
    warnings: [...foldedChoices(document, config, refused), ...across.warnings],
  };
}

/** Every YAML path the schema knows (sections and keys), dotted. */
export function knownConfigPaths(): string[] {
  return KNOWN_KEYS.map((known) => known.path.join('.'));
}
