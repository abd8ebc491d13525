/**
 * How many bad inputs each group of the suite tried, printed as one line once the whole run is over.
 * Importing this module registers that line as a root `after` hook (once: modules load once).
 */

/** The four groups of the bad-input suite. */
export type Group = 'configs' | 'cli' | 'payloads' | 'state files';

const counts: Record<Group, number> = { configs: 0, cli: 0, payloads: 0, 'state files': 0 };

/** Records that `n` inputs of `group` were tried and their outcome asserted. */
export function tried(group: Group, n = 1): void {
  counts[group] += n;
}

/** `bad-input: N inputs tried (configs A, cli B, payloads C, state files D)`. */
export function summaryLine(): string {
  const total = counts.configs + counts.cli + counts.payloads + counts['state files'];
  return (
    `bad-input: ${total} inputs tried (configs ${counts.configs}, cli ${counts.cli}, ` +
    `payloads ${counts.payloads}, state files ${counts['state files']})`
  );
}

// Loaded from the top of a test file, so this hook belongs to mocha's root suite: it runs after all files.
after(function () {
  console.log(summaryLine());
});
