/** Shapes shared by the machines, tunnels and cluster of the local host world, and by the emulated tools. */

/** How long the emulated world takes for things, milliseconds. */
export interface HostTimings {
  /** From the VM's `Succeeded` until its SSH server accepts connections. */
  bootMs: number;
  /** From boot until `wg-quick@wg0` is active. */
  wireguardStartMs: number;
  /** From boot until `cloud-init status` says done. */
  cloudInitMs: number;
  /** Duration of `k0sctl apply` (and `reset`). */
  k0sApplyMs: number;
  /** From k0s installed until every node is Ready. */
  nodeReadyMs: number;
  /** Duration of a Helm install or upgrade. */
  helmInstallMs: number;
  /** From the kcm release deployed until the Management object is Ready. */
  managementReadyMs: number;
  /** From kof-operators deployed until the VictoriaMetrics webhook answers. */
  webhookReadyMs: number;
  /** From a ClusterDeployment applied until it is Ready. */
  clusterDeploymentReadyMs: number;
}

/** Timings for tests: quick, but every wait is still a wait. */
export const DEFAULT_HOST_TIMINGS: HostTimings = {
  bootMs: 100,
  wireguardStartMs: 50,
  cloudInitMs: 150,
  k0sApplyMs: 300,
  nodeReadyMs: 100,
  helmInstallMs: 150,
  managementReadyMs: 150,
  webhookReadyMs: 100,
  clusterDeploymentReadyMs: 300,
};

/** Tools whose calls can be faulted. `ssh` and `machine` are the machines themselves. */
export type ToolName = 'wg' | 'wg-quick' | 'k0sctl' | 'helm' | 'kubectl' | 'az' | 'ssh' | 'machine';

/** Kinds of tool fault. */
export type ToolFaultKind = 'fail' | 'crash' | 'latency' | 'refuse' | 'cloud-init-error' | 'wireguard-failed';

/** A fault rule: the first `times` matching calls get `kind`. */
export interface ToolFaultRule {
  match: { tool: ToolName; command?: string; target?: string };
  kind: ToolFaultKind;
  exitCode?: number;
  message?: string;
  latencyMs?: number;
  /** Defaults to 1; -1 means always. */
  times?: number;
}

/** An answer of a `/world/*` or `/admin/hosts/*` route. */
export interface WorldResponse {
  status: number;
  body: unknown;
}

/** Per tool command (`"helm upgrade"`, `"k0sctl apply"`, ...). */
export interface ToolCallCounts {
  started: number;
  completed: number;
  failed: number;
}

/** What `GET /admin/hosts/counts` answers. */
export interface HostCounts {
  tools: Record<string, ToolCallCounts>;
  /**
   * How many times each install really changed the world, keyed `k0s:<deployment>`,
   * `helm:<deployment>:<namespace>/<release>`, `object:<deployment>:<kind>:<namespace>/<name>` (created or
   * changed by `kubectl apply`), `sp:<display name>`. A no-op repeat does not count.
   */
  applied: Record<string, number>;
  /** SSH sessions opened per machine name. */
  sshSessions: Record<string, number>;
}

/** A machine as the cluster part sees it. */
export interface MachineView {
  /** VM name, e.g. `k0s-controller-1`. */
  name: string;
  deploymentId: string;
  /** Address in the cloud-init's `wg0.conf`. */
  wireguardAddress: string;
  adminUsername: string;
  /** `ssh-rsa AAAA… comment` lines accepted for the admin user. */
  authorizedKeys: string[];
  booted: boolean;
}

/** What the cluster part uses of the machines and tunnels. */
export interface WorldServices {
  now(): number;
  timings(): HostTimings;
  /** The machines of a deployment: VMs tagged `k0rdent-deployment=<id>`. */
  machines(deploymentId: string): MachineView[];
  /** Whether the laptop reaches the deployment's machine at `address` through an up tunnel. */
  reachable(deploymentId: string, address: string): boolean;
  /** The k0sctl lock holder of a machine, if any. */
  lockOf(deploymentId: string, machine: string): string | undefined;
  setLock(deploymentId: string, machine: string, holder: string | undefined): void;
  countTool(command: string, what: keyof ToolCallCounts): void;
  countApplied(key: string): void;
  /** Persists the world after a change. */
  changed(): void;
}

