/** The ARM emulator driven by the real Azure SDK clients (resources and network HLC, compute modular). */
import assert from 'node:assert/strict';
import type { NetworkInterface, PublicIPAddress, VirtualNetwork } from '@azure/arm-network';
import type { ArmEmulator } from '../../../emulator/src/arm';
import { startArmEmulator } from '../../../emulator/src/arm';
import type { SdkClients } from './helpers';
import { FAST, SUB, sdkClients } from './helpers';

const SSH_KEY = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 test@example';

/** Creates RG, NSG, VNet (subnet with NSG), public IP, NIC and SSH key; returns the NIC and its parts. */
async function networkStack(
  c: SdkClients,
  rg: string,
  name = 'vm1'
): Promise<{ vnet: VirtualNetwork; pip: PublicIPAddress; nic: NetworkInterface }> {
  await c.resources.resourceGroups.createOrUpdate(rg, { location: 'eastus', tags: { owner: 'test' } });
  const nsg = await c.network.networkSecurityGroups.beginCreateOrUpdateAndWait(
    rg,
    'nsg',
    {
      location: 'eastus',
      tags: { 'k0rdent-prefix': 'abc' },
      securityRules: [
        {
          name: 'AllowWireGuard',
          protocol: 'Udp',
          sourcePortRange: '*',
          destinationPortRange: '51820',
          sourceAddressPrefix: '*',
          destinationAddressPrefix: '*',
          access: 'Allow',
          priority: 1000,
          direction: 'Inbound',
        },
        {
          name: 'AllowSSH',
          protocol: 'Tcp',
          sourcePortRange: '*',
          destinationPortRange: '22',
          sourceAddressPrefix: '*',
          destinationAddressPrefix: '*',
          access: 'Allow',
          priority: 1010,
          direction: 'Inbound',
        },
      ],
    },
    FAST
  );
  const vnet = await c.network.virtualNetworks.beginCreateOrUpdateAndWait(
    rg,
    'vnet',
    {
      location: 'eastus',
      addressSpace: { addressPrefixes: ['10.240.0.0/16'] },
      subnets: [{ name: 'subnet', addressPrefix: '10.240.1.0/24', networkSecurityGroup: { id: nsg.id } }],
    },
    FAST
  );
  const pip = await c.network.publicIPAddresses.beginCreateOrUpdateAndWait(
    rg,
    `${name}-pip`,
    {
      location: 'eastus',
      sku: { name: 'Standard', tier: 'Regional' },
      zones: ['2'],
      publicIPAllocationMethod: 'Static',
      publicIPAddressVersion: 'IPv4',
    },
    FAST
  );
  const nic = await c.network.networkInterfaces.beginCreateOrUpdateAndWait(
    rg,
    `${name}-nic`,
    {
      location: 'eastus',
      networkSecurityGroup: { id: nsg.id },
      ipConfigurations: [
        {
          name: 'ipconfig1',
          privateIPAllocationMethod: 'Dynamic',
          subnet: { id: vnet.subnets?.[0]?.id },
          publicIPAddress: { id: pip.id },
        },
      ],
    },
    FAST
  );
  return { vnet, pip, nic };
}

async function createVm(
  c: SdkClients,
  rg: string,
  name: string,
  nicId: string,
  deleteOption: 'Delete' | 'Detach' = 'Delete'
): Promise<void> {
  await c.compute.virtualMachines.createOrUpdate(
    rg,
    name,
    {
      location: 'eastus',
      zones: ['2'],
      tags: { role: 'controller' },
      hardwareProfile: { vmSize: 'Standard_D2pls_v6' },
      storageProfile: {
        imageReference: { publisher: 'Debian', offer: 'debian-12', sku: '12-arm64', version: 'latest' },
        osDisk: { createOption: 'FromImage', diskSizeGB: 64, deleteOption },
      },
      osProfile: {
        computerName: name,
        adminUsername: 'k0rdent',
        customData: 'I2Nsb3VkLWNvbmZpZwo=',
        linuxConfiguration: {
          disablePasswordAuthentication: true,
          ssh: { publicKeys: [{ path: '/home/k0rdent/.ssh/authorized_keys', keyData: SSH_KEY }] },
        },
      },
      networkProfile: { networkInterfaces: [{ id: nicId, primary: true, deleteOption }] },
      priority: 'Spot',
      evictionPolicy: 'Deallocate',
      billingProfile: { maxPrice: -1 },
    },
    FAST
  );
}

