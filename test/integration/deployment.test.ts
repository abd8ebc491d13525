import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { parse, stringify } from 'yaml';
import { namesFor } from '../../src/config/naming';
import type { ClusterWorldState } from '../../emulator/src/hosts/cluster/model';
import { generateWireguardKeyPair } from '../../src/hosts/keys';
import { renderCloudInit } from '../../src/hosts/wireguard-config';
import { PHASE_NAMES } from '../../src/workflows/phases';
import {
  resetUpdate,
  resumeSignal,
  rollbackSignal,
  rollbackUpdate,
  stateQuery,
} from '../../src/workflows/messages';
import {
  childWorker,
  inProcessWorker,
  maybeRecordHistory,
  prepareDeployment,
  runCli,
  startDeployment,
  startServer,
  stopFolderEmulator,
  waitFor,
} from './harness';

const completed = (s: { status: string }) => s.status === 'completed';

async function privateKeys(workDir: string): Promise<string[]> {
  const dir = path.join(workDir, 'wireguard');
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith('_privkey'));
  return Promise.all(files.map(async (f) => (await fs.readFile(path.join(dir, f), 'utf8')).trim()));
}

async function stateFile(workDir: string): Promise<Record<string, unknown>> {
  return parse(await fs.readFile(path.join(workDir, 'state', 'deployment-state.yaml'), 'utf8')) as Record<
    string,
    unknown
  >;
}

/**
 * The state file once it shows `status` (or after 10 s): the query answers from the workflow's state,
 * which holds a transition a moment before its projection has written it.
 */
