import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { SearchAttributeNames } from '../../src/workflows/messages';
import { activityNames } from '../../src/workflows/phases';
import type { PhaseName } from '../../src/workflows/phases';
import type { DeploymentState } from '../../src/workflows/messages';
import { checkAppliedOnce } from '../chaos/invariants';
import {
  ROOT,
  TEST_EMULATOR,
  childWorker,
  prepareDeployment,
  startDeployment,
  stopServer,
  useExternalServer,
  waitFor,
} from '../integration/harness';
import type { TestDeployment } from '../integration/harness';
import { composeServices, startProductionStack } from './stack';
import type { ProductionStack } from './stack';

const run = promisify(execFile);

/** Not `default`: the suite proves that workers and CLI follow TEMPORAL_NAMESPACE. */
const NAMESPACE = 'k0rdent-production';

/** Installs long enough to kill a worker in the middle of one. */
const EMULATOR = {
  ...TEST_EMULATOR,
  hosts: { timings: { k0sApplyMs: 5000, helmInstallMs: 1500, clusterDeploymentReadyMs: 1000 } },
};

/** The version in a `temporal version 1.31.2` line. */
function versionOf(line: string): string {
  const found = /(\d+\.\d+\.\d+)/.exec(line)?.[1];
  assert.ok(found, `no version in ${line}`);
  return found;
}

/** How many activity tasks each worker identity started, from the workflow's history. */
async function activityShares(d: TestDeployment): Promise<Map<string, number>> {
  const shares = new Map<string, number>();
  const history = await d.handle.fetchHistory();
  for (const event of history.events ?? []) {
    const identity = event.activityTaskStartedEventAttributes?.identity;
    if (identity) shares.set(identity, (shares.get(identity) ?? 0) + 1);
  }
  return shares;
}

/** The identity and attempt of the last start of `phase`'s apply activity. */
async function applyStarts(
  d: TestDeployment,
  phase: PhaseName
): Promise<{ identity: string; attempt: number }[]> {
  const history = await d.handle.fetchHistory();
  const scheduled = new Map<string, string>();
  const starts: { identity: string; attempt: number }[] = [];
  for (const event of history.events ?? []) {
    const s = event.activityTaskScheduledEventAttributes;
    if (s?.activityType?.name) scheduled.set(String(event.eventId), s.activityType.name);
    const started = event.activityTaskStartedEventAttributes;
    if (started && scheduled.get(String(started.scheduledEventId)) === activityNames(phase).apply) {
      starts.push({ identity: started.identity ?? '', attempt: started.attempt ?? 0 });
    }
  }
  return starts;
}

