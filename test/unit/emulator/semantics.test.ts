/** Network and compute rules of the emulator: references, address allocation, in-use checks, children. */
import assert from 'node:assert/strict';
import type { ArmEmulator } from '../../../emulator/src/arm';
import { startArmEmulator } from '../../../emulator/src/arm';
import type { RawResponse } from './helpers';
import { bodies, errorCode, putGroup, putOk, q, raw, resPath, sleep } from './helpers';

const VNET = 'Microsoft.Network/virtualNetworks';
const NSG = 'Microsoft.Network/networkSecurityGroups';
const PIP = 'Microsoft.Network/publicIPAddresses';
const NIC = 'Microsoft.Network/networkInterfaces';
const VM = 'Microsoft.Compute/virtualMachines';
const DISK = 'Microsoft.Compute/disks';

type Props = { properties: Record<string, unknown> };

function props(res: RawResponse): Record<string, unknown> {
  return (res.json as Props).properties;
}

function privateIp(res: RawResponse): unknown {
  const configs = props(res).ipConfigurations as Array<{ properties: { privateIPAddress: string } }>;
  return configs[0]?.properties.privateIPAddress;
}

describe('ARM emulator network and compute rules', () => {
  let emu: ArmEmulator;

  before(async () => {
    emu = await startArmEmulator();
  });
  after(async () => {
    await emu.close();
  });
  beforeEach(async () => {
    emu.reset();
    emu.setLro({});
    await putGroup(emu, 'rg');
  });

  async function network(): Promise<void> {
    await putOk(emu, resPath('rg', NSG, 'nsg'), bodies.nsg);
    await putOk(emu, resPath('rg', VNET, 'vnet'), bodies.vnet);
  }

  it('hands out private IPs from .4 upward, unique per subnet, and keeps them on update', async () => {
    await network();
    const a = await putOk(emu, resPath('rg', NIC, 'a'), bodies.nic('rg'));
    const b = await putOk(emu, resPath('rg', NIC, 'b'), bodies.nic('rg'));
    assert.equal(privateIp(a), '10.240.1.4');
    assert.equal(privateIp(b), '10.240.1.5');
    const again = await putOk(emu, resPath('rg', NIC, 'a'), { ...bodies.nic('rg'), tags: { x: 'y' } });
    assert.equal(privateIp(again), '10.240.1.4');
    await raw(emu, 'DELETE', q(resPath('rg', NIC, 'a')));
    const c = await putOk(emu, resPath('rg', NIC, 'c'), bodies.nic('rg'));
    assert.equal(privateIp(c), '10.240.1.4', 'a freed address is handed out again');
  });

  it('gives public IPs distinct addresses that depend only on the resource id', async () => {
    await putOk(emu, resPath('rg', PIP, 'p1'), bodies.pip);
    await putOk(emu, resPath('rg', PIP, 'p2'), bodies.pip);
    const ip = async (name: string) => props(await raw(emu, 'GET', q(resPath('rg', PIP, name)))).ipAddress;
    const [p1, p2] = [await ip('p1'), await ip('p2')];
    assert.match(String(p1), /^20\.\d+\.\d+\.\d+$/);
    assert.notEqual(p1, p2);
    emu.reset();
    await putGroup(emu, 'rg');
    await putOk(emu, resPath('rg', PIP, 'p2'), bodies.pip);
    assert.equal(await ip('p2'), p2);
  });

  it('shows no public address while the public IP is still being created', async () => {
    emu.setLro({ perType: { [PIP]: 5_000 } });
    const put = await putOk(emu, resPath('rg', PIP, 'p1'), bodies.pip);
    assert.equal(props(put).provisioningState, 'Creating');
    assert.equal(props(put).ipAddress, undefined);
  });

  const invalidNics: Array<{ what: string; body: () => unknown; code: string }> = [
    {
      what: 'a missing subnet',
      body: () => bodies.nic('rg', undefined, 'nope'),
      code: 'InvalidResourceReference',
    },
    { what: 'a missing public IP', body: () => bodies.nic('rg', 'nope'), code: 'InvalidResourceReference' },
    {
      what: 'a missing NSG',
      body: () => ({
        ...bodies.nic('rg'),
        properties: {
          ...bodies.nic('rg').properties,
          networkSecurityGroup: { id: resPath('rg', NSG, 'nope') },
        },
      }),
      code: 'InvalidResourceReference',
    },
  ];
  for (const { what, body, code } of invalidNics) {
    it(`refuses a NIC that references ${what} with 400 ${code}`, async () => {
      await network();
      const res = await raw(emu, 'PUT', q(resPath('rg', NIC, 'nic')), { body: body() });
      assert.equal(res.status, 400);
      assert.equal(errorCode(res), code);
      assert.equal(
        emu.resources().some((r) => r.type === NIC),
        false
      );
    });
  }

  it('refuses a NIC whose public IP belongs to another NIC', async () => {
    await network();
    await putOk(emu, resPath('rg', PIP, 'pip'), bodies.pip);
    await putOk(emu, resPath('rg', NIC, 'a'), bodies.nic('rg', 'pip'));
    const res = await raw(emu, 'PUT', q(resPath('rg', NIC, 'b')), { body: bodies.nic('rg', 'pip') });
    assert.equal(res.status, 400);
    assert.equal(errorCode(res), 'PublicIPAddressInUse');
  });

  it('refuses a NIC whose public IP is still being created with ReferencedResourceNotProvisioned', async () => {
    await network();
    emu.setLro({ perType: { [PIP]: 5_000 } });
    await putOk(emu, resPath('rg', PIP, 'pip'), bodies.pip);
    const res = await raw(emu, 'PUT', q(resPath('rg', NIC, 'nic')), { body: bodies.nic('rg', 'pip') });
    assert.equal(res.status, 400);
    assert.equal(errorCode(res), 'ReferencedResourceNotProvisioned');
  });

  const inUse: Array<{ what: string; path: () => string; status: number; code: string }> = [
    {
      what: 'a public IP attached to a NIC',
      path: () => resPath('rg', PIP, 'pip'),
      status: 400,
      code: 'PublicIPAddressInUse',
    },
    { what: 'a NIC attached to a VM', path: () => resPath('rg', NIC, 'nic'), status: 400, code: 'NicInUse' },
    {
      what: 'a subnet with a NIC',
      path: () => `${resPath('rg', VNET, 'vnet')}/subnets/subnet`,
      status: 400,
      code: 'InUseSubnetCannotBeDeleted',
    },
    {
      what: 'a VNet with a NIC in a subnet',
      path: () => resPath('rg', VNET, 'vnet'),
      status: 400,
      code: 'InUseSubnetCannotBeDeleted',
    },
    {
      what: 'the OS disk of a VM',
      path: () => resPath('rg', DISK, 'vm-osdisk'),
      status: 409,
      code: 'OperationNotAllowed',
    },
  ];
  for (const { what, path, status, code } of inUse) {
    it(`refuses to delete ${what} with ${status} ${code}`, async () => {
      await network();
      await putOk(emu, resPath('rg', PIP, 'pip'), bodies.pip);
      await putOk(emu, resPath('rg', NIC, 'nic'), bodies.nic('rg', 'pip'));
      const vm = bodies.vm('rg', 'nic');
      const storage = vm.properties.storageProfile;
      await putOk(emu, resPath('rg', VM, 'vm'), {
        ...vm,
        properties: {
          ...vm.properties,
          storageProfile: { ...storage, osDisk: { ...storage.osDisk, name: 'vm-osdisk' } },
        },
      });
      await raw(emu, 'GET', q(resPath('rg', VM, 'vm')));
      const res = await raw(emu, 'DELETE', q(path()));
      assert.equal(res.status, status);
      assert.equal(errorCode(res), code);
    });
  }

  it('refuses to delete an NSG that a subnet uses', async () => {
    await putOk(emu, resPath('rg', NSG, 'nsg'), bodies.nsg);
    const vnet = structuredClone(bodies.vnet) as {
      properties: { subnets: Array<{ properties: Record<string, unknown> }> };
    };
    const first = vnet.properties.subnets[0];
    if (first) first.properties.networkSecurityGroup = { id: resPath('rg', NSG, 'nsg') };
    await putOk(emu, resPath('rg', VNET, 'vnet'), vnet);
    const res = await raw(emu, 'DELETE', q(resPath('rg', NSG, 'nsg')));
    assert.equal(res.status, 400);
    assert.equal(errorCode(res), 'InUseNetworkSecurityGroupCannotBeDeleted');
  });

  it('refuses a VM whose NIC does not exist', async () => {
    const res = await raw(emu, 'PUT', q(resPath('rg', VM, 'vm')), { body: bodies.vm('rg', 'nope') });
    assert.equal(res.status, 400);
    assert.equal(errorCode(res), 'InvalidResourceReference');
  });

  it('refuses a NIC that another VM already uses', async () => {
    await network();
    await putOk(emu, resPath('rg', NIC, 'nic'), bodies.nic('rg'));
    await putOk(emu, resPath('rg', VM, 'vm1'), bodies.vm('rg', 'nic'));
    const res = await raw(emu, 'PUT', q(resPath('rg', VM, 'vm2')), { body: bodies.vm('rg', 'nic') });
    assert.equal(res.status, 400);
    assert.equal(errorCode(res), 'NicInUse');
  });

  const badSubnets: Array<{ what: string; prefixes: string[]; code: string }> = [
    {
      what: 'outside the VNet',
      prefixes: ['10.240.1.0/24', '10.99.0.0/24'],
      code: 'NetcfgSubnetRangeOutsideVnet',
    },
    {
      what: 'overlapping',
      prefixes: ['10.240.1.0/24', '10.240.1.128/25'],
      code: 'NetcfgSubnetRangesOverlap',
    },
    { what: 'malformed', prefixes: ['10.240.1.0/24', '10.240.300.0/24'], code: 'InvalidAddressPrefixFormat' },
  ];
  for (const { what, prefixes, code } of badSubnets) {
    it(`refuses ${what} subnets with 400 ${code}`, async () => {
      const res = await raw(emu, 'PUT', q(resPath('rg', VNET, 'vnet')), {
        body: {
          location: 'eastus',
          properties: {
            addressSpace: { addressPrefixes: ['10.240.0.0/16'] },
            subnets: prefixes.map((p, i) => ({ name: `s${i}`, properties: { addressPrefix: p } })),
          },
        },
      });
      assert.equal(res.status, 400);
      assert.equal(errorCode(res), code);
    });
  }

  it('keeps the subnets of a VNet PUT that omits them and replaces them when present', async () => {
    await putOk(emu, resPath('rg', VNET, 'vnet'), bodies.vnet);
    const omitted = await putOk(emu, resPath('rg', VNET, 'vnet'), {
      location: 'eastus',
      properties: { addressSpace: { addressPrefixes: ['10.240.0.0/16'] } },
    });
    assert.deepEqual(
      (props(omitted).subnets as Array<{ name: string }>).map((s) => s.name),
      ['subnet']
    );
    const replaced = await putOk(emu, resPath('rg', VNET, 'vnet'), {
      location: 'eastus',
      properties: {
        addressSpace: { addressPrefixes: ['10.240.0.0/16'] },
        subnets: [{ name: 'other', properties: { addressPrefix: '10.240.2.0/24' } }],
      },
    });
    assert.deepEqual(
      (props(replaced).subnets as Array<{ name: string }>).map((s) => s.name),
      ['other']
    );
  });

  it('creates, reads and deletes a subnet as a child resource that shows in its VNet', async () => {
    await putOk(emu, resPath('rg', VNET, 'vnet'), bodies.vnet);
    await putOk(emu, resPath('rg', NSG, 'nsg'), bodies.nsg);
    emu.setLro({ perType: { [VNET]: 150 } });
    const path = `${resPath('rg', VNET, 'vnet')}/subnets/child`;
    const put = await raw(emu, 'PUT', q(path), {
      body: {
        properties: {
          addressPrefix: '10.240.9.0/24',
          networkSecurityGroup: { id: resPath('rg', NSG, 'nsg') },
        },
      },
    });
    assert.equal(put.status, 201);
    assert.equal(props(put).provisioningState, 'Creating');
    const vnet = await raw(emu, 'GET', q(resPath('rg', VNET, 'vnet')));
    assert.deepEqual(
      (props(vnet).subnets as Array<{ name: string }>).map((s) => s.name),
      ['subnet', 'child']
    );
    await sleep(200);
    const got = await raw(emu, 'GET', q(path));
    assert.equal(props(got).provisioningState, 'Succeeded');
    assert.equal((props(got).networkSecurityGroup as { id: string }).id, resPath('rg', NSG, 'nsg'));
    assert.equal((await raw(emu, 'DELETE', q(path))).status, 202);
    await sleep(200);
    assert.equal((await raw(emu, 'GET', q(path))).status, 404);
  });

  it('adds a security rule as a child and refuses one that clashes in priority and direction', async () => {
    await putOk(emu, resPath('rg', NSG, 'nsg'), bodies.nsg);
    const rule = (priority: number) => ({
      properties: {
        protocol: 'Udp',
        sourcePortRange: '*',
        destinationPortRange: '51820',
        sourceAddressPrefix: '*',
        destinationAddressPrefix: '*',
        access: 'Allow',
        priority,
        direction: 'Inbound',
      },
    });
    const ok = await raw(emu, 'PUT', q(`${resPath('rg', NSG, 'nsg')}/securityRules/AllowWireGuard`), {
      body: rule(1000),
    });
    assert.equal(ok.status, 201);
    const clash = await raw(emu, 'PUT', q(`${resPath('rg', NSG, 'nsg')}/securityRules/Other`), {
      body: rule(1010),
    });
    assert.equal(clash.status, 400);
    assert.equal(errorCode(clash), 'SecurityRuleConflict');
    const nsg = await raw(emu, 'GET', q(resPath('rg', NSG, 'nsg')));
    assert.deepEqual(
      (props(nsg).securityRules as Array<{ name: string }>).map((r) => r.name),
      ['AllowSSH', 'AllowWireGuard']
    );
  });

  it('names an unnamed OS disk <vm>_OsDisk_1_<hash> and reports it as a resource', async () => {
    await network();
    await putOk(emu, resPath('rg', NIC, 'nic'), bodies.nic('rg'));
    const put = await putOk(emu, resPath('rg', VM, 'vm'), bodies.vm('rg', 'nic'));
    assert.equal(props(put).provisioningState, 'Creating');
    const name = (props(put).storageProfile as { osDisk: { name: string } }).osDisk.name;
    assert.match(name, /^vm_OsDisk_1_[0-9a-f]{32}$/);
    const disk = await raw(emu, 'GET', q(resPath('rg', DISK, name)));
    assert.equal(disk.status, 200);
    assert.equal(emu.counts().existing[DISK], 1);
  });
});
