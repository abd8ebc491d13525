import assert from 'node:assert/strict';
import { DEFAULT_CONFIG } from '../../src/config/defaults';
import { activityRuns, anomalies, pendingActivities } from '../../bench/history';
import type { History } from '../../bench/history';
import { inProcessWorker, prepareDeployment, startDeployment, waitFor } from './harness';

/** The [start, end] server times of every activity attempt that completed, across histories. */
function busyIntervals(histories: History[]): [number, number][] {
  return histories.flatMap((h) =>
    activityRuns(h)
      .filter((r) => r.outcome === 'completed' && r.startedMs !== undefined && r.endedMs !== undefined)
      .map((r): [number, number] => [r.startedMs ?? 0, r.endedMs ?? 0])
  );
}

describe('a worker whose slots are full', function () {
  this.timeout(240_000);

  it('keeps a new deployment waiting on the server, then runs it to completion, with no timeout on either', async () => {
    const first = await prepareDeployment();
    const second = await prepareDeployment({ taskQueue: first.taskQueue });
    // One activity slot: while one deployment's phase runs, the other's waits unstarted.
    const w = await inProcessWorker(first.taskQueue, {
      ...DEFAULT_CONFIG.orchestrator.worker,
      max_activities: 1,
    });
    try {
      const a = await startDeployment(first);
      const b = await startDeployment(second);
      let waited = false;
      const deadline = Date.now() + 120_000;
      while (!waited && Date.now() < deadline) {
        const [pa, pb] = await Promise.all([pendingActivities(a.handle), pendingActivities(b.handle)]);
        const started = [...pa, ...pb].filter((p) => p.state === 'started').length;
        const queued = [...pa, ...pb].filter((p) => p.state === 'scheduled').length;
        assert.ok(started <= 1, `${started} activities run at once on a worker with one slot`);
        waited = started === 1 && queued >= 1;
        if (!waited) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(waited, 'never saw one deployment waiting for the slot the other held');
      const done = (s: { status: string }) => s.status === 'completed' || s.status === 'failed';
      const [sa, sb] = await Promise.all([
        waitFor(a.handle, done, 200_000),
        waitFor(b.handle, done, 200_000),
      ]);
      assert.equal(sa.status, 'completed', `first deployment: ${sa.lastError ?? ''}`);
      assert.equal(sb.status, 'completed', `second deployment: ${sb.lastError ?? ''}`);
      const histories = await Promise.all([a.handle.fetchHistory(), b.handle.fetchHistory()]);
      for (const h of histories) {
        assert.deepEqual(anomalies(h), {
          workflowTaskTimeouts: 0,
          stickyScheduleToStartTimeouts: 0,
          workflowTaskFailures: 0,
          heartbeatTimeouts: 0,
          activityRetries: 0,
        });
      }
      // The slot was never shared: no two activity attempts overlapped (beyond the completion's own round trip).
      const intervals = busyIntervals(histories).sort((x, y) => x[0] - y[0]);
      for (let i = 1; i < intervals.length; i++) {
        const [start] = intervals[i] ?? [0, 0];
        const [, previousEnd] = intervals[i - 1] ?? [0, 0];
        assert.ok(start >= previousEnd - 250, `activities overlapped at ${new Date(start).toISOString()}`);
      }
    } finally {
      await w.stop();
    }
  });
});
