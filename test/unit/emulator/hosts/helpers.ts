/**
 * Shared helpers of the host world tests: an in-process emulator with a CA file, deployments made through
 * the ARM adapter (real SDK) with a real cloud-init, SSH through the emulator's route, and the emulated
 * tools run as child processes through their shims.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { Client } from 'ssh2';
import type { ArmAdapter, DeploymentScope } from '../../../../src/azure/adapter';
import { parseImageUrn } from '../../../../src/azure/adapter';
import type { AzureTarget } from '../../../../src/azure/target';
import { emulatorTarget } from '../../../../src/azure/target';
import type { HostPlan } from '../../../../src/config/types';
import type { ArmEmulator, ArmEmulatorOptions } from '../../../../emulator/src/arm';
import { startArmEmulator } from '../../../../emulator/src/arm';
import type { ClusterPart, HostTimings, WorldServices } from '../../../../emulator/src/hosts/types';
import { EMULATED_TOOLS_BIN, emulatorAccess } from '../../../../emulator/src/access';
import { toolSocketFor } from '../../../../emulator/src/tools/socket';
import type { WireguardKeyPair } from '../../../../src/hosts/keys';
import { ensureSshKeyPair, generateWireguardKeyPair } from '../../../../src/hosts/keys';
import type { RunResult } from '../../../../src/hosts/run-command';
import { runCommand } from '../../../../src/hosts/run-command';
import { renderCloudInit, renderLaptopConfig } from '../../../../src/hosts/wireguard-config';
import { adapterFor, scopeOf } from '../../azure/helpers';

/** Timings for these tests: long enough to see each step, short enough to wait for. */
export const TEST_TIMINGS: Partial<HostTimings> = { bootMs: 300, wireguardStartMs: 100, cloudInitMs: 400 };

/** WireGuard port of the test deployments. */
export const WG_PORT = 51871;

/** The admin user of the test VMs. */
export const ADMIN = 'k0rdent';

/** An emulator with its CA on disk and a target and adapter pointing at it. */
export interface World {
  arm: ArmEmulator;
  dir: string;
  target: AzureTarget;
  adapter: ArmAdapter;
  /** Environment of the emulated tools. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * A stand-in for the cluster part: it hands the tests the world's services, answers `k0sOn` from a map,
 * echoes the requests delegated to it and keeps `data` through dump/load.
 */
export class FakeCluster {
  services?: WorldServices;
  readonly k0s = new Map<string, { version: string; role: string }>();
  data: unknown = { releases: [] };
  resets = 0;

  /** The factory to pass as `hosts.cluster`. */
  readonly factory = (services: WorldServices): ClusterPart => {
    this.services = services;
    return {
      handle: (method, route, query, body) =>
        Promise.resolve({ status: 200, body: { method, route, query: Object.fromEntries(query), body } }),
      k0sOn: (deploymentId, machine) => this.k0s.get(`${deploymentId}/${machine}`),
      dump: () => this.data,
      load: (data) => {
        this.data = data;
      },
      reset: () => {
        this.resets++;
        this.data = { releases: [] };
      },
    };
  };

