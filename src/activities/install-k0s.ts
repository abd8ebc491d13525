/**
 * install_k0s: every VM checked over SSH (cloud-init finished, WireGuard up), the k0sctl config, `k0sctl
 * apply`, the kubeconfig (0600) and every node Ready.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { namesFor } from '../config/naming';
import type { DeploymentNames, HostPlan } from '../config/types';
import { k0sRoles, renderK0sctlConfig } from '../cluster/k0sctl';
import { writeSecretFile } from '../hosts/keys';
import type { SshSession } from '../hosts/ssh';
import { isoSecond } from '../workflows/state';
import type { EventRecord, PhaseContext } from '../workflows/messages';
import { FailureTypes } from '../workflows/messages';
import type { KubeObject } from './cluster-ops';
import { waitFor } from './cluster-ops';
import type { Phase, PhaseFactory } from './phase';
import { event, verdict } from './phase';
import type { Toolbox } from './toolbox';
import { toolbox } from './toolbox';
import { mapLimit } from './work';

const K0SCTL_LOCK = '/run/lock/k0sctl';

async function answer(session: SshSession, command: string): Promise<{ code: number; out: string }> {
  const r = await session.exec(command);
  return { code: r.code, out: (r.stdout + r.stderr).trim() };
}

/** Waits for cloud-init to finish on a host, then checks its WireGuard service and handshake. */
async function verifyHost(ctx: PhaseContext, tools: Toolbox, host: HostPlan): Promise<void> {
  const laptopKey = ctx.facts.wireguard_peers.mylaptop?.public_key;
  const t = ctx.config.timeouts;
  await tools.ssh(host, async (session) => {
    await waitFor(
      {
        what: `cloud-init on ${host.name}`,
        timeoutMs: t.cloud_init_timeout * 1000,
        firstMs: tools.poll.firstMs,
        intervalMs: t.cloud_init_check_interval * 1000,
      },
      async () => {
        const s = await answer(session, 'cloud-init status');
        if (/status:\s*error/.test(s.out) || s.code === 1)
          throw ApplicationFailure.create({
            type: FailureTypes.CommandFailed,
            message: `cloud-init failed on ${host.name}: ${s.out}`,
          });
        return /status:\s*done/.test(s.out)
          ? { done: true, value: undefined }
          : { done: false, observed: s.out };
      }
    );
    const service = await answer(session, 'sudo systemctl is-active wg-quick@wg0');
    if (service.out !== 'active')
      throw ApplicationFailure.create({
        type: FailureTypes.CommandFailed,
        message: `WireGuard on ${host.name} is ${service.out || 'not running'} although cloud-init finished`,
      });
    const hs = await answer(session, 'sudo wg show wg0 latest-handshakes');
    const line = hs.out
      .split('\n')
      .find((l) => l.startsWith(`${laptopKey ?? ''}\t`) || l.startsWith(`${laptopKey ?? ''} `));
    if (hs.code !== 0 || !line || Number(line.split(/\s+/)[1]) <= 0)
      throw ApplicationFailure.create({
        type: FailureTypes.CommandFailed,
        message: `WireGuard on ${host.name} has no handshake with the laptop: ${hs.out}`,
      });
  });
}

/** Clears k0sctl locks an interrupted run left, after giving a still-running k0sctl time to end. */
async function clearStaleLocks(ctx: PhaseContext, tools: Toolbox, names: DeploymentNames): Promise<string[]> {
  const locked = async () =>
    (
      await mapLimit(names.hosts, ctx.config.orchestrator.parallel_vms, async (h) =>
        (await tools.ssh(h, (s) => s.exec(`sudo test -e ${K0SCTL_LOCK}`))).code === 0 ? h : undefined
      )
    ).filter((h): h is HostPlan => h !== undefined);
  const held = await locked();
  if (held.length === 0) return [];
  const still = await waitFor(
    {
      what: `k0sctl lock on ${held.map((h) => h.name).join(', ')}`,
      timeoutMs: ctx.config.timeouts.k0s_install_wait * 1000,
      ...tools.poll,
    },
    async () => {
      const now = await locked();
      return now.length === 0
        ? { done: true, value: now }
        : { done: false, observed: `${now.length} hosts locked` };
    }
  ).catch(() => locked());
  for (const h of still) await tools.ssh(h, (s) => s.exec(`sudo rm -f ${K0SCTL_LOCK}`));
  return still.map((h) => h.name);
}

/** Nodes that are missing or not Ready, by host name. */
async function unreadyNodes(tools: Toolbox, names: DeploymentNames): Promise<string[] | undefined> {
  const result = await tools.kubectl(['get', 'nodes', '-o', 'json'], { allowFailure: true });
  if (result.code !== 0) return undefined;
  const nodes = (JSON.parse(result.stdout) as { items: KubeObject[] }).items;
  const ready = new Set(
    nodes
      .filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
      .map((n) => n.metadata.name)
  );
  // A host that is only a controller runs no kubelet, so it is not a node.
  return k0sRoles(names)
    .filter((h) => h.role !== 'controller' && !ready.has(h.host))
    .map((h) => h.host);
}

