/** prepare_deployment: WireGuard keys for the laptop and every VM, and each VM's cloud-init. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomInt } from 'node:crypto';
import { namesFor } from '../config/naming';
import {
  ensureWireguardKeys,
  readWireguardPrivateKey,
  wireguardPublicKey,
  writeSecretFile,
} from '../hosts/keys';
import { renderCloudInit } from '../hosts/wireguard-config';
import { isoSecond } from '../workflows/state';
import type { PhaseContext, WireguardPeer } from '../workflows/messages';
import type { Phase, PhaseFactory } from './phase';
import { event, verdict } from './phase';
import { beat } from './work';

const LAPTOP = 'mylaptop';

function peersOf(ctx: PhaseContext) {
  const names = namesFor(ctx.deploymentId, ctx.config);
  return {
    names,
    peers: [
      { name: LAPTOP, ip: names.laptopWireguardIp, role: 'hub' as const },
      ...names.hosts.map((h) => ({ name: h.name, ip: h.wireguardIp, role: h.role })),
    ],
  };
}

function cloudInitFile(ctx: PhaseContext, host: string): string {
  const { cloudInitDir } = namesFor(ctx.deploymentId, ctx.config);
  return path.join(ctx.workDir, cloudInitDir, `${host}-cloud-init.yaml`);
}

/** The prepare_deployment phase. */
export const prepareDeploymentPhase: PhaseFactory = (): Phase => ({
  async check(ctx) {
    const { names, peers } = peersOf(ctx);
    const problems: string[] = [];
    const dir = path.join(ctx.workDir, names.wireguardDir);
    for (const peer of peers) {
      const recorded = ctx.facts.wireguard_peers[peer.name]?.public_key;
      try {
        const derived = wireguardPublicKey(await readWireguardPrivateKey(dir, peer.name));
        if (recorded !== derived) problems.push(`key of ${peer.name} does not match the recorded public key`);
      } catch {
        problems.push(`private key of ${peer.name} is missing or invalid`);
      }
    }
    for (const host of names.hosts) {
      try {
        await fs.access(cloudInitFile(ctx, host.name));
      } catch {
        problems.push(`cloud-init of ${host.name} is missing`);
      }
    }
    return verdict(problems);
  },

  async apply(ctx) {
    const { names, peers } = peersOf(ctx);
    const dir = path.join(ctx.workDir, names.wireguardDir);
    const now = isoSecond(Date.now());
    const existingPort = Number(ctx.facts.values.wireguard_port);
    const port = Number.isInteger(existingPort) && existingPort > 0 ? existingPort : randomInt(30000, 64001);
    const patchPeers: Record<string, WireguardPeer> = {};
    const publicKeys: Record<string, string> = {};
    let generated = 0;
    for (const peer of peers) {
      const pair = await ensureWireguardKeys(dir, peer.name);
      if (pair.created) generated++;
      publicKeys[peer.name] = pair.publicKey;
      patchPeers[peer.name] = {
        ip: peer.ip,
        role: peer.role,
        public_key: pair.publicKey,
        private_key_file: path.join(names.wireguardDir, `${peer.name}_privkey`),
        keys_generated: true,
        keys_generated_at: ctx.facts.wireguard_peers[peer.name]?.keys_generated_at ?? now,
      };
      beat({ keys: peer.name });
    }
    const sshPublicKey = await fs
      .readFile(path.join(ctx.workDir, names.sshPublicKeyPath), 'utf8')
      .then((s) => s.trim())
      .catch(() => undefined);
    for (const host of names.hosts) {
      const content = renderCloudInit({
        host,
        hostPrivateKey: await readWireguardPrivateKey(dir, host.name),
        laptopPublicKey: publicKeys[LAPTOP] ?? '',
        laptopIp: names.laptopWireguardIp,
        port,
        sshUsername: ctx.config.ssh.username,
        sshPublicKey,
      });
      await writeSecretFile(cloudInitFile(ctx, host.name), content);
      beat({ cloudInit: host.name });
    }
    return {
      patch: {
        values: { wg_keys_generated: true, wireguard_port: String(port) },
        wireguard_peers: patchPeers,
        artifacts: {
          cloud_init_directory: { path: `./${names.cloudInitDir}`, updated_at: now },
          wireguard_keys_directory: { path: `./${names.wireguardDir}`, updated_at: now },
        },
      },
      events: [
        event('wireguard_ips_assigned', `WireGuard IPs assigned to ${peers.length} peers`),
        event(
          'wireguard_keys_generated',
          generated > 0
            ? `WireGuard keys generated for ${generated} peers`
            : 'WireGuard keys reused for every peer'
        ),
        event('cloud_init_generated', `Cloud-init files generated for ${names.hosts.length} VMs`),
      ],
    };
  },

  async rollback(ctx) {
    const { names, peers } = peersOf(ctx);
    await fs.rm(path.join(ctx.workDir, names.cloudInitDir), { recursive: true, force: true });
    await fs.rm(path.join(ctx.workDir, names.wireguardDir), { recursive: true, force: true });
    return {
      patch: {
        values: { wg_keys_generated: false, wireguard_port: null },
        wireguard_peers: Object.fromEntries(peers.map((p) => [p.name, null])),
        artifacts: { cloud_init_directory: null, wireguard_keys_directory: null },
      },
      events: [event('preparation_reset', 'WireGuard keys and cloud-init files removed')],
    };
  },
});