describe('production: Temporal on PostgreSQL, two workers on one task queue', function () {
  this.timeout(1_200_000);
  let stack: ProductionStack;
  let cli: string;
  let harness: Awaited<ReturnType<typeof useExternalServer>>;

  before(async function () {
    this.timeout(3_600_000);
    const tools = execFileSync(path.join(ROOT, 'scripts', 'install-temporal-server.sh'), {
      encoding: 'utf8',
    }).trim();
    cli = execFileSync(path.join(ROOT, 'scripts', 'install-temporal.sh'), { encoding: 'utf8' }).trim();
    stack = await startProductionStack({ tools, cli, namespace: NAMESPACE });
    console.log(
      `      Temporal server ${versionOf(stack.serverVersion)} on ${stack.postgresVersion} at ${stack.address}`
    );
    // Child workers inherit the namespace; the harness's client uses it too.
    process.env.TEMPORAL_NAMESPACE = NAMESPACE;
    harness = await useExternalServer(stack.address, NAMESPACE, EMULATOR);
  });

  after(async () => {
    await stopServer();
    await stack?.stop();
    delete process.env.TEMPORAL_NAMESPACE;
  });

  it('runs the server release docker-compose.yml pins, on PostgreSQL, with its search attributes', async () => {
    const version = versionOf(stack.serverVersion);
    const services = composeServices();
    assert.equal(services.temporal?.image, `temporalio/server:${version}`);
    assert.equal(services['temporal-admin-tools']?.image, `temporalio/admin-tools:${version}`);
    const env = { TEMPORAL_ADDRESS: stack.address };
    const cluster = JSON.parse(
      (await run(cli, ['operator', 'cluster', 'describe', '-o', 'json'], { env: { ...process.env, ...env } }))
        .stdout
    ) as { persistenceStore?: string; visibilityStore?: string; serverVersion?: string };
    assert.equal(cluster.serverVersion, version);
    assert.equal(cluster.persistenceStore, services.temporal?.environment?.DB);
    assert.match(cluster.visibilityStore ?? '', /postgres12/);
    // The server lists attributes created a moment ago only after its cache refreshes.
    const names = Object.values(SearchAttributeNames);
    const deadline = Date.now() + 60_000;
    let listed = '';
    while (!names.every((name) => new RegExp(`${name}\\s+Keyword`).test(listed)) && Date.now() < deadline) {
      if (listed) await new Promise((r) => setTimeout(r, 1000));
      const args = ['operator', 'search-attribute', 'list', '--namespace', NAMESPACE];
      listed = (await run(cli, args, { env: { ...process.env, ...env } })).stdout;
    }
    for (const name of names) {
      assert.match(listed, new RegExp(`${name}\\s+Keyword`), `${name} is a Keyword attribute`);
      // compose's namespace script created it; the project's script then left it as it was.
      assert.match(stack.setupOutput, new RegExp(`search attribute ${name}: create \\(Keyword\\)`));
      assert.match(stack.setupOutput, new RegExp(`${name} (already )?registered`));
    }
    const compose = await run('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], {
      cwd: ROOT,
      env: { ...process.env, POSTGRES_PASSWORD: 'only-for-this-check' },
    });
    assert.equal(compose.stderr.trim(), '');
  });

  it('finishes a deployment through a SIGKILLed worker, a server restart and a rollback sent with the temporal CLI', async () => {
    const started = Date.now();
    const prepared = await prepareDeployment({ kof: true });
    const workers: ChildProcess[] = [
      await childWorker(prepared.taskQueue, prepared.workDir),
      await childWorker(prepared.taskQueue, prepared.workDir),
    ];
    const identityOf = (w: ChildProcess) => `${w.pid}@${os.hostname()}`;
    // The mothership install is held 20 s longer than it takes, so that it is still running when the test
    // sees it start: after the kill below, the query the test watches with can be answered only seconds
    // late, and a third worker's start takes seconds on a busy machine.
    harness.arm.hosts.setFaults([
      { match: { tool: 'helm', target: 'kof-mothership' }, kind: 'latency', latencyMs: 20_000, times: 1 },
    ]);
    const d = await startDeployment(prepared);
    try {
      // SIGKILL whichever worker runs the k0s install, in the middle of it.
      await waitFor(d.handle, (s) => s.phases.install_k0s.status === 'in_progress', 180_000);
      await new Promise((r) => setTimeout(r, 1500));
      const pending = (await d.handle.describe()).raw.pendingActivities ?? [];
      const runner = pending.find((a) => a.activityType?.name === activityNames('install_k0s').apply);
      const victim = workers.find((w) => identityOf(w) === runner?.lastWorkerIdentity);
      assert.ok(
        victim,
        `a worker runs the k0s install (pending: ${JSON.stringify(pending.map((a) => a.lastWorkerIdentity))})`
      );
      const survivor = workers.find((w) => w !== victim);
      assert.ok(survivor);
      victim.kill('SIGKILL');
      await waitFor(d.handle, (s) => s.phases.install_k0s.status === 'completed', 180_000);
      const k0sStarts = await applyStarts(d, 'install_k0s');
      assert.equal(k0sStarts.length, 1);
      assert.equal(k0sStarts[0]?.identity, identityOf(survivor), 'the other worker finished the k0s install');
      assert.ok((k0sStarts[0]?.attempt ?? 0) >= 2, 'it took the install over as a retry');
      workers.push(await childWorker(prepared.taskQueue, prepared.workDir));

      // Restart the server while the KOF mothership installs.
      await waitFor(d.handle, (s) => s.phases.install_kof_mothership.status === 'in_progress', 180_000);
      await stack.restartServer();
      let state = await waitFor(d.handle, (s) => s.status === 'completed', 300_000);

      // Roll back with the temporal CLI, as an operator would, and continue at once.
      await run(
        cli,
        [
          'workflow',
          'signal',
          '--workflow-id',
          d.id,
          '--name',
          'rollback',
          '--input',
          '{"toPhase":"install_kof_mothership","resume":true}',
        ],
        { env: { ...process.env, TEMPORAL_ADDRESS: stack.address, TEMPORAL_NAMESPACE: NAMESPACE } }
      );
      const rolledBack = (s: DeploymentState) =>
        s.events.some((e) => e.action === 'phase_rolled_back' && e.phase === 'install_kof_mothership');
      state = await waitFor(d.handle, (s) => rolledBack(s) && s.status === 'completed', 300_000);
      assert.equal(state.phases.install_kof_mothership.status, 'completed');

      assert.deepEqual(checkAppliedOnce(harness.arm, state, d.config), []);
      const shares = await activityShares(d);
      const total = [...shares.values()].reduce((a, b) => a + b, 0);
      // The history records each activity's last attempt only: the killed worker's k0s attempt shows
      // as the survivor's, and the worker that completes a workflow task often gets its activities at once.
      console.log(
        `      activities: ${total} in ${Math.round((Date.now() - started) / 1000)} s; ` +
          workers
            .map((w, i) => {
              const n = shares.get(identityOf(w)) ?? 0;
              const role =
                w === victim
                  ? 'SIGKILLed in its k0s attempt'
                  : i === 2
                    ? 'started after the kill'
                    : 'survivor';
              return `worker ${i + 1} (${role}) ${n} (${Math.round((100 * n) / total)}%)`;
            })
            .join(', ')
      );
      assert.ok((shares.get(identityOf(survivor)) ?? 0) > 0, 'the survivor ran activities');
      assert.equal(
        [...shares.keys()].filter((identity) => !workers.some((w) => identityOf(w) === identity)).length,
        0,
        'no other worker ran any'
      );
    } finally {
      for (const w of workers) w.kill('SIGTERM');
    }
  });
});
