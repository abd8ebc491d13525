/**
 * The one place defaults live: the Bash tool's `config/k0rdent-default.yaml` values plus the
 * orchestrator's own section. `config/k0rdent-default.yaml` in this repository spells out the same
 * values (a unit test keeps the two equal).
 */
import type { K0rdentConfig } from './types';

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) {
      deepFreeze(child);
    }
    Object.freeze(value);
  }
  return value;
}

/** Every default, frozen; take a copy with `defaultConfig()` before changing anything. */
export const DEFAULT_CONFIG: K0rdentConfig = deepFreeze<K0rdentConfig>({
  metadata: { version: '1.0', schema: 'k0rdent-config' },
  azure: {
    subscription_id: '',
    credential: 'cli',
    location: 'westus2',
    vm_image: 'Debian:debian-12:12-gen2:latest',
    vm_priority: 'Regular',
    eviction_policy: 'Deallocate',
  },
  network: {
    vnet_prefix: '10.0.0.0/16',
    subnet_prefix: '10.0.1.0/24',
    wireguard_network: '192.168.100.0/24',
  },
  vm_sizing: { controller: { size: 'Standard_B2s' }, worker: { size: 'Standard_B2s' } },
  cluster: {
    controllers: { count: 1, zones: [1] },
    workers: { count: 1, zones: [1] },
  },
  ssh: { username: 'k0rdent', key_comment: 'k0rdent-azure-key' },
  software: {
    k0s: { version: 'v1.33.2+k0s.0' },
    k0rdent: { version: '1.1.1', registry: 'oci://ghcr.io/k0rdent/kcm/charts/kcm', namespace: 'kcm-system' },
  },
  timeouts: {
    ssh_connect: 30,
    ssh_command: 300,
    k0s_install_wait: 30,
    k0rdent_install_wait: 1500,
    wireguard_connect_wait: 5,
    vm_creation_minutes: 10,
    vm_wait_check_interval: 30,
    cloud_init_timeout: 600,
    cloud_init_check_interval: 10,
    verification_retries: 3,
    verification_retry_delay: 10,
  },
  kof: {
    enabled: false,
    version: '1.1.0',
    istio: { version: '1.1.0', namespace: 'istio-system' },
    mothership: {
      namespace: 'kof',
      storage_class: 'default',
      install_retries: 3,
      retry_delay_seconds: 30,
      collectors: { global: {} },
    },
    regional: {
      cluster_name: '',
      domain: 'regional.example.com',
      admin_email: 'admin@example.com',
      location: 'southeastasia',
      template: 'azure-standalone-cp-1-0-8',
      credential: 'azure-cluster-credential',
      cp_instance_size: 'Standard_A4_v2',
      worker_instance_size: 'Standard_A4_v2',
      root_volume_size: '32',
      namespace: 'kof',
      cluster_label: 'k0rdent.mirantis.com/istio-role=child',
    },
  },
  orchestrator: {
    task_queue: 'k0rdent-deploy',
    activity_preset: 'provisioning',
    parallel_vms: 5,
    write_private_keys_to_state: false,
    cloud: 'azure',
    wireguard_up_command: 'wg-quick up {config}',
    wireguard_down_command: 'wg-quick down {config}',
    wg_command: 'wg',
    poll_initial_ms: 200,
    poll_max_ms: 1000,
    worker: {
      tuner: 'fixed',
      max_workflow_tasks: 10,
      max_activities: 200,
      max_local_activities: 50,
      target_cpu_percent: 80,
      target_memory_percent: 80,
      keygen_threads: 2,
    },
  },
});

/** A fresh, mutable copy of the defaults. */
export function defaultConfig(): K0rdentConfig {
  return structuredClone(DEFAULT_CONFIG);
}
