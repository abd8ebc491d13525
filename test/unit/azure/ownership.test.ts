import assert from 'node:assert/strict';
import { DELETE_ORDER, impliedResources, kindOfType, phaseResources } from '../../../src/azure/ownership';
import { DEFAULT_CONFIG } from '../../../src/config/defaults';
import { namesFor } from '../../../src/config/naming';

describe('what each Azure phase makes', () => {
  const config = structuredClone(DEFAULT_CONFIG);
  config.cluster.workers.count = 2;
  const names = namesFor('k0rdent-abcd1234', config);

  it('setup_network makes the group, NSG, VNet and SSH key; create_vms a public IP, NIC, VM and disk per host', () => {
    const made = phaseResources(names).map((r) => `${r.phase} ${r.kind} ${r.name}`);
    assert.deepEqual(made, [
      'setup_network resourceGroup k0rdent-abcd1234-resgrp',
      'setup_network nsg k0rdent-abcd1234-nsg',
      'setup_network vnet k0rdent-abcd1234-vnet',
      'setup_network sshKey k0rdent-abcd1234-admin',
      ...['k0s-controller-1', 'k0s-worker-1', 'k0s-worker-2'].flatMap((h) => [
        `create_vms publicIp ${h}-pip`,
        `create_vms nic ${h}-nic`,
        `create_vms vm ${h}`,
        `create_vms disk ${h}-osdisk`,
      ]),
    ]);
  });

  it('implies only what completed phases make', () => {
    const implied = impliedResources(names, (p) => p === 'setup_network');
    assert.deepEqual(
      implied.map((r) => r.kind),
      ['resourceGroup', 'nsg', 'vnet', 'sshKey']
    );
    assert.deepEqual(
      impliedResources(names, () => false),
      []
    );
  });

  it('deletes dependents first and the resource group last, knowing every kind once', () => {
    const kinds = phaseResources(names).map((r) => r.kind);
    assert.deepEqual([...DELETE_ORDER].sort(), [...new Set(kinds)].sort());
    const at = (k: (typeof DELETE_ORDER)[number]) => DELETE_ORDER.indexOf(k);
    assert.ok(at('vm') < at('nic') && at('nic') < at('publicIp') && at('vnet') < at('nsg'));
    assert.equal(DELETE_ORDER.at(-1), 'resourceGroup');
  });

  it('maps ARM types to kinds case-insensitively and knows no others', () => {
    assert.equal(kindOfType('microsoft.compute/VIRTUALMACHINES'), 'vm');
    assert.equal(kindOfType('Microsoft.Resources/resourceGroups'), 'resourceGroup');
    assert.equal(kindOfType('Microsoft.Storage/storageAccounts'), undefined);
  });
});
