/** setup_network: resource group, NSG with the Bash tool's rules, VNet + subnet with the NSG, SSH key resource. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { NsgSpec, SshKeySpec, VnetSpec } from '../azure/adapter';
import { deploymentScope } from '../azure/scope';
import { namesFor } from '../config/naming';
import { ensureSshKeyPair } from '../hosts/keys';
import type { PhaseContext } from '../workflows/messages';
import { FailureTypes } from '../workflows/messages';
import { isoSecond } from '../workflows/state';
import type { Phase, PhaseFactory } from './phase';
import { event, verdict } from './phase';
import { beat, keepingAlive, resumeCursor } from './work';

type Step = 'resource_group' | 'nsg' | 'vnet' | 'ssh_key';

function wireguardPort(ctx: PhaseContext): number | undefined {
  const port = Number(ctx.facts.values.wireguard_port);
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
}

function plan(ctx: PhaseContext, port: number, publicKey = '') {
  const n = namesFor(ctx.deploymentId, ctx.config);
  const nsg: NsgSpec = {
    name: n.nsg,
    rules: [
      {
        name: 'AllowWireGuard',
        priority: 1000,
        protocol: 'Udp',
        port,
        access: 'Allow',
        direction: 'Inbound',
      },
      { name: 'AllowSSH', priority: 1010, protocol: 'Tcp', port: 22, access: 'Allow', direction: 'Inbound' },
    ],
  };
  const vnet: VnetSpec = {
    name: n.vnet,
    addressPrefix: ctx.config.network.vnet_prefix,
    subnet: { name: n.subnet, addressPrefix: ctx.config.network.subnet_prefix, nsg: n.nsg },
  };
  const sshKey: SshKeySpec = { name: n.sshKeyResource, publicKey };
  return { names: n, scope: deploymentScope(ctx.deploymentId, ctx.config), nsg, vnet, sshKey };
}

/** The setup_network phase. */
export const setupNetworkPhase: PhaseFactory = (deps): Phase => ({
  async check(ctx) {
    const port = wireguardPort(ctx);
    if (port === undefined) return verdict(['wireguard_port is not set (prepare_deployment has not run)']);
    const n = namesFor(ctx.deploymentId, ctx.config);
    const readable = async (relative: string) =>
      fs.readFile(path.join(ctx.workDir, relative), 'utf8').then(
        (text) => text.trim(),
        () => undefined
      );
    const privateKey = await readable(n.sshPrivateKeyPath);
    const publicKey = await readable(n.sshPublicKeyPath);
    const { scope, nsg, vnet, sshKey } = plan(ctx, port);
    const arm = deps.azure(ctx.cloud);
    const problems = await arm.inspectResourceGroup(scope);
    // Nothing else can exist without the group.
    if (problems.length === 0) {
      problems.push(
        ...(await arm.inspectNsg(scope, nsg)),
        ...(await arm.inspectVnet(scope, vnet)),
        ...(await arm.inspectSshPublicKey(scope, { name: sshKey.name, publicKey }))
      );
    }
    if (privateKey === undefined) problems.push(`SSH key pair ${n.sshPrivateKeyPath} is missing`);
    return verdict(problems);
  },

  async apply(ctx) {
    const port = wireguardPort(ctx);
    if (port === undefined) {
      throw ApplicationFailure.create({
        type: FailureTypes.InvalidConfig,
        message: 'wireguard_port is not set: prepare_deployment must run before setup_network',
        nonRetryable: true,
      });
    }
    const n = namesFor(ctx.deploymentId, ctx.config);
    // The key is made while ARM builds the network: only the SSH key resource waits for it.
    const key = ensureSshKeyPair(path.join(ctx.workDir, n.sshPrivateKeyPath), `k0rdent-${ctx.deploymentId}`);
    key.catch(() => undefined);
    const { scope, nsg, vnet } = plan(ctx, port);
    const arm = deps.azure(ctx.cloud);
    const done = new Set<Step>(resumeCursor<{ done: Step[] }>().done ?? []);
    const step = async (name: Step, work: () => Promise<unknown>) => {
      if (done.has(name)) return;
      await work();
      done.add(name);
      beat({ done: [...done] });
    };
    beat({ done: [...done] });
    await step('resource_group', () => arm.ensureResourceGroup(scope));
    // The key does not depend on the network; the VNet's subnet references the NSG.
    const branches = await Promise.allSettled([
      (async () => {
        await step('nsg', () => arm.ensureNsg(scope, nsg));
        await step('vnet', () => arm.ensureVnet(scope, vnet));
      })(),
      (async () => {
        // A key waiting for a free generation thread heartbeats meanwhile.
        const { publicKey } = await keepingAlive(key);
        await step('ssh_key', () => arm.ensureSshPublicKey(scope, { name: n.sshKeyResource, publicKey }));
      })(),
    ]);
    // Both branches have stopped before a failure leaves the activity.
    for (const branch of branches) if (branch.status === 'rejected') throw branch.reason;
    await key;
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
    const n = namesFor(ctx.deploymentId, ctx.config);
    // Deleting the resource group deletes everything in it, VMs included.
    await deps.azure(ctx.cloud).deleteResourceGroup(deploymentScope(ctx.deploymentId, ctx.config));
    await fs.rm(path.join(ctx.workDir, path.dirname(n.sshPrivateKeyPath)), { recursive: true, force: true });
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
      events: [event('azure_infrastructure_reset', `Resource group ${n.resourceGroup} deleted`)],
    };
  },
});
