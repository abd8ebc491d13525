/**
 * A small block-style YAML writer with the Bash tool's value typing (strings double-quoted, booleans and
 * numbers plain, plain keys where that is safe) and a tolerant reader for the files other tools write.
 * Output parses the same with the `yaml` package, PyYAML and mikefarah yq.
 */
import { parseDocument, YAMLMap } from 'yaml';

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_./-]*$/;
const AMBIGUOUS_WORDS = new Set(['true', 'false', 'null', 'yes', 'no', 'on', 'off', 'y', 'n']);

const ESCAPES: Record<string, string> = {
  '\0': '\\0',
  '\x07': '\\a',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\v': '\\v',
  '\f': '\\f',
  '\r': '\\r',
  '\x1b': '\\e',
  '"': '\\"',
  '\\': '\\\\',
};

/** True for characters a double-quoted scalar must escape: controls, line separators and the BOM. */
function needsEscape(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0xfeff ||
    (code >= 0xd800 && code <= 0xdfff)
  );
}

/** `s` as a double-quoted YAML scalar on one line. */
export function quoteString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const known = ESCAPES[ch];
    const code = ch.codePointAt(0) ?? 0;
    if (known !== undefined) out += known;
    else if (ch.length === 1 && needsEscape(code)) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** A scalar as the Bash tool types it: strings quoted, booleans, numbers and null plain. */
export function scalarText(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return quoteString(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return '.nan';
    if (!Number.isFinite(value)) return value > 0 ? '.inf' : '-.inf';
    return String(value);
  }
  if (value instanceof Date) return quoteString(value.toISOString());
  if (value instanceof Uint8Array) return quoteString(Buffer.from(value).toString('base64'));
  // Symbols, functions and complex keys have no YAML scalar form; keep something readable.
  return quoteString(typeof value === 'symbol' ? value.toString() : (JSON.stringify(value) ?? typeof value));
}

/** A mapping key: plain when that reads back as the same string, quoted otherwise; non-strings plain. */
export function keyText(key: unknown): string {
  if (typeof key !== 'string') return scalarText(key);
  if (PLAIN_KEY.test(key) && !AMBIGUOUS_WORDS.has(key.toLowerCase())) return key;
  return quoteString(key);
}

/** The entries of a map-like value (Map or plain object), or undefined for anything else. */
export function mapEntries(value: unknown): [unknown, unknown][] | undefined {
  if (value instanceof Map) return [...(value as Map<unknown, unknown>).entries()];
  if (value instanceof Set) return undefined;
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)) {
    if (value instanceof Uint8Array) return undefined;
    return Object.entries(value);
  }
  return undefined;
}

/** The items of a list-like value (array or Set), or undefined. */
function listItems(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value as unknown[];
  if (value instanceof Set) return [...(value as Set<unknown>)];
  return undefined;
}

/** Block lines of a map's entries at `indent` spaces; `undefined` values are left out. */
function mapLines(entries: [unknown, unknown][], indent: number): string[] {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  for (const [key, value] of entries) {
    if (value === undefined) continue;
    lines.push(...valueLines(`${pad}${keyText(key)}:`, value, indent));
  }
  return lines;
}

/** Block lines of a list's items at `indent` spaces. */
function listLines(items: unknown[], indent: number): string[] {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  for (const item of items) {
    const entries = mapEntries(item);
    const list = listItems(item);
    let nested: string[] | undefined;
    if (entries && entries.some(([, v]) => v !== undefined)) nested = mapLines(entries, indent + 2);
    else if (list && list.length > 0) nested = listLines(list, indent + 2);
    if (nested && nested.length > 0) {
      const [first, ...rest] = nested;
      lines.push(`${pad}- ${(first ?? '').slice(indent + 2)}`, ...rest);
    } else if (entries) lines.push(`${pad}- {}`);
    else if (list) lines.push(`${pad}- []`);
    else lines.push(`${pad}- ${scalarText(item)}`);
  }
  return lines;
}

/** Lines for `head` (a `key:` prefix) followed by `value`, nested collections indented by two. */
function valueLines(head: string, value: unknown, indent: number): string[] {
  const entries = mapEntries(value);
  if (entries) {
    const nested = mapLines(entries, indent + 2);
    return nested.length > 0 ? [head, ...nested] : [`${head} {}`];
  }
  const list = listItems(value);
  if (list) return list.length > 0 ? [head, ...listLines(list, indent + 2)] : [`${head} []`];
  return [`${head} ${scalarText(value)}`];
}

/** Builds a YAML document top-level entry by entry, with comment lines and blank lines between them. */
export class YamlWriter {
  private readonly lines: string[] = [];

  /** Adds a `# text` line. */
  comment(text: string): this {
    const oneLine = text.replace(/[\r\n\u0085\u2028\u2029]+/g, ' ');
    this.lines.push(oneLine === '' ? '#' : `# ${oneLine}`);
    return this;
  }

  /** Adds an empty line. */
  blank(): this {
    this.lines.push('');
    return this;
  }

  /** Adds `key: value` (block style for collections); an `undefined` value writes nothing. */
  entry(key: unknown, value: unknown): this {
    if (value !== undefined) this.lines.push(...valueLines(`${keyText(key)}:`, value, 0));
    return this;
  }

  /** The document text, ending with one newline. */
  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

/** Why a text is not a usable YAML map: the parse error with its position, or what was found instead. */
export class YamlMapError extends Error {}

/** Parses `text` into a Map of its top-level entries (nested maps are Maps too); throws YamlMapError. */
export function parseYamlMapText(text: string): Map<unknown, unknown> {
  const doc = parseDocument(text);
  const err = doc.errors[0];
  if (err) {
    const where = err.linePos ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}` : '';
    const reason = (err.message.split('\n')[0] ?? err.message).replace(/ at line \d+, column \d+:?$/, '');
    throw new YamlMapError(`invalid YAML${where}: ${reason}`);
  }
  if (!(doc.contents instanceof YAMLMap)) {
    const found = doc.contents === null ? 'an empty document' : describeNode(doc.toJS());
    throw new YamlMapError(`expected a map of keys at the top level, found ${found}`);
  }
  return doc.toJS({ mapAsMap: true }) as Map<unknown, unknown>;
}

/** Like parseYamlMapText, but undefined instead of an error (for files we are about to replace anyway). */
export function tryParseYamlMap(text: string | undefined): Map<unknown, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    return parseYamlMapText(text);
  } catch (err) {
    if (err instanceof YamlMapError) return undefined;
    throw err;
  }
}

/** A short description of a parsed value's kind, for error messages. */
function describeNode(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return `a ${typeof value} (${JSON.stringify(value)})`;
}

/** Converts a parsed value (Maps included) into plain objects and arrays. */
export function toPlain(value: unknown): unknown {
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value as Map<unknown, unknown>) out[String(k)] = toPlain(v);
    return out;
  }
  if (Array.isArray(value)) return (value as unknown[]).map(toPlain);
  return value;
}
