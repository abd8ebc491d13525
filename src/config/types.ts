/**
 * The deployment configuration's types, read from the schema in `schema.ts`, and the names and hosts a
 * deployment derives from it.
 */
import type { z } from 'zod';
import type { CONFIG_SCHEMA } from './schema';

/** The whole configuration, defaults applied. */
export type K0rdentConfig = z.output<typeof CONFIG_SCHEMA>;

/** Zones and count of one VM role. */
export type RoleCount = K0rdentConfig['cluster']['controllers'];

/** Settings that only the Temporal orchestrator reads (not part of the Bash tool's schema). */
export type OrchestratorConfig = K0rdentConfig['orchestrator'];

/** The worker's load limits: Temporal slot suppliers and the key generation threads. */
export type WorkerTuning = OrchestratorConfig['worker'];

/** A VM the deployment creates, derived from the counts and zones. */
export interface HostPlan {
  /** `k0s-controller-N` or `k0s-worker-N`. */
  name: string;
  role: 'controller' | 'worker';
  zone: number;
  size: string;
  /** WireGuard address, `.11` upward in host order. */
  wireguardIp: string;
}

/** Every name the Bash tool derives from the cluster id and the config. */
export interface DeploymentNames {
  deploymentId: string;
  /** The id without its `k0rdent-` prefix. */
  suffix: string;
  resourceGroup: string;
  vnet: string;
  subnet: string;
  nsg: string;
  sshKeyResource: string;
  /** Relative to the deployment folder, as the Bash tool writes them. */
  sshPrivateKeyPath: string;
  sshPublicKeyPath: string;
  /** Host keys of the VMs, recorded on first contact. */
  knownHostsFile: string;
  wireguardDir: string;
  cloudInitDir: string;
  laptopWireguardConfig: string;
  wireguardInterface: string;
  k0sctlConfig: string;
  kubeconfig: string;
  servicePrincipal: string;
  kofRegionalCluster: string;
  /** Laptop hub address, `.1` of the WireGuard network. */
  laptopWireguardIp: string;
  /** Controllers first, then workers. */
  hosts: HostPlan[];
}