/** The cluster part: k0s, Kubernetes objects, Helm releases and service principals. */
export interface ClusterPart {
  /** Answers `/world/k0sctl/*`, `/world/kube/*`, `/world/helm/*`, `/world/az/*` (path below `/world`). */
  handle(method: string, path: string, query: URLSearchParams, body: unknown): Promise<WorldResponse>;
  /** k0s on a machine, for `sudo k0s status`. */
  k0sOn(deploymentId: string, machine: string): { version: string; role: string } | undefined;
  /** State for `GET /admin/hosts/state` and persistence. */
  dump(): unknown;
  load(data: unknown): void;
  reset(): void;
}

/** The host world as a running ARM emulator exposes it (`ArmEmulator.hosts`). */
export interface HostWorldHandle {
  /** What `GET /admin/hosts/state` answers. */
  state(): HostWorldState;
  /** What `GET /admin/hosts/counts` answers. */
  counts(): HostCounts;
  /** Replaces the tool fault rules; throws with the reason when one is invalid. */
  setFaults(rules: ToolFaultRule[]): void;
  /** Merges timings into the current ones; throws with the reason when one is invalid. */
  setTimings(timings: Partial<HostTimings>): HostTimings;
  /** Kills a laptop tunnel as a lost interface would; false when it was not up. */
  dropTunnel(iface: string): boolean;
}

/** What `systemctl is-active wg-quick@wg0` says on a machine. */
export type WireguardUnitState = 'inactive' | 'activating' | 'active' | 'failed';

/** What `cloud-init status` says on a machine. */
export type CloudInitStatus = 'running' | 'done' | 'error';

/** One machine in `GET /admin/hosts/state`. */
export interface MachineState extends MachineView {
  vmId: string;
  resourceGroup: string;
  /** The VM's public IP (NIC → public IP), if it has one. */
  publicIp?: string;
  /** `ListenPort` of the cloud-init's `wg0.conf`. */
  listenPort?: number;
  /** Public key derived from the cloud-init's WireGuard private key. */
  wireguardPublicKey?: string;
  /** Why the cloud-init's `wg0.conf` cannot start, if it cannot. */
  wireguardProblem?: string;
  /** The machine runs: its VM is `Succeeded` (or updating) and powered on. */
  running: boolean;
  /** When the machine last started (its VM reached `Succeeded` or was started), ISO time. */
  runningSince?: string;
  wireguard: WireguardUnitState;
  cloudInit: CloudInitStatus;
  /** Port of the machine's SSH server on 127.0.0.1. */
  sshPort?: number;
  /** SHA256 fingerprint of the machine's host key, as `ssh-keygen -l` prints it. */
  hostKeyFingerprint: string;
  /** Machine faults the machine has taken. */
  faults: ToolFaultKind[];
  /** Holder of the machine's k0sctl lock, if any. */
  lock?: string;
}

/** One peer of a laptop tunnel, as `wg show` knows it. */
export interface WireguardPeerShow {
  publicKey: string;
  /** `ip:port`, when the config names one. */
  endpoint?: string;
  allowedIps: string[];
  /** Unix seconds of the latest handshake; 0 when the peer never answered. */
  latestHandshake: number;
  persistentKeepalive?: number;
}

/** One WireGuard interface, as `wg show <iface>` knows it. */
export interface WireguardInterfaceShow {
  interface: string;
  publicKey: string;
  listenPort: number;
  peers: WireguardPeerShow[];
}

/** One laptop tunnel in `GET /admin/hosts/state`. */
export interface TunnelState extends WireguardInterfaceShow {
  addresses: string[];
  /** When `wg-quick up` brought it up, ISO time. */
  upSince: string;
  /** Per peer public key: the machine that answers it, if one does. */
  answeredBy: Record<string, string>;
}

/** What `GET /admin/hosts/state` answers. */
export interface HostWorldState {
  timings: HostTimings;
  machines: MachineState[];
  tunnels: TunnelState[];
  /** k0sctl locks by `<deployment>/<machine>`. */
  locks: Record<string, string>;
  faults: ToolFaultRule[];
  counts: HostCounts;
  cluster: unknown;
}
