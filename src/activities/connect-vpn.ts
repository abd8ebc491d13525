/** connect_vpn: bring the laptop's tunnel up and see every VM's WireGuard answer. */
import { namesFor } from '../config/naming';
import type { DeploymentNames } from '../config/types';
import type { PhaseContext } from '../workflows/messages';
import { waitFor } from './cluster-ops';
import type { Phase, PhaseFactory } from './phase';
import { event, verdict } from './phase';
import type { Toolbox } from './toolbox';
import { toolbox } from './toolbox';

/** WireGuard re-handshakes every two minutes; a peer silent for longer than this is gone. */
const HANDSHAKE_FRESH_S = 180;

/** A configured command line with its placeholders filled, split into words. */
export function commandWords(template: string, values: Record<string, string>): [string, ...string[]] {
  const words = template
    .trim()
    .split(/\s+/)
    .map((w) => w.replace(/\{(\w+)\}/g, (m, key: string) => values[key] ?? m));
  return words as [string, ...string[]];
}

/** Names of the WireGuard interfaces up on this machine. */
export async function upInterfaces(tools: Toolbox, ctx: PhaseContext): Promise<string[]> {
  const [cmd, ...pre] = commandWords(ctx.config.orchestrator.wg_command, {});
  const result = await tools.run(cmd, [...pre, 'show', 'interfaces'], { allowFailure: true });
  return result.code === 0 ? result.stdout.split(/\s+/).filter(Boolean) : [];
}

/** Latest handshake per peer key on `iface`; undefined when there is no such interface. */
async function handshakes(
  tools: Toolbox,
  ctx: PhaseContext,
  iface: string
): Promise<Map<string, number> | undefined> {
  const [cmd, ...pre] = commandWords(ctx.config.orchestrator.wg_command, {});
  const result = await tools.run(cmd, [...pre, 'show', iface, 'latest-handshakes'], { allowFailure: true });
  const seen = new Map<string, number>();
  if (result.code !== 0) return undefined;
  for (const line of result.stdout.split('\n')) {
    const [key, ts] = line.trim().split(/\s+/);
    if (key && ts) seen.set(key, Number(ts));
  }
  return seen;
}

/** Hosts whose peer has not handshaken recently. */
function silentPeers(ctx: PhaseContext, names: DeploymentNames, seen: Map<string, number>): string[] {
  const now = Date.now() / 1000;
  return names.hosts
    .filter((h) => {
      const key = ctx.facts.wireguard_peers[h.name]?.public_key;
      const at = key ? (seen.get(key) ?? 0) : 0;
      return !(at > 0 && now - at <= HANDSHAKE_FRESH_S);
    })
    .map((h) => h.name);
}

function placeholders(ctx: PhaseContext, tools: Toolbox, names: DeploymentNames) {
  return { config: tools.file(names.laptopWireguardConfig), interface: names.wireguardInterface };
}

/** The connect_vpn phase. */
export const connectVpnPhase: PhaseFactory = (deps): Phase => ({
  async check(ctx) {
    const names = namesFor(ctx.deploymentId, ctx.config);
    const tools = toolbox(deps, ctx);
    // One `wg show`: it fails when the interface is gone.
    const seen = await handshakes(tools, ctx, names.wireguardInterface);
    if (seen === undefined) return verdict([`tunnel ${names.wireguardInterface} is down`]);
    const silent = silentPeers(ctx, names, seen);
    return verdict(silent.length ? [`no recent WireGuard handshake from ${silent.join(', ')}`] : []);
  },

  async apply(ctx) {
    const names = namesFor(ctx.deploymentId, ctx.config);
    const tools = toolbox(deps, ctx);
    const iface = names.wireguardInterface;
    const events = [];
    if (!(await upInterfaces(tools, ctx)).includes(iface)) {
      const [cmd, ...args] = commandWords(
        ctx.config.orchestrator.wireguard_up_command,
        placeholders(ctx, tools, names)
      );
      await tools.run(cmd, args);
      events.push(event('vpn_connected', `Tunnel ${iface} up from ./${names.laptopWireguardConfig}`));
    }
    // The VMs may still be running cloud-init, which starts their side of the tunnel.
    await waitFor(
      {
        what: `WireGuard handshakes on ${iface}`,
        timeoutMs: ctx.config.timeouts.cloud_init_timeout * 1000,
        ...tools.poll,
      },
      async () => {
        const silent = silentPeers(
          ctx,
          names,
          (await handshakes(tools, ctx, iface)) ?? new Map<string, number>()
        );
        return silent.length === 0
          ? { done: true, value: undefined }
          : { done: false, observed: `waiting for ${silent.join(', ')}` };
      }
    );
    events.push(event('vpn_verified', `All ${names.hosts.length} peers of ${iface} completed a handshake`));
    return { patch: { values: { wg_vpn_connected: true } }, events };
  },

  async rollback(ctx) {
    const names = namesFor(ctx.deploymentId, ctx.config);
    const tools = toolbox(deps, ctx);
    // The tunnel goes down; its config stays for the next connect.
    if ((await upInterfaces(tools, ctx)).includes(names.wireguardInterface)) {
      const [cmd, ...args] = commandWords(
        ctx.config.orchestrator.wireguard_down_command,
        placeholders(ctx, tools, names)
      );
      await tools.run(cmd, args);
    }
    return {
      patch: { values: { wg_vpn_connected: false } },
      events: [event('vpn_disconnected', `Tunnel ${names.wireguardInterface} down`)],
    };
  },
});
