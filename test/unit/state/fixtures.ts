/** Deployment states and legacy files shared by the state tests. */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DeploymentState, EventRecord, PhaseRecord } from '../../../src/workflows/messages';
import type { PhaseName } from '../../../src/workflows/phases';
import { PHASE_NAMES } from '../../../src/workflows/phases';

/** The deployment id of the realistic example in domain.md §2.1.1. */
export const ID = 'k0rdent-q7m2xk4p';

/** Folder of the committed golden files (tests run from dist/test/unit/state). */
export const GOLDEN_DIR = path.resolve(__dirname, '../../../../test/unit/state/golden');

/** A fresh temp folder; `cleanup` removes it. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-state-'));
  return { dir, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}

/** Every phase pending since `at`. */
export function pendingPhases(at: string): Record<PhaseName, PhaseRecord> {
  const phases = {} as Record<PhaseName, PhaseRecord>;
  for (const name of PHASE_NAMES) phases[name] = { status: 'pending', updatedAt: at, runs: 0 };
  return phases;
}

/** The state a fresh orchestrator run starts with, before anything happened. */
export function freshState(id = ID): DeploymentState {
  const at = '2025-12-01T08:56:05Z';
  return {
    deploymentId: id,
    deployer: 'alice@example.com',
    createdAt: at,
    lastUpdated: at,
    sourceConfigFile: './config/k0rdent.yaml',
    phase: 'preparation',
    status: 'in_progress',
    flags: { azureChildren: false, kof: false },
    configSnapshot: {
      azure_location: 'westus2',
      resource_group: `${id}-resgrp`,
      controller_count: 1,
      worker_count: 1,
      wireguard_network: '192.168.100.0/24',
    },
    phases: pendingPhases(at),
    facts: { values: {}, vm_states: {}, wireguard_peers: {}, artifacts: {}, clusters: {} },
    events: [],
  };
}

/** The events of domain.md §2.2 plus the rest of a basic run. */
export function realisticEvents(): EventRecord[] {
  return [
    {
      timestamp: '2025-12-01T08:56:05Z',
      action: 'deployment_initialized',
      message: 'Deployment state tracking initialized',
    },
    {
      timestamp: '2025-12-01T08:56:05Z',
      action: 'deployment_started',
      message: 'Deployment started with flags: azure-children=false, kof=false',
    },
    {
      timestamp: '2025-12-01T08:56:41Z',
      action: 'phase_completed',
      message: 'Phase completed: prepare_deployment',
      phase: 'prepare_deployment',
    },
    {
      timestamp: '2025-12-01T08:57:30Z',
      action: 'azure_rg_created',
      message: 'Resource group k0rdent-q7m2xk4p-resgrp created',
    },
    {
      timestamp: '2025-12-01T09:07:21Z',
      action: 'phase_skipped',
      message: 'Phase skipped: install_kof_regional - Component not enabled',
      phase: 'install_kof_regional',
    },
    {
      timestamp: '2025-12-01T09:07:21Z',
      action: 'deployment_completed',
      message: 'Deployment completed successfully in 676 seconds',
    },
  ];
}