  /** The world's services (the cluster part is built when the emulator starts). */
  get world(): WorldServices {
    if (!this.services) throw new Error('the emulator did not build its cluster part');
    return this.services;
  }
}

/** Starts an emulator (own temp folder) with short LROs, the test timings and a fake cluster part. */
export async function startWorld(
  opts: ArmEmulatorOptions = {},
  dir?: string,
  cluster = new FakeCluster()
): Promise<World & { cluster: FakeCluster }> {
  const folder = dir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-hosts-')));
  const arm = await startArmEmulator({
    lro: { defaultMs: 20 },
    ...opts,
    hosts: { cluster: cluster.factory, ...opts.hosts, timings: { ...TEST_TIMINGS, ...opts.hosts?.timings } },
  });
  const caFile = path.join(folder, 'ca.pem');
  await fs.writeFile(caFile, arm.caPem);
  const target = emulatorTarget(arm.endpoint, caFile);
  return {
    arm,
    cluster,
    dir: folder,
    target,
    adapter: adapterFor(target),
    env: {
      K0RDENT_EMULATOR_URL: arm.endpoint,
      K0RDENT_EMULATOR_CA: caFile,
      K0RDENT_EMULATOR_TOOLS: toolSocketFor(arm.endpoint),
    },
    close: async () => {
      await arm.close();
      if (dir === undefined) await fs.rm(folder, { recursive: true, force: true });
    },
  };
}

/** The SSH key pair of the tests (RSA 4096, made once per run). */
export interface SshKey {
  privateKey: string;
  publicKey: string;
}

const sshKeys = new Map<string, Promise<SshKey>>();

/** An RSA key pair made by the production helper, cached per name for the run. */
export function sshKey(name = 'id_rsa'): Promise<SshKey> {
  let key = sshKeys.get(name);
  if (!key) {
    key = (async () => {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-ssh-'));
      const file = path.join(dir, name);
      try {
        const { publicKey } = await ensureSshKeyPair(file, `${name}@tests`);
        return { privateKey: await fs.readFile(file, 'utf8'), publicKey };
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    })();
    sshKeys.set(name, key);
  }
  return key;
}

/** One VM of a test deployment. */
export interface DeployedHost extends HostPlan {
  keys: WireguardKeyPair;
  publicIp: string;
}

/** A test deployment: its VMs and the laptop's side of the tunnel. */
export interface Deployment {
  scope: DeploymentScope;
  hosts: DeployedHost[];
  laptop: WireguardKeyPair;
  laptopIp: string;
  /** Interface name: `wgk0<suffix>`. */
  iface: string;
  /** Renders the laptop config, optionally with other keys than the real ones. */
  laptopConfig(overrides?: { laptopPrivateKey?: string; peerKeys?: Record<string, string> }): string;
}

/** Options of `deploy`. */
export interface DeployOptions {
  /** Cloud-init content per host name instead of the rendered one (base64 is applied here). */
  cloudInit?: Record<string, string>;
  /** Laptop public key written into the VMs' cloud-init (default: the laptop's own). */
  vmLaptopKey?: string;
}

let deployments = 0;

/** Makes a deployment's resource group, network and `count` VMs through the adapter. */
export async function deploy(world: World, count: number, opts: DeployOptions = {}): Promise<Deployment> {
  const suffix = `hw${String(deployments++).padStart(3, '0')}${process.pid % 1000}`;
  const scope = scopeOf(`k0rdent-${suffix}`);
  const { adapter } = world;
  const key = await sshKey();
  const laptop = generateWireguardKeyPair();
  const net = 10 + (deployments % 200);
  const laptopIp = `172.30.${net}.1`;
  await adapter.ensureResourceGroup(scope);
  await adapter.ensureNsg(scope, {
    name: 'nsg',
    rules: [
      {
        name: 'AllowWireGuard',
        priority: 1000,
        protocol: 'Udp',
        port: WG_PORT,
        access: 'Allow',
        direction: 'Inbound',
      },
      { name: 'AllowSSH', priority: 1010, protocol: 'Tcp', port: 22, access: 'Allow', direction: 'Inbound' },
    ],
  });
  await adapter.ensureVnet(scope, {
    name: 'vnet',
    addressPrefix: '10.0.0.0/16',
    subnet: { name: 'subnet', addressPrefix: '10.0.1.0/24', nsg: 'nsg' },
  });
  const hosts: DeployedHost[] = [];
  for (let i = 0; i < count; i++) {
    const plan: HostPlan = {
      name: i === 0 ? 'k0s-controller-1' : `k0s-worker-${i}`,
      role: i === 0 ? 'controller' : 'worker',
      zone: 1,
      size: 'Standard_B2s',
      wireguardIp: `172.30.${net}.${11 + i}`,
    };
    const keys = generateWireguardKeyPair();
    const pip = await adapter.ensurePublicIp(scope, { name: `${plan.name}-pip`, zone: 1 });
    await adapter.ensureNic(scope, {
      name: `${plan.name}-nic`,
      vnet: 'vnet',
      subnet: 'subnet',
      nsg: 'nsg',
      publicIp: `${plan.name}-pip`,
    });
    const cloudInit =
      opts.cloudInit?.[plan.name] ??
      renderCloudInit({
        host: plan,
        hostPrivateKey: keys.privateKey,
        laptopPublicKey: opts.vmLaptopKey ?? laptop.publicKey,
        laptopIp,
        port: WG_PORT,
        sshUsername: ADMIN,
        sshPublicKey: key.publicKey,
      });
    await adapter.ensureVm(scope, {
      name: plan.name,
      size: plan.size,
      image: parseImageUrn('Debian:debian-12:12-gen2:latest'),
      zone: 1,
      priority: 'Regular',
      adminUsername: ADMIN,
      sshPublicKey: key.publicKey,
      customData: Buffer.from(cloudInit).toString('base64'),
      osDiskSizeGb: 30,
      nic: `${plan.name}-nic`,
    });
    hosts.push({ ...plan, keys, publicIp: pip.resource.ipAddress ?? '' });
  }
  return {
    scope,
    hosts,
    laptop,
    laptopIp,
    iface: `wgk0${suffix}`,
    laptopConfig: (overrides = {}) =>
      renderLaptopConfig({
        deploymentId: scope.deploymentId,
        laptopPrivateKey: overrides.laptopPrivateKey ?? laptop.privateKey,
        laptopIp,
        port: WG_PORT,
        peers: hosts.map((h) => ({
          host: h.name,
          wireguardIp: h.wireguardIp,
          publicKey: overrides.peerKeys?.[h.name] ?? h.keys.publicKey,
          endpoint: h.publicIp,
        })),
      }),
  };
}

/** Writes a laptop config as `<dir>/<iface>.conf` (mode 0600) and returns its path. */
export async function writeConfig(world: World, iface: string, text: string): Promise<string> {
  const file = path.join(world.dir, `${iface}.conf`);
  await fs.writeFile(file, text, { mode: 0o600 });
  return file;
}

/** Runs an emulated tool as the phases do, as a process from `EMULATED_TOOLS_BIN`. */
export function tool(world: World, name: string, args: string[], stdin?: string): Promise<RunResult> {
  return runCommand({
    cmd: path.join(EMULATED_TOOLS_BIN, name),
    args,
    env: world.env,
    cwd: world.dir,
    stdin,
    timeoutMs: 30_000,
  });
}

/** Waits until `condition` holds (polling), or fails with `what`. */
export async function until(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 10_000
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** How an SSH exec ended. */
export interface SshResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** An open SSH connection to a machine. */
export interface SshSession {
  exec(command: string): Promise<SshResult>;
  end(): void;
  /** Resolves when the connection closes, from either side. */
  closed: Promise<void>;
}

/** Connects with `ssh2` over `sock` (or to 127.0.0.1:`port`), as `username` with `privateKey`. */
export function sshConnect(
  to: { sock: Duplex } | { port: number },
  privateKey: string,
  username = ADMIN,
  onHostKey?: (key: Buffer) => void
): Promise<SshSession> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    const closed = new Promise<void>((done) => client.on('close', () => done()));
    client.on('ready', () =>
      resolve({
        closed,
        exec: (command) =>
          new Promise<SshResult>((done, fail) => {
            client.exec(command, (err, channel) => {
              if (err) {
                fail(err);
                return;
              }
              let stdout = '';
              let stderr = '';
              let code: number | null = null;
              channel.on('data', (b: Buffer) => (stdout += b.toString()));
              channel.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
              channel.on('exit', (c: number | null) => (code = c));
              channel.on('close', () => done({ code, stdout, stderr }));
            });
          }),
        end: () => client.end(),
      })
    );
    client.on('error', reject);
    client.on('close', () => reject(new Error('connection closed before it was ready')));
    client.connect({
      ...('sock' in to ? { sock: to.sock } : { host: '127.0.0.1', port: to.port }),
      username,
      privateKey,
      readyTimeout: 10_000,
      hostVerifier: (key: Buffer) => {
        onHostKey?.(key);
        return true;
      },
    });
  });
}

/** Opens SSH to a deployment's host the way the worker does: route through the tunnel, then connect. */
export async function sshThroughTunnel(
  world: World,
  d: Deployment,
  host: DeployedHost,
  privateKey?: string
): Promise<SshSession> {
  const sock = await emulatorAccess(world.target).dial(d.iface, host.wireguardIp, 22);
  return sshConnect({ sock }, privateKey ?? (await sshKey()).privateKey);
}

/** The machine of a VM in the world's state. */
export function machineOf(world: World, name: string, deploymentId: string) {
  const m = world.arm.hosts.state().machines.find((x) => x.name === name && x.deploymentId === deploymentId);
  if (!m) throw new Error(`no machine ${name} of ${deploymentId}`);
  return m;
}
