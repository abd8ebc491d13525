import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PHASE_DURATIONS_FILE, readDurationSamples, timesOf } from '../../src/state/durations';
import type { Eta } from '../../src/workflows/eta';
import type { DeploymentState } from '../../src/workflows/messages';
import { resetUpdate } from '../../src/workflows/messages';
import { PHASES } from '../../src/workflows/phases';
import {
  inProcessWorker,
  maybeRecordHistory,
  prepareDeployment,
  runCli,
  startDeployment,
  startServer,
  waitFor,
} from './harness';

const CORE = PHASES.filter((p) => !('component' in p)).map((p) => p.name);
const completed = (s: { status: string }) => s.status === 'completed';

/** The Web UI's current details of a workflow, from the SDK's built-in metadata query. */
async function currentDetails(handle: { query: (name: string) => Promise<unknown> }): Promise<string> {
  const meta = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
  return meta.currentDetails ?? '';
}

describe('ETAs from the runs before', function () {
  this.timeout(300_000);

  it('times a second run in the same folder from the first, and flags a phase slowed past its p90', async () => {
    const s = await startServer();
    const first = await startDeployment(await prepareDeployment());
    const w = await inProcessWorker(first.taskQueue);
    try {
      const done = await waitFor(first.handle, completed, 120_000);
      // Every phase's run is on file, and a reset (which archives the state files) leaves the timings.
      await first.handle.executeUpdate(resetUpdate, { args: [{ reason: 'full-reset' }] });
      await first.handle.result();
      const samples = await readDurationSamples(first.workDir);
      for (const name of CORE) {
        assert.deepEqual(
          samples[name],
          [
            {
              deployment: first.id,
              finished_at: done.phases[name].finishedAt,
              seconds: done.phases[name].durationSeconds,
            },
          ],
          name
        );
      }

      // The next deployment of the folder, with every Helm call 3 s slower: install_k0rdent runs past
      // the only earlier run's time, which is its p90.
      const id = `k0rdent-${randomBytes(6).toString('hex').slice(0, 8)}`;
      await fs.writeFile(path.join(first.workDir, '.clusterid'), `${id}\n`);
      // As deploy does, the client hands the workflow the folder's earlier phase times.
      const phaseTimes = timesOf(await readDurationSamples(first.workDir), id);
      const second = await startDeployment({
        ...first,
        id,
        input: { ...first.input, deploymentId: id, phaseTimes },
      });
      s.arm.hosts.setFaults([{ match: { tool: 'helm' }, kind: 'latency', latencyMs: 3000, times: -1 }]);
      // The CLI attaches to the running deployment and follows it to the end.
      const deploy = runCli(['deploy', '--dir', first.workDir, '--no-worker'], first.workDir);
      await waitFor(second.handle, (st) => st.phases.install_k0rdent.status === 'in_progress', 120_000);
      const details = await currentDetails(second.handle);
      assert.match(details, /\| phase \| status \| duration \| median \/ p90 \| late \| note \|/);
      assert.match(details, /about (\d+m )?\d+s left/);

      const status = await runCli(['status', '--dir', first.workDir, '--json'], first.workDir);
      assert.equal(status.code, 0, status.output);
      const json = JSON.parse(status.output.slice(status.output.indexOf('{'))) as DeploymentState & {
        eta: Eta;
      };
      const k0rdent = json.eta.phases.find((p) => p.phase === 'install_k0rdent');
      assert.equal(k0rdent?.runs, 1);
      assert.equal(k0rdent?.medianSeconds, done.phases.install_k0rdent.durationSeconds);

      const followed = await deploy;
      assert.equal(followed.code, 0, followed.output);
      assert.match(followed.output, /in_progress\s+usually \d+s \(p90 \d+s\); about (\d+m )?\d+s left/);
      assert.match(followed.output, /⚠ k0rdent installation has run \d+s, past its p90 of \d+s/);
      assert.match(followed.output, /k0rdent installation\s+completed\s+in \d+s ⚠ past its p90 of \d+s/);
      assert.match(followed.output, /install_k0rdent\s+completed\s+\d+s\s+\d+s \/ \d+s\s+⚠ past p90/);
      const finished = await waitFor(second.handle, completed);
      await maybeRecordHistory(second.handle, 'eta-second-run');
      assert.ok(
        (finished.phases.install_k0rdent.durationSeconds ?? 0) >
          (done.phases.install_k0rdent.durationSeconds ?? 0)
      );
      assert.match(
        await currentDetails(second.handle),
        /\| install_k0rdent \| completed \| \d+s \| \d+s \/ \d+s \| \*\*past p90\*\* \|/
      );
      const after = await readDurationSamples(first.workDir);
      assert.deepEqual(
        after.install_k0rdent?.map((x) => x.deployment),
        [first.id, id]
      );

      // With its worker gone (the server still lists it as a poller for a while), status reads the
      // state file and still flags the slowed phase.
      await w.stop();
      const offline = await runCli(['status', '--dir', first.workDir], first.workDir);
      assert.equal(offline.code, 0, offline.output);
      assert.match(offline.output, new RegExp(`no worker is running for ${id}: showing`));
      assert.match(offline.output, /install_k0rdent\s+completed\s+\d+s\s+\d+s \/ \d+s\s+⚠ past p90/);
      const again = await inProcessWorker(first.taskQueue);
      try {
        await second.handle.executeUpdate(resetUpdate, { args: [{ reason: 'full-reset' }] });
      } finally {
        await again.stop();
      }
    } finally {
      s.arm.hosts.setFaults([]);
      await w.stop();
    }
  });

  it('shows no ETA and warns when the durations file is corrupt, and leaves the file as it was', async () => {
    const d = await startDeployment(await prepareDeployment());
    const corrupt = 'phases:\n  setup_network: [{deployment: x}]\n';
    await fs.mkdir(path.join(d.workDir, 'state'), { recursive: true });
    await fs.writeFile(path.join(d.workDir, PHASE_DURATIONS_FILE), corrupt);
    const w = await inProcessWorker(d.taskQueue);
    try {
      await waitFor(d.handle, completed, 120_000);
      const status = await runCli(['status', '--dir', d.workDir], d.workDir);
      assert.equal(status.code, 0, status.output);
      assert.match(
        status.output,
        /warning: .*state\/phase-durations\.yaml: phases\.setup_network\[0\]: needs deployment, finished_at and seconds/
      );
      assert.doesNotMatch(status.output, /median|left/);
      assert.equal(await fs.readFile(path.join(d.workDir, PHASE_DURATIONS_FILE), 'utf8'), corrupt);
      await d.handle.executeUpdate(resetUpdate, { args: [{ reason: 'full-reset' }] });
    } finally {
      await w.stop();
    }
  });
});