/** The realistic completed deployment of domain.md §2.1.1 (default config, 1 + 1 VMs, no options). */
export function realisticState(): DeploymentState {
  const s = freshState();
  s.lastUpdated = '2025-12-01T09:07:21Z';
  s.phase = 'install_k0rdent';
  s.status = 'completed';
  s.deploymentStartTime = '2025-12-01T08:56:05Z';
  s.deploymentEndTime = '2025-12-01T09:07:21Z';
  s.deploymentDurationSeconds = 676;
  const done = (updatedAt: string, startedAt: string, durationSeconds: number): PhaseRecord => ({
    status: 'completed',
    updatedAt,
    startedAt,
    finishedAt: updatedAt,
    durationSeconds,
    runs: 1,
  });
  const skipped = (updatedAt: string): PhaseRecord => ({
    status: 'skipped',
    updatedAt,
    skippedReason: 'Component not enabled',
    runs: 0,
  });
  s.phases = {
    prepare_deployment: done('2025-12-01T08:56:41Z', '2025-12-01T08:56:06Z', 35),
    setup_network: done('2025-12-01T08:58:02Z', '2025-12-01T08:56:42Z', 80),
    create_vms: done('2025-12-01T09:01:52Z', '2025-12-01T08:58:03Z', 229),
    setup_vpn: done('2025-12-01T09:01:58Z', '2025-12-01T09:01:53Z', 5),
    connect_vpn: done('2025-12-01T09:02:06Z', '2025-12-01T09:01:59Z', 7),
    install_k0s: done('2025-12-01T09:05:40Z', '2025-12-01T09:02:07Z', 213),
    install_k0rdent: done('2025-12-01T09:07:20Z', '2025-12-01T09:05:41Z', 99),
    setup_azure_children: skipped('2025-12-01T09:07:20Z'),
    install_azure_csi: skipped('2025-12-01T09:07:20Z'),
    install_kof_mothership: skipped('2025-12-01T09:07:21Z'),
    install_kof_regional: skipped('2025-12-01T09:07:21Z'),
  };
  s.facts = {
    values: {
      // Insertion order differs from the file's order on purpose: the renderer places known keys.
      k0rdent_ready_partial: true,
      k0rdent_ready: false,
      wg_macos_interface: 'utun6',
      wg_setup_method: 'cli',
      wireguard_port: 47213,
      azure_rg_status: 'created',
      azure_network_status: 'created',
      azure_ssh_key_status: 'created',
      wg_keys_generated: true,
      wg_laptop_config_created: true,
      wg_vpn_connected: true,
      k0s_config_generated: true,
      k0s_cluster_deployed: true,
      k0rdent_installed: true,
    },
    vm_states: {
      'k0s-worker-1': {
        public_ip: '20.112.54.77',
        private_ip: '10.0.1.5',
        state: 'Succeeded',
        last_checked: '2025-12-01T09:01:38Z',
      },
      'k0s-controller-1': {
        public_ip: '20.112.54.18',
        private_ip: '10.0.1.4',
        state: 'Succeeded',
        last_checked: '2025-12-01T09:01:37Z',
      },
    },
    wireguard_peers: {
      mylaptop: {
        ip: '192.168.100.1',
        role: 'hub',
        public_key: 'Qz1c...redacted...Mk4=',
        keys_generated: true,
        keys_generated_at: '2025-12-01T08:56:39Z',
        private_key_file: 'wireguard/mylaptop_privkey',
      },
      'k0s-controller-1': {
        ip: '192.168.100.11',
        role: 'controller',
        public_key: 's0Ye...redacted...Yj8=',
        keys_generated: true,
        keys_generated_at: '2025-12-01T08:56:39Z',
        private_key_file: 'wireguard/k0s-controller-1_privkey',
      },
      'k0s-worker-1': {
        ip: '192.168.100.12',
        role: 'worker',
        public_key: 'Lw7P...redacted...cQ0=',
        keys_generated: true,
        keys_generated_at: '2025-12-01T08:56:40Z',
        private_key_file: 'wireguard/k0s-worker-1_privkey',
      },
    },
    artifacts: {
      cloud_init_directory: { path: './cloud-init-yaml', updated_at: '2025-12-01T08:56:40Z' },
      wireguard_keys_directory: { path: './wireguard', updated_at: '2025-12-01T08:56:40Z' },
      azure_ssh_private_key: { path: `./azure-resources/${ID}-ssh-key`, updated_at: '2025-12-01T08:58:01Z' },
      azure_ssh_public_key: {
        path: `./azure-resources/${ID}-ssh-key.pub`,
        updated_at: '2025-12-01T08:58:01Z',
      },
      wireguard_laptop_config: { path: './wireguard/wgk0q7m2xk4p.conf', updated_at: '2025-12-01T09:01:57Z' },
      k0sctl_config: { path: `./k0sctl-config/${ID}-k0sctl.yaml`, updated_at: '2025-12-01T09:02:08Z' },
      kubeconfig_file: { path: `./k0sctl-config/${ID}-kubeconfig`, updated_at: '2025-12-01T09:04:51Z' },
    },
    clusters: {},
  };
  s.events = realisticEvents();
  return s;
}

