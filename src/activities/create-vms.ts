/** create_vms: every VM in parallel (bounded), with zone, size, image, priority and cloud-init. */
import { createHash } from 'node:crypto';
import { namesFor } from '../config/naming';
import { isoSecond } from '../workflows/state';
import type { VmState } from '../workflows/messages';
import type { Phase, PhaseFactory } from './phase';
import { event, simulate, verdict } from './phase';
import { mapLimit } from './work';

const VM = 'virtualMachine';

function publicIpFor(deploymentId: string, host: string): string {
  const h = createHash('sha256').update(`${deploymentId}/${host}`).digest();
  return `20.${(h[0] ?? 0) % 250}.${(h[1] ?? 0) % 250}.${((h[2] ?? 0) % 250) + 1}`;
}

function privateIpFor(subnetPrefix: string, index: number): string {
  const base = subnetPrefix.split('/')[0]?.split('.').slice(0, 3).join('.') ?? '10.0.1';
  return `${base}.${4 + index}`;
}

/** The create_vms phase. */
export const createVmsPhase: PhaseFactory = (deps): Phase => ({
  async check(ctx) {
    const world = deps.world(ctx.workDir);
    const problems: string[] = [];
    for (const host of namesFor(ctx.deploymentId, ctx.config).hosts) {
      const vm = await world.get(VM, host.name);
      if (!vm) problems.push(`VM ${host.name} is missing`);
      else if (vm.owner !== ctx.deploymentId) problems.push(`VM ${host.name} belongs to ${vm.owner}`);
      else if (vm.props.powerState !== 'running')
        problems.push(`VM ${host.name} is ${String(vm.props.powerState)}`);
    }
    return verdict(problems);
  },

  async apply(ctx) {
    const world = deps.world(ctx.workDir);
    const names = namesFor(ctx.deploymentId, ctx.config);
    const started = names.hosts.map((h) => event('vm_creation_started', `Started creating VM: ${h.name}`));
    const states = await mapLimit(names.hosts, ctx.config.orchestrator.parallel_vms, async (host, index) => {
      const existing = await world.get(VM, host.name);
      const publicIp = publicIpFor(ctx.deploymentId, host.name);
      const privateIp = privateIpFor(ctx.config.network.subnet_prefix, index);
      if (existing?.props.powerState !== 'running') {
        await world.put(ctx.deploymentId, VM, host.name, {
          resourceGroup: names.resourceGroup,
          zone: host.zone,
          size: host.size,
          image: ctx.config.azure.vm_image,
          priority: ctx.config.azure.vm_priority,
          evictionPolicy:
            ctx.config.azure.vm_priority === 'Spot' ? ctx.config.azure.eviction_policy : undefined,
          customData: `${names.cloudInitDir}/${host.name}-cloud-init.yaml`,
          osDiskSizeGb: 64,
          publicIp,
          privateIp,
          powerState: 'creating',
        });
        await simulate(ctx, host.name, 3);
        await world.put(ctx.deploymentId, VM, host.name, { powerState: 'running' });
      }
      const state: VmState = {
        public_ip: publicIp,
        private_ip: privateIp,
        state: 'Succeeded',
        last_checked: isoSecond(Date.now()),
      };
      return [host.name, state] as const;
    });
    return { patch: { vm_states: Object.fromEntries(states) }, events: started };
  },

  async rollback(ctx) {
    const world = deps.world(ctx.workDir);
    const names = namesFor(ctx.deploymentId, ctx.config);
    await mapLimit(names.hosts, ctx.config.orchestrator.parallel_vms, async (host) => {
      const vm = await world.get(VM, host.name);
      if (vm && vm.owner === ctx.deploymentId) await world.remove(VM, host.name);
    });
    return {
      patch: { vm_states: Object.fromEntries(names.hosts.map((h) => [h.name, null])) },
      events: names.hosts.map((h) => event('vm_deletion_started', `Deleted VM: ${h.name}`)),
    };
  },
});
