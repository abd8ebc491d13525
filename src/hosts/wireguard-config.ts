/** Renders the WireGuard files: each VM's cloud-init and the laptop's tunnel config. */
import { stringify } from 'yaml';
import type { HostPlan } from '../config/types';

/** What the cloud-init of one VM needs. */
export interface CloudInitInput {
  host: HostPlan;
  hostPrivateKey: string;
  laptopPublicKey: string;
  laptopIp: string;
  port: number;
  sshUsername: string;
  sshPublicKey?: string;
}

/** The VM's `#cloud-config`: installs WireGuard, writes its key and `wg0.conf`, starts the tunnel. */
export function renderCloudInit(input: CloudInitInput): string {
  const wg0 = [
    '[Interface]',
    `PrivateKey = ${input.hostPrivateKey}`,
    `Address = ${input.host.wireguardIp}/32`,
    `ListenPort = ${input.port}`,
    '',
    '[Peer]',
    `PublicKey = ${input.laptopPublicKey}`,
    `AllowedIPs = ${input.laptopIp}/32`,
    '',
  ].join('\n');
  const doc: Record<string, unknown> = {
    package_update: true,
    package_upgrade: true,
    packages: ['wireguard'],
    write_files: [
      {
        path: '/etc/wireguard/privatekey',
        permissions: '0600',
        owner: 'root:root',
        content: input.hostPrivateKey + '\n',
      },
      { path: '/etc/wireguard/wg0.conf', permissions: '0600', owner: 'root:root', content: wg0 },
    ],
    runcmd: [
      ['systemctl', 'enable', 'wg-quick@wg0'],
      ['systemctl', 'start', 'wg-quick@wg0'],
      ['touch', '/var/lib/cloud/instance/locale-check.skip'],
    ],
    final_message: `k0rdent node ${input.host.name} is ready after $UPTIME seconds`,
  };
  if (input.sshPublicKey) {
    doc.users = [
      'default',
      {
        name: input.sshUsername,
        sudo: 'ALL=(ALL) NOPASSWD:ALL',
        shell: '/bin/bash',
        ssh_authorized_keys: [input.sshPublicKey],
      },
    ];
  }
  return '#cloud-config\n' + stringify(doc, { lineWidth: 0 });
}

/** One VM as the laptop sees it. */
export interface LaptopPeer {
  host: string;
  wireguardIp: string;
  publicKey: string;
  endpoint: string;
}

/** The laptop's `wgk0<SFX>.conf`: the hub dials every VM. */
export function renderLaptopConfig(input: {
  deploymentId: string;
  laptopPrivateKey: string;
  laptopIp: string;
  port: number;
  peers: LaptopPeer[];
}): string {
  const lines = [
    `# WireGuard tunnel of k0rdent deployment ${input.deploymentId}`,
    '[Interface]',
    `PrivateKey = ${input.laptopPrivateKey}`,
    `Address = ${input.laptopIp}/32`,
    '',
  ];
  for (const peer of input.peers) {
    lines.push(
      `# Peer: ${peer.host} (${peer.wireguardIp})`,
      '[Peer]',
      `PublicKey = ${peer.publicKey}`,
      `AllowedIPs = ${peer.wireguardIp}/32`,
      `Endpoint = ${peer.endpoint}:${input.port}`,
      'PersistentKeepalive = 25',
      ''
    );
  }
  return lines.join('\n');
}