/** A deployment with KOF and children enabled, stopped while creating VMs. */
export function midDeploymentState(): DeploymentState {
  const s = freshState();
  s.flags = { azureChildren: true, kof: true };
  s.lastUpdated = '2025-12-01T08:58:40Z';
  s.phase = 'create_vms';
  s.status = 'in_progress';
  s.deploymentStartTime = '2025-12-01T08:56:05Z';
  s.phases.prepare_deployment = { status: 'completed', updatedAt: '2025-12-01T08:56:41Z', runs: 1 };
  s.phases.setup_network = { status: 'completed', updatedAt: '2025-12-01T08:58:02Z', runs: 1 };
  s.phases.create_vms = {
    status: 'in_progress',
    updatedAt: '2025-12-01T08:58:03Z',
    startedAt: '2025-12-01T08:58:03Z',
    runs: 1,
  };
  s.facts.values = {
    azure_rg_status: 'created',
    azure_network_status: 'created',
    azure_ssh_key_status: 'created',
    wg_keys_generated: true,
    wireguard_port: '51820',
  };
  s.facts.vm_states = {
    'k0s-controller-1': {
      public_ip: '',
      private_ip: '',
      state: 'Creating',
      last_checked: '2025-12-01T08:58:40Z',
    },
    'k0s-worker-1': {
      public_ip: '20.112.54.77',
      private_ip: '10.0.1.5',
      state: 'Succeeded',
      last_checked: '2025-12-01T08:58:39Z',
    },
  };
  s.facts.wireguard_peers = {
    mylaptop: {
      ip: '192.168.100.1',
      role: 'hub',
      public_key: 'Qz1c...redacted...Mk4=',
      keys_generated: true,
    },
    'k0s-controller-1': { ip: '192.168.100.11', role: 'controller', public_key: 's0Ye...redacted...Yj8=' },
    'k0s-worker-1': { ip: '192.168.100.12', role: 'worker' },
  };
  s.facts.artifacts = {
    wireguard_keys_directory: { path: './wireguard', updated_at: '2025-12-01T08:56:40Z' },
    cloud_init_directory: { path: './cloud-init-yaml', updated_at: '2025-12-01T08:56:40Z' },
  };
  s.events = realisticEvents().slice(0, 4);
  return s;
}

/** The cluster of domain.md §2.5. */
export const REGIONAL_CLUSTER = 'kof-regional-q7m2xk4p-southeastasia';

/** The events record of domain.md §2.5. */
export function regionalClusterRecord(): DeploymentState['facts']['clusters'][string] {
  return {
    created_at: '2025-12-01T09:20:11Z',
    last_updated: '2025-12-01T09:41:15Z',
    events: [
      {
        timestamp: '2025-12-01T09:20:11Z',
        action: 'cluster_events_initialized',
        message: `Local event tracking initialized for ${REGIONAL_CLUSTER}`,
      },
      {
        timestamp: '2025-12-01T09:20:11Z',
        action: 'cluster_deployment_created',
        message: `ClusterDeployment '${REGIONAL_CLUSTER}' created for Azure cluster in southeastasia`,
      },
      {
        timestamp: '2025-12-01T09:20:12Z',
        action: 'cluster_config_recorded',
        message: 'Template: azure-standalone-cp-1-0-8, Credential: azure-cluster-credential, DryRun: false',
      },
      {
        timestamp: '2025-12-01T09:41:15Z',
        action: 'kof_regional_cluster_ready',
        message: 'KOF regional cluster deployment completed successfully',
      },
      {
        timestamp: '2025-12-01T09:41:15Z',
        action: 'kof_regional_configured',
        message: 'Domain: regional.example.com, Admin: admin@example.com',
      },
    ],
  };
}

/** Compares `actual` with a committed golden file; `UPDATE_GOLDEN=1` rewrites the file instead. */
export async function assertGolden(name: string, actual: string): Promise<void> {
  const file = path.join(GOLDEN_DIR, name);
  if (process.env.UPDATE_GOLDEN === '1') {
    await fs.writeFile(file, actual);
    return;
  }
  const expected = await fs.readFile(file, 'utf8');
  assert.strictEqual(actual, expected, `output differs from golden file ${file}`);
}

