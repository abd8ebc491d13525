/** Command-line parsing shared by the emulated tools: GNU-style flags as pflag, urfave/cli and argparse accept them. */

/** One flag: its spellings and whether it takes a value. */
export interface FlagSpec {
  names: string[];
  value?: boolean;
}

/** Flags keyed by the name the tool reads them by. */
export type FlagSpecs = Record<string, FlagSpec>;

/** What is wrong with a command line's flag. */
export type ArgProblem = 'unknown' | 'missing-value' | 'bad-bool';

/** A command line that does not parse: the message names the flag. */
export class ArgError extends Error {
  constructor(
    message: string,
    readonly problem: ArgProblem = 'unknown',
    /** The flag as typed, without any `=value`. */
    readonly flag = ''
  ) {
    super(message);
    this.name = 'ArgError';
  }
}

/** Positionals and flag values, in command-line order. */
export class ParsedArgs {
  constructor(
    readonly positionals: string[],
    private readonly values: Map<string, string[]>
  ) {}

  /** The last value of a flag. */
  last(key: string): string | undefined {
    const all = this.values.get(key);
    return all?.[all.length - 1];
  }

  /** Every value of a repeated flag. */
  all(key: string): string[] {
    return this.values.get(key) ?? [];
  }

  /** Whether a boolean flag is set (`--x`, `--x=true`; `--x=false` is not). */
  bool(key: string): boolean {
    const v = this.last(key);
    return v !== undefined && v !== 'false';
  }

  /** Whether the flag was given at all. */
  given(key: string): boolean {
    return this.values.has(key);
  }
}

/**
 * Parses `args` against `specs`: `--name value`, `--name=value`, `-n value`, `-nvalue`, `-n=value`,
 * booleans as `--x` or `--x=false`, `--` ends the flags. Unknown flags and missing values are errors.
 */
export function parseArgs(args: string[], specs: FlagSpecs): ParsedArgs {
  const byName = new Map<string, [string, FlagSpec]>();
  for (const [key, spec] of Object.entries(specs)) for (const n of spec.names) byName.set(n, [key, spec]);
  const positionals: string[] = [];
  const values = new Map<string, string[]>();
  const put = (key: string, v: string) => values.set(key, [...(values.get(key) ?? []), v]);
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    let name = eq > 0 ? a.slice(0, eq) : a;
    let inline: string | undefined = eq > 0 ? a.slice(eq + 1) : undefined;
    if (!byName.has(name) && !a.startsWith('--') && a.length > 2) {
      // `-nkof`: a one-letter flag with its value attached
      name = a.slice(0, 2);
      inline = a.slice(2).replace(/^=/, '');
    }
    const found = byName.get(name);
    if (!found)
      throw new ArgError(
        a.startsWith('--') ? `unknown flag: ${name}` : `unknown shorthand flag: '${name.slice(1)}' in ${a}`,
        'unknown',
        name
      );
    const [key, spec] = found;
    if (!spec.value) {
      if (inline !== undefined && inline !== 'true' && inline !== 'false')
        throw new ArgError(
          `invalid argument "${inline}" for "${name}" flag: strconv.ParseBool: parsing "${inline}": invalid syntax`,
          'bad-bool',
          name
        );
      put(key, inline ?? 'true');
      continue;
    }
    if (inline !== undefined) {
      put(key, inline);
      continue;
    }
    const next = args[i + 1];
    // pflag's wording: `--name`, or for a shorthand `'n' in -n`.
    if (next === undefined)
      throw new ArgError(
        `flag needs an argument: ${name.startsWith('--') ? name : `'${name.slice(1)}' in ${name}`}`,
        'missing-value',
        name
      );
    put(key, next);
    i++;
  }
  return new ParsedArgs(positionals, values);
}

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** A Go duration (`300s`, `5m0s`, `1h30m`) in milliseconds, or undefined when it is not one. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    pos = re.lastIndex;
  }
  return text.length ? total : undefined;
}

/**
 * argparse's unambiguous prefixes: each `--pre[=value]` that begins exactly one long flag of `specs` is
 * written out in full; an ambiguous one is an error naming the candidates, as argparse words it.
 */
export function expandAbbreviations(args: string[], specs: FlagSpecs): string[] {
  const longs = Object.values(specs).flatMap((spec) => spec.names.filter((n) => n.startsWith('--')));
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (!name.startsWith('--') || longs.includes(name)) {
      out.push(a);
      continue;
    }
    const matches = longs.filter((n) => n.startsWith(name));
    if (matches.length > 1)
      throw new ArgError(`ambiguous option: ${name} could match ${matches.join(', ')}`, 'unknown', name);
    out.push(matches.length === 1 ? `${matches[0] as string}${eq > 0 ? a.slice(eq) : ''}` : a);
  }
  return out;
}

/** Go's `time.ParseDuration` error for `text` (`time: missing unit in duration "60"`), or undefined for a duration. */
export function goDurationError(text: string): string | undefined {
  if (parseGoDuration(text) !== undefined) return undefined;
  const quoted = `"${text}"`;
  const re = /(\d*\.?\d*)([^\d.]*)/y;
  let pos = 0;
  while (text && pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text) as RegExpExecArray;
    const [, number = '', unit = ''] = m;
    if (!/\d/.test(number)) break;
    if (!unit) return `time: missing unit in duration ${quoted}`;
    if (!(unit in UNIT_MS)) return `time: unknown unit "${unit}" in duration ${quoted}`;
    pos = re.lastIndex;
  }
  return `time: invalid duration ${quoted}`;
}
