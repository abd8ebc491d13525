/**
 * The deployment configuration: the Bash tool's `config/k0rdent-default.yaml` shape, plus the
 * `orchestrator` section that only this tool reads. Keys keep their YAML spelling so that an error can
 * name the path a user wrote.
 */

/** Zones and count of one VM role. */
export interface RoleCount {
  count: number;
  zones: number[];
}

/** Settings that only the Temporal orchestrator reads (not part of the Bash tool's schema). */
export interface OrchestratorConfig {
  /** Task queue the worker polls and the client starts deployments on. */
  task_queue: string;
  /** Named activity-timeout preset: `provisioning` waits as long as Azure needs, `quick` suits tests. */
  activity_preset: 'provisioning' | 'quick';
  /** Heartbeat timeout of long activities, seconds (overrides the preset when set). */
  heartbeat_seconds?: number;
  /** Attempts per activity before a phase is marked failed (overrides the preset when set). */
  max_attempts?: number;
  /** Upper bound of VMs created or deleted at once. */
  parallel_vms: number;
  /** Write WireGuard private keys into the state file for legacy scripts that read them. */
  write_private_keys_to_state: boolean;
  /** Where the Azure phases go: the local ARM emulator or Azure itself (`--cloud` overrides). */
  cloud: 'emulator' | 'azure';
  /** Brings the laptop's tunnel up; `{config}` is the config file's absolute path, `{interface}` its name. */
  wireguard_up_command: string;
  /** Takes the tunnel down (same placeholders). */
  wireguard_down_command: string;
  /** The `wg` command used to read the tunnel's state, e.g. `sudo wg` where reading needs root. */
  wg_command: string;
  /** First pause of a wait that polls (cloud-init, handshakes, nodes, releases), milliseconds; it doubles from there. */
  poll_initial_ms: number;
  /** Longest pause of such a wait, milliseconds, unless the wait has an interval of its own in `timeouts`. */
  poll_max_ms: number;
  /** How the worker limits its own load. */
  worker: WorkerTuning;
}

/** The worker's load limits: Temporal slot suppliers and the key generation threads. */
export interface WorkerTuning {
  /** `fixed`: at most the `max_*` slots; `resource`: slots while CPU and memory stay under their targets. */
  tuner: 'fixed' | 'resource';
  /** Workflow tasks run at once. */
  max_workflow_tasks: number;
  /** Activities (phase checks, applies, rollbacks) run at once; more wait on the server, not here. */
  max_activities: number;
  /** Local activities (state projections) run at once. */
  max_local_activities: number;
  /** `resource` tuner: CPU use of the machine it keeps under, percent. */
  target_cpu_percent: number;
  /** `resource` tuner: memory use of the machine it keeps under, percent. */
  target_memory_percent: number;
  /** Threads that generate RSA keys, at the lowest CPU priority. */
  keygen_threads: number;
}

/** The whole configuration, defaults applied. */
export interface K0rdentConfig {
  metadata: { version: string; schema: string; description?: string; owner?: string };
  azure: {
    /** Subscription the resources go to; required with `--cloud azure`. */
    subscription_id: string;
    /** How to sign in: the Azure CLI login, a service principal from AZURE_* variables, or the SDK's default chain. */
    credential: 'cli' | 'service_principal' | 'default';
    location: string;
    vm_image: string;
    vm_priority: 'Regular' | 'Spot';
    eviction_policy: 'Deallocate' | 'Delete';
  };
  network: { vnet_prefix: string; subnet_prefix: string; wireguard_network: string };
  vm_sizing: { controller: { size: string }; worker: { size: string } };
  cluster: { controllers: RoleCount; workers: RoleCount };
  ssh: { username: string; key_comment: string };
  software: {
    k0s: { version: string };
    k0rdent: { version: string; registry: string; namespace: string };
  };
  timeouts: {
    ssh_connect: number;
    ssh_command: number;
    k0s_install_wait: number;
    k0rdent_install_wait: number;
    wireguard_connect_wait: number;
    vm_creation_minutes: number;
    vm_wait_check_interval: number;
    cloud_init_timeout: number;
    cloud_init_check_interval: number;
    verification_retries: number;
    verification_retry_delay: number;
  };
  kof: {
    enabled: boolean;
    version: string;
    istio: { version: string; namespace: string };
    mothership: {
      namespace: string;
      storage_class: string;
      install_retries: number;
      retry_delay_seconds: number;
      collectors: { global: Record<string, unknown> };
    };
    regional: {
      cluster_name: string;
      domain: string;
      admin_email: string;
      location: string;
      template: string;
      credential: string;
      cp_instance_size: string;
      worker_instance_size: string;
      root_volume_size: string;
      namespace: string;
      cluster_label: string;
    };
  };
  orchestrator: OrchestratorConfig;
}

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
