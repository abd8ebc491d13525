/** setup_network: resource group, VNet, subnet, NSG with the Bash tool's rules, SSH key resource. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { namesFor } from '../config/naming';
import { ensureSshKeyPair } from '../hosts/keys';
import { isoSecond } from '../workflows/state';
import type { PhaseContext } from '../workflows/messages';
import type { Phase, PhaseFactory } from './phase';
import { event, simulate, verdict } from './phase';

function plan(ctx: PhaseContext, sshPublicKey?: string) {
  const n = namesFor(ctx.deploymentId, ctx.config);
  const port = Number(ctx.facts.values.wireguard_port);
  return {
    names: n,
    resources: [
      {
        kind: 'resourceGroup',
        name: n.resourceGroup,
        props: {
          location: ctx.config.azure.location,
          tags: {
            owner: ctx.config.metadata.owner ?? 'unknown',
            'created-by': 'k0rdent-deploy',
            'cluster-id': n.deploymentId,
          },
        },
      },
      { kind: 'virtualNetwork', name: n.vnet, props: { addressPrefix: ctx.config.network.vnet_prefix } },
      {
        kind: 'subnet',
        name: n.subnet,
        props: { addressPrefix: ctx.config.network.subnet_prefix, nsg: n.nsg },
      },
      {
        kind: 'networkSecurityGroup',
        name: n.nsg,
        props: {
          rules: [
            {
              name: 'AllowWireGuard',
              priority: 1000,
              access: 'Allow',
              protocol: 'Udp',
              direction: 'Inbound',
              port,
            },
            {
              name: 'AllowSSH',
              priority: 1010,
              access: 'Allow',
              protocol: 'Tcp',
              direction: 'Inbound',
              port: 22,
            },
          ],
        },
      },
      {
        kind: 'sshPublicKey',
        name: n.sshKeyResource,
        props: sshPublicKey ? { publicKey: sshPublicKey } : {},
      },
    ],
  };
}

/** The setup_network phase. */
export const setupNetworkPhase: PhaseFactory = (deps): Phase => ({
  async check(ctx) {
    const world = deps.world(ctx.workDir);
    const { names, resources } = plan(ctx);
    const problems: string[] = [];
    for (const r of resources) {
      const found = await world.get(r.kind, r.name);
      if (!found) problems.push(`${r.kind} ${r.name} is missing`);
      else if (found.owner !== ctx.deploymentId)
        problems.push(`${r.kind} ${r.name} belongs to ${found.owner}`);
    }
    try {
      await fs.access(path.join(ctx.workDir, names.sshPrivateKeyPath));
    } catch {
      problems.push(`SSH private key ${names.sshPrivateKeyPath} is missing`);
    }
    return verdict(problems);
  },

  async apply(ctx) {
    const world = deps.world(ctx.workDir);
    const n = namesFor(ctx.deploymentId, ctx.config);
    const ssh = await ensureSshKeyPair(
      path.join(ctx.workDir, n.sshPrivateKeyPath),
      `k0rdent-${ctx.deploymentId}`
    );
    const { resources } = plan(ctx, ssh.publicKey);
    for (const r of resources) {
      await world.put(ctx.deploymentId, r.kind, r.name, r.props);
      await simulate(ctx, r.kind, 1);
    }
    const now = isoSecond(Date.now());
    return {
      patch: {
        values: {
          azure_rg_status: 'created',
          azure_network_status: 'created',
          azure_ssh_key_status: 'created',
        },
        artifacts: {
          azure_ssh_private_key: { path: `./${n.sshPrivateKeyPath}`, updated_at: now },
          azure_ssh_public_key: { path: `./${n.sshPublicKeyPath}`, updated_at: now },
        },
      },
      events: [
        event(
          'azure_rg_created',
          `Resource group ${n.resourceGroup} created in ${ctx.config.azure.location}`
        ),
        event('azure_ssh_key_created', `SSH key ${n.sshKeyResource} created`),
        event('azure_network_created', `VNet ${n.vnet} with subnet ${n.subnet} created`),
        event('azure_setup_completed', `Network security group ${n.nsg} configured`),
      ],
    };
  },

  async rollback(ctx) {
    const world = deps.world(ctx.workDir);
    const { names, resources } = plan(ctx);
    // Deleting the resource group deletes everything in it.
    for (const r of [...resources].reverse()) await world.remove(r.kind, r.name);
    for (const vm of await world.list('virtualMachine')) {
      if (vm.owner === ctx.deploymentId) await world.remove(vm.kind, vm.name);
    }
    await fs.rm(path.join(ctx.workDir, path.dirname(names.sshPrivateKeyPath)), {
      recursive: true,
      force: true,
    });
    return {
      patch: {
        values: {
          azure_rg_status: 'deleted',
          azure_network_status: 'deleted',
          azure_ssh_key_status: 'deleted',
        },
        vm_states: Object.fromEntries(Object.keys(ctx.facts.vm_states).map((h) => [h, null])),
        artifacts: { azure_ssh_private_key: null, azure_ssh_public_key: null },
      },
      events: [event('azure_infrastructure_reset', `Resource group ${names.resourceGroup} deleted`)],
    };
  },
});
