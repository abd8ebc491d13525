import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArmAdapter } from '../../src/azure/adapter';
import { armClientsFor } from '../../src/azure/clients';
import { deploymentScope } from '../../src/azure/scope';
import { emulatorTarget } from '../../src/azure/target';
import type { ArmEmulator } from '../../emulator/src/arm';
import { startArmEmulator } from '../../emulator/src/arm';
import type { SweepReport } from '../../src/sweep';
import { STRAYS_LEFT_EXIT } from '../../src/sweep';
import { resetUpdate, resumeSignal } from '../../src/workflows/messages';
import {
  TEST_EMULATOR,
  childWorker,
  inProcessWorker,
  prepareDeployment,
  runCli,
  startDeployment,
  waitFor,
} from './harness';

/** ARM writes the emulator has received so far. */
function writes(arm: ArmEmulator): number {
  const { requests } = arm.counts();
  return ['PUT', 'PATCH', 'POST', 'DELETE'].reduce((n, m) => n + (requests[m] ?? 0), 0);
}

/** Top-level resources (no subnets or rules) of a resource group, as `type name`. */
function inGroup(arm: ArmEmulator, rg: string): string[] {
  return arm
    .resources()
    .filter((r) => r.resourceGroup.toLowerCase() === rg.toLowerCase() && r.type.split('/').length === 2)
    .map((r) => `${r.type} ${r.name}`)
    .sort();
}

