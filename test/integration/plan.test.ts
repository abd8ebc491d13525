import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ClusterWorldState } from '../../emulator/src/hosts/cluster/model';
import type { WorldCounts } from '../../emulator/src/world-writes';
import { worldWrites } from '../../emulator/src/world-writes';
import { namesFor } from '../../src/config/naming';
import { itemKey } from '../../src/activities/inventory';
import type { DeploymentState } from '../../src/workflows/messages';
import { rollbackUpdate } from '../../src/workflows/messages';
import type { DeploymentPlan, planWorkflow } from '../../src/workflows/plan';
import { initialState } from '../../src/workflows/state';
import type { TestDeployment } from './harness';
import { bashStateText } from '../badinput/state-inputs';
import {
  inProcessWorker,
  prepareDeployment,
  runCli,
  startDeployment,
  startServer,
  stopFolderEmulator,
  waitFor,
} from './harness';

async function counts(): Promise<WorldCounts> {
  const s = await startServer();
  return { arm: s.arm.counts(), hosts: s.arm.hosts.counts() };
}

/** Everything of a deployment that exists, keyed as plan items are. */
async function world(d: TestDeployment): Promise<Set<string>> {
  const s = await startServer();
  const names = namesFor(d.id, d.config);
  const keys = new Set<string>();
  for (const r of s.arm.resources()) {
    if (r.resourceGroup.toLowerCase() !== names.resourceGroup.toLowerCase()) continue;
    if (r.type.split('/').length > 2) continue;
    keys.add(`azure:${r.type}:${r.name}`);
  }
  const hosts = s.arm.hosts.state();
  for (const t of hosts.tunnels)
    if (t.interface === names.wireguardInterface) keys.add(`tunnel:WireGuard interface:${t.interface}`);
  const cluster = (hosts.cluster as ClusterWorldState).clusters[d.id];
  if (cluster?.k0s) keys.add(`k0s:k0s cluster:${d.id}`);
  for (const r of Object.values(cluster?.releases ?? {}))
    keys.add(`helm:Helm release:${r.namespace}/${r.name}`);
  // Objects our phases applied (chart-made ones are the releases' business).
  const applied = new Set(
    Object.keys(hosts.counts.applied)
      .filter((k) => k.startsWith(`object:${d.id}:`))
      .map((k) => k.slice(`object:${d.id}:`.length).toLowerCase())
  );
  for (const { object } of Object.values(cluster?.objects ?? {})) {
    const { namespace, name } = object.metadata;
    if (applied.has(`${object.kind}:${namespace ?? ''}/${name}`.toLowerCase()))
      keys.add(`object:${object.kind}:${namespace ? `${namespace}/` : ''}${name}`);
  }
  for (const sp of (hosts.cluster as ClusterWorldState).servicePrincipals)
    if (sp.displayName === names.servicePrincipal) keys.add(`sp:service principal:${sp.displayName}`);
  return keys;
}

async function plan(d: TestDeployment, ...args: string[]): Promise<{ plan: DeploymentPlan; output: string }> {
  const json = await runCli(['plan', ...args, '--json', '--dir', d.workDir], d.workDir);
  assert.equal(json.code, 0, json.output);
  const start = json.output.indexOf('{');
  return { plan: JSON.parse(json.output.slice(start)) as DeploymentPlan, output: json.output };
}

/** Runs a deployment until `until` holds, then `fn` while its worker still runs; the worker stops after. */
async function deployed(
  kof: boolean,
  until: (s: DeploymentState) => boolean,
  fn: (d: TestDeployment) => Promise<void> = () => Promise.resolve()
): Promise<TestDeployment> {
  const d = await startDeployment(await prepareDeployment({ kof }));
  const w = await inProcessWorker(d.taskQueue);
  try {
    await waitFor(d.handle, until, 240_000);
    await fn(d);
  } finally {
    await w.stop();
  }
  return d;
}

const completed = (s: DeploymentState) => s.status === 'completed';

