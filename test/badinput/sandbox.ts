/**
 * What every group of the bad-input suite needs: throw-away folders, the CLI run with a time limit, and
 * the checks that a refused input crashed nothing and created nothing (files, workflows, processes).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, startServer } from '../integration/harness';

/** CLI processes run at once: enough to keep the suite under three minutes, few enough to share the machine. */
export const CLI_LANES = 3;

/** Longest a refused CLI run may take before it counts as hanging. */
export const CLI_LIMIT_MS = 60_000;

/** A time limit for a hook running `runs` CLI runs in CLI_LANES lanes: bounded by the runs' own limit. */
export function cliHookTimeout(runs: number): number {
  return Math.ceil(runs / CLI_LANES) * CLI_LIMIT_MS + 30_000;
}

/** A folder for one group's inputs, removed by `cleanup()`. */
export async function sandbox(name: string): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), `k0rdent-badinput-${name}-`));
  return { root, cleanup: () => fs.rm(root, { recursive: true, force: true }) };
}

/** What a CLI run printed (stdout and stderr interleaved) and how it ended. */
export interface CliRun {
  code: number;
  output: string;
  /** True when the run had to be killed at the time limit: a hang is a finding, not a stuck suite. */
  timedOut: boolean;
}

/**
 * Runs `k0rdent-deploy` in a child process against the server at `address` (the shared dev server), as
 * the harness's `runCli` does, but kills it (by the pid it started) after `limitMs`. The address is
 * passed in rather than looked up, so a run still queued after its hook timed out cannot start a server.
 */
export async function runCliWithin(
  address: string,
  args: string[],
  cwd: string,
  limitMs = CLI_LIMIT_MS
): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'k0rdent-deploy'), ...args], {
      cwd,
      env: { ...process.env, TEMPORAL_ADDRESS: address },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output, timedOut });
    });
  });
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping the order of the results. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** Every file and folder under `dir`, relative and sorted; folders end with `/`. */
export async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (at: string) => {
    for (const entry of await fs.readdir(at, { withFileTypes: true })) {
      const rel = path.relative(dir, path.join(at, entry.name));
      if (entry.isDirectory()) {
        out.push(`${rel}/`);
        await walk(path.join(at, entry.name));
      } else out.push(rel);
    }
  };
  await walk(dir);
  return out.sort();
}

/** Processes other than this one whose command line mentions `text` (e.g. an emulator started for a folder). */
export function processesMentioning(text: string): string[] {
  const listing = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return listing
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.includes(text) && !line.startsWith(`${process.pid} `));
}

/** Ids of every workflow the shared dev server knows. */
export async function workflowIds(): Promise<string[]> {
  const s = await startServer();
  const ids: string[] = [];
  for await (const wf of s.client.workflow.list()) ids.push(wf.workflowId);
  return ids.sort();
}

/** True when the shared dev server has a workflow with this id. */
export async function workflowExists(id: string): Promise<boolean> {
  const s = await startServer();
  try {
    await s.client.workflow.getHandle(id).describe();
    return true;
  } catch (err) {
    if ((err as Error).name === 'WorkflowNotFoundError') return false;
    throw err;
  }
}

/** Longest line a clear message may have: it quotes what it found short, never a whole input. */
export const MAX_LINE = 1000;

/** Asserts `text` has no stack trace, no crash report and no line longer than MAX_LINE. */
export function assertNoCrash(text: string, label: string): void {
  assert.doesNotMatch(text, /^\s+at /m, `${label}: stack trace in\n${text}`);
  assert.doesNotMatch(
    text,
    /UnhandledPromiseRejection|Uncaught|TypeError|ReferenceError|RangeError|node:internal|is not a function/,
    `${label}: crash in\n${text}`
  );
  for (const line of text.split('\n')) {
    assert.ok(line.length <= MAX_LINE, `${label}: a line of ${line.length} characters in the output`);
  }
}

/** What a refused CLI run must show: its exit codes and what its output names. */
export interface Refusal {
  /** Allowed exit codes (default 1 or 2). */
  codes?: number[];
  /** Texts or patterns the output must contain, e.g. the YAML path or the argument. */
  names: (string | RegExp)[];
}

/** Asserts a run ended in time with an allowed exit code, named what it must, and did not crash. */
export function assertRefused(run: CliRun, expected: Refusal, label: string): void {
  assert.equal(run.timedOut, false, `${label}: still running at the time limit\n${run.output}`);
  const codes = expected.codes ?? [1, 2];
  assert.ok(
    codes.includes(run.code),
    `${label}: exit code ${run.code}, expected ${codes.join(' or ')}\n${run.output}`
  );
  for (const name of expected.names) {
    if (typeof name === 'string')
      assert.ok(run.output.includes(name), `${label}: output does not name ${name}\n${run.output}`);
    else assert.match(run.output, name, `${label}: output does not match ${String(name)}`);
  }
  assertNoCrash(run.output, label);
}

/** Up to `limit` inputs spread over their kinds: the first of every kind, then the second, and so on. */
export function sampleByKind<K, T extends { kind: K }>(inputs: T[], kinds: readonly K[], limit: number): T[] {
  const byKind = kinds.map((kind) => inputs.filter((input) => input.kind === kind));
  const sample: T[] = [];
  for (let round = 0; sample.length < limit && round < inputs.length; round++) {
    for (const group of byKind) {
      const input = group[round];
      if (input && sample.length < limit) sample.push(input);
    }
  }
  return sample;
}
