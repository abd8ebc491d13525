/** setup_vpn: the laptop's WireGuard config, one peer per VM. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { namesFor } from '../config/naming';
import { readWireguardPrivateKey, writeSecretFile } from '../hosts/keys';
import { renderLaptopConfig } from '../hosts/wireguard-config';
import { isoSecond } from '../workflows/state';
import type { PhaseContext } from '../workflows/messages';
import type { Phase, PhaseFactory } from './phase';
import { event, verdict } from './phase';

async function render(ctx: PhaseContext): Promise<string> {
  const names = namesFor(ctx.deploymentId, ctx.config);
  const peers = names.hosts.map((h) => {
    const vm = ctx.facts.vm_states[h.name];
    const publicKey = ctx.facts.wireguard_peers[h.name]?.public_key;
    if (!vm || !publicKey) throw new Error(`VM ${h.name} has no public IP or WireGuard key recorded yet`);
    return { host: h.name, wireguardIp: h.wireguardIp, publicKey, endpoint: vm.public_ip };
  });
  return renderLaptopConfig({
    deploymentId: ctx.deploymentId,
    laptopPrivateKey: await readWireguardPrivateKey(path.join(ctx.workDir, names.wireguardDir), 'mylaptop'),
    laptopIp: names.laptopWireguardIp,
    port: Number(ctx.facts.values.wireguard_port),
    peers,
  });
}

/** The setup_vpn phase. */
export const setupVpnPhase: PhaseFactory = (): Phase => ({
  async check(ctx) {
    const file = path.join(ctx.workDir, namesFor(ctx.deploymentId, ctx.config).laptopWireguardConfig);
    const current = await fs.readFile(file, 'utf8').catch(() => undefined);
    if (current === undefined) return verdict([`laptop WireGuard config ${file} is missing`]);
    return verdict(
      current === (await render(ctx)) ? [] : ['laptop WireGuard config differs from the deployment']
    );
  },

  async apply(ctx) {
    const names = namesFor(ctx.deploymentId, ctx.config);
    await writeSecretFile(path.join(ctx.workDir, names.laptopWireguardConfig), await render(ctx));
    return {
      patch: {
        values: { wg_laptop_config_created: true, wg_setup_method: 'cli' },
        artifacts: {
          wireguard_laptop_config: {
            path: `./${names.laptopWireguardConfig}`,
            updated_at: isoSecond(Date.now()),
          },
        },
      },
      events: [
        event('vpn_config_generated', `Laptop WireGuard config written to ./${names.laptopWireguardConfig}`),
      ],
    };
  },

  async rollback(ctx) {
    const names = namesFor(ctx.deploymentId, ctx.config);
    await fs.rm(path.join(ctx.workDir, names.laptopWireguardConfig), { force: true });
    return {
      patch: {
        values: { wg_laptop_config_created: false, wg_setup_method: null },
        artifacts: { wireguard_laptop_config: null },
      },
      events: [event('vpn_config_reset', 'Laptop WireGuard config removed')],
    };
  },
});