/** The install_k0s phase. */
export const installK0sPhase: PhaseFactory = (deps): Phase => ({
  async check(ctx) {
    const names = namesFor(ctx.deploymentId, ctx.config);
    const tools = toolbox(deps, ctx);
    if (!(await tools.exists(names.kubeconfig)))
      return verdict([`kubeconfig ./${names.kubeconfig} is missing`]);
    const unready = await unreadyNodes(tools, names);
    if (unready === undefined) return verdict(['the cluster does not answer with the kubeconfig']);
    return verdict(unready.length ? [`nodes not Ready: ${unready.join(', ')}`] : []);
  },

  async apply(ctx) {
    const names = namesFor(ctx.deploymentId, ctx.config);
    const tools = toolbox(deps, ctx);
    const now = () => isoSecond(Date.now());
    const events: EventRecord[] = [];
    const configFile = tools.file(names.k0sctlConfig);
    await fs.mkdir(path.dirname(configFile), { recursive: true });
    await fs.writeFile(configFile, renderK0sctlConfig(names, ctx.config));
    events.push(event('k0s_config_generated', `k0sctl config written to ./${names.k0sctlConfig}`));

    await mapLimit(names.hosts, ctx.config.orchestrator.parallel_vms, (h) => verifyHost(ctx, tools, h));
    events.push(event('hosts_verified', `cloud-init finished and WireGuard up on ${names.hosts.length} VMs`));

    const cleared = await clearStaleLocks(ctx, tools, names);
    if (cleared.length)
      events.push(
        event('k0sctl_lock_cleared', `Lock of an interrupted k0sctl run cleared on ${cleared.join(', ')}`)
      );

    events.push(event('k0s_deployment_started', `k0s ${ctx.config.software.k0s.version} deployment started`));
    // k0sctl apply is bounded by the phase's start-to-close timeout, not by a command timeout.
    await tools.run('k0sctl', ['apply', '--config', configFile, '--disable-telemetry'], { timeoutMs: 0 });
    events.push(event('k0s_deployment_completed', `k0s cluster deployed on ${names.hosts.length} nodes`));

    const kubeconfig = await tools.run('k0sctl', ['kubeconfig', '--config', configFile], {
      secretOutput: true,
    });
    if (!/contexts:/.test(kubeconfig.stdout) || /contexts:\s*\[\]/.test(kubeconfig.stdout))
      throw ApplicationFailure.create({
        type: FailureTypes.CommandFailed,
        message: 'k0sctl kubeconfig printed no context',
      });
    await writeSecretFile(tools.file(names.kubeconfig), kubeconfig.stdout);
    events.push(event('kubeconfig_retrieved', `Kubeconfig saved to ./${names.kubeconfig}`));

    await waitFor(
      { what: 'nodes Ready', timeoutMs: ctx.config.timeouts.k0s_install_wait * 1000, ...tools.poll },
      async () => {
        const unready = await unreadyNodes(tools, names);
        if (unready === undefined) return { done: false, observed: 'API not answering' };
        return unready.length === 0
          ? { done: true, value: undefined }
          : { done: false, observed: `not Ready: ${unready.join(', ')}` };
      }
    );
    events.push(event('k0s_nodes_ready', `${names.hosts.length} nodes Ready`));
    return {
      patch: {
        values: { k0s_config_generated: true, k0s_cluster_deployed: true },
        artifacts: {
          k0sctl_config: { path: `./${names.k0sctlConfig}`, updated_at: now() },
          kubeconfig_file: { path: `./${names.kubeconfig}`, updated_at: now() },
        },
      },
      events,
    };
  },

  async rollback(ctx) {
    const names = namesFor(ctx.deploymentId, ctx.config);
    const tools = toolbox(deps, ctx);
    const configFile = tools.file(names.k0sctlConfig);
    await fs.mkdir(path.dirname(configFile), { recursive: true });
    await fs.writeFile(configFile, renderK0sctlConfig(names, ctx.config));
    // An apply cancelled by this very rollback leaves its locks behind, as a killed k0sctl does.
    const cleared = await clearStaleLocks(ctx, tools, names);
    await tools.run('k0sctl', ['reset', '--config', configFile, '--force', '--disable-telemetry'], {
      timeoutMs: 0,
    });
    await fs.rm(path.dirname(configFile), { recursive: true, force: true });
    return {
      patch: {
        values: { k0s_config_generated: false, k0s_cluster_deployed: false },
        artifacts: { k0sctl_config: null, kubeconfig_file: null },
      },
      events: [
        ...(cleared.length
          ? [
              event(
                'k0sctl_lock_cleared',
                `Lock of an interrupted k0sctl run cleared on ${cleared.join(', ')}`
              ),
            ]
          : []),
        event('k0s_cluster_uninstalled', `k0s cluster ${ctx.deploymentId} reset`),
        event('k0s_config_reset', 'k0sctl config and kubeconfig removed'),
      ],
    };
  },
});
