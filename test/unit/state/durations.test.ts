import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { archiveDeployment } from '../../../src/state/archive';
import {
  DurationsFileError,
  KEPT_RUNS,
  PHASE_DURATIONS_FILE,
  readDurationSamples,
  recordPhaseDurations,
  timesOf,
} from '../../../src/state/durations';
import type { DeploymentState } from '../../../src/workflows/messages';
import { ID, freshState, tempDir } from './fixtures';

function finished(id: string, at: string, seconds: number): DeploymentState {
  const state = freshState(id);
  state.phases.setup_network = {
    status: 'completed',
    updatedAt: at,
    finishedAt: at,
    durationSeconds: seconds,
    runs: 1,
  };
  state.phases.create_vms = { status: 'in_progress', updatedAt: at, startedAt: at, runs: 1 };
  return state;
}

describe('phase durations file', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(async () => cleanup());

  it('records each completed phase run once, and a reset leaves the file where it was', async () => {
    const state = finished(ID, '2026-01-02T03:04:05Z', 42);
    assert.equal(await recordPhaseDurations(dir, state), true);
    assert.equal(await recordPhaseDurations(dir, state), false, 'the same state again adds nothing');
    assert.deepEqual(await readDurationSamples(dir), {
      setup_network: [{ deployment: ID, finished_at: '2026-01-02T03:04:05Z', seconds: 42 }],
    });
    await fs.writeFile(path.join(dir, 'state', 'deployment-state.yaml'), `deployment_id: "${ID}"\n`);
    await archiveDeployment(dir, ID, 'full-reset', new Date('2026-01-02T04:00:00Z'), 'move');
    assert.deepEqual(await fs.readdir(path.join(dir, 'state')), ['phase-durations.yaml']);
  });

  it('keeps the last runs per phase and times a deployment from the others only', async () => {
    for (let i = 0; i < KEPT_RUNS + 5; i++)
      await recordPhaseDurations(
        dir,
        finished(
          `k0rdent-run${String(i).padStart(5, '0')}`,
          `2026-01-02T03:${String(i).padStart(2, '0')}:00Z`,
          i
        )
      );
    const samples = await readDurationSamples(dir);
    assert.equal(samples.setup_network?.length, KEPT_RUNS);
    assert.equal(samples.setup_network?.[0]?.seconds, 5, 'the oldest dropped off');
    assert.deepEqual(timesOf(samples).setup_network, { runs: KEPT_RUNS, medianSeconds: 14, p90Seconds: 22 });
    assert.equal(timesOf(samples, 'k0rdent-run00024').setup_network?.runs, KEPT_RUNS - 1);
  });

  it('refuses a file it cannot read, naming it and what is wrong, and leaves it as it was', async () => {
    const file = path.join(dir, PHASE_DURATIONS_FILE);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const cases: [string, RegExp][] = [
      ['phases: [unclosed\n', /not YAML/],
      ['- a list\n', /no `phases` map/],
      ['phases:\n  bogus_phase: []\n', /phases\.bogus_phase: not a phase/],
      ['phases:\n  setup_network: 3\n', /phases\.setup_network: not a list/],
      [
        'phases:\n  setup_network:\n    - {deployment: x, finished_at: y, seconds: -1}\n',
        /phases\.setup_network\[0\]: needs/,
      ],
    ];
    for (const [text, why] of cases) {
      await fs.writeFile(file, text);
      await assert.rejects(readDurationSamples(dir), (err: unknown) => {
        assert.ok(err instanceof DurationsFileError);
        assert.ok(err.message.startsWith(`${file}: `), err.message);
        assert.match(err.message, why);
        return true;
      });
      await assert.rejects(
        recordPhaseDurations(dir, finished(ID, '2026-01-02T03:04:05Z', 1)),
        DurationsFileError
      );
      assert.equal(await fs.readFile(file, 'utf8'), text);
    }
  });
});
