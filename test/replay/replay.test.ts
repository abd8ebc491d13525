import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { WORKFLOW_BUNDLE } from '../../src/worker';

const DIR = path.resolve(__dirname, '..', '..', '..', 'test', 'replay', 'histories');

async function load(name: string): Promise<unknown> {
  return JSON.parse(await fs.readFile(path.join(DIR, name), 'utf8')) as unknown;
}

const replayOptions = { workflowBundle: { codePath: WORKFLOW_BUNDLE } };

interface RawEvent {
  eventType?: string;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
}

describe('replay of committed histories', () => {
  // The current shapes; those recorded before a transition was projected with the step after it (v2-*);
  // those from before phase requests named their config by digest (v1-*); and a second deployment of a
  // folder, which starts with the first one's phase times in its input for its ETAs.
  const cases = ['full-deployment', 'worker-killed', 'rollback-resume', 'failed-resume'];
  const names = [...cases, ...cases.map((c) => `v2-${c}`), ...cases.map((c) => `v1-${c}`), 'eta-second-run'];

  for (const name of names) {
    it(`replays ${name} with the current workflow code`, async () => {
      await Worker.runReplayHistory(replayOptions, historyFromJSON(await load(`${name}.json`)), name);
    });
  }

  it('fails on a history whose phase order no longer matches the code', async () => {
    const raw = (await load('full-deployment.json')) as { events: RawEvent[] };
    const scheduled = raw.events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'setupNetwork'
    );
    assert.ok(
      scheduled?.activityTaskScheduledEventAttributes?.activityType,
      'history schedules setupNetwork'
    );
    scheduled.activityTaskScheduledEventAttributes.activityType.name = 'createVms';
    await assert.rejects(
      Worker.runReplayHistory(replayOptions, historyFromJSON(raw), 'mutated'),
      (err: unknown) => err instanceof DeterminismViolationError
    );
  });
});
