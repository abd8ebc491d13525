/**
 * Finding, reading and parsing the config file. The CLI and the worker both load config through here;
 * the rules themselves live in `validate.ts`.
 */
import { existsSync, readFileSync, statSync } from 'fs';
import * as path from 'path';
import { isScalar, parseDocument } from 'yaml';
import { ConfigError, formatIssue } from './errors';
import type { ConfigIssue } from './errors';
import type { K0rdentConfig } from './types';
import { validateConfig } from './validate';

export { ConfigError } from './errors';
export type { ConfigIssue } from './errors';

/** A loaded config and the warnings to show its author, each `<file>: <path>: <message>`. */
export interface LoadedConfig {
  config: K0rdentConfig;
  warnings: string[];
}

/** Config file looked for in the deployment folder first. */
export const USER_CONFIG_FILE = path.join('config', 'k0rdent.yaml');
/** Config file used when the deployment folder has no `config/k0rdent.yaml`. */
export const DEFAULT_CONFIG_FILE = path.join('config', 'k0rdent-default.yaml');

function syntaxIssue(
  label: string,
  text: string,
  error: { message: string; linePos?: [{ line: number; col: number }, ...unknown[]] }
): ConfigIssue {
  const firstLine = (error.message.split('\n')[0] ?? error.message).replace(
    / at line \d+, column \d+:?$/,
    ''
  );
  const position = error.linePos?.[0];
  if (!position) {
    return { path: '', message: `${label}: ${firstLine}` };
  }
  const sourceLine = (text.split(/\r?\n/)[position.line - 1] ?? '').trim();
  const near =
    sourceLine === ''
      ? ''
      : ` (near "${sourceLine.length > 60 ? `${sourceLine.slice(0, 57)}...` : sourceLine}")`;
  return {
    path: `line ${position.line}, column ${position.col}`,
    message: `${label}: ${firstLine}${near}`,
  };
}

/**
 * Parse config text, merge it over the defaults and validate it; `source` names the file in messages.
 * Throws `ConfigError` listing every problem at once.
 */
export function parseConfig(text: string, source: string): LoadedConfig {
  // `logLevel: 'error'`: problems become issues below, never Node process warnings on stderr.
  const document = parseDocument(text, { merge: true, prettyErrors: true, logLevel: 'error' });
  if (document.errors.length > 0) {
    throw new ConfigError(
      source,
      document.errors.map((error) => syntaxIssue('YAML syntax error', text, error))
    );
  }
  let raw: unknown;
  try {
    raw = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new ConfigError(source, [
      { path: '', message: `cannot read the YAML: ${(error as Error).message}` },
    ]);
  }
  const result = validateConfig(raw, {
    sourceText: (at) => {
      const node = document.getIn(at, true);
      return isScalar(node) && typeof node.source === 'string' ? node.source : undefined;
    },
  });
  if (result.issues.length > 0) {
    throw new ConfigError(source, result.issues);
  }
  const warnings = [
    ...document.warnings.map((warning) => formatIssue(source, syntaxIssue('YAML warning', text, warning))),
    ...result.warnings.map((warning) => formatIssue(source, warning)),
  ];
  return { config: result.config, warnings };
}

function readFailure(file: string, error: unknown): ConfigError {
  const code = (error as NodeJS.ErrnoException).code;
  const message =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EISDIR'
        ? 'is a directory, not a config file'
        : `cannot read: ${(error as Error).message}`;
  return new ConfigError(file, [{ path: '', message }]);
}

/** Read and parse a config file; a missing or unreadable file is a `ConfigError` naming it. */
export function loadConfigFile(file: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw readFailure(file, error);
  }
  return parseConfig(text, file);
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The shipped `config/k0rdent-default.yaml` of this package (found by walking up from this module), or
 * undefined when the package was installed without it.
 */
export function shippedDefaultConfigPath(): string | undefined {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, DEFAULT_CONFIG_FILE);
    if (existsSync(path.join(dir, 'package.json')) && isFile(candidate)) {
      return candidate;
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      return undefined;
    }
    dir = parent;
  }
}

/**
 * The config file a command uses, as an absolute path: `explicit` (relative to the current directory)
 * when given, which must exist; else `<workDir>/config/k0rdent.yaml`; else
 * `<workDir>/config/k0rdent-default.yaml`. Throws `ConfigError` when there is none.
 */
export function resolveConfigPath(workDir: string, explicit?: string): string {
  if (explicit !== undefined) {
    const file = path.resolve(explicit);
    if (!existsSync(file)) {
      throw new ConfigError(explicit, [{ path: '', message: `no such file (looked for ${file})` }]);
    }
    if (!isFile(file)) {
      throw new ConfigError(explicit, [{ path: '', message: 'is not a file' }]);
    }
    return file;
  }
  const userFile = path.resolve(workDir, USER_CONFIG_FILE);
  const defaultFile = path.resolve(workDir, DEFAULT_CONFIG_FILE);
  for (const candidate of [userFile, defaultFile]) {
    if (isFile(candidate)) {
      return candidate;
    }
  }
  const shipped = shippedDefaultConfigPath();
  const copyFrom = shipped ?? 'config/k0rdent-default.yaml of k0rdent-deploy';
  throw new ConfigError(userFile, [
    {
      path: '',
      message:
        `no config file: neither ${userFile} nor ${defaultFile} exists. ` +
        `Create one with: mkdir -p ${path.dirname(userFile)} && cp ${copyFrom} ${userFile} ` +
        '(then edit it), or pass --config FILE',
    },
  ]);
}
