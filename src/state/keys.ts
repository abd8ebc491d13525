/** Top-level keys of `deployment-state.yaml`: which ones this tool owns and where each goes. */

/** Azure resource status facts, written as `not_created` until a phase sets them. */
export const AZURE_STATUS_FACTS: readonly string[] = [
  'azure_rg_status',
  'azure_network_status',
  'azure_ssh_key_status',
];

/** WireGuard flags, written as `false` until a phase sets them. */
export const WIREGUARD_FACTS: readonly string[] = [
  'wg_keys_generated',
  'wg_laptop_config_created',
  'wg_vpn_connected',
];

/** Cluster flags, written as `false` until a phase sets them. */
export const CLUSTER_FACTS: readonly string[] = [
  'k0s_config_generated',
  'k0s_cluster_deployed',
  'k0rdent_installed',
];

/** Fact keys the Bash tool appends later, in the order they first appear in a run. */
export const LATER_FACTS: readonly string[] = [
  'wg_setup_method',
  'wg_macos_interface',
  'k0rdent_ready',
  'k0rdent_ready_partial',
  'network_validation_failed',
  'azure_csi_installed',
  'kof_mothership_installed',
  'kof_mothership_version',
  'kof_mothership_namespace',
  'kof_regional_installed',
  'kof_regional_version',
  'kof_regional_cluster_name',
  'kof_regional_domain',
];

/** The fact that is written as `config.wireguard_port`. */
export const WIREGUARD_PORT_FACT = 'wireguard_port';

/** Top-level keys with a fixed meaning; a fact value never takes one of these names. */
export const STRUCTURAL_KEYS: readonly string[] = [
  'deployment_id',
  'deployer',
  'created_at',
  'last_updated',
  'phase',
  'status',
  'orchestrator_status',
  'waiting_for',
  'last_error',
  'rollback_target',
  'archived_to',
  'deployment_flags',
  'source_config_file',
  'config',
  'vm_states',
  'phases',
  'artifacts',
  'deployment_start_time',
  'wireguard_peers',
  'deployment_end_time',
  'deployment_duration_seconds',
  // Sections of the older documented layout (seed "State Tracking Details").
  'deployment',
  'resources',
  'vms',
  'wireguard',
  'cluster',
];

/** Artifact names the Bash tool records, in the order it records them. */
export const KNOWN_ARTIFACTS: readonly string[] = [
  'cloud_init_directory',
  'wireguard_keys_directory',
  'azure_ssh_private_key',
  'azure_ssh_public_key',
  'wireguard_laptop_config',
  'k0sctl_config',
  'kubeconfig_file',
];

/** Top-level scalar keys a legacy file may hold that we adopt as facts (the rest stay the file's own). */
export const ADOPTED_FACT_PATTERN =
  /^(azure_(rg|network|ssh_key)_status|wg_[a-z0-9_]+|k0s_[a-z0-9_]+|k0rdent_[a-z0-9_]+|network_validation_failed|azure_csi_installed|storage_class|kof_[a-z0-9_]+)$/;

/** Orders names `k0s-controller-2` before `k0s-controller-10`, controllers before workers, the hub first. */
export function compareHostNames(a: string, b: string): number {
  const rank = (n: string): number =>
    n === 'mylaptop' ? 0 : n.includes('controller') ? 1 : n.includes('worker') ? 2 : 3;
  const split = (n: string): [string, number] => {
    const m = /^(.*?)(\d+)$/.exec(n);
    return m ? [m[1] ?? '', Number(m[2])] : [n, -1];
  };
  const [pa, na] = split(a);
  const [pb, nb] = split(b);
  return rank(a) - rank(b) || compareText(pa, pb) || na - nb || compareText(a, b);
}

/** Code-unit order, independent of the locale. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