/** Every map key anywhere in a parsed YAML value. */
export function keysDeep(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) keysDeep(item, out);
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      keysDeep(v, out);
    }
  }
  return out;
}

/** `deployment-state.yaml` of domain.md §2.1.1, as the Bash tool writes it (private keys included). */
export const BASH_LATEST_YAML = `# k0rdent Deployment State
# Auto-generated on 2025-12-01T08:56:05Z

# Basic deployment info
deployment_id: "k0rdent-q7m2xk4p"
deployer: "alice@example.com"
created_at: "2025-12-01T08:56:05Z"
last_updated: "2025-12-01T09:07:21Z"
phase: "install_k0rdent"
status: "completed"
deployment_flags:
  azure_children: false
  kof: false

# Source configuration file (for proper variable expansion)
source_config_file: "./config/k0rdent.yaml"

# Configuration snapshot
config:
  azure_location: "westus2"
  resource_group: "k0rdent-q7m2xk4p-resgrp"
  controller_count: 1
  worker_count: 1
  wireguard_network: "192.168.100.0/24"
  wireguard_port: "47213"

# Azure resources
azure_rg_status: "created"
azure_network_status: "created"
azure_ssh_key_status: "created"

# VM states (will be populated as VMs are created)
vm_states:
  k0s-controller-1:
    public_ip: "20.112.54.18"
    private_ip: "10.0.1.4"
    state: "Succeeded"
    last_checked: "2025-12-01T09:01:37Z"
  k0s-worker-1:
    public_ip: "20.112.54.77"
    private_ip: "10.0.1.5"
    state: "Succeeded"
    last_checked: "2025-12-01T09:01:38Z"

# WireGuard setup
wg_keys_generated: true
wg_laptop_config_created: true
wg_vpn_connected: true

# Cluster setup
k0s_config_generated: true
k0s_cluster_deployed: true
k0rdent_installed: true

# Deployment phase tracking
phases:
  prepare_deployment:
    status: "completed"
    updated_at: "2025-12-01T08:56:41Z"
  setup_network:
    status: "completed"
    updated_at: "2025-12-01T08:58:02Z"
  create_vms:
    status: "completed"
    updated_at: "2025-12-01T09:01:52Z"
  setup_vpn:
    status: "completed"
    updated_at: "2025-12-01T09:01:58Z"
  connect_vpn:
    status: "completed"
    updated_at: "2025-12-01T09:02:06Z"
  install_k0s:
    status: "completed"
    updated_at: "2025-12-01T09:05:40Z"
  install_k0rdent:
    status: "completed"
    updated_at: "2025-12-01T09:07:20Z"
  setup_azure_children:
    status: "skipped"
    updated_at: "2025-12-01T09:07:20Z"
    skipped_reason: "Component not enabled"
  install_azure_csi:
    status: "skipped"
    updated_at: "2025-12-01T09:07:20Z"
    skipped_reason: "Component not enabled"
  install_kof_mothership:
    status: "skipped"
    updated_at: "2025-12-01T09:07:21Z"
    skipped_reason: "Component not enabled"
  install_kof_regional:
    status: "skipped"
    updated_at: "2025-12-01T09:07:21Z"
    skipped_reason: "Component not enabled"

# Artifact registry (generated files/scripts)
artifacts:
  cloud_init_directory:
    path: "./cloud-init-yaml"
    updated_at: "2025-12-01T08:56:40Z"
  wireguard_keys_directory:
    path: "./wireguard"
    updated_at: "2025-12-01T08:56:40Z"
  azure_ssh_private_key:
    path: "./azure-resources/k0rdent-q7m2xk4p-ssh-key"
    updated_at: "2025-12-01T08:58:01Z"
  azure_ssh_public_key:
    path: "./azure-resources/k0rdent-q7m2xk4p-ssh-key.pub"
    updated_at: "2025-12-01T08:58:01Z"
  wireguard_laptop_config:
    path: "./wireguard/wgk0q7m2xk4p.conf"
    updated_at: "2025-12-01T09:01:57Z"
  k0sctl_config:
    path: "./k0sctl-config/k0rdent-q7m2xk4p-k0sctl.yaml"
    updated_at: "2025-12-01T09:02:08Z"
  kubeconfig_file:
    path: "./k0sctl-config/k0rdent-q7m2xk4p-kubeconfig"
    updated_at: "2025-12-01T09:04:51Z"
deployment_start_time: "2025-12-01T08:56:05Z"
wireguard_peers:
  mylaptop:
    ip: "192.168.100.1"
    role: "hub"
    private_key: "8Ae3...redacted...Xl0="
    public_key: "Qz1c...redacted...Mk4="
    keys_generated: true
    keys_generated_at: "2025-12-01T08:56:39Z"
  k0s-controller-1:
    ip: "192.168.100.11"
    role: "controller"
    private_key: "gOr2...redacted...WnE="
    public_key: "s0Ye...redacted...Yj8="
    keys_generated: true
    keys_generated_at: "2025-12-01T08:56:39Z"
  k0s-worker-1:
    ip: "192.168.100.12"
    role: "worker"
    private_key: "aF9k...redacted...Z3M="
    public_key: "Lw7P...redacted...cQ0="
    keys_generated: true
    keys_generated_at: "2025-12-01T08:56:40Z"
wg_setup_method: "cli"
wg_macos_interface: "utun6"
k0rdent_ready: false
k0rdent_ready_partial: true
deployment_end_time: "2025-12-01 01:07:21 PST"
deployment_duration_seconds: "676"
aws_credentials_configured: true
aws_account_id: "123456789012"
`;

