/** Reading a state file of either Bash-tool format: the YAML map, which format it is, and typed looks at its values. */
import { promises as fs } from 'node:fs';
import type { FactValue } from '../../workflows/messages';
import { isNotFound } from '../atomic';
import { isIsoSeconds, isoSeconds } from '../time';
import { parseYamlMapText, toPlain, YamlMapError } from '../yaml';

/** Layout of a state file: the Bash tool's code (`latest`), its docs (`doc`), or neither. */
export type StateFormat = 'latest' | 'doc' | 'unknown';

export type Obj = Record<string, unknown>;

/** True for a plain (parsed) map. */
export function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The map at `value`, or an empty one. */
export function objOf(value: unknown): Obj {
  return isObj(value) ? value : {};
}

/** A non-empty string, or undefined. */
export function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** A string for a field that must be one (missing and null become ''). */
export function textOrEmpty(value: unknown): string {
  return text(value) ?? '';
}

/** An ISO-8601 UTC timestamp to the second, or undefined when `value` is not a date. */
export function isoOf(value: unknown): string | undefined {
  if (isIsoSeconds(value)) return value;
  if (typeof value !== 'string') return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : isoSeconds(d);
}

/** A top-level fact value when `value` is a scalar the state file could hold. */
export function factOf(value: unknown): FactValue | undefined {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? value
    : undefined;
}

/** Joins names as `a, b and c`. */
export function listText(names: string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1] ?? ''}`;
}

/** A message cut to `max` characters, for text that quotes what it found. */
export function clip(message: string, max = 200): string {
  return message.length > max ? `${message.slice(0, max - 3)}...` : message;
}

/** Parses a YAML file that must hold a map; the error names the file and what is wrong with it. */
export async function readYamlMap(file: string): Promise<Record<string, unknown>> {
  let content: string;
  try {
    content = await fs.readFile(file, 'utf8');
  } catch (err) {
    if (isNotFound(err)) throw new Error(`${file}: no such file`);
    throw new Error(`${file}: cannot be read: ${(err as Error).message}`);
  }
  // NUL bytes or bytes that are not UTF-8 (decoded as U+FFFD): no YAML text at all.
  if (/[\0\uFFFD]/.test(content)) throw new Error(`${file}: holds binary data, not YAML text`);
  try {
    return toPlain(parseYamlMapText(content)) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof YamlMapError) throw new Error(`${file}: ${clip(err.message)}`);
    throw err;
  }
}

/** Which layout a parsed state file uses: `deployment_id` (latest) or `deployment.id` (doc). */
export function detectStateFormat(obj: unknown): StateFormat {
  if (!isObj(obj)) return 'unknown';
  if (text(obj.deployment_id) !== undefined) return 'latest';
  if (text(objOf(obj.deployment).id) !== undefined) return 'doc';
  return 'unknown';
}
