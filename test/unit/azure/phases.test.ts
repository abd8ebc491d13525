import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { defaultDeps } from '../../../src/activities';
import { createVmsPhase } from '../../../src/activities/create-vms';
import type { PhaseDeps } from '../../../src/activities/phase';
import { prepareDeploymentPhase } from '../../../src/activities/prepare-deployment';
import { setupNetworkPhase } from '../../../src/activities/setup-network';
import { TAG_DEPLOYMENT } from '../../../src/azure/adapter';
import { DEFAULT_CONFIG } from '../../../src/config/defaults';
import type { K0rdentConfig } from '../../../src/config/types';
import type { PhaseContext, PhaseResult } from '../../../src/workflows/messages';
import { applyPatch, emptyFacts } from '../../../src/workflows/state';
import type { EmulatorFixture } from './helpers';
import {
  FAST_ADAPTER,
  FAST_RETRY,
  T,
  existing,
  failure,
  requestsOf,
  startEmulator,
  writesOf,
} from './helpers';

const NOW = '2026-01-01T00:00:00Z';
/** Activity failures are expected in these tests; keep the mock worker's log to errors. */
const QUIET = new DefaultLogger('ERROR');

describe('Azure phases against the emulator', () => {
  let emu: EmulatorFixture;
  let deps: PhaseDeps;
  let ctx: PhaseContext;
  let counter = 0;

  before(async () => {
    emu = await startEmulator();
  });
  after(async () => {
    await emu.close();
  });

  /** A prepared deployment (keys, port, cloud-init) with `workers` workers, its own id and folder. */
  async function prepared(workers: number): Promise<PhaseContext> {
    const config = structuredClone<K0rdentConfig>(DEFAULT_CONFIG);
    config.metadata.owner = 'tester@example.com';
    config.cluster.workers.count = workers;
    config.cluster.workers.zones = [1, 2, 3];
    config.orchestrator.parallel_vms = 3;
    const id = `k0rdent-phase${String(counter++).padStart(3, '0')}`;
    const c: PhaseContext = {
      deploymentId: id,
      workDir: path.join(emu.dir, id),
      phase: 'prepare_deployment',
      config,
      flags: { azureChildren: false, kof: false },
      facts: emptyFacts(),
      cloud: emu.target,
    };
    await fs.mkdir(c.workDir, { recursive: true });
    applyPatch(c.facts, (await prepareDeploymentPhase(deps).apply(c)).patch, NOW);
    return c;
  }

  beforeEach(async () => {
    emu.arm.reset();
    deps = defaultDeps({ adapter: FAST_ADAPTER, clients: { retry: FAST_RETRY } });
    ctx = await prepared(2);
  });

  it('setup_network makes the tagged group, NSG rules, VNet + subnet with the NSG and the key', async () => {
    const phase = setupNetworkPhase(deps);
    assert.equal((await phase.check({ ...ctx, phase: 'setup_network' })).upToDate, false);
    const result = await phase.apply({ ...ctx, phase: 'setup_network' });
    applyPatch(ctx.facts, result.patch, NOW);
    assert.deepEqual(result.patch.values, {
      azure_rg_status: 'created',
      azure_network_status: 'created',
      azure_ssh_key_status: 'created',
    });
    assert.deepEqual(
      result.events.map((e) => e.action),
      ['azure_rg_created', 'azure_ssh_key_created', 'azure_network_created', 'azure_setup_completed']
    );
    assert.equal(
      result.patch.artifacts?.azure_ssh_public_key?.path,
      `./azure-resources/${ctx.deploymentId}-ssh-key.pub`
    );

    const rg = `${ctx.deploymentId}-resgrp`;
    const byName = Object.fromEntries(emu.arm.resources().map((r) => [r.name.toLowerCase(), r]));
    assert.equal(byName[rg]?.tags.owner, 'tester@example.com');
    assert.equal(byName[rg]?.location, 'westus2');
    for (const name of [
      rg,
      `${ctx.deploymentId}-nsg`,
      `${ctx.deploymentId}-vnet`,
      `${ctx.deploymentId}-admin`,
    ]) {
      assert.equal(byName[name]?.tags[TAG_DEPLOYMENT], ctx.deploymentId, name);
    }
    const rules = byName[`${ctx.deploymentId}-nsg`]?.properties.securityRules as {
      name: string;
      properties: { destinationPortRange: string; priority: number; protocol: string };
    }[];
    const port = String(ctx.facts.values.wireguard_port);
    assert.deepEqual(
      rules.map((r) => [
        r.name,
        r.properties.protocol,
        r.properties.destinationPortRange,
        r.properties.priority,
      ]),
      [
        ['AllowWireGuard', 'Udp', port, 1000],
        ['AllowSSH', 'Tcp', '22', 1010],
      ]
    );
    const key = byName[`${ctx.deploymentId}-admin`]?.properties.publicKey as string;
    const local = await fs.readFile(
      path.join(ctx.workDir, 'azure-resources', `${ctx.deploymentId}-ssh-key.pub`),
      'utf8'
    );
    assert.equal(key, local.trim());

    assert.deepEqual(await phase.check({ ...ctx, phase: 'setup_network' }), { upToDate: true });
    const requests = emu.arm.counts().total;
    await phase.apply({ ...ctx, phase: 'setup_network' });
    const again = emu.arm.counts();
    assert.equal(
      Object.values(again.writesByType).reduce((a, b) => a + b, 0),
      4,
      'a second apply adopts everything: still only the first four PUTs'
    );
    assert.equal(again.total - requests, 4, 'a second apply reads each of the four resources once');
  });

  it('setup_network check names what drifted, and rollback removes the group and the local keys', async () => {
    const phase = setupNetworkPhase(deps);
    const net = { ...ctx, phase: 'setup_network' as const };
    applyPatch(ctx.facts, (await phase.apply(net)).patch, NOW);
    const key = emu.arm.resources().find((r) => r.type.toLowerCase() === T.sshKey.toLowerCase());
    assert.ok(key && emu.arm.removeResource(key.id));
    await fs.rm(path.join(ctx.workDir, 'azure-resources', `${ctx.deploymentId}-ssh-key`));
    const seen = await phase.check(net);
    assert.equal(seen.upToDate, false);
    assert.match(seen.reason ?? '', /ssh key k0rdent-phase\d+-admin is missing/);
    assert.match(seen.reason ?? '', /SSH key pair azure-resources\/k0rdent-phase\d+-ssh-key is missing/);

    applyPatch(ctx.facts, (await createVmsPhase(deps).apply({ ...ctx, phase: 'create_vms' })).patch, NOW);
    const back = await phase.rollback(net);
    assert.deepEqual(back.patch.values, {
      azure_rg_status: 'deleted',
      azure_network_status: 'deleted',
      azure_ssh_key_status: 'deleted',
    });
    assert.deepEqual(back.patch.vm_states, {
      'k0s-controller-1': null,
      'k0s-worker-1': null,
      'k0s-worker-2': null,
    });
    assert.deepEqual(emu.arm.resources(), [], 'nothing is left in the emulator');
    await assert.rejects(fs.access(path.join(ctx.workDir, 'azure-resources')));
    await phase.rollback(net);
  });

  it('create_vms makes every VM with its IP and NIC, in its zone, with cloud-init and the key', async () => {
    await setupNetworkPhase(deps).apply({ ...ctx, phase: 'setup_network' });
    const phase = createVmsPhase(deps);
    const vms = { ...ctx, phase: 'create_vms' as const };
    assert.match((await phase.check(vms)).reason ?? '', /VM k0s-controller-1 is missing/);
    const before = emu.arm.counts();
    const result = await phase.apply(vms);
    applyPatch(ctx.facts, result.patch, NOW);
    const counts = emu.arm.counts();
    assert.equal(writesOf(counts, T.vm) - writesOf(before, T.vm), 3);
    assert.equal(writesOf(counts, T.nic) - writesOf(before, T.nic), 3);
    assert.equal(writesOf(counts, T.pip) - writesOf(before, T.pip), 3);

    const states = result.patch.vm_states ?? {};
    assert.deepEqual(Object.keys(states), ['k0s-controller-1', 'k0s-worker-1', 'k0s-worker-2']);
    for (const [host, state] of Object.entries(states)) {
      assert.equal(state?.state, 'Succeeded', host);
      assert.match(state?.public_ip ?? '', /^\d+\.\d+\.\d+\.\d+$/, host);
      assert.match(state?.private_ip ?? '', /^10\.0\.1\.\d+$/, host);
    }
    assert.deepEqual(
      result.events.map((e) => e.action),
      ['vm_creation_started', 'vm_creation_started', 'vm_creation_started']
    );

    const vm = emu.arm
      .resources()
      .find((r) => r.name === 'k0s-worker-2' && r.type.toLowerCase() === T.vm.toLowerCase());
    assert.ok(vm);
    const props = vm.properties as {
      hardwareProfile: { vmSize: string };
      storageProfile: {
        imageReference: Record<string, string>;
        osDisk: { diskSizeGB: number; deleteOption: string };
      };
      osProfile: { adminUsername: string; linuxConfiguration: { disablePasswordAuthentication: boolean } };
    };
    assert.equal(props.hardwareProfile.vmSize, 'Standard_B2s');
    assert.deepEqual(props.storageProfile.imageReference, {
      publisher: 'Debian',
      offer: 'debian-12',
      sku: '12-gen2',
      version: 'latest',
    });
    assert.equal(props.storageProfile.osDisk.diskSizeGB, 64);
    assert.equal(props.storageProfile.osDisk.deleteOption, 'Delete');
    assert.equal(props.osProfile.adminUsername, 'k0rdent');
    assert.equal(props.osProfile.linuxConfiguration.disablePasswordAuthentication, true);
    const compute = deps.azure(ctx.cloud).clients.compute.virtualMachines;
    const rg = `${ctx.deploymentId}-resgrp`;
    assert.deepEqual((await compute.get(rg, 'k0s-worker-2')).zones, ['2']);
    assert.deepEqual((await compute.get(rg, 'k0s-worker-1')).zones, ['1']);
    const customData = (vm.properties as { osProfile: { customData?: string } }).osProfile.customData;
    assert.equal(customData, undefined, 'custom data is stored but never returned');
    assert.deepEqual(await phase.check(vms), { upToDate: true });
  });

  it('create_vms re-creates only the VM deleted behind its back', async () => {
    await setupNetworkPhase(deps).apply({ ...ctx, phase: 'setup_network' });
    const phase = createVmsPhase(deps);
    const vms = { ...ctx, phase: 'create_vms' as const };
    const first = await phase.apply(vms);
    applyPatch(ctx.facts, first.patch, NOW);

    const victim = emu.arm
      .resources()
      .find((r) => r.name === 'k0s-worker-1' && r.type.toLowerCase() === T.vm.toLowerCase());
    assert.ok(victim && emu.arm.removeResource(victim.id));
    const seen = await phase.check(vms);
    assert.deepEqual(seen, { upToDate: false, reason: 'VM k0s-worker-1 is missing' });

    const before = emu.arm.counts();
    const second = await phase.apply(vms);
    const after = emu.arm.counts();
    assert.equal(writesOf(after, T.vm) - writesOf(before, T.vm), 1, 'one VM PUT');
    assert.equal(writesOf(after, T.nic) - writesOf(before, T.nic), 0, 'NICs adopted');
    assert.equal(writesOf(after, T.pip) - writesOf(before, T.pip), 0, 'public IPs adopted');
    assert.equal(requestsOf(after, T.vm, 'PUT') - requestsOf(before, T.vm, 'PUT'), 1);
    assert.deepEqual(
      second.patch.vm_states?.['k0s-worker-1']?.public_ip,
      first.patch.vm_states?.['k0s-worker-1']?.public_ip
    );
    assert.deepEqual(await phase.check(vms), { upToDate: true });
  });

  it('create_vms finds a deallocated (evicted) VM and starts it again without re-creating it', async () => {
    await setupNetworkPhase(deps).apply({ ...ctx, phase: 'setup_network' });
    const phase = createVmsPhase(deps);
    const vms = { ...ctx, phase: 'create_vms' as const };
    applyPatch(ctx.facts, (await phase.apply(vms)).patch, NOW);
    const compute = deps.azure(ctx.cloud).clients.compute.virtualMachines;
    await compute.deallocate(`${ctx.deploymentId}-resgrp`, 'k0s-controller-1', { updateIntervalInMs: 10 });
    assert.deepEqual(await phase.check(vms), {
      upToDate: false,
      reason: 'VM k0s-controller-1 is deallocated',
    });
    const before = emu.arm.counts();
    await phase.apply(vms);
    assert.equal(writesOf(emu.arm.counts(), T.vm) - writesOf(before, T.vm), 0, 'no VM was PUT');
    assert.deepEqual(await phase.check(vms), { upToDate: true });
  });

  it('create_vms rollback deletes VMs, NICs, public IPs and disks, and forgets vm_states', async () => {
    await setupNetworkPhase(deps).apply({ ...ctx, phase: 'setup_network' });
    const phase = createVmsPhase(deps);
    const vms = { ...ctx, phase: 'create_vms' as const };
    applyPatch(ctx.facts, (await phase.apply(vms)).patch, NOW);
    assert.equal(existing(emu.arm.counts(), T.disk), 3);

    const back = await phase.rollback(vms);
    applyPatch(ctx.facts, back.patch, NOW);
    assert.deepEqual(ctx.facts.vm_states, {});
    const counts = emu.arm.counts();
    for (const type of [T.vm, T.nic, T.pip, T.disk]) assert.equal(existing(counts, type), 0, type);
    assert.equal(existing(counts, T.vnet), 1, 'the network stays (it is setup_network’s)');
    assert.match((await phase.check(vms)).reason ?? '', /VM k0s-controller-1 is missing/);
    await phase.rollback(vms);
  });

  it('create_vms heartbeats finished hosts, and a retried attempt touches only the unfinished one', async () => {
    await setupNetworkPhase(deps).apply({ ...ctx, phase: 'setup_network' });
    const vms = { ...ctx, phase: 'create_vms' as const };
    emu.arm.setFaults([{ kind: 'invalid', match: { method: 'PUT', type: T.vm, name: 'k0s-worker-2' } }]);
    const first = new MockActivityEnvironment({}, { logger: QUIET });
    const beats: unknown[] = [];
    first.on('heartbeat', (d: unknown) => beats.push(d));
    await assert.rejects(
      first.run(() => createVmsPhase(deps).apply(vms)),
      failure('InvalidRequest', true)
    );
    const cursor = beats.at(-1) as { vms: Record<string, { public_ip: string }> };
    assert.deepEqual(Object.keys(cursor.vms).sort(), ['k0s-controller-1', 'k0s-worker-1']);

    const before = emu.arm.counts();
    const retry = new MockActivityEnvironment({ heartbeatDetails: cursor }, { logger: QUIET });
    const result = await retry.run<[], PhaseResult, () => Promise<PhaseResult>>(() =>
      createVmsPhase(deps).apply(vms)
    );
    const after = emu.arm.counts();
    assert.equal(writesOf(after, T.vm) - writesOf(before, T.vm), 1, 'only k0s-worker-2 is PUT');
    assert.equal(requestsOf(after, T.pip, 'GET') - requestsOf(before, T.pip, 'GET'), 1, 'one public IP read');
    assert.equal(requestsOf(after, T.nic, 'GET') - requestsOf(before, T.nic, 'GET'), 1, 'one NIC read');
    assert.equal(result.patch.vm_states?.['k0s-worker-1']?.public_ip, cursor.vms['k0s-worker-1']?.public_ip);
    assert.equal(result.patch.vm_states?.['k0s-worker-2']?.state, 'Succeeded');
  });

  it('a cancelled create_vms stops waiting at once', async () => {
    await setupNetworkPhase(deps).apply({ ...ctx, phase: 'setup_network' });
    emu.arm.setLro({ defaultMs: 30, perType: { [T.vm]: 20_000 } });
    const env = new MockActivityEnvironment({}, { logger: QUIET });
    const run = env.run(() => createVmsPhase(deps).apply({ ...ctx, phase: 'create_vms' }));
    const deadline = Date.now() + 10_000;
    while (writesOf(emu.arm.counts(), T.vm) < 3 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    assert.equal(writesOf(emu.arm.counts(), T.vm), 3, 'all VM PUTs were sent');
    const cancelled = Date.now();
    env.cancel();
    await assert.rejects(run, (err: Error) => err.name === 'CancelledFailure');
    assert.ok(Date.now() - cancelled < 1_000, `stopped after ${Date.now() - cancelled} ms`);
    emu.arm.setLro({ defaultMs: 30 });
  });

  it('create_vms fails without retry when its cloud-init is gone', async () => {
    await setupNetworkPhase(deps).apply({ ...ctx, phase: 'setup_network' });
    await fs.rm(path.join(ctx.workDir, 'cloud-init-yaml', 'k0s-worker-2-cloud-init.yaml'));
    await assert.rejects(
      createVmsPhase(deps).apply({ ...ctx, phase: 'create_vms' }),
      failure('NotFound', true, /cloud-init-yaml\/k0s-worker-2-cloud-init\.yaml/)
    );
    assert.equal(existing(emu.arm.counts(), T.vm), 0, 'nothing was created');
  });

  for (const workers of [0, 4]) {
    it(`create_vms of ${workers + 1} VM(s): three writes per VM and a bounded number of requests`, async () => {
      ctx = await prepared(workers);
      await setupNetworkPhase(deps).apply({ ...ctx, phase: 'setup_network' });
      const before = emu.arm.counts();
      await createVmsPhase(deps).apply({ ...ctx, phase: 'create_vms' });
      const after = emu.arm.counts();
      const vms = workers + 1;
      const writes = Object.values(after.writesByType).reduce((a, b) => a + b, 0);
      const writesBefore = Object.values(before.writesByType).reduce((a, b) => a + b, 0);
      assert.equal(writes - writesBefore, 3 * vms);
      const total = after.total - before.total;
      console.log(
        `      create_vms, ${vms} VM(s): ${total} requests, ${after.polls - before.polls} LRO polls`
      );
      assert.ok(total <= 20 * vms, `${total} requests for ${vms} VMs`);
    });
  }
});