/** The private keys in BASH_LATEST_YAML, by peer. */
export const BASH_PRIVATE_KEYS: Record<string, string> = {
  mylaptop: '8Ae3...redacted...Xl0=',
  'k0s-controller-1': 'gOr2...redacted...WnE=',
  'k0s-worker-1': 'aF9k...redacted...Z3M=',
};

/** `deployment-events.yaml` of domain.md §2.2, as the Bash tool writes it. */
export const BASH_EVENTS_YAML = `# k0rdent Deployment Events Log
# Auto-generated on 2025-12-01T08:56:05Z

deployment_id: "k0rdent-q7m2xk4p"
created_at: "2025-12-01T08:56:05Z"
last_updated: "2025-12-01T09:07:21Z"

# Events log
events:
  - timestamp: "2025-12-01T08:56:05Z"
    action: deployment_initialized
    message: Deployment state tracking initialized
  - timestamp: "2025-12-01T08:56:05Z"
    action: deployment_started
    message: "Deployment started with flags: azure-children=false, kof=false"
  - timestamp: "2025-12-01T08:56:41Z"
    action: phase_completed
    message: "Phase completed: prepare_deployment"
    phase: prepare_deployment
`;

/** A state file in the older documented layout, put together from the steps of seed 000. */
export const BASH_DOC_YAML = `deployment:
  id: "k0rdent-q7m2xk4p"
  started_at: "2024-01-20T10:00:00Z"
phases:
  prepare_deployment: true
  setup_network: true
  create_vms: true
  setup_vpn: false
  connect_vpn: false
  install_k0s: false
  install_k0rdent: false
wireguard:
  peers:
    laptop:
      public_key: "generated-public-key"
      wireguard_ip: "192.168.100.1"
    k0rdent-vm1:
      public_key: "generated-public-key"
      wireguard_ip: "192.168.100.11"
resources:
  resource_group: "k0rdent-rg-q7m2xk4p"
  vnet: "k0rdent-vnet-q7m2xk4p"
  subnet: "k0rdent-subnet-q7m2xk4p"
  nsg: "k0rdent-nsg-q7m2xk4p"
  ssh_key: "k0rdent-ssh-key-q7m2xk4p"
  vpn_config_created: true
vms:
  k0rdent-vm1:
    name: "k0rdent-vm1-q7m2xk4p"
    public_ip: "20.x.x.x"
    private_ip: "10.0.1.11"
    wireguard_ip: "192.168.100.11"
    status: "running"
  k0rdent-vm2:
    name: "k0rdent-vm2-q7m2xk4p"
    status: "creating"
cluster:
  k0s_deployed: false
  kubeconfig_retrieved: false
`;
