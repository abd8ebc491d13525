/**
 * create_vms: per host a Standard public IP, a NIC in the subnet with the NSG, and the VM (size, zone,
 * image, priority, cloud-init, SSH key), all hosts in parallel up to `orchestrator.parallel_vms`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { DeploymentScope, VmSpec } from '../azure/adapter';
import { parseImageUrn } from '../azure/adapter';
import { deploymentScope } from '../azure/scope';
import { namesFor } from '../config/naming';
import type { DeploymentNames, HostPlan } from '../config/types';
import type { PhaseContext, VmState } from '../workflows/messages';
import { FailureTypes } from '../workflows/messages';
import { forgetHostKey } from '../hosts/ssh';
import { isoSecond } from '../workflows/state';
import type { Phase, PhaseFactory } from './phase';
import { event, verdict } from './phase';
import { beat, mapLimit, resumeCursor } from './work';

/** Azure's limit on custom data, decoded. */
const MAX_CUSTOM_DATA_BYTES = 64 * 1024;
const OS_DISK_GB = 64;

/** Addresses of a finished host, kept in the heartbeat cursor so a retried attempt skips it. */
interface HostAddresses {
  public_ip: string;
  private_ip: string;
}

interface Cursor {
  vms: Record<string, HostAddresses>;
}

async function readInput(ctx: PhaseContext, relative: string, what: string): Promise<string> {
  try {
    return await fs.readFile(path.join(ctx.workDir, relative), 'utf8');
  } catch (err) {
    throw ApplicationFailure.create({
      type: FailureTypes.NotFound,
      message: `${what} ${relative} is unreadable (${(err as NodeJS.ErrnoException).code ?? String(err)}): run the phase that makes it first`,
      nonRetryable: true,
    });
  }
}

async function vmSpec(
  ctx: PhaseContext,
  names: DeploymentNames,
  host: HostPlan,
  sshPublicKey: string
): Promise<VmSpec> {
  const cloudInitFile = `${names.cloudInitDir}/${host.name}-cloud-init.yaml`;
  const cloudInit = Buffer.from(await readInput(ctx, cloudInitFile, `cloud-init of ${host.name}`), 'utf8');
  if (cloudInit.length > MAX_CUSTOM_DATA_BYTES) {
    throw ApplicationFailure.create({
      type: FailureTypes.InvalidRequest,
      message: `${cloudInitFile} is ${cloudInit.length} bytes; Azure custom data holds at most ${MAX_CUSTOM_DATA_BYTES}`,
      nonRetryable: true,
    });
  }
  const { vm_priority: priority, eviction_policy: eviction, vm_image: image } = ctx.config.azure;
  return {
    name: host.name,
    size: host.size,
    image: parseImageUrn(image),
    zone: host.zone,
    priority,
    evictionPolicy: priority === 'Spot' ? eviction : undefined,
    adminUsername: ctx.config.ssh.username,
    sshPublicKey,
    customData: cloudInit.toString('base64'),
    osDiskSizeGb: OS_DISK_GB,
    nic: `${host.name}-nic`,
  };
}

/** Public IP, NIC and VM of one host; returns its addresses. */
async function createHost(
  deps: Parameters<PhaseFactory>[0],
  ctx: PhaseContext,
  scope: DeploymentScope,
  names: DeploymentNames,
  spec: VmSpec
): Promise<HostAddresses> {
  const arm = deps.azure(ctx.cloud);
  const pip = await arm.ensurePublicIp(scope, { name: `${spec.name}-pip`, zone: spec.zone });
  const nic = await arm.ensureNic(scope, {
    name: spec.nic,
    vnet: names.vnet,
    subnet: names.subnet,
    nsg: names.nsg,
    publicIp: `${spec.name}-pip`,
  });
  await arm.ensureVm(scope, spec);
  return {
    public_ip: pip.resource.ipAddress ?? '',
    private_ip: nic.resource.ipConfigurations?.[0]?.privateIPAddress ?? '',
  };
}

