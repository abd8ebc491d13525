import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfigFile, parseConfig } from '../../src/config/load';
import { validateConfig } from '../../src/config/validate';
import { startServer } from '../integration/harness';
import {
  CHOICES,
  CIDRS,
  CONFIG_KINDS,
  MALFORMED,
  RANGES,
  badConfigs,
  classify,
  configPaths,
} from './config-inputs';
import type { BadConfig } from './config-inputs';
import type { CliRun } from './sandbox';
import {
  assertNoCrash,
  assertRefused,
  CLI_LANES,
  cliHookTimeout,
  mapLimit,
  processesMentioning,
  runCliWithin,
  sampleByKind,
  sandbox,
  tree,
  workflowIds,
} from './sandbox';
import { tried } from './tally';

const FILE = 'bad.yaml';
const INPUTS = badConfigs();
/** How many inputs go through the real CLI as well, taken from every kind in turn. */
const CLI_SAMPLE = 15;

/** The ConfigError `fn` throws (fails the test when it throws nothing or something else). */
function configError(fn: () => unknown, label: string): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `${label}: expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail(`${label}: accepted`);
}

function atPath(issuePath: string, expected: string | RegExp): boolean {
  return typeof expected === 'string' ? issuePath === expected : expected.test(issuePath);
}

/** The line of the error message that names the input's path. */
function namingLine(source: string, input: BadConfig): string | RegExp {
  if (typeof input.path !== 'string')
    return new RegExp(`${source.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: line \\d+`);
  return input.path === '' ? `${source}: ` : `${source}: ${input.path}: `;
}

/** Asserts the in-process loader refuses `input` with an issue at its path, one message line naming it. */
function assertConfigRefused(input: BadConfig): void {
  const error = configError(() => parseConfig(input.text, FILE), input.label);
  const issue = error.issues.find((candidate) => atPath(candidate.path, input.path));
  assert.ok(issue, `${input.label}: no issue at ${String(input.path)} in:\n${error.message}`);
  if (input.says) assert.match(issue.message, input.says, `${input.label}: ${error.message}`);
  const line = issue.path === '' ? `${FILE}: ${issue.message}` : `${FILE}: ${issue.path}: ${issue.message}`;
  assert.ok(
    error.message.split('\n').includes(line),
    `${input.label}: no line "${line}" in:\n${error.message}`
  );
  assertNoCrash(error.message, input.label);
  if (input.doc) {
    const { issues } = validateConfig(input.doc);
    assert.ok(
      issues.some((candidate) => atPath(candidate.path, input.path)),
      `${input.label}: validateConfig names no ${String(input.path)}: ${JSON.stringify(issues)}`
    );
  }
}

describe('bad configs', function () {
  this.timeout(120_000);

  it('classifies every config key, so each one gets the bad values of its kind', () => {
    const { leaves } = configPaths();
    for (const leaf of leaves) assert.doesNotThrow(() => classify(leaf), leaf);
    for (const key of [
      ...Object.keys(RANGES),
      ...Object.keys(CHOICES),
      ...CIDRS,
      ...Object.keys(MALFORMED),
    ]) {
      assert.ok(leaves.includes(key), `${key} is not a config key any more`);
    }
  });

  describe('through the loader in this process', () => {
    for (const kind of CONFIG_KINDS) {
      const inputs = INPUTS.filter((input) => input.kind === kind);
      it(`refuses all ${inputs.length} inputs of the kind "${kind}", naming the YAML path`, () => {
        assert.ok(inputs.length > 0, `no ${kind} inputs were generated`);
        for (const input of inputs) {
          assertConfigRefused(input);
          tried('configs');
        }
      });
    }
  });

  describe('through the CLI, creating nothing', function () {
    const sample = sampleByKind(INPUTS, CONFIG_KINDS, CLI_SAMPLE);
    const runs = new Map<BadConfig, { run: CliRun; file: string; workDir: string }>();
    let root: string;
    let cleanup = async (): Promise<void> => {};
    let workflowsBefore: string[];

    before(async function () {
      this.timeout(cliHookTimeout(sample.length));
      ({ root, cleanup } = await sandbox('configs'));
      const { address } = await startServer();
      workflowsBefore = await workflowIds();
      await mapLimit(
        sample.map((input, index) => ({ input, index })),
        CLI_LANES,
        async ({ input, index }) => {
          const file = path.join(root, `config-${index}.yaml`);
          const workDir = path.join(root, `work-${index}`);
          await fs.writeFile(file, input.text);
          await fs.mkdir(workDir);
          const args = ['deploy', '--config', file, '--dir', workDir, '--cloud', 'emulator', '--detach'];
          runs.set(input, { run: await runCliWithin(address, args, workDir), file, workDir });
        }
      );
    });
    after(async () => {
      await cleanup();
    });

    for (const input of sample) {
      it(`deploy refuses ${input.kind}: ${input.label}`, async () => {
        const found = runs.get(input);
        assert.ok(found, 'not run');
        assertRefused(found.run, { codes: [2], names: [namingLine(found.file, input)] }, input.label);
        assert.deepEqual(await tree(found.workDir), [], 'the deployment folder stays empty');
        // The same file through the file loader the CLI uses.
        const error = configError(() => loadConfigFile(found.file), input.label);
        assert.ok(
          error.issues.some((issue) => atPath(issue.path, input.path)),
          error.message
        );
      });
    }

    it('started no workflow and no process for any of them', async () => {
      assert.deepEqual(await workflowIds(), workflowsBefore);
      assert.deepEqual(processesMentioning(root), []);
    });
  });
});