async function stateFileWith(workDir: string, status: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const file = await stateFile(workDir);
    if (file.status === status || Date.now() > deadline) return file;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('deployment workflow on a real dev server', function () {
  this.timeout(180_000);

  it('runs every phase, including the optional ones, and projects the same state to the state file', async () => {
    const d = await startDeployment(await prepareDeployment({ kof: true }));
    const w = await inProcessWorker(d.taskQueue);
    try {
      const state = await waitFor(d.handle, completed);
      await maybeRecordHistory(d.handle, 'full-deployment');
      for (const name of PHASE_NAMES) assert.equal(state.phases[name].status, 'completed', name);
      const file = await stateFileWith(d.workDir, 'completed');
      const phases = file.phases as Record<string, { status: string; updated_at: string }>;
      for (const name of PHASE_NAMES) {
        assert.equal(phases[name]?.status, 'completed', name);
        assert.equal(phases[name]?.updated_at, state.phases[name].updatedAt);
      }
      assert.equal(file.status, 'completed');
      assert.equal(file.deployment_id, d.id);
      const ledger = (await d.ledger.read()).ledger;
      for (const name of PHASE_NAMES) assert.equal(ledger[name]?.applyCompleted, 1, name);
      const applied = (await startServer()).arm.hosts.counts().applied;
      for (const key of [
        `k0s:${d.id}`,
        `helm:${d.id}:kcm-system/kcm`,
        `helm:${d.id}:istio-system/kof-istio`,
        `helm:${d.id}:kof/kof-operators`,
        `helm:${d.id}:kof/kof-mothership`,
        `sp:${d.id}-cluster-deployment-sp`,
      ])
        assert.equal(applied[key], 1, `${key} applied once`);
      const regional = path.join(
        d.workDir,
        'state',
        `cluster-kof-regional-${d.id.slice(8)}-southeastasia-events.yaml`
      );
      assert.ok(existsSync(regional), 'regional cluster events file');
      const history = JSON.stringify(await d.handle.fetchHistory());
      const stateText = await fs.readFile(path.join(d.workDir, 'state', 'deployment-state.yaml'), 'utf8');
      for (const key of await privateKeys(d.workDir)) {
        assert.ok(!history.includes(key), 'private key in history');
        assert.ok(!stateText.includes(key), 'private key in state file');
      }
    } finally {
      await w.stop();
    }
  });

  it('resumes after the worker is SIGKILLed mid-phase without re-applying completed phases', async () => {
    const d = await startDeployment(await prepareDeployment());
    const first = await childWorker(d.taskQueue, d.workDir);
    await waitFor(d.handle, (s) => s.phases.install_k0s.status === 'in_progress');
    await new Promise((r) => setTimeout(r, 300));
    first.kill('SIGKILL');
    const second = await childWorker(d.taskQueue, d.workDir);
    try {
      await waitFor(d.handle, completed, 120_000);
      const ledger = (await d.ledger.read()).ledger;
      assert.equal((await startServer()).arm.hosts.counts().applied[`k0s:${d.id}`], 1, 'k0s installed once');
      for (const name of PHASE_NAMES.slice(0, 7)) {
        assert.equal(ledger[name]?.applyCompleted, 1, `${name} applied once`);
        assert.equal(ledger[name]?.applyStarted, name === 'install_k0s' ? 2 : 1, `${name} started`);
      }
      await maybeRecordHistory(d.handle, 'worker-killed');
    } finally {
      second.kill('SIGTERM');
    }
  });

  it('resumes after the worker is SIGKILLed during install_k0rdent, installing the chart once', async () => {
    const d = await startDeployment(await prepareDeployment());
    const first = await childWorker(d.taskQueue, d.workDir);
    await waitFor(d.handle, (s) => s.phases.install_k0rdent.status === 'in_progress');
    await new Promise((r) => setTimeout(r, 400));
    first.kill('SIGKILL');
    const second = await childWorker(d.taskQueue, d.workDir);
    try {
      await waitFor(d.handle, completed, 120_000);
      const applied = (await startServer()).arm.hosts.counts().applied;
      assert.equal(applied[`k0s:${d.id}`], 1, 'k0s installed once');
      assert.equal(applied[`helm:${d.id}:kcm-system/kcm`], 1, 'kcm installed once');
    } finally {
      second.kill('SIGTERM');
    }
  });

  it('reconnects a dropped tunnel before the next phase that needs it', async () => {
    const s = await startServer();
    const d = await startDeployment(await prepareDeployment());
    const w = await inProcessWorker(d.taskQueue);
    try {
      await waitFor(d.handle, completed);
      await d.handle.executeUpdate(rollbackUpdate, { args: [{ toPhase: 'install_k0rdent' }] });
      await waitFor(d.handle, (st) => st.status === 'paused');
      assert.ok(s.arm.hosts.dropTunnel(`wgk0${d.id.slice(8)}`), 'tunnel was up');
      await d.handle.signal(resumeSignal);
      const done = await waitFor(
        d.handle,
        (st) => st.status === 'completed' && st.phases.install_k0rdent.runs === 2
      );
      assert.ok(
        done.events.some((e) => e.action === 'phase_restored' && e.phase === 'connect_vpn'),
        'connect_vpn ran again'
      );
      const ledger = (await d.ledger.read()).ledger;
      assert.equal(ledger.connect_vpn?.applyCompleted, 2);
      assert.equal(ledger.install_k0s?.applyCompleted, 1, 'k0s not redone');
    } finally {
      await w.stop();
    }
  });

  it('restores a tunnel lost in the middle of a phase and runs that phase again, with no operator', async () => {
    const s = await startServer();
    const d = await startDeployment(await prepareDeployment());
    const w = await inProcessWorker(d.taskQueue);
    try {
      await waitFor(d.handle, (st) => st.phases.install_k0s.status === 'in_progress');
      await waitFor(d.handle, () => s.arm.hosts.dropTunnel(`wgk0${d.id.slice(8)}`), 30_000);
      const done = await waitFor(d.handle, completed, 120_000);
      assert.ok(
        done.events.some((e) => e.action === 'phase_restored' && e.phase === 'connect_vpn'),
        'connect_vpn ran again'
      );
      assert.ok(!done.events.some((e) => e.action === 'phase_failed'), 'no phase was left failed');
      assert.equal(done.phases.install_k0s.runs, 2, 'install_k0s ran again after the restore');
      assert.equal(s.arm.hosts.counts().applied[`k0s:${d.id}`], 1, 'k0s installed once');
    } finally {
      await w.stop();
    }
  });

  it('brings a dropped tunnel back before rolling back a phase that needs it', async () => {
    const s = await startServer();
    const d = await startDeployment(await prepareDeployment());
    const w = await inProcessWorker(d.taskQueue);
    try {
      await waitFor(d.handle, completed);
      assert.ok(s.arm.hosts.dropTunnel(`wgk0${d.id.slice(8)}`), 'tunnel was up');
      await d.handle.executeUpdate(rollbackUpdate, { args: [{ toPhase: 'install_k0s' }] });
      const rested = await waitFor(d.handle, (st) => st.status === 'paused' || st.status === 'failed');
      assert.equal(rested.status, 'paused', rested.lastError);
      assert.ok(rested.events.some((e) => e.action === 'phase_restored' && e.phase === 'connect_vpn'));
      const cluster = (s.arm.hosts.state().cluster as ClusterWorldState).clusters[d.id];
      assert.equal(cluster?.k0s, undefined, 'k0s reset');
    } finally {
      await w.stop();
    }
  });

  it('rolls back to a middle phase while a later one runs, rests there, then resumes to completion', async () => {
    const s = await startServer();
    const d = await startDeployment(await prepareDeployment());
    const w = await inProcessWorker(d.taskQueue);
    // Every Helm call takes a while, so install_k0rdent is still running when the rollback arrives.
    s.arm.hosts.setFaults([{ match: { tool: 'helm' }, kind: 'latency', latencyMs: 1500, times: -1 }]);
    try {
      await waitFor(d.handle, (s) => s.phases.install_k0rdent.status === 'in_progress');
      await d.handle.executeUpdate(rollbackUpdate, { args: [{ toPhase: 'setup_vpn' }] });
      const paused = await waitFor(d.handle, (s) => s.status === 'paused');
      for (const name of ['setup_vpn', 'connect_vpn', 'install_k0s', 'install_k0rdent'] as const) {
        assert.equal(paused.phases[name].status, 'pending', name);
      }
      for (const name of ['prepare_deployment', 'setup_network', 'create_vms'] as const) {
        assert.equal(paused.phases[name].status, 'completed', name);
      }
      const world = await d.ledger.read();
      const hosts = (await startServer()).arm.hosts.state();
      assert.ok(
        !JSON.stringify(hosts.tunnels).includes(`wgk0${d.id.slice(8)}`),
        'tunnel of the deployment is down'
      );
      assert.ok(
        !existsSync(path.join(d.workDir, 'wireguard', `wgk0${d.id.slice(8)}.conf`)),
        'laptop config removed'
      );
      for (const name of ['setup_vpn', 'connect_vpn', 'install_k0s', 'install_k0rdent']) {
        assert.equal(world.ledger[name]?.rollbackCompleted, 1, `${name} rolled back once`);
      }
      assert.equal(world.ledger.install_k0rdent?.applyStarted, 1);
      assert.equal(world.ledger.install_k0rdent?.applyCompleted ?? 0, 0, 'the running apply was cancelled');
      assert.equal(
        (await stateFile(d.workDir)).phases &&
          ((await stateFile(d.workDir)) as { phases: Record<string, { status: string }> }).phases.install_k0s
            ?.status,
        'pending'
      );
      await d.handle.signal(resumeSignal);
      const done = await waitFor(d.handle, completed);
      assert.equal(done.phases.install_k0rdent.status, 'completed');
      await maybeRecordHistory(d.handle, 'rollback-resume');
    } finally {
      s.arm.hosts.setFaults([]);
      await w.stop();
    }
  });

  it('refuses a rollback to an unknown phase or to one that has not run', async () => {
    const d = await startDeployment(await prepareDeployment());
    const w = await inProcessWorker(d.taskQueue);
    try {
      await waitFor(d.handle, (s) => s.phases.setup_network.status === 'in_progress');
      await assert.rejects(
        d.handle.executeUpdate(rollbackUpdate, { args: [{ toPhase: 'install_everything' }] }),
        (err: unknown) =>
          err instanceof WorkflowUpdateFailedError &&
          /unknown phase "install_everything"/.test(String(err.cause?.message))
      );
      await assert.rejects(
        d.handle.executeUpdate(rollbackUpdate, { args: [{ toPhase: 'install_k0rdent' }] }),
        (err: unknown) =>
          err instanceof WorkflowUpdateFailedError &&
          /install_k0rdent has not run/.test(String(err.cause?.message))
      );
      await d.handle.signal(rollbackSignal, { toPhase: 'nope' });
      const state = await waitFor(d.handle, (s) => s.events.some((e) => e.action === 'request_rejected'));
      assert.match(
        state.events.find((e) => e.action === 'request_rejected')?.message ?? '',
        /unknown phase "nope"/
      );
      await waitFor(d.handle, completed);
    } finally {
      await w.stop();
    }
  });

  it('marks a phase failed after its retries, waits, and finishes on resume', async () => {
    const prepared = await prepareDeployment({ maxAttempts: 2 });
    await prepared.ledger.injectFault('install_k0rdent.apply', {
      remaining: 2,
      message: 'helm: release kcm failed',
    });
    const d = await startDeployment(prepared);
    const w = await inProcessWorker(d.taskQueue);
    try {
      const failed = await waitFor(d.handle, (s) => s.status === 'failed');
      assert.equal(failed.phases.install_k0rdent.status, 'failed');
      assert.match(failed.phases.install_k0rdent.error ?? '', /helm: release kcm failed/);
      assert.equal((await d.handle.describe()).status.name, 'RUNNING');
      const file = await stateFileWith(d.workDir, 'failed');
      assert.equal((file.phases as Record<string, { status: string }>).install_k0rdent?.status, 'failed');
      await d.handle.signal(resumeSignal);
      await waitFor(d.handle, completed);
      await maybeRecordHistory(d.handle, 'failed-resume');
    } finally {
      await w.stop();
    }
  });

  it('reset undoes everything, archives the state and ends the workflow', async () => {
    const d = await startDeployment(await prepareDeployment());
    const w = await inProcessWorker(d.taskQueue);
    try {
      await waitFor(d.handle, completed);
      await d.handle.executeUpdate(resetUpdate, { args: [{ reason: 'full-reset' }] });
      const final = await d.handle.result();
      assert.equal(final.status, 'reset');
      assert.ok(final.archivedTo, 'archive folder recorded');
      const archive = path.join(d.workDir, final.archivedTo ?? '');
      assert.match(
        path.basename(archive),
        new RegExp(`^${d.id}_\\d{4}-\\d\\d-\\d\\d_\\d\\d-\\d\\d-\\d\\d_full-reset$`)
      );
      const archived = parse(await fs.readFile(path.join(archive, 'deployment-state.yaml'), 'utf8')) as {
        phases: Record<string, { status: string }>;
      };
      for (const name of PHASE_NAMES.slice(0, 7))
        assert.equal(archived.phases[name]?.status, 'pending', name);
      assert.ok(existsSync(path.join(archive, 'deployment-events.yaml')));
      assert.ok(!existsSync(path.join(d.workDir, 'state', 'deployment-state.yaml')), 'state file moved away');
      assert.ok(!existsSync(path.join(d.workDir, '.clusterid')), '.clusterid removed');
      const left = (await startServer()).arm
        .resources()
        .filter((r) => r.resourceGroup.toLowerCase() === `${d.id}-resgrp`);
      assert.deepEqual(left, [], 'no Azure resource of the deployment left');
      assert.equal((await d.handle.describe()).status.name, 'COMPLETED');
    } finally {
      await w.stop();
    }
  });

  it('re-runs a completed phase whose check finds drift, and only what follows it', async () => {
    const d = await startDeployment(await prepareDeployment());
    const w = await inProcessWorker(d.taskQueue);
    try {
      await waitFor(d.handle, completed);
      const s = await startServer();
      const vm = s.arm
        .resources()
        .find(
          (r) =>
            r.type === 'Microsoft.Compute/virtualMachines' &&
            r.name === 'k0s-worker-1' &&
            r.resourceGroup.toLowerCase() === `${d.id}-resgrp`
        );
      assert.ok(vm, 'VM exists in the emulator');
      const vmPutsBefore = s.arm.counts().byType['Microsoft.Compute/virtualMachines']?.PUT ?? 0;
      assert.ok(s.arm.removeResource(vm.id));
      await d.handle.signal(resumeSignal);
      await waitFor(d.handle, (s) => s.status === 'completed' && s.phases.create_vms.runs === 2);
      const ledger = (await d.ledger.read()).ledger;
      assert.equal(ledger.setup_network?.applyCompleted, 1);
      assert.equal(ledger.create_vms?.applyCompleted, 2);
      const again = s.arm
        .resources()
        .filter(
          (r) =>
            r.type === 'Microsoft.Compute/virtualMachines' &&
            r.resourceGroup.toLowerCase() === `${d.id}-resgrp`
        );
      assert.deepEqual(again.map((r) => r.name).sort(), ['k0s-controller-1', 'k0s-worker-1']);
      assert.equal(
        (s.arm.counts().byType['Microsoft.Compute/virtualMachines']?.PUT ?? 0) - vmPutsBefore,
        1,
        'only the deleted VM was PUT again'
      );
      const events = (await d.handle.query(stateQuery)).events;
      assert.ok(events.some((e) => e.action === 'phase_reset' && /k0s-worker-1 is missing/.test(e.message)));
    } finally {
      await w.stop();
    }
  });

  it('deploy of a running deployment attaches instead of starting a second one', async () => {
    const d = await prepareDeployment();
    const first = await runCli(['deploy', '--config', d.configFile, '--detach'], d.workDir);
    assert.equal(first.code, 0, first.output);
    assert.match(first.output, /started deployment/);
    const second = await runCli(['deploy', '--config', d.configFile, '--detach'], d.workDir);
    assert.equal(second.code, 0, second.output);
    assert.match(second.output, /already running: attaching/);
    const s = await startServer();
    const runs: string[] = [];
    for await (const wf of s.client.workflow.list({ query: `WorkflowId = '${d.id}'` })) runs.push(wf.runId);
    assert.equal(runs.length, 1);
    await s.client.workflow.getHandle(d.id).terminate('test done');
    await stopFolderEmulator(d.workDir);
  });
});

describe('adopting a state file written by the Bash tool', function () {
  this.timeout(180_000);

  it('checks the completed phases instead of redoing them and keeps the legacy events first', async () => {
    const d = await prepareDeployment();
    const base = d.config.network.wireguard_network.replace(/\.0\/24$/, '');
    const peers: Record<
      string,
      { ip: string; role: string; pair: { privateKey: string; publicKey: string } }
    > = {
      mylaptop: { ip: `${base}.1`, role: 'hub', pair: generateWireguardKeyPair() },
      'k0s-controller-1': { ip: `${base}.11`, role: 'controller', pair: generateWireguardKeyPair() },
      'k0s-worker-1': { ip: `${base}.12`, role: 'worker', pair: generateWireguardKeyPair() },
    };
    const at = '2025-12-01T08:56:05Z';
    const phases = Object.fromEntries(
      PHASE_NAMES.map((name) => [
        name,
        { status: name === 'prepare_deployment' ? 'completed' : 'pending', updated_at: at },
      ])
    );
    const legacy = {
      deployment_id: d.id,
      deployer: 'alice@example.com',
      created_at: at,
      last_updated: at,
      phase: 'prepare_deployment',
      status: 'in_progress',
      deployment_flags: { azure_children: false, kof: false },
      config: {
        azure_location: 'westus2',
        resource_group: `${d.id}-resgrp`,
        controller_count: 1,
        worker_count: 1,
        wireguard_network: d.config.network.wireguard_network,
        wireguard_port: '47213',
      },
      azure_rg_status: 'not_created',
      wg_keys_generated: true,
      phases,
      wireguard_peers: Object.fromEntries(
        Object.entries(peers).map(([name, p]) => [
          name,
          {
            ip: p.ip,
            role: p.role,
            private_key: p.pair.privateKey,
            public_key: p.pair.publicKey,
            keys_generated: true,
            keys_generated_at: at,
          },
        ])
      ),
      aws_account_id: '123456789012',
    };
    await fs.mkdir(path.join(d.workDir, 'state'), { recursive: true });
    await fs.writeFile(path.join(d.workDir, 'state', 'deployment-state.yaml'), stringify(legacy));
    const legacyEvents = [
      { timestamp: at, action: 'deployment_initialized', message: 'Deployment state tracking initialized' },
      {
        timestamp: at,
        action: 'phase_completed',
        message: 'Phase completed: prepare_deployment',
        phase: 'prepare_deployment',
      },
    ];
    await fs.writeFile(
      path.join(d.workDir, 'state', 'deployment-events.yaml'),
      stringify({ deployment_id: d.id, created_at: at, last_updated: at, events: legacyEvents })
    );
    await fs.mkdir(path.join(d.workDir, 'cloud-init-yaml'), { recursive: true });
    // The cloud-init the Bash tool wrote: each VM's WireGuard key and the laptop as its peer.
    for (const host of namesFor(d.id, d.config).hosts) {
      await fs.writeFile(
        path.join(d.workDir, 'cloud-init-yaml', `${host.name}-cloud-init.yaml`),
        renderCloudInit({
          host,
          hostPrivateKey: peers[host.name]?.pair.privateKey ?? '',
          laptopPublicKey: peers.mylaptop?.pair.publicKey ?? '',
          laptopIp: `${base}.1`,
          port: 47213,
          sshUsername: d.config.ssh.username,
        })
      );
    }

    const run = await runCli(['deploy', '--config', d.configFile], d.workDir);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /adopting/);

    const ledger = (await d.ledger.read()).ledger;
    assert.equal(ledger.prepare_deployment?.applyStarted ?? 0, 0, 'prepare_deployment checked, not redone');
    assert.equal(ledger.setup_network?.applyCompleted, 1);
    const file = (await stateFileWith(d.workDir, 'completed')) as Record<string, unknown> & {
      wireguard_peers: Record<string, Record<string, unknown>>;
    };
    assert.equal(file.status, 'completed');
    assert.equal(file.aws_account_id, '123456789012', 'keys written by other tools are kept');
    assert.equal(file.wireguard_peers.mylaptop?.public_key, peers.mylaptop?.pair.publicKey);
    const text = await fs.readFile(path.join(d.workDir, 'state', 'deployment-state.yaml'), 'utf8');
    for (const p of Object.values(peers))
      assert.ok(!text.includes(p.pair.privateKey), 'private key left in the state file');
    const keyFile = path.join(d.workDir, 'wireguard', 'mylaptop_privkey');
    assert.equal((await fs.stat(keyFile)).mode & 0o777, 0o600);
    const events = (
      parse(await fs.readFile(path.join(d.workDir, 'state', 'deployment-events.yaml'), 'utf8')) as {
        events: { action: string }[];
      }
    ).events;
    assert.deepEqual(
      events.slice(0, 2).map((e) => e.action),
      ['deployment_initialized', 'phase_completed']
    );
    assert.ok(events.some((e) => e.action === 'deployment_completed'));
    const s = await startServer();
    await s.client.workflow.getHandle(d.id).terminate('test done');
    await stopFolderEmulator(d.workDir);
  });
});