describe('plan: what deploy, rollback and reset would do, changing nothing', function () {
  this.timeout(300_000);

  it('on a completed deployment: every phase skip, and a rollback plan lists exactly what the rollback removes', () =>
    deployed(true, completed, async (d) => {
      let before = await counts();
      const done = (await plan(d)).plan;
      assert.deepEqual(
        done.phases.map((p) => `${p.phase}:${p.action}`),
        done.phases.map((p) => `${p.phase}:skip`)
      );
      assert.equal(done.totals.create + done.totals.delete + done.totals.unknown, 0);
      assert.ok(done.totals.keep >= 20, `kept ${done.totals.keep}`);
      assert.deepEqual(worldWrites(before, await counts()), []);

      before = await counts();
      const rewind = (await plan(d, 'rollback', '--to', 'connect_vpn')).plan;
      assert.deepEqual(worldWrites(before, await counts()), []);
      const planned = rewind.phases.flatMap((p) => p.items.filter((i) => i.change === 'delete').map(itemKey));
      assert.ok(planned.length >= 10, planned.join(', '));
      const present = await world(d);
      await d.handle.executeUpdate(rollbackUpdate, { args: [{ toPhase: 'connect_vpn' }] });
      await waitFor(
        d.handle,
        (s) => s.status !== 'rolling_back' && s.phases.connect_vpn.status === 'pending',
        120_000
      );
      const left = await world(d);
      const removed = [...present].filter((k) => !left.has(k));
      assert.deepEqual([...planned].sort(), removed.sort());
    }));

  it('names the VM deleted behind its back and every later phase it would redo', () =>
    deployed(false, completed, async (d) => {
      const s = await startServer();
      const vm = s.arm
        .resources()
        .find(
          (r) =>
            r.type === 'Microsoft.Compute/virtualMachines' &&
            r.name === 'k0s-worker-1' &&
            r.resourceGroup === `${d.id}-resgrp`
        );
      assert.ok(vm, 'the worker VM exists');
      s.arm.removeResource(vm.id);
      const before = await counts();
      const text = await runCli(['plan', '--dir', d.workDir], d.workDir);
      assert.equal(text.code, 0, text.output);
      assert.match(text.output, /create_vms: redo \(drifted: [^\n]*k0s-worker-1[^\n]*\)/);
      assert.match(text.output, /\+ create {2}Microsoft\.Compute\/virtualMachines k0s-worker-1/);
      for (const later of ['setup_vpn', 'connect_vpn', 'install_k0s', 'install_k0rdent'])
        assert.match(text.output, new RegExp(`${later}: redo \\(after create_vms\\)`));
      assert.match(text.output, /prepare_deployment: skip/);
      assert.match(text.output, /setup_network: skip/);
      assert.deepEqual(worldWrites(before, await counts()), []);
    }));

  it('on a deployment never started: every enabled phase runs, everything is created, nothing changes', async () => {
    const d = await prepareDeployment();
    const w = await inProcessWorker(d.taskQueue);
    try {
      const before = await counts();
      const s = await startServer();
      const p = await s.client.workflow.execute<typeof planWorkflow>('planWorkflow', {
        workflowId: `plan-${d.id}`,
        taskQueue: d.taskQueue,
        args: [
          { ...d.input, state: initialState(d.input, '2026-12-04T00:00:00Z'), request: { action: 'deploy' } },
        ],
      });
      for (const phase of p.phases)
        assert.equal(phase.action, phase.reason === 'component not enabled' ? 'skip' : 'run', phase.phase);
      assert.equal(p.totals.keep + p.totals.delete, 0);
      assert.ok(p.totals.create >= 10, `created ${p.totals.create}`);
      assert.deepEqual(worldWrites(before, await counts()), []);
    } finally {
      await w.stop();
    }
  });

  it('on a deployment stopped mid-way with no worker: plans from its state file and moves nothing on', async () => {
    const d = await deployed(false, (s) => s.phases.create_vms.status === 'completed');
    const stateFile = path.join(d.workDir, 'state', 'deployment-state.yaml');
    const before = { counts: await counts(), file: await fs.readFile(stateFile, 'utf8') };
    const result = await runCli(['plan', '--dir', d.workDir], d.workDir);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /no worker is running for k0rdent-\w+: planning from its state file/);
    assert.match(result.output, /setup_network: skip/);
    assert.match(result.output, /create_vms: skip/);
    assert.match(result.output, /install_k0s: run\n {4}\+ create {2}k0s cluster/);
    assert.deepEqual(worldWrites(before.counts, await counts()), []);
    assert.equal(await fs.readFile(stateFile, 'utf8'), before.file);
    await d.handle.terminate('test over');
  });

  it("on a folder holding the Bash tool's state file: checks its completed phases and leaves the file as it was", async () => {
    const d = await prepareDeployment();
    const file = path.join(d.workDir, 'state', 'deployment-state.yaml');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, bashStateText(d.id));
    try {
      const result = await runCli(['plan', '--dir', d.workDir], d.workDir);
      assert.equal(result.code, 0, result.output);
      // Its four completed phases were checked against a world that holds none of it.
      assert.match(result.output, /prepare_deployment: redo \(drifted: [^)]+\)/);
      for (const later of ['setup_network', 'create_vms', 'setup_vpn'])
        assert.match(result.output, new RegExp(`${later}: redo \\(after prepare_deployment\\)`));
      assert.match(result.output, /connect_vpn: run/);
      assert.match(result.output, /setup_azure_children: skip \(component not enabled\)/);
      assert.match(result.output, /\+ create {2}Microsoft\.Resources\/resourceGroups /);
      assert.equal(await fs.readFile(file, 'utf8'), bashStateText(d.id));
    } finally {
      await stopFolderEmulator(d.workDir);
    }
  });

  it('refuses a bad request with one line naming it', async () => {
    const d = await prepareDeployment();
    for (const [args, message] of [
      [['plan', 'destroy'], /plan destroy: plan deploy, plan rollback --to PHASE or plan reset/],
      [['plan', 'rollback'], /plan rollback needs --to PHASE/],
      [['plan', 'rollback', '--to', 'nowhere'], /--to nowhere: unknown phase/],
      [['plan', 'reset', '--to', 'setup_vpn'], /--to belongs to plan rollback, not plan reset/],
    ] as const) {
      const result = await runCli([...args, '--dir', d.workDir], d.workDir);
      assert.equal(result.code, 2, result.output);
      assert.match(result.output, message);
    }
  });
});