async function until(what: string, predicate: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** `sweep --json` in the folder; its report, exit code and the ARM writes it made. */
async function sweepJson(
  arm: ArmEmulator,
  workDir: string,
  extra: string[] = []
): Promise<{ code: number; report: SweepReport; writes: number }> {
  const before = writes(arm);
  const run = await runCli(['sweep', '--json', ...extra], workDir);
  const report = JSON.parse(run.output.slice(run.output.indexOf('{'))) as SweepReport;
  return { code: run.code, report, writes: writes(arm) - before };
}

const strayNames = (report: SweepReport) => report.strays.map((r) => `${r.type} ${r.name}`).sort();

describe('sweep: tagged resources no live deployment accounts for', function () {
  this.timeout(180_000);
  // A subscription of its own: what other suites leave in the shared emulator is not this suite's to judge.
  let arm: ArmEmulator;
  let caDir: string;
  let caFile: string;
  before(async () => {
    arm = await startArmEmulator(TEST_EMULATOR);
    caDir = await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-sweep-'));
    caFile = path.join(caDir, 'arm-ca.pem');
    await fs.writeFile(caFile, arm.caPem);
  });
  after(async () => {
    await arm.close();
    await fs.rm(caDir, { recursive: true, force: true });
  });
  /** A deployment folder whose Azure phases go to this suite's emulator. */
  async function prepare() {
    const prepared = await prepareDeployment();
    return { ...prepared, input: { ...prepared.input, cloud: emulatorTarget(arm.endpoint, caFile) } };
  }

  it('leaves a killed phase its resources, finds them once the workflow is gone, deletes them, then finds nothing', async () => {
    const prepared = await prepare();
    const rg = `${prepared.id}-resgrp`;
    const worker = await childWorker(prepared.taskQueue, prepared.workDir);
    const d = await startDeployment(prepared);
    // SIGKILL between a PUT of create_vms and its record: a NIC exists, the phase is not completed.
    await until('a NIC of create_vms', () =>
      inGroup(arm, rg).some((r) => r.startsWith('Microsoft.Network/networkInterfaces '))
    );
    worker.kill('SIGKILL');
    await new Promise((r) => worker.once('exit', r));
    const made = inGroup(arm, rg);

    // The workflow lives: create_vms is in_progress and its retry adopts what is there.
    const alive = await sweepJson(arm, d.workDir);
    assert.equal(alive.code, 0, JSON.stringify(alive.report));
    assert.deepEqual(alive.report.strays, []);
    assert.ok(alive.report.inFlight.some((r) => r.type === 'Microsoft.Network/networkInterfaces'));
    assert.ok(alive.report.inFlight.every((r) => r.phase === 'create_vms'));

    await d.handle.terminate('given up after its worker was killed');
    const found = await sweepJson(arm, d.workDir);
    assert.equal(found.code, STRAYS_LEFT_EXIT);
    assert.equal(found.writes, 0, 'a sweep without --delete writes nothing');
    assert.deepEqual(strayNames(found.report), made);
    for (const r of found.report.strays) {
      assert.equal(r.owner, d.id);
      assert.equal(r.why, `deployment ${d.id} is not running`);
    }
    // Newest first: the resource group comes last.
    assert.equal(found.report.strays.at(-1)?.type, 'Microsoft.Resources/resourceGroups');

    const deleted = await runCli(['sweep', '--delete'], d.workDir);
    assert.equal(deleted.code, 0, deleted.output);
    assert.match(deleted.output, /^deleted: nic k0s-\S+-nic in /m);
    assert.match(
      deleted.output,
      new RegExp(
        `^sweep: ${made.length} stray resource\\(s\\) in subscription \\S+: ${made.length} deleted, 0 refused, 0 failed$`,
        'm'
      )
    );
    assert.deepEqual(arm.resources(), []);

    const again = await runCli(['sweep'], d.workDir);
    assert.equal(again.code, 0, again.output);
    assert.match(again.output, /^sweep: no stray resources in subscription /m);
  });

  it('finds the resources of a failed create_vms, deletes them, and a resume makes them again', async () => {
    const d = await startDeployment(await prepare());
    const rg = `${d.id}-resgrp`;
    arm.setFaults([
      { match: { method: 'PUT', type: 'Microsoft.Compute/virtualMachines' }, kind: 'quota', times: -1 },
    ]);
    const w = await inProcessWorker(d.taskQueue);
    try {
      await waitFor(d.handle, (st) => st.phases.create_vms.status === 'failed');
      arm.setFaults([]);
      const found = await sweepJson(arm, d.workDir);
      assert.equal(found.code, STRAYS_LEFT_EXIT);
      assert.equal(found.writes, 0, 'a sweep without --delete writes nothing');
      const hosts = ['k0s-controller-1', 'k0s-worker-1'];
      assert.deepEqual(
        strayNames(found.report),
        [
          ...hosts.map((h) => `Microsoft.Network/networkInterfaces ${h}-nic`),
          ...hosts.map((h) => `Microsoft.Network/publicIPAddresses ${h}-pip`),
        ].sort()
      );
      for (const r of found.report.strays) assert.equal(r.why, 'create_vms is failed, not completed');

      const deleted = await sweepJson(arm, d.workDir, ['--delete']);
      assert.equal(deleted.code, 0, JSON.stringify(deleted.report));
      assert.deepEqual(
        deleted.report.deletions?.map((x) => x.result),
        found.report.strays.map(() => 'deleted')
      );
      // What setup_network completed stays.
      assert.deepEqual(inGroup(arm, rg), [
        `Microsoft.Compute/sshPublicKeys ${d.id}-admin`,
        `Microsoft.Network/networkSecurityGroups ${d.id}-nsg`,
        `Microsoft.Network/virtualNetworks ${d.id}-vnet`,
        `Microsoft.Resources/resourceGroups ${rg}`,
      ]);
      assert.equal((await sweepJson(arm, d.workDir)).report.strays.length, 0);

      await d.handle.signal(resumeSignal);
      await waitFor(d.handle, (st) => st.phases.create_vms.status === 'completed');
      const after = await sweepJson(arm, d.workDir);
      assert.equal(after.code, 0, JSON.stringify(after.report));
      assert.deepEqual(after.report.strays, []);
    } finally {
      arm.setFaults([]);
      await w.stop();
      await d.handle.terminate('test over');
      await new ArmAdapter(armClientsFor(d.input.cloud)).clients.resources.resourceGroups.beginDeleteAndWait(
        rg,
        {
          updateIntervalInMs: 10,
        }
      );
    }
  });

  it('refuses a resource group holding untagged resources or another live deployment’s, takes a Bash-tool group', async () => {
    const dead = await startDeployment(await prepare());
    await dead.handle.terminate('test: no live workflow');
    const other = await startDeployment(await prepare());
    const adapter = new ArmAdapter(armClientsFor(dead.input.cloud));
    const scope = deploymentScope(dead.id, dead.config);
    try {
      await adapter.ensureResourceGroup(scope);
      await adapter.ensureNsg(scope, { name: `${dead.id}-nsg`, rules: [] });
      await adapter.ensurePublicIp(
        { ...deploymentScope(other.id, other.config), resourceGroup: scope.resourceGroup },
        {
          name: 'other-pip',
        }
      );
      await adapter.clients.network.publicIPAddresses.beginCreateOrUpdateAndWait(
        scope.resourceGroup,
        'someones-pip',
        { location: scope.location },
        { updateIntervalInMs: 10 }
      );
      // The Bash tool tagged its groups with cluster-id only.
      const legacy = 'k0rdent-0ldba5h0';
      await adapter.clients.resources.resourceGroups.createOrUpdate(`${legacy}-resgrp`, {
        location: scope.location,
        tags: { 'cluster-id': legacy },
      });

      const found = await sweepJson(arm, dead.workDir);
      assert.equal(found.code, STRAYS_LEFT_EXIT);
      assert.equal(found.writes, 0);
      assert.deepEqual(strayNames(found.report), [
        `Microsoft.Network/networkSecurityGroups ${dead.id}-nsg`,
        `Microsoft.Resources/resourceGroups ${legacy}-resgrp`,
        `Microsoft.Resources/resourceGroups ${scope.resourceGroup}`,
      ]);
      assert.ok(found.report.liveDeployments.includes(other.id));

      const run = await runCli(['sweep', '--delete'], dead.workDir);
      assert.equal(run.code, STRAYS_LEFT_EXIT, run.output);
      assert.match(run.output, new RegExp(`^deleted: nsg ${dead.id}-nsg in ${scope.resourceGroup}$`, 'm'));
      assert.match(
        run.output,
        new RegExp(
          `^refused: resource group ${scope.resourceGroup}: it still holds public ip other-pip \\(deployment ${other.id}, running\\), public ip someones-pip \\(untagged\\)$`,
          'm'
        )
      );
      assert.match(
        run.output,
        new RegExp(`^deleted: resource group ${legacy}-resgrp in ${legacy}-resgrp$`, 'm')
      );
      assert.match(
        run.output,
        /^sweep: 3 stray resource\(s\) in subscription \S+: 2 deleted, 1 refused, 0 failed$/m
      );
      assert.deepEqual(inGroup(arm, scope.resourceGroup), [
        'Microsoft.Network/publicIPAddresses other-pip',
        'Microsoft.Network/publicIPAddresses someones-pip',
        `Microsoft.Resources/resourceGroups ${scope.resourceGroup}`,
      ]);
    } finally {
      await other.handle.terminate('test over');
      await adapter.clients.resources.resourceGroups.beginDeleteAndWait(scope.resourceGroup, {
        updateIntervalInMs: 10,
      });
    }
  });

  it('finds nothing after a clean deployment, nor after its reset', async () => {
    const d = await startDeployment(await prepare());
    const w = await inProcessWorker(d.taskQueue);
    try {
      await waitFor(d.handle, (st) => st.status === 'completed');
      const deployed = await sweepJson(arm, d.workDir);
      assert.equal(deployed.code, 0, JSON.stringify(deployed.report));
      assert.deepEqual(deployed.report.strays, []);
      assert.deepEqual(deployed.report.inFlight, []);
      assert.equal(deployed.writes, 0);
      await d.handle.executeUpdate(resetUpdate, { args: [{ reason: 'full-reset' }] });
      await d.handle.result();
      // Reset removes .clusterid: the deployment is named.
      const reset = await sweepJson(arm, d.workDir, ['--id', d.id]);
      assert.equal(reset.code, 0, JSON.stringify(reset.report));
      assert.deepEqual(reset.report.strays, []);
      assert.ok(!reset.report.liveDeployments.includes(d.id));
    } finally {
      await w.stop();
    }
  });
});
