/**
 * The configuration error type. Pure code, so workflow-side validation can raise it too.
 */

/** One problem found in a config file: the YAML path it concerns and what is wrong there. */
export interface ConfigIssue {
  /** Dotted YAML path (`cluster.controllers.zones[1]`); empty for a problem with the file as a whole. */
  path: string;
  message: string;
}

/** `<file>: <path>: <message>`, or `<file>: <message>` when the issue has no path. */
export function formatIssue(source: string, issue: ConfigIssue): string {
  return issue.path === '' ? `${source}: ${issue.message}` : `${source}: ${issue.path}: ${issue.message}`;
}

/** A config file that cannot be used; the message lists every issue, one per line. */
export class ConfigError extends Error {
  /** The file (or other source) the issues were found in. */
  readonly source: string;
  readonly issues: ConfigIssue[];

  constructor(source: string, issues: ConfigIssue[]) {
    super(
      issues.length === 0
        ? `${source}: invalid configuration`
        : issues.map((issue) => formatIssue(source, issue)).join('\n')
    );
    this.name = 'ConfigError';
    this.source = source;
    this.issues = issues;
  }
}
