/** connect_vpn: bring the laptop's tunnel up and see every peer answer. */
import { namesFor } from '../config/naming';
import type { Phase, PhaseFactory } from './phase';
import { event, simulate, verdict } from './phase';

const TUNNEL = 'wireguardInterface';

/** The connect_vpn phase. */
export const connectVpnPhase: PhaseFactory = (deps): Phase => ({
  async check(ctx) {
    const names = namesFor(ctx.deploymentId, ctx.config);
    const tunnel = await deps.world(ctx.workDir).get(TUNNEL, names.wireguardInterface);
    return verdict(tunnel?.props.up === true ? [] : [`tunnel ${names.wireguardInterface} is down`]);
  },

  async apply(ctx) {
    const names = namesFor(ctx.deploymentId, ctx.config);
    await simulate(ctx, 'handshakes', 2);
    await deps.world(ctx.workDir).put(ctx.deploymentId, TUNNEL, names.wireguardInterface, {
      up: true,
      config: names.laptopWireguardConfig,
      peers: names.hosts.map((h) => h.wireguardIp),
    });
    return {
      patch: { values: { wg_vpn_connected: true } },
      events: [
        event('vpn_connected', `Tunnel ${names.wireguardInterface} up, ${names.hosts.length} peers answered`),
      ],
    };
  },

  async rollback(ctx) {
    const names = namesFor(ctx.deploymentId, ctx.config);
    // The tunnel goes down; its config stays for the next connect.
    await deps.world(ctx.workDir).remove(TUNNEL, names.wireguardInterface);
    return {
      patch: { values: { wg_vpn_connected: false } },
      events: [event('vpn_disconnected', `Tunnel ${names.wireguardInterface} down`)],
    };
  },
});
