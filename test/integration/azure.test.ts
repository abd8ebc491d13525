import assert from 'node:assert/strict';
import { rollbackUpdate } from '../../src/workflows/messages';
import type { EmulatedResource } from '../../emulator/src/arm';
import {
  childWorker,
  inProcessWorker,
  prepareDeployment,
  startDeployment,
  startServer,
  waitFor,
} from './harness';

const completed = (s: { status: string }) => s.status === 'completed';

/** Resource types and how many of each a 1 controller + 1 worker deployment makes, as the Bash tool does. */
const BASH_TOOL_RESOURCES: Record<string, number> = {
  'Microsoft.Resources/resourceGroups': 1,
  'Microsoft.Network/networkSecurityGroups': 1,
  'Microsoft.Network/networkSecurityGroups/securityRules': 2,
  'Microsoft.Network/virtualNetworks': 1,
  'Microsoft.Network/virtualNetworks/subnets': 1,
  'Microsoft.Compute/sshPublicKeys': 1,
  'Microsoft.Network/publicIPAddresses': 2,
  'Microsoft.Network/networkInterfaces': 2,
  'Microsoft.Compute/virtualMachines': 2,
  'Microsoft.Compute/disks': 2,
};

async function resourcesOf(id: string): Promise<EmulatedResource[]> {
  const s = await startServer();
  const group = `${id}-resgrp`.toLowerCase();
  return s.arm
    .resources()
    .filter((r) => r.resourceGroup.toLowerCase() === group || r.name.toLowerCase() === group);
}

async function countByType(id: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const r of await resourcesOf(id)) counts[r.type] = (counts[r.type] ?? 0) + 1;
  return counts;
}

describe('Azure phases against the local ARM emulator', function () {
  this.timeout(180_000);

  it('creates exactly the resources the Bash tool would, all tagged with the deployment', async () => {
    const d = await startDeployment(await prepareDeployment());
    const w = await inProcessWorker(d.taskQueue);
    try {
      await waitFor(d.handle, completed);
      assert.deepEqual(await countByType(d.id), BASH_TOOL_RESOURCES);
      const names = (await resourcesOf(d.id)).map((r) => r.name).sort();
      for (const expected of [
        `${d.id}-resgrp`,
        `${d.id}-vnet`,
        `${d.id}-subnet`,
        `${d.id}-nsg`,
        `${d.id}-admin`,
        'k0s-controller-1',
        'k0s-worker-1',
      ]) {
        assert.ok(
          names.some((n) => n.toLowerCase() === expected.toLowerCase()),
          `${expected} among ${names.join(', ')}`
        );
      }
      for (const r of await resourcesOf(d.id)) {
        if (r.type.split('/').length > 2 || r.type === 'Microsoft.Compute/disks') continue;
        assert.equal(r.tags['k0rdent-deployment'], d.id, `${r.type} ${r.name} tagged`);
      }
    } finally {
      await w.stop();
    }
  });

  it('leaves exactly one of each resource after the worker is SIGKILLed while VMs are being created', async () => {
    const s = await startServer();
    s.arm.setLro({ defaultMs: 30, perType: { 'Microsoft.Compute/virtualMachines': 2500 } });
    try {
      const d = await startDeployment(await prepareDeployment());
      const first = await childWorker(d.taskQueue, d.workDir);
      await waitFor(d.handle, (st) => st.phases.create_vms.status === 'in_progress');
      const deadline = Date.now() + 30_000;
      while ((await countByType(d.id))['Microsoft.Compute/virtualMachines'] !== 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      first.kill('SIGKILL');
      const second = await childWorker(d.taskQueue, d.workDir);
      try {
        await waitFor(d.handle, completed, 120_000);
        assert.deepEqual(await countByType(d.id), BASH_TOOL_RESOURCES);
        const ledger = (await d.ledger.read()).ledger;
        assert.equal(ledger.create_vms?.applyStarted, 2);
        assert.equal(ledger.create_vms?.applyCompleted, 1);
      } finally {
        second.kill('SIGTERM');
      }
    } finally {
      s.arm.setLro({ defaultMs: 30 });
    }
  });

  it('rolls back to create_vms leaving the network and no VM resources', async () => {
    const d = await startDeployment(await prepareDeployment());
    const w = await inProcessWorker(d.taskQueue);
    try {
      await waitFor(d.handle, completed);
      await d.handle.executeUpdate(rollbackUpdate, { args: [{ toPhase: 'create_vms' }] });
      const paused = await waitFor(d.handle, (st) => st.status === 'paused');
      assert.equal(paused.phases.setup_network.status, 'completed');
      assert.equal(paused.phases.create_vms.status, 'pending');
      assert.deepEqual(Object.keys(paused.facts.vm_states), []);
      const left = await countByType(d.id);
      for (const type of ['virtualMachines', 'disks', 'networkInterfaces', 'publicIPAddresses']) {
        assert.equal(
          Object.entries(left).filter(([t]) => t.endsWith(`/${type}`)).length,
          0,
          `${type} left after rollback`
        );
      }
      assert.equal(left['Microsoft.Network/virtualNetworks'], 1);
      assert.equal(left['Microsoft.Network/networkSecurityGroups'], 1);
      assert.equal(left['Microsoft.Compute/sshPublicKeys'], 1);
    } finally {
      await w.stop();
    }
  });
});