describe('ARM emulator with the Azure SDK clients', () => {
  let emu: ArmEmulator;
  let c: SdkClients;

  before(async () => {
    emu = await startArmEmulator();
    c = sdkClients(emu);
  });
  after(async () => {
    await emu.close();
  });
  beforeEach(() => emu.reset());

  it('creates a VM stack and reads every part back as created', async () => {
    const { vnet, pip, nic } = await networkStack(c, 'rg-stack');
    await c.compute.sshPublicKeys.create('rg-stack', 'key', { location: 'eastus', publicKey: SSH_KEY });
    await createVm(c, 'rg-stack', 'vm1', nic.id ?? '');

    const group = await c.resources.resourceGroups.get('rg-stack');
    assert.deepEqual(group.tags, { owner: 'test' });
    assert.equal(group.properties?.provisioningState, 'Succeeded');
    assert.equal((await c.resources.resourceGroups.checkExistence('rg-stack')).body, true);
    assert.equal((await c.resources.resourceGroups.checkExistence('rg-missing')).body, false);

    const nsg = await c.network.networkSecurityGroups.get('rg-stack', 'nsg');
    assert.deepEqual(
      nsg.securityRules?.map((r) => [r.name, r.protocol, r.destinationPortRange, r.priority]),
      [
        ['AllowWireGuard', 'Udp', '51820', 1000],
        ['AllowSSH', 'Tcp', '22', 1010],
      ]
    );
    assert.deepEqual(nsg.tags, { 'k0rdent-prefix': 'abc' });
    assert.equal(nsg.defaultSecurityRules?.length, 6);
    assert.deepEqual(
      nsg.subnets?.map((s) => s.id),
      [vnet.subnets?.[0]?.id]
    );

    const gotVnet = await c.network.virtualNetworks.get('rg-stack', 'vnet');
    assert.equal(gotVnet.provisioningState, 'Succeeded');
    assert.equal(gotVnet.subnets?.[0]?.addressPrefix, '10.240.1.0/24');
    assert.equal(gotVnet.subnets?.[0]?.networkSecurityGroup?.id, nsg.id);
    const subnet = await c.network.subnets.get('rg-stack', 'vnet', 'subnet');
    assert.deepEqual(
      subnet.ipConfigurations?.map((i) => i.id),
      [`${nic.id}/ipConfigurations/ipconfig1`]
    );

    assert.match(pip.ipAddress ?? '', /^20\.\d+\.\d+\.\d+$/);
    assert.deepEqual(pip.zones, ['2']);
    assert.equal(pip.sku?.name, 'Standard');
    const gotPip = await c.network.publicIPAddresses.get('rg-stack', 'vm1-pip');
    assert.equal(gotPip.ipAddress, pip.ipAddress);
    assert.equal(gotPip.ipConfiguration?.id, `${nic.id}/ipConfigurations/ipconfig1`);

    const gotNic = await c.network.networkInterfaces.get('rg-stack', 'vm1-nic');
    assert.equal(gotNic.ipConfigurations?.[0]?.privateIPAddress, '10.240.1.4');
    assert.equal(gotNic.ipConfigurations?.[0]?.publicIPAddress?.id, pip.id);
    assert.equal(gotNic.networkSecurityGroup?.id, nsg.id);
    assert.equal(gotNic.virtualMachine?.id?.endsWith('/virtualMachines/vm1'), true);

    const key = await c.compute.sshPublicKeys.get('rg-stack', 'key');
    assert.equal(key.publicKey, SSH_KEY);

    const vm = await c.compute.virtualMachines.get('rg-stack', 'vm1', { expand: 'instanceView' });
    assert.equal(vm.provisioningState, 'Succeeded');
    assert.deepEqual(vm.zones, ['2']);
    assert.deepEqual(vm.tags, { role: 'controller' });
    assert.equal(vm.hardwareProfile?.vmSize, 'Standard_D2pls_v6');
    assert.equal(vm.priority, 'Spot');
    assert.equal(vm.osProfile?.adminUsername, 'k0rdent');
    assert.equal(vm.osProfile?.customData, undefined, 'customData is never returned');
    assert.equal(vm.osProfile?.linuxConfiguration?.ssh?.publicKeys?.[0]?.keyData, SSH_KEY);
    assert.equal(vm.networkProfile?.networkInterfaces?.[0]?.id, nic.id);
    assert.deepEqual(
      vm.instanceView?.statuses?.map((s) => s.code),
      ['ProvisioningState/succeeded', 'PowerState/running']
    );
    const diskName = vm.storageProfile?.osDisk?.name ?? '';
    assert.match(diskName, /^vm1_OsDisk_1_[0-9a-f]{32}$/);
    const disk = await c.compute.disks.get('rg-stack', diskName);
    assert.equal(disk.diskSizeGB, 64);
    assert.equal(disk.managedBy, vm.id);
    assert.equal(disk.diskState, 'Attached');
  });

  it('lists resource groups, resources of a group, VMs per group and across the subscription', async () => {
    const { nic } = await networkStack(c, 'rg-list');
    await createVm(c, 'rg-list', 'vm1', nic.id ?? '');
    const other = await networkStack(c, 'rg-other', 'vm2');
    await createVm(c, 'rg-other', 'vm2', other.nic.id ?? '');

    const groups: string[] = [];
    for await (const g of c.resources.resourceGroups.list()) groups.push(g.name ?? '');
    assert.deepEqual(groups.sort(), ['rg-list', 'rg-other']);
    const inGroup: string[] = [];
    for await (const r of c.resources.resources.listByResourceGroup('rg-list')) inGroup.push(r.type ?? '');
    assert.deepEqual(inGroup.sort(), [
      'Microsoft.Compute/disks',
      'Microsoft.Compute/virtualMachines',
      'Microsoft.Network/networkInterfaces',
      'Microsoft.Network/networkSecurityGroups',
      'Microsoft.Network/publicIPAddresses',
      'Microsoft.Network/virtualNetworks',
    ]);
    const vms: string[] = [];
    for await (const vm of c.compute.virtualMachines.list('rg-list')) vms.push(vm.name ?? '');
    assert.deepEqual(vms, ['vm1']);
    const all: Array<[string, string | undefined]> = [];
    for await (const vm of c.compute.virtualMachines.listAll({ statusOnly: 'true' })) {
      all.push([vm.name ?? '', vm.instanceView?.statuses?.[1]?.code]);
    }
    assert.deepEqual(all.sort(), [
      ['vm1', 'PowerState/running'],
      ['vm2', 'PowerState/running'],
    ]);
    const disks: string[] = [];
    for await (const d of c.compute.disks.listByResourceGroup('rg-other')) disks.push(d.name ?? '');
    assert.equal(disks.length, 1);
  });

  it('lists resource groups and resources of the subscription by tag, as $filter=tagName eq asks', async () => {
    await networkStack(c, 'rg-tagged');
    await c.resources.resourceGroups.createOrUpdate('rg-mine', { location: 'eastus', tags: { team: 'a' } });
    await c.resources.resourceGroups.createOrUpdate('rg-theirs', { location: 'eastus', tags: { team: 'b' } });
    const groups = async (filter: string) => {
      const names: string[] = [];
      for await (const g of c.resources.resourceGroups.list({ filter })) names.push(g.name ?? '');
      return names.sort();
    };
    assert.deepEqual(await groups("tagName eq 'team'"), ['rg-mine', 'rg-theirs']);
    assert.deepEqual(await groups("tagName eq 'team' and tagValue eq 'a'"), ['rg-mine']);
    assert.deepEqual(await groups("tagName eq 'owner'"), ['rg-tagged']);
    const tagged: string[] = [];
    for await (const r of c.resources.resources.list({ filter: "tagName eq 'k0rdent-prefix'" }))
      tagged.push(`${r.type ?? ''} ${r.name ?? ''}`);
    // Resource groups are not resources of the subscription listing, as in Azure.
    assert.deepEqual(tagged, ['Microsoft.Network/networkSecurityGroups nsg']);
  });

  it('powers a VM off, deallocates and starts it again through action LROs', async () => {
    const { nic } = await networkStack(c, 'rg-power');
    await createVm(c, 'rg-power', 'vm1', nic.id ?? '');
    const power = async () =>
      (await c.compute.virtualMachines.instanceView('rg-power', 'vm1')).statuses?.find((s) =>
        s.code?.startsWith('PowerState/')
      )?.code;
    await c.compute.virtualMachines.powerOff('rg-power', 'vm1', FAST);
    assert.equal(await power(), 'PowerState/stopped');
    await c.compute.virtualMachines.deallocate('rg-power', 'vm1', FAST);
    assert.equal(await power(), 'PowerState/deallocated');
    await c.compute.virtualMachines.start('rg-power', 'vm1', FAST);
    assert.equal(await power(), 'PowerState/running');
  });

  const deleteCases: Array<{ option: 'Delete' | 'Detach'; left: string[] }> = [
    { option: 'Delete', left: [] },
    {
      option: 'Detach',
      left: ['Microsoft.Compute/disks', 'Microsoft.Network/networkInterfaces'],
    },
  ];
  for (const { option, left } of deleteCases) {
    it(`deleting a VM with deleteOption ${option} leaves ${left.length === 0 ? 'no NIC or disk' : 'its NIC and disk'}`, async () => {
      const { nic } = await networkStack(c, 'rg-del');
      await createVm(c, 'rg-del', 'vm1', nic.id ?? '', option);
      const diskName =
        (await c.compute.virtualMachines.get('rg-del', 'vm1')).storageProfile?.osDisk?.name ?? '';
      await c.compute.virtualMachines.delete('rg-del', 'vm1', FAST);
      await assert.rejects(c.compute.virtualMachines.get('rg-del', 'vm1'), {
        statusCode: 404,
        code: 'ResourceNotFound',
      });
      const remaining = emu
        .resources()
        .filter((r) => ['Microsoft.Compute/disks', 'Microsoft.Network/networkInterfaces'].includes(r.type))
        .map((r) => r.type)
        .sort();
      assert.deepEqual(remaining, left);
      if (option === 'Detach') {
        const disk = await c.compute.disks.get('rg-del', diskName);
        assert.equal(disk.diskState, 'Unattached');
        assert.equal(disk.managedBy, undefined);
        assert.equal((await c.network.networkInterfaces.get('rg-del', 'vm1-nic')).virtualMachine, undefined);
        await c.compute.disks.delete('rg-del', diskName, FAST);
        await assert.rejects(c.compute.disks.get('rg-del', diskName), { statusCode: 404 });
      }
    });
  }

  it('deleting a resource group removes everything in it and nothing elsewhere', async () => {
    const { nic } = await networkStack(c, 'rg-gone');
    await createVm(c, 'rg-gone', 'vm1', nic.id ?? '');
    await c.resources.resourceGroups.createOrUpdate('rg-kept', { location: 'westeurope' });
    await c.resources.resourceGroups.beginDeleteAndWait('rg-gone', FAST);
    assert.deepEqual(
      emu.resources().map((r) => r.id),
      [`/subscriptions/${SUB}/resourceGroups/rg-kept`]
    );
    await assert.rejects(c.resources.resourceGroups.get('rg-gone'), {
      statusCode: 404,
      code: 'ResourceGroupNotFound',
    });
    await assert.rejects(c.resources.resourceGroups.beginDeleteAndWait('rg-gone', FAST), {
      statusCode: 404,
      code: 'ResourceGroupNotFound',
    });
  });

  it('treats a second identical PUT as an idempotent update, never a second resource', async () => {
    await c.resources.resourceGroups.createOrUpdate('rg-idem', { location: 'eastus' });
    const body = { location: 'eastus', addressSpace: { addressPrefixes: ['10.0.0.0/16'] } };
    const first = await c.network.virtualNetworks.beginCreateOrUpdateAndWait('rg-idem', 'vnet', body, FAST);
    const second = await c.network.virtualNetworks.beginCreateOrUpdateAndWait('rg-idem', 'vnet', body, FAST);
    assert.equal(second.provisioningState, 'Succeeded');
    assert.equal(second.id, first.id);
    assert.equal(emu.resources().filter((r) => r.type === 'Microsoft.Network/virtualNetworks').length, 1);
    assert.deepEqual(emu.counts().byType['Microsoft.Network/virtualNetworks'], { PUT: 2, GET: 2 });
  });

  it('counts every request of a small scenario exactly', async () => {
    await c.resources.resourceGroups.createOrUpdate('rg-count', { location: 'eastus' });
    const vnet = await c.network.virtualNetworks.beginCreateOrUpdateAndWait(
      'rg-count',
      'vnet',
      {
        location: 'eastus',
        addressSpace: { addressPrefixes: ['10.1.0.0/16'] },
        subnets: [{ name: 'subnet', addressPrefix: '10.1.0.0/24' }],
      },
      FAST
    );
    const nic = await c.network.networkInterfaces.beginCreateOrUpdateAndWait(
      'rg-count',
      'nic',
      { location: 'eastus', ipConfigurations: [{ name: 'ip', subnet: { id: vnet.subnets?.[0]?.id } }] },
      FAST
    );
    await c.compute.virtualMachines.createOrUpdate(
      'rg-count',
      'vm',
      {
        location: 'eastus',
        hardwareProfile: { vmSize: 'Standard_B1s' },
        networkProfile: { networkInterfaces: [{ id: nic.id, deleteOption: 'Delete' }] },
      },
      FAST
    );
    await c.compute.virtualMachines.delete('rg-count', 'vm', FAST);
    await c.resources.resourceGroups.beginDeleteAndWait('rg-count', FAST);

    // With 0 ms operations every LRO finishes at its first poll: PUT + poll + final GET for network and
    // compute PUTs, DELETE + poll for deletes; the resource group PUT is synchronous.
    assert.deepEqual(emu.counts(), {
      total: 14,
      requests: { PUT: 4, GET: 8, DELETE: 2 },
      byType: {
        'Microsoft.Resources/resourceGroups': { PUT: 1, DELETE: 1 },
        'Microsoft.Network/virtualNetworks': { PUT: 1, GET: 1 },
        'Microsoft.Network/networkInterfaces': { PUT: 1, GET: 1 },
        'Microsoft.Compute/virtualMachines': { PUT: 1, GET: 1, DELETE: 1 },
      },
      writesByType: {
        'Microsoft.Resources/resourceGroups': 2,
        'Microsoft.Network/virtualNetworks': 1,
        'Microsoft.Network/networkInterfaces': 1,
        'Microsoft.Compute/virtualMachines': 2,
      },
      polls: 5,
      pollsByType: {
        'Microsoft.Network/virtualNetworks': 1,
        'Microsoft.Network/networkInterfaces': 1,
        'Microsoft.Compute/virtualMachines': 2,
        'Microsoft.Resources/resourceGroups': 1,
      },
      faults: {},
      existing: {},
    });
  });

  it('refuses a changed customData on an existing VM with PropertyChangeNotAllowed', async () => {
    const { nic } = await networkStack(c, 'rg-immutable');
    await createVm(c, 'rg-immutable', 'vm1', nic.id ?? '');
    const vm = await c.compute.virtualMachines.get('rg-immutable', 'vm1');
    await assert.rejects(
      c.compute.virtualMachines.createOrUpdate(
        'rg-immutable',
        'vm1',
        { ...vm, osProfile: { ...vm.osProfile, customData: 'Y2hhbmdlZAo=' } },
        FAST
      ),
      { statusCode: 409, code: 'PropertyChangeNotAllowed' }
    );
    const updated = await c.compute.virtualMachines.createOrUpdate(
      'rg-immutable',
      'vm1',
      { ...vm, tags: { role: 'worker' } },
      FAST
    );
    assert.deepEqual(updated.tags, { role: 'worker' });
  });
});
