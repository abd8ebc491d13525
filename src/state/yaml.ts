/**
 * Block-style YAML with the Bash tool's value typing (strings double-quoted, booleans and numbers plain,
 * plain keys where that is safe), laid out by the `yaml` package's document API, and a tolerant reader for
 * the files other tools write. Output parses the same with the `yaml` package, PyYAML and mikefarah yq.
 */
import type { Node, ScalarTag, Tags } from 'yaml';
import { Document, Pair, parseDocument, Scalar, YAMLMap, YAMLSeq } from 'yaml';

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

/**
 * The core schema's string tag, writing plain scalars as they are and every other string with quoteString.
 * The library's own double-quoted style reads back the same but differs in bytes the Bash tool's readers
 * see: `\x01` for `\u0001`, DEL, C1 controls, U+2028, U+2029 and the BOM left raw, `\ ` before an escaped
 * line break, and `\u0000` for `\0` in its JSON mode.
 */
const BASH_STRING: ScalarTag = {
  identify: (value) => typeof value === 'string',
  default: true,
  tag: 'tag:yaml.org,2002:str',
  resolve: (text) => text,
  stringify: ({ type, value }) => (type === Scalar.PLAIN ? String(value) : quoteString(String(value))),
};

/** `tags` with the string tag replaced by BASH_STRING. */
function withBashStrings(tags: Tags): Tags {
  return [BASH_STRING, ...tags.filter((tag) => typeof tag !== 'object' || tag.tag !== BASH_STRING.tag)];
}

/** A scalar's value as the Bash tool types it: strings, booleans, numbers and null as they are, the rest as text. */
function scalarValue(value: unknown): string | number | bigint | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'bigint') return value;
  // The library writes -0 as `-0`; the Bash tool's readers have always seen `0`.
  if (typeof value === 'number') return Object.is(value, -0) ? 0 : value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  // Symbols, functions and complex keys have no YAML scalar form; keep something readable.
  return typeof value === 'symbol' ? value.toString() : (JSON.stringify(value) ?? typeof value);
}

/** A mapping key: plain when that reads back as the same string, quoted otherwise; non-strings plain. */
function keyNode(key: unknown): Scalar {
  const node = new Scalar(scalarValue(key));
  if (typeof key === 'string' && PLAIN_KEY.test(key) && !AMBIGUOUS_WORDS.has(key.toLowerCase())) {
    node.type = Scalar.PLAIN;
  }
  return node;
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

/** `value` as a node: maps (without their `undefined` entries), lists, or a scalar. */
function toNode(value: unknown): Node {
  const entries = mapEntries(value);
  if (entries) {
    const map = new YAMLMap<Scalar, Node>();
    for (const [key, item] of entries) {
      if (item !== undefined) map.items.push(new Pair(keyNode(key), toNode(item)));
    }
    return map;
  }
  const list = listItems(value);
  if (list) {
    const seq = new YAMLSeq<Node>();
    seq.items = list.map(toNode);
    return seq;
  }
  return new Scalar(scalarValue(value));
}

/**
 * Comment lines (a space and the text) and blank lines (empty strings) as the library's comment text: it
 * writes each line with a `#` in front, a line of one space as a lone `#`, and an empty line as it is.
 */
function commentText(lines: readonly string[]): string | null {
  return lines.join('\n') || null;
}

/**
 * Builds a YAML document top-level entry by entry, with comment lines and blank lines between them. Blank
 * lines only separate: a run of them writes one and the document ends with its last line, as the library
 * keeps at most one blank line before an entry's comment.
 */
export class YamlWriter {
  private readonly map = new YAMLMap<Scalar, Node>();
  private pending: string[] = [];

  /** Adds a `# text` line. */
  comment(text: string): this {
    const oneLine = text.replace(/[\r\n\u0085\u2028\u2029]+/g, ' ');
    this.pending.push(` ${oneLine}`);
    return this;
  }

  /** Adds an empty line unless the line before is one. */
  blank(): this {
    if (this.pending[this.pending.length - 1] !== '') this.pending.push('');
    return this;
  }

  /** Adds `key: value` (block style for collections); an `undefined` value writes nothing. */
  entry(key: unknown, value: unknown): this {
    if (value === undefined) return this;
    const node = keyNode(key);
    node.spaceBefore = this.pending[0] === '';
    node.commentBefore = commentText(node.spaceBefore ? this.pending.slice(1) : this.pending);
    this.pending = [];
    this.map.items.push(new Pair(node, toNode(value)));
    return this;
  }

  /** The document text, ending with one newline. */
  toString(): string {
    const trailing = this.pending[this.pending.length - 1] === '' ? this.pending.slice(0, -1) : this.pending;
    this.map.comment = commentText(trailing);
    return new Document(this.map, { customTags: withBashStrings }).toString({ indent: 2, indentSeq: true });
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
