import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { defaultConfig } from '../../src/config/defaults';
import { readClusterId, readOrCreateClusterId } from '../../src/config/naming';
import { importLegacyState, readStateFile } from '../../src/state/legacy';
import { initialState } from '../../src/workflows/state';
import { startServer } from '../integration/harness';
import type { CliRun } from './sandbox';
import {
  CLI_LANES,
  assertNoCrash,
  assertRefused,
  cliHookTimeout,
  mapLimit,
  processesMentioning,
  runCliWithin,
  sampleByKind,
  sandbox,
  tree,
  workflowExists,
  workflowIds,
} from './sandbox';
import { STATE_KINDS, badFolders } from './state-inputs';
import type { BadFolder } from './state-inputs';
import { tried } from './tally';

/** How many folders go through the real CLI (deploy and status each), taken from every kind in turn. */
const CLI_SAMPLE = 10;
const newId = () => `k0rdent-${randomBytes(4).toString('hex')}`;
/** Folders already counted: one tried in process and through the CLI is one input. */
const counted = new Set<BadFolder>();
const countOnce = (input: BadFolder) => {
  if (!counted.has(input)) tried('state files');
  counted.add(input);
};

/** A folder holding one bad input, with its own deployment id. */
interface Laid {
  input: BadFolder;
  id: string;
  dir: string;
  /** The file at fault. */
  file: string;
  before: string[];
}

async function lay(root: string, input: BadFolder, index: number, id: string): Promise<Laid> {
  const dir = path.join(root, `folder-${index}`);
  await fs.mkdir(path.join(dir, 'state'), { recursive: true });
  if (input.clusterid !== undefined) await fs.writeFile(path.join(dir, '.clusterid'), input.clusterid);
  if (input.state !== undefined)
    await fs.writeFile(path.join(dir, 'state', 'deployment-state.yaml'), input.state);
  else await fs.rmdir(path.join(dir, 'state'));
  const file =
    input.bad === 'state' ? path.join(dir, 'state', 'deployment-state.yaml') : path.join(dir, '.clusterid');
  return { input, id, dir, file, before: await tree(dir) };
}

/** The bytes the bad file must still hold. */
function original(input: BadFolder): Buffer | undefined {
  const content = input.bad === 'state' ? input.state : input.clusterid;
  return content === undefined ? undefined : Buffer.from(content);
}

/** Asserts `promise` is refused with a message naming `file` and matching `field`. */
async function assertNamed(
  promise: Promise<unknown>,
  file: string,
  field: RegExp,
  label: string
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    assert.ok(message.includes(file), `${label}: ${file} not named in\n${message}`);
    assert.match(message, field, label);
    assertNoCrash(message, label);
    return true;
  });
}

describe('corrupt or foreign state files', function () {
  this.timeout(170_000);
  const id = newId();
  const inputs = badFolders(id, newId());
  let root: string;
  let cleanup = async (): Promise<void> => {};

  before(async () => {
    ({ root, cleanup } = await sandbox('state'));
  });
  after(async () => {
    await cleanup();
  });

  describe('read in this process by what deploy and status use', () => {
    for (const kind of STATE_KINDS.filter((k) => k !== 'missing .clusterid')) {
      const folders = inputs.filter((input) => input.kind === kind);
      it(`refuses all ${folders.length} folders of the kind "${kind}", naming the file and the field`, async () => {
        for (const [index, input] of folders.entries()) {
          const at = await lay(path.join(root, 'in-process'), input, inputs.indexOf(input), id);
          const label = `${kind}: ${input.label}`;
          if (input.bad === 'state') {
            await assertNamed(readStateFile(at.dir, id), at.file, input.field, label);
            const base = initialState(
              {
                deploymentId: id,
                deployer: 'test@example.com',
                configFile: 'k0rdent.yaml',
                config: defaultConfig(),
                flags: { azureChildren: false, kof: false },
              },
              '2025-12-01T10:00:00Z'
            );
            await assertNamed(importLegacyState(at.dir, base), at.file, input.field, label);
          } else {
            await assertNamed(readClusterId(at.dir), at.file, input.field, label);
            await assertNamed(readOrCreateClusterId(at.dir), at.file, input.field, label);
          }
          assert.deepEqual(await fs.readFile(at.file), original(input), `${label}: the file changed`);
          assert.deepEqual(await tree(at.dir), at.before, `${label}: files appeared (${index})`);
          countOnce(input);
        }
      });
    }
  });

  describe('through deploy --detach and status, creating nothing', function () {
    const sample = sampleByKind(inputs, STATE_KINDS, CLI_SAMPLE);
    const runs = new Map<BadFolder, { at: Laid; deploy: CliRun; status: CliRun }>();
    let workflowsBefore: string[];

    before(async function () {
      this.timeout(cliHookTimeout(2 * sample.length));
      const { address } = await startServer();
      workflowsBefore = await workflowIds();
      const config = path.join(root, 'good.yaml');
      await fs.writeFile(config, 'orchestrator:\n  activity_preset: quick\n');
      const laid = await Promise.all(
        sample.map((input, index) =>
          lay(path.join(root, 'cli'), input, index, input.bad === 'state' ? id : newId())
        )
      );
      const jobs = laid.flatMap((at) => [
        { at, command: 'deploy', args: ['deploy', '--config', config, '--cloud', 'emulator', '--detach'] },
        { at, command: 'status', args: ['status'] },
      ]);
      const results = await mapLimit(jobs, CLI_LANES, (job) =>
        runCliWithin(address, [...job.args, '--dir', job.at.dir], job.at.dir)
      );
      for (const at of laid) {
        const [deploy, status] = results.filter((_, i) => jobs[i]?.at === at) as [CliRun, CliRun];
        runs.set(at.input, { at, deploy, status });
      }
    });

    for (const input of sample) {
      it(`${input.kind}: ${input.label}`, async () => {
        const found = runs.get(input);
        assert.ok(found, 'not run');
        const { at } = found;
        const named = input.kind === 'missing .clusterid' ? at.dir : at.file;
        for (const [command, run] of [
          ['deploy', found.deploy],
          ['status', found.status],
        ] as const) {
          assertRefused(run, { names: [named, input.field] }, `${command} with ${input.label}`);
        }
        assert.deepEqual(
          await fs.readFile(at.file).catch(() => undefined),
          original(input),
          'the bad file changed'
        );
        assert.deepEqual(await tree(at.dir), at.before, 'files appeared or went');
        const clusterid = await readClusterId(at.dir).catch(() => undefined);
        if (clusterid)
          assert.equal(await workflowExists(clusterid), false, `a workflow ${clusterid} was started`);
        countOnce(input);
      });
    }

    it('started no workflow and no process for any of them', async () => {
      assert.deepEqual(await workflowIds(), workflowsBefore);
      assert.deepEqual(processesMentioning(root), []);
    });
  });
});
