import assert from 'node:assert/strict';
import type { SecurityRule } from '@azure/arm-network';
import type { NsgSpec } from '../../../src/azure/adapter';
import type { ArmAdapter } from '../../../src/azure/adapter';
import { TAG_DEPLOYMENT, TAG_OWNER, parseImageUrn } from '../../../src/azure/adapter';
import type { FaultRule } from '../../../emulator/src/arm';
import type { EmulatorFixture } from './helpers';
import { T, adapterFor, existing, failure, requestsOf, scopeOf, startEmulator, writesOf } from './helpers';

const ID = 'k0rdent-adapt001';
const OTHER = 'k0rdent-other001';
const scope = scopeOf(ID);

const nsgSpec = (name: string): NsgSpec => ({
  name,
  rules: [
    {
      name: 'AllowWireGuard',
      priority: 1000,
      protocol: 'Udp',
      port: 51820,
      access: 'Allow',
      direction: 'Inbound',
    },
    { name: 'AllowSSH', priority: 1010, protocol: 'Tcp', port: 22, access: 'Allow', direction: 'Inbound' },
  ],
});

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('ARM adapter against the emulator', () => {
  let emu: EmulatorFixture;
  let arm: ArmAdapter;

  before(async () => {
    emu = await startEmulator();
  });
  after(async () => {
    await emu.close();
  });
  beforeEach(async () => {
    emu.arm.reset();
    emu.arm.setLro({ defaultMs: 30 });
    arm = adapterFor(emu.target);
    await arm.ensureResourceGroup(scope);
  });

  it('creates a tagged resource group, then reads it back and adopts it without a second PUT', async () => {
    assert.equal(await arm.resourceGroupExists(scope), true);
    const before = emu.arm.counts();
    const again = await arm.ensureResourceGroup(scope);
    assert.equal(again.outcome, 'adopted');
    assert.equal(writesOf(emu.arm.counts(), T.rg), writesOf(before, T.rg));
    const tags = again.resource.tags ?? {};
    assert.equal(tags[TAG_DEPLOYMENT], ID);
    assert.equal(tags[TAG_OWNER], 'tester@example.com');
    assert.equal(tags['created-by'], 'k0rdent-deploy');
    assert.equal(tags['cluster-id'], ID);
    assert.match(tags.created ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(await arm.resourceGroupExists(scopeOf('k0rdent-missing1')), false);
  });

  it('keeps who made a resource: a worker with another deployer identity adopts it as it is', async () => {
    await arm.ensureNsg(scope, nsgSpec('n5'));
    const writes = emu.arm.counts().writesByType;
    const elsewhere = { ...scope, owner: 'ci@example.com' };
    const rg = await arm.ensureResourceGroup(elsewhere);
    assert.equal(rg.outcome, 'adopted');
    assert.equal(rg.resource.tags?.owner, 'tester@example.com');
    const nsg = await arm.ensureNsg(elsewhere, nsgSpec('n5'));
    assert.equal(nsg.outcome, 'adopted');
    assert.equal(nsg.resource.tags?.[TAG_OWNER], 'tester@example.com');
    assert.deepEqual(await arm.inspectResourceGroup(elsewhere), []);
    assert.deepEqual(await arm.inspectNsg(elsewhere, nsgSpec('n5')), []);
    assert.deepEqual(emu.arm.counts().writesByType, writes);
  });

  it('creates an NSG with its rules and a VNet whose subnet carries it, all tagged', async () => {
    const nsg = await arm.ensureNsg(scope, nsgSpec('n1'));
    assert.equal(nsg.outcome, 'created');
    assert.equal(nsg.resource.provisioningState, 'Succeeded');
    const vnet = await arm.ensureVnet(scope, {
      name: 'v1',
      addressPrefix: '10.0.0.0/16',
      subnet: { name: 's1', addressPrefix: '10.0.1.0/24', nsg: 'n1' },
    });
    assert.equal(vnet.outcome, 'created');
    const subnet = vnet.resource.subnets?.find((s) => s.name === 's1');
    assert.match(subnet?.networkSecurityGroup?.id ?? '', /networkSecurityGroups\/n1$/i);
    assert.equal(vnet.resource.tags?.[TAG_DEPLOYMENT], ID);
    const rules: Record<string, SecurityRule> = Object.fromEntries(
      (nsg.resource.securityRules ?? []).map((r) => [r.name ?? '', r])
    );
    assert.equal(rules.AllowWireGuard?.destinationPortRange, '51820');
    assert.equal(rules.AllowWireGuard?.protocol, 'Udp');
    assert.equal(rules.AllowSSH?.priority, 1010);
    assert.deepEqual(await arm.inspectNsg(scope, nsgSpec('n1')), []);
  });

  it('re-PUTs an adopted resource only when its spec drifted, keeping rules someone else added', async () => {
    await arm.ensureNsg(scope, nsgSpec('n2'));
    const nsgs = arm.clients.network.networkSecurityGroups;
    const current = await nsgs.get(scope.resourceGroup, 'n2');
    await nsgs.beginCreateOrUpdateAndWait(
      scope.resourceGroup,
      'n2',
      {
        ...current,
        securityRules: [
          ...(current.securityRules ?? []).filter((r) => r.name !== 'AllowSSH'),
          {
            name: 'AllowOffice',
            protocol: 'Tcp',
            sourcePortRange: '*',
            destinationPortRange: '443',
            sourceAddressPrefix: '198.51.100.0/24',
            destinationAddressPrefix: '*',
            access: 'Allow',
            priority: 1100,
            direction: 'Inbound',
          },
        ],
      },
      { updateIntervalInMs: 10 }
    );
    assert.deepEqual(await arm.inspectNsg(scope, nsgSpec('n2')), ['nsg n2: rule AllowSSH is missing']);
    const writes = writesOf(emu.arm.counts(), T.nsg);
    const fixed = await arm.ensureNsg(scope, nsgSpec('n2'));
    assert.equal(fixed.outcome, 'updated');
    assert.equal(writesOf(emu.arm.counts(), T.nsg), writes + 1);
    const names = (fixed.resource.securityRules ?? []).map((r) => r.name).sort();
    assert.deepEqual(names, ['AllowOffice', 'AllowSSH', 'AllowWireGuard']);
    assert.equal((await arm.ensureNsg(scope, nsgSpec('n2'))).outcome, 'adopted');
    assert.equal(writesOf(emu.arm.counts(), T.nsg), writes + 1);
  });

  it('adopts what a crashed attempt PUT: no second create, however far the first one got', async () => {
    emu.arm.setLro({ defaultMs: 30, perType: { [T.nsg]: 400 } });
    const controller = new AbortController();
    const crashing = adapterFor(emu.target, { signal: () => controller.signal });
    const first = crashing.ensureNsg(scope, nsgSpec('n3'));
    await until(() => writesOf(emu.arm.counts(), T.nsg) === 1);
    controller.abort();
    const started = Date.now();
    await assert.rejects(first, (err: Error) => err.name === 'AbortError');
    assert.ok(Date.now() - started < 300, 'the cancelled wait stopped promptly');

    // A new attempt (another process): finds the resource still provisioning, waits, adopts it.
    const retried = await adapterFor(emu.target).ensureNsg(scope, nsgSpec('n3'));
    assert.equal(retried.outcome, 'adopted');
    assert.equal(retried.resource.provisioningState, 'Succeeded');
    const counts = emu.arm.counts();
    assert.equal(writesOf(counts, T.nsg), 1);
    assert.equal(requestsOf(counts, T.nsg, 'PUT'), 1);
    assert.equal(existing(counts, T.nsg), 1);

    // Crash after success but before the result was recorded: the retry only reads.
    assert.equal((await adapterFor(emu.target).ensureNsg(scope, nsgSpec('n3'))).outcome, 'adopted');
    assert.equal(writesOf(emu.arm.counts(), T.nsg), 1);
  });

  it("refuses another deployment's resource and an untagged one with ForeignResource", async () => {
    const other = { ...scopeOf(OTHER, 'someone@example.com'), resourceGroup: scope.resourceGroup };
    await adapterFor(emu.target).ensureNsg(other, nsgSpec('theirs'));
    await arm.clients.network.networkSecurityGroups.beginCreateOrUpdateAndWait(
      scope.resourceGroup,
      'untagged',
      { location: scope.location },
      { updateIntervalInMs: 10 }
    );
    const writes = writesOf(emu.arm.counts(), T.nsg);
    await assert.rejects(
      arm.ensureNsg(scope, nsgSpec('theirs')),
      failure(
        'ForeignResource',
        true,
        /nsg theirs .*belongs to deployment k0rdent-other001 of someone@example\.com/
      )
    );
    await assert.rejects(
      arm.ensureNsg(scope, nsgSpec('untagged')),
      failure('ForeignResource', true, /nsg untagged .*no k0rdent deployment/)
    );
    assert.equal(writesOf(emu.arm.counts(), T.nsg), writes, 'nothing was written over');
    assert.match(
      (await arm.inspectNsg(scope, nsgSpec('theirs')))[0] ?? '',
      /belongs to deployment k0rdent-other001/
    );

    const foreignRg = scopeOf(OTHER);
    await adapterFor(emu.target).ensureResourceGroup(foreignRg);
    await assert.rejects(
      arm.deleteResourceGroup({ ...scope, resourceGroup: foreignRg.resourceGroup }),
      failure('ForeignResource', true, /resource group k0rdent-other001-resgrp/)
    );
    assert.equal(await arm.resourceGroupExists(foreignRg), true);
  });

  it('creates a VM with its public IP and NIC, reads its state, lists it and deletes all of it', async () => {
    await arm.ensureNsg(scope, nsgSpec('nsg'));
    await arm.ensureVnet(scope, {
      name: 'vnet',
      addressPrefix: '10.0.0.0/16',
      subnet: { name: 'subnet', addressPrefix: '10.0.1.0/24', nsg: 'nsg' },
    });
    const pip = await arm.ensurePublicIp(scope, { name: 'vm1-pip', zone: 2 });
    assert.ok(pip.resource.ipAddress, 'a static address was allocated');
    assert.deepEqual(pip.resource.zones, ['2']);
    const nic = await arm.ensureNic(scope, {
      name: 'vm1-nic',
      vnet: 'vnet',
      subnet: 'subnet',
      nsg: 'nsg',
      publicIp: 'vm1-pip',
    });
    assert.match(nic.resource.ipConfigurations?.[0]?.privateIPAddress ?? '', /^10\.0\.1\.\d+$/);
    const vm = await arm.ensureVm(scope, {
      name: 'vm1',
      size: 'Standard_B2s',
      image: parseImageUrn('Debian:debian-12:12-gen2:latest'),
      zone: 2,
      priority: 'Spot',
      evictionPolicy: 'Deallocate',
      adminUsername: 'k0rdent',
      sshPublicKey: 'ssh-rsa AAAAB3NzaC1yc2E test',
      customData: Buffer.from('#cloud-config\n').toString('base64'),
      osDiskSizeGb: 64,
      nic: 'vm1-nic',
    });
    assert.equal(vm.outcome, 'created');
    assert.equal(vm.resource.priority, 'Spot');
    assert.equal(vm.resource.evictionPolicy, 'Deallocate');
    assert.equal(vm.resource.storageProfile?.osDisk?.diskSizeGB, 64);
    assert.equal(vm.resource.osProfile?.linuxConfiguration?.disablePasswordAuthentication, true);
    const status = await arm.getVm(scope, 'vm1');
    assert.equal(status?.provisioningState, 'Succeeded');
    assert.equal(status?.powerState, 'running');
    assert.equal(status?.deployment, ID);
    assert.deepEqual(
      (await arm.listVms(scope)).map((v) => v.name),
      ['vm1']
    );
    assert.equal(existing(emu.arm.counts(), T.disk), 1);

    assert.equal(await arm.deleteVm(scope, 'vm1'), true);
    assert.equal(await arm.getVm(scope, 'vm1'), undefined);
    const counts = emu.arm.counts();
    for (const type of [T.vm, T.nic, T.pip, T.disk]) assert.equal(existing(counts, type), 0, type);
    assert.equal(await arm.deleteVm(scope, 'vm1'), false, 'deleting again is a no-op');
  });

  it('deletes the resource group and waits until it is gone', async () => {
    await arm.ensureNsg(scope, nsgSpec('n4'));
    assert.equal(await arm.deleteResourceGroup(scope), true);
    assert.equal(await arm.resourceGroupExists(scope), false);
    assert.equal(existing(emu.arm.counts(), T.nsg), 0);
    assert.equal(await arm.deleteResourceGroup(scope), false);
    assert.deepEqual(await arm.listVms(scope), []);
  });

  describe('injected faults on a public IP create', () => {
    const cases: {
      title: string;
      rules: (name: string) => FaultRule[];
      puts: number;
      gets?: number;
      fails?: { type: string; nonRetryable: boolean };
      minMs?: number;
    }[] = [
      {
        title: '429 with Retry-After: waits as asked, then succeeds',
        rules: (name) => [
          { kind: 'throttle', retryAfterSeconds: 1, match: { method: 'PUT', type: T.pip, name } },
        ],
        puts: 2,
        minMs: 950,
      },
      {
        title: '429 without Retry-After: backs off on its own, then succeeds',
        rules: (name) => [{ kind: 'throttle', times: 2, match: { method: 'PUT', type: T.pip, name } }],
        puts: 3,
      },
      {
        title: '503: retried, then succeeds',
        rules: (name) => [
          { kind: 'error', status: 503, times: 2, match: { method: 'PUT', type: T.pip, name } },
        ],
        puts: 3,
      },
      {
        title: '500: retried, then succeeds',
        rules: (name) => [
          { kind: 'error', status: 500, times: 2, match: { method: 'PUT', type: T.pip, name } },
        ],
        puts: 3,
      },
      {
        title: 'connection dropped before the PUT is processed: retried, then succeeds',
        rules: (name) => [{ kind: 'drop-before', times: 2, match: { method: 'PUT', type: T.pip, name } }],
        puts: 3,
      },
      {
        title: 'connection dropped after the PUT was applied: the retried PUT makes no second resource',
        rules: (name) => [{ kind: 'drop-after', match: { method: 'PUT', type: T.pip, name } }],
        puts: 2,
      },
      {
        title: '401: fails at once, not retryable',
        rules: (name) => [{ kind: 'auth', times: -1, match: { type: T.pip, name } }],
        puts: 0,
        gets: 1,
        fails: { type: 'AuthFailed', nonRetryable: true },
      },
      {
        title: '403: fails at once, not retryable',
        rules: (name) => [{ kind: 'auth', status: 403, times: -1, match: { type: T.pip, name } }],
        puts: 0,
        gets: 1,
        fails: { type: 'AuthFailed', nonRetryable: true },
      },
      {
        title: 'quota: fails at once, not retryable',
        rules: (name) => [{ kind: 'quota', times: -1, match: { method: 'PUT', type: T.pip, name } }],
        puts: 1,
        fails: { type: 'QuotaExceeded', nonRetryable: true },
      },
      {
        title: 'invalid parameter: fails at once, not retryable',
        rules: (name) => [{ kind: 'invalid', times: -1, match: { method: 'PUT', type: T.pip, name } }],
        puts: 1,
        fails: { type: 'InvalidRequest', nonRetryable: true },
      },
      {
        title: 'throttled for good: gives up after its bounded retries, retryable',
        rules: (name) => [{ kind: 'throttle', times: -1, match: { method: 'PUT', type: T.pip, name } }],
        puts: 5,
        fails: { type: 'Throttled', nonRetryable: false },
      },
      {
        title: '503 for good: gives up after its bounded retries, retryable',
        rules: (name) => [
          { kind: 'error', status: 503, times: -1, match: { method: 'PUT', type: T.pip, name } },
        ],
        puts: 4,
        fails: { type: 'ArmUnavailable', nonRetryable: false },
      },
      {
        title: 'connection dropped for good: gives up after its bounded retries, retryable',
        rules: (name) => [{ kind: 'drop-before', times: -1, match: { method: 'PUT', type: T.pip, name } }],
        puts: 4,
        fails: { type: 'ArmUnavailable', nonRetryable: false },
      },
    ];

    cases.forEach((c, i) => {
      it(c.title, async () => {
        const name = `fault${i}-pip`;
        emu.arm.setFaults(c.rules(name));
        const before = emu.arm.counts();
        const started = Date.now();
        const run = arm.ensurePublicIp(scope, { name, zone: 1 });
        if (c.fails) {
          await assert.rejects(
            run,
            failure(c.fails.type, c.fails.nonRetryable, new RegExp(`public ip ${name}: `))
          );
        } else {
          const made = await run;
          assert.equal(made.outcome, 'created');
          assert.equal(made.resource.provisioningState, 'Succeeded');
          assert.ok(Date.now() - started >= (c.minMs ?? 0), `waited ${Date.now() - started} ms`);
        }
        const after = emu.arm.counts();
        assert.equal(
          requestsOf(after, T.pip, 'PUT') - requestsOf(before, T.pip, 'PUT'),
          c.puts,
          'PUT requests'
        );
        if (c.gets !== undefined) {
          assert.equal(
            requestsOf(after, T.pip, 'GET') - requestsOf(before, T.pip, 'GET'),
            c.gets,
            'GET requests'
          );
        }
        const made = emu.arm.resources().filter((r) => r.name.toLowerCase() === name);
        assert.equal(made.length, c.fails ? 0 : 1, 'resources of that name');
      });
    });

    it('stops a throttle wait and a slow request as soon as it is cancelled', async () => {
      for (const rule of [
        { kind: 'throttle', retryAfterSeconds: 30, match: { method: 'PUT', type: T.pip } },
        { kind: 'latency', latencyMs: 30_000, match: { method: 'GET', type: T.pip } },
      ] satisfies FaultRule[]) {
        emu.arm.setFaults([rule]);
        const controller = new AbortController();
        const cancellable = adapterFor(emu.target, { signal: () => controller.signal });
        const run = cancellable.ensurePublicIp(scope, { name: `cancel-${rule.kind}`, zone: 1 });
        setTimeout(() => controller.abort(), 100);
        const started = Date.now();
        await assert.rejects(run, (err: Error) => err.name === 'AbortError');
        assert.ok(Date.now() - started < 1_000, `${rule.kind}: stopped after ${Date.now() - started} ms`);
      }
    });
  });

  it('parses image URNs and refuses malformed ones as invalid config', () => {
    assert.deepEqual(parseImageUrn('Debian:debian-12:12-arm64:latest'), {
      publisher: 'Debian',
      offer: 'debian-12',
      sku: '12-arm64',
      version: 'latest',
    });
    assert.throws(
      () => parseImageUrn('Debian:debian-12:latest'),
      failure('InvalidConfig', true, /azure\.vm_image/)
    );
  });
});
