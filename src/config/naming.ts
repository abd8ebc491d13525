/**
 * Names the Bash tool derives from the cluster id and the config (resource names, file paths, hosts and
 * their WireGuard addresses), the `.clusterid` file, and the deployer identity.
 */
import { execFileSync } from 'child_process';
import { randomBytes as cryptoRandomBytes } from 'crypto';
import { mkdir, readFile, writeFile } from 'fs/promises';
import * as os from 'os';
import * as path from 'path';
import { isDeploymentId } from '../workflows/messages';
import { addressInNetwork, parseCidr } from './cidr';
import type { DeploymentNames, HostPlan, K0rdentConfig } from './types';

/** Prefix of every cluster id. */
export const CLUSTER_ID_PREFIX = 'k0rdent-';
/** File in the deployment folder that holds the cluster id. */
export const CLUSTER_ID_FILE = '.clusterid';

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ID_LENGTH = 8;

function wireguardNetwork(config: K0rdentConfig): ReturnType<typeof parseCidr> & { ok: true } {
  const parsed = parseCidr(config.network.wireguard_network);
  if (!parsed.ok) {
    throw new Error(`network.wireguard_network: ${parsed.reason}`);
  }
  return parsed;
}

function plan(
  role: HostPlan['role'],
  count: number,
  zones: number[],
  size: string,
  firstIndex: number,
  config: K0rdentConfig
): HostPlan[] {
  const { cidr } = wireguardNetwork(config);
  const hosts: HostPlan[] = [];
  for (let i = 0; i < count; i++) {
    const zone = zones[i % zones.length];
    if (zone === undefined) {
      throw new Error(`cluster.${role}s.zones: no zone to place ${role} ${i + 1} in`);
    }
    hosts.push({
      name: `k0s-${role}-${i + 1}`,
      role,
      zone,
      size,
      wireguardIp: addressInNetwork(cidr, 10 + firstIndex + i),
    });
  }
  return hosts;
}

/** Every name of a deployment: Azure resources, local paths (relative, no `./`), hosts in VM order. */
export function namesFor(deploymentId: string, config: K0rdentConfig): DeploymentNames {
  if (!isDeploymentId(deploymentId)) {
    throw new Error(
      `deployment id "${deploymentId}" is not of the form k0rdent-<8 lowercase letters or digits>`
    );
  }
  const id = deploymentId;
  const suffix = id.slice(CLUSTER_ID_PREFIX.length);
  const { controllers, workers } = config.cluster;
  const controllerHosts = plan(
    'controller',
    controllers.count,
    controllers.zones,
    config.vm_sizing.controller.size,
    1,
    config
  );
  const workerHosts = plan(
    'worker',
    workers.count,
    workers.zones,
    config.vm_sizing.worker.size,
    1 + controllers.count,
    config
  );
  const regional = config.kof.regional;
  return {
    deploymentId: id,
    suffix,
    resourceGroup: `${id}-resgrp`,
    vnet: `${id}-vnet`,
    subnet: `${id}-subnet`,
    nsg: `${id}-nsg`,
    sshKeyResource: `${id}-admin`,
    sshPrivateKeyPath: `azure-resources/${id}-ssh-key`,
    knownHostsFile: `azure-resources/${id}-known_hosts`,
    sshPublicKeyPath: `azure-resources/${id}-ssh-key.pub`,
    wireguardDir: 'wireguard',
    cloudInitDir: 'cloud-init-yaml',
    laptopWireguardConfig: `wireguard/wgk0${suffix}.conf`,
    wireguardInterface: `wgk0${suffix}`,
    k0sctlConfig: `k0sctl-config/${id}-k0sctl.yaml`,
    kubeconfig: `k0sctl-config/${id}-kubeconfig`,
    servicePrincipal: `${id}-cluster-deployment-sp`,
    kofRegionalCluster:
      regional.cluster_name !== '' ? regional.cluster_name : `kof-regional-${suffix}-${regional.location}`,
    laptopWireguardIp: addressInNetwork(wireguardNetwork(config).cidr, 1),
    hosts: [...controllerHosts, ...workerHosts],
  };
}