/** The create_vms phase. */
export const createVmsPhase: PhaseFactory = (deps): Phase => ({
  async check(ctx) {
    const arm = deps.azure(ctx.cloud);
    const scope = deploymentScope(ctx.deploymentId, ctx.config);
    const hosts = namesFor(ctx.deploymentId, ctx.config).hosts;
    const problems = await mapLimit(hosts, ctx.config.orchestrator.parallel_vms, async (host) => {
      const vm = await arm.getVm(scope, host.name);
      if (!vm) return `VM ${host.name} is missing`;
      if (vm.deployment !== ctx.deploymentId)
        return `VM ${host.name} belongs to ${vm.deployment ?? 'no k0rdent deployment (untagged)'}`;
      if (vm.provisioningState !== 'Succeeded') {
        const why = vm.failure ? ` (${vm.failure.code}: ${vm.failure.message})` : '';
        return `VM ${host.name} is ${vm.provisioningState ?? 'in an unknown state'}${why}`;
      }
      if (vm.powerState !== 'running')
        return `VM ${host.name} is ${vm.powerState ?? 'in an unknown power state'}`;
      return undefined;
    });
    return verdict(problems.filter((p): p is string => p !== undefined));
  },

  async apply(ctx) {
    const names = namesFor(ctx.deploymentId, ctx.config);
    const scope = deploymentScope(ctx.deploymentId, ctx.config);
    const sshPublicKey = (await readInput(ctx, names.sshPublicKeyPath, 'SSH public key')).trim();
    const specs = await Promise.all(names.hosts.map((host) => vmSpec(ctx, names, host, sshPublicKey)));
    const done: Record<string, HostAddresses> = { ...resumeCursor<Cursor>().vms };
    beat({ vms: { ...done } });
    await mapLimit(names.hosts, ctx.config.orchestrator.parallel_vms, async (host, index) => {
      if (done[host.name]) return;
      const spec = specs[index] as VmSpec;
      done[host.name] = await createHost(deps, ctx, scope, names, spec);
      // A VM made (or made again) here has a host key nobody has seen yet.
      await forgetHostKey(path.join(ctx.workDir, names.knownHostsFile), host.wireguardIp);
      beat({ vms: { ...done } });
    });
    const checked = isoSecond(Date.now());
    const states = names.hosts.map((host): [string, VmState] => {
      const ips = done[host.name] as HostAddresses;
      return [host.name, { ...ips, state: 'Succeeded', last_checked: checked }];
    });
    return {
      patch: { vm_states: Object.fromEntries(states) },
      events: names.hosts.map((h) => event('vm_creation_started', `Started creating VM: ${h.name}`)),
    };
  },

  async rollback(ctx) {
    const arm = deps.azure(ctx.cloud);
    const names = namesFor(ctx.deploymentId, ctx.config);
    const scope = deploymentScope(ctx.deploymentId, ctx.config);
    // Planned hosts, plus any VM of ours a larger earlier plan left behind.
    const listed = (await arm.listVms(scope))
      .filter((vm) => vm.deployment === ctx.deploymentId)
      .map((vm) => vm.name);
    const hosts = [...new Set([...names.hosts.map((h) => h.name), ...listed])];
    const deleted: string[] = [];
    await mapLimit(hosts, ctx.config.orchestrator.parallel_vms, async (host) => {
      await arm.deleteVm(scope, host);
      deleted.push(host);
      beat({ deleted: [...deleted] });
    });
    for (const host of names.hosts)
      await forgetHostKey(path.join(ctx.workDir, names.knownHostsFile), host.wireguardIp);
    const forgotten = new Set([...hosts, ...Object.keys(ctx.facts.vm_states)]);
    return {
      patch: { vm_states: Object.fromEntries([...forgotten].map((h) => [h, null])) },
      events: hosts.map((h) => event('vm_deletion_started', `Deleted VM: ${h}`)),
    };
  },
});