/** A new cluster id, `k0rdent-` and 8 of `[a-z0-9]`, drawn without bias from `randomBytes`. */
export function generateClusterId(randomBytes: (n: number) => Buffer = cryptoRandomBytes): string {
  // 252 = 7 * 36: bytes at or above it would favour the first letters, so they are drawn again.
  const limit = Math.floor(256 / ID_ALPHABET.length) * ID_ALPHABET.length;
  let id = '';
  for (let round = 0; id.length < ID_LENGTH; round++) {
    if (round >= 100) {
      throw new Error('generateClusterId: the random source keeps returning unusable bytes');
    }
    for (const byte of randomBytes(16)) {
      if (byte < limit && id.length < ID_LENGTH) {
        id += ID_ALPHABET[byte % ID_ALPHABET.length] ?? '';
      }
    }
  }
  return CLUSTER_ID_PREFIX + id;
}

async function readClusterIdFile(file: string): Promise<string | undefined> {
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined;
    }
    throw new Error(`${file}: cannot read the cluster id: ${(error as Error).message}`);
  }
  const id = content.trim();
  if (!isDeploymentId(id)) {
    const shown =
      id === ''
        ? 'the file is empty'
        : `${JSON.stringify(id.length > 40 ? `${id.slice(0, 37)}...` : id)} is not a cluster id`;
    throw new Error(
      `${file}: ${shown} (expected k0rdent- followed by 8 lowercase letters or digits); fix the file or move it away`
    );
  }
  return id;
}

/**
 * The cluster id kept in `<workDir>/.clusterid`, or undefined when there is no such file; a file holding
 * something else is an error naming it.
 */
export async function readClusterId(workDir: string): Promise<string | undefined> {
  return readClusterIdFile(path.join(workDir, CLUSTER_ID_FILE));
}

/**
 * The cluster id kept in `<workDir>/.clusterid`; when the file is absent a new id is generated and
 * written (the folder is created if needed). A file holding something else is an error; it is left as is.
 */
export async function readOrCreateClusterId(workDir: string): Promise<{ id: string; created: boolean }> {
  const file = path.join(workDir, CLUSTER_ID_FILE);
  const existing = await readClusterIdFile(file);
  if (existing !== undefined) {
    return { id: existing, created: false };
  }
  await mkdir(workDir, { recursive: true });
  const id = generateClusterId();
  try {
    // `wx`: never overwrite an id another process wrote meanwhile.
    await writeFile(file, `${id}\n`, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      const raced = await readClusterIdFile(file);
      if (raced !== undefined) {
        return { id: raced, created: false };
      }
    }
    throw new Error(`${file}: cannot write the cluster id: ${(error as Error).message}`);
  }
  return { id, created: true };
}

/** Where `deployerIdentity` looks; tests replace it. */
export interface IdentitySources {
  /** `git config user.email`, or undefined when git is absent or has none. */
  gitEmail(env: NodeJS.ProcessEnv): string | undefined;
  /** The host name (any form; only the part before the first dot is used). */
  hostname(): string;
  /** The login name of the process owner when `$USER` is not set. */
  username(): string | undefined;
}

/** The real sources: git, the OS host name and user. */
export const SYSTEM_IDENTITY_SOURCES: IdentitySources = {
  gitEmail(env) {
    try {
      return execFileSync('git', ['config', 'user.email'], {
        encoding: 'utf8',
        env,
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 5000,
      }).trim();
    } catch {
      return undefined;
    }
  },
  hostname: () => os.hostname(),
  username() {
    try {
      return os.userInfo().username;
    } catch {
      return undefined;
    }
  },
};

const MAX_IDENTITY_LENGTH = 256;

/** Keep what an Azure tag value may hold: letters, digits, space and `. _ - : @`; at most 256 characters. */
export function sanitizeTagValue(value: string): string {
  return value.replace(/[^A-Za-z0-9 ._\-:@]/g, '').slice(0, MAX_IDENTITY_LENGTH);
}

/**
 * Who deploys, for the resource group's `owner` tag and the state file: `metadata.owner`, else
 * `git config user.email`, else `$USER@<short host name>`, else `unknown`; sanitised.
 */
export function deployerIdentity(
  config: K0rdentConfig,
  env: NodeJS.ProcessEnv = process.env,
  sources: IdentitySources = SYSTEM_IDENTITY_SOURCES
): string {
  const host = sources.hostname().split('.')[0] ?? '';
  const candidates: (() => string | undefined)[] = [
    () => config.metadata.owner,
    () => sources.gitEmail(env),
    () => (env.USER && host ? `${env.USER}@${host}` : undefined),
    () => {
      const user = sources.username();
      return user && host ? `${user}@${host}` : undefined;
    },
  ];
  for (const candidate of candidates) {
    const value = sanitizeTagValue(candidate()?.trim() ?? '').trim();
    if (value !== '') {
      return value;
    }
  }
  return 'unknown';
}
