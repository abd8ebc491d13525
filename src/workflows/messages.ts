/**
 * The contract between the deployment workflow, its activities and its clients: payload types, signal,
 * query and update definitions, the task queue, the workflow-ID builder and failure type names.
 * Deterministic code only.
 */
import { SearchAttributeType, defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AzureTarget } from '../azure/target';
import type { K0rdentConfig } from '../config/types';
import type { PhaseTimes } from './eta';
import type { PhaseName } from './phases';

/** Default task queue of workers and deployments. */
export const DEFAULT_TASK_QUEUE = 'k0rdent-deploy';

/** Workflow type name of the deployment workflow. */
export const DEPLOYMENT_WORKFLOW = 'deploymentWorkflow';

const DEPLOYMENT_ID = /^k0rdent-[a-z0-9]{8}$/;

/** True when `id` has the Bash tool's cluster-id shape (`k0rdent-` + 8 of `[a-z0-9]`). */
export function isDeploymentId(id: string): boolean {
  return DEPLOYMENT_ID.test(id);
}

/** The workflow ID of a deployment: the deployment id itself, so the Web UI lists it by that name. */
export function workflowIdFor(deploymentId: string): string {
  if (!isDeploymentId(deploymentId)) {
    throw new Error(
      `deployment id "${deploymentId}" is not of the form k0rdent-<8 lowercase letters or digits>`
    );
  }
  return deploymentId;
}

/** The deployment id of a workflow ID, or undefined when the ID is not a deployment's. */
export function deploymentIdOf(workflowId: string): string | undefined {
  return isDeploymentId(workflowId) ? workflowId : undefined;
}

/** Failure type names; the workflow decides by these, never by message text. */
export const FailureTypes = {
  InvalidConfig: 'InvalidConfig',
  InvalidRequest: 'InvalidRequest',
  Auth: 'AuthFailed',
  Quota: 'QuotaExceeded',
  NotFound: 'NotFound',
  Conflict: 'Conflict',
  Foreign: 'ForeignResource',
  Injected: 'InjectedFault',
  CommandFailed: 'CommandFailed',
  ToolMissing: 'ToolMissing',
  HostKeyMismatch: 'HostKeyMismatch',
} as const;

/** Failure types that retrying cannot fix. */
export const NON_RETRYABLE_FAILURES: string[] = [
  FailureTypes.InvalidConfig,
  FailureTypes.InvalidRequest,
  FailureTypes.Auth,
  FailureTypes.Quota,
  FailureTypes.Foreign,
  FailureTypes.ToolMissing,
  FailureTypes.HostKeyMismatch,
];

/** Status of one phase. */
export type PhaseStatus = 'pending' | 'in_progress' | 'completed' | 'skipped' | 'failed' | 'rolling_back';

/** What the deployment is doing as a whole. */
export type DeploymentStatus =
  | 'in_progress'
  | 'completed'
  | 'failed'
  | 'paused'
  | 'rolling_back'
  | 'resetting'
  | 'reset';

/** The per-phase record kept by the workflow and projected under `phases.<name>`. */
export interface PhaseRecord {
  status: PhaseStatus;
  /** ISO-8601 UTC to the second, `Z` suffix. */
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
  durationSeconds?: number;
  skippedReason?: string;
  /** Last error, kept while the phase is `failed`. */
  error?: string;
  /** How many times `apply` was started for this phase (attempts across retries count once). */
  runs: number;
}

/** One entry of an events file. */
export interface EventRecord {
  timestamp: string;
  action: string;
  message: string;
  phase?: string;
}

/** Azure-side status of a resource group of things, as the Bash tool writes it. */
export type ResourceStatus = 'not_created' | 'created' | 'deleted';

/** One VM's entry in `vm_states`. */
export interface VmState {
  public_ip: string;
  private_ip: string;
  state: string;
  last_checked: string;
}

/** One peer in `wireguard_peers`; the private key stays on disk, only its path is kept. */
export interface WireguardPeer {
  ip: string;
  role: 'hub' | 'controller' | 'worker';
  public_key?: string;
  /** Path (relative to the deployment folder) of the 0600 private-key file. */
  private_key_file?: string;
  keys_generated?: boolean;
  keys_generated_at?: string;
}

/** One entry of the artifact registry. */
export interface ArtifactRecord {
  path: string;
  updated_at: string;
}

/** A child or regional cluster, with its own events file. */
export interface ClusterRecord {
  created_at: string;
  last_updated: string;
  events: EventRecord[];
}

/** Scalar values kept at the top level of the state file (`wg_keys_generated`, `kof_regional_domain`, ...). */
export type FactValue = string | number | boolean;

/** Facts established by phases, in the shape the state file stores them. */
export interface DeploymentFacts {
  /** Top-level scalar keys, e.g. `azure_rg_status`, `wg_vpn_connected`. */
  values: Record<string, FactValue>;
  vm_states: Record<string, VmState>;
  wireguard_peers: Record<string, WireguardPeer>;
  artifacts: Record<string, ArtifactRecord>;
  clusters: Record<string, ClusterRecord>;
}

/** A change to the facts returned by a phase activity; `null` removes an entry. */
export interface FactsPatch {
  values?: Record<string, FactValue | null>;
  vm_states?: Record<string, VmState | null>;
  wireguard_peers?: Record<string, WireguardPeer | null>;
  artifacts?: Record<string, ArtifactRecord | null>;
  /** Cluster events to append; a cluster seen for the first time gets its file created. */
  cluster_events?: { cluster: string; event: EventRecord }[];
  /** Clusters whose events file is removed (the cluster is gone). */
  clusters_removed?: string[];
}

/** Components switched on for this deployment. */
export interface DeploymentFlags {
  azureChildren: boolean;
  kof: boolean;
}

/** Timeouts and retries of phase activities, resolved from the config's preset. */
export interface ActivityPolicy {
  /** Start-to-close timeout per phase kind, seconds. */
  startToCloseSeconds: Record<'local' | 'cloud' | 'vms' | 'host' | 'cluster', number>;
  heartbeatSeconds: number;
  maxAttempts: number;
  initialRetrySeconds: number;
  maxRetrySeconds: number;
  /** Check activities are short reads. */
  checkTimeoutSeconds: number;
}

/** What a client asks for when it starts a deployment. */
export interface DeploymentInput {
  deploymentId: string;
  /** Absolute path of the deployment folder (holds `state/`, `wireguard/`, `.clusterid`, ...). */
  workDir: string;
  /** Path of the config file as the user gave it. */
  configFile: string;
  config: K0rdentConfig;
  flags: DeploymentFlags;
  deployer: string;
  policy: ActivityPolicy;
  /** Where the Azure phases go. */
  cloud: AzureTarget;
  /** State adopted from a state file written by the Bash tool. */
  adopted?: DeploymentState;
  /** State carried over by continue-as-new. */
  carried?: DeploymentState;
  /** Median and p90 of each phase in the folder's earlier deployments, for the Web UI's ETAs. */
  phaseTimes?: PhaseTimes;
}

/** The whole state of a deployment: what the `state` query returns and what the projection writes. */
export interface DeploymentState {
  deploymentId: string;
  deployer: string;
  createdAt: string;
  lastUpdated: string;
  sourceConfigFile: string;
  /** Last phase touched (the state file's top-level `phase`). */
  phase: string;
  status: DeploymentStatus;
  flags: DeploymentFlags;
  /** Configuration snapshot written under `config:`. */
  configSnapshot: {
    azure_location: string;
    resource_group: string;
    controller_count: number;
    worker_count: number;
    wireguard_network: string;
  };
  deploymentStartTime?: string;
  /** ISO UTC end of the last completed run; the projection renders it in local time. */
  deploymentEndTime?: string;
  deploymentDurationSeconds?: number;
  phases: Record<PhaseName, PhaseRecord>;
  facts: DeploymentFacts;
  /** Append-only; the projection writes them in this order. */
  events: EventRecord[];
  /** Why the workflow is waiting, when it is. */
  waitingFor?: string;
  /** Last error of the deployment (a failed phase or a failed rollback). */
  lastError?: string;
  /** Present while or after a rollback: the phase it rewinds to. */
  rollbackTarget?: PhaseName;
  /** Present once reset has archived the state. */
  archivedTo?: string;
}

/** Payload of the `rollback` signal and update. */
export interface RollbackRequest {
  toPhase: string;
  /** Continue deploying from `toPhase` at once instead of resting there. */
  resume?: boolean;
}

/** Payload of the `reset` signal and update. */
export interface ResetRequest {
  reason?: string;
}

/** Payload of the `setComponents` signal: switch optional components on or off. */
export interface ComponentsRequest {
  azureChildren?: boolean;
  kof?: boolean;
}

/** Queue a rollback; queued durably even when no worker runs. */
export const rollbackSignal = defineSignal<[RollbackRequest]>('rollback');
/** Roll back with an answer: refused for an unknown phase or one that has not run. */
export const rollbackUpdate = defineUpdate<DeploymentState, [RollbackRequest]>('rollback');
/** Continue after a failure or a rollback. */
export const resumeSignal = defineSignal('resume');
/** Undo everything, archive the state and end the workflow. */
export const resetSignal = defineSignal<[ResetRequest]>('reset');
/** Reset with an answer (refused when a reset is already under way). */
export const resetUpdate = defineUpdate<DeploymentState, [ResetRequest]>('reset');
/** Switch optional components on or off. */
export const componentsSignal = defineSignal<[ComponentsRequest]>('setComponents');
/** The whole deployment state. */
export const stateQuery = defineQuery<DeploymentState>('state');

/** Search attribute names registered on the server. */
export const SearchAttributeNames = {
  deploymentId: 'DeploymentId',
  phase: 'DeploymentPhase',
  status: 'DeploymentStatus',
} as const;

/** Typed keys of the search attributes, shared by the workflow and the client. */
export const SearchAttributeKeys = {
  deploymentId: defineSearchAttributeKey(SearchAttributeNames.deploymentId, SearchAttributeType.KEYWORD),
  phase: defineSearchAttributeKey(SearchAttributeNames.phase, SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey(SearchAttributeNames.status, SearchAttributeType.KEYWORD),
} as const;

/** What every phase activity works with: references and public facts, never secrets. */
export interface PhaseContext {
  deploymentId: string;
  workDir: string;
  phase: PhaseName;
  config: K0rdentConfig;
  flags: DeploymentFlags;
  facts: DeploymentFacts;
  cloud: AzureTarget;
}

/**
 * What the workflow sends a phase activity. The config and the Azure target are in the workflow's input
 * already, so a request names them by digest and the activity reads them from the run's start event (once
 * per worker); histories recorded before that carry them whole. Only the facts the phase reads are sent.
 */
export interface PhaseRequest extends Omit<PhaseContext, 'config' | 'cloud'> {
  config?: K0rdentConfig;
  cloud?: AzureTarget;
  /** `jsonDigest([config, cloud])` of the workflow input. */
  inputDigest?: string;
}

/** One thing a phase makes in the world. */
export interface InventoryItem {
  /** `azure` resource, the laptop's WireGuard `tunnel`, the `k0s` cluster, a `helm` release, a cluster `object`, an Azure AD `sp`. */
  kind: 'azure' | 'tunnel' | 'k0s' | 'helm' | 'object' | 'sp';
  /** ARM type (`Microsoft.Compute/virtualMachines`), Kubernetes kind, or a word for the others. */
  type: string;
  name: string;
  namespace?: string;
  /** Left in place by the phase's own rollback; only resetting k0s takes it along. */
  outlivesRollback?: boolean;
}

/** An item as a read-only look found it; `exists` is absent where the world could not be read. */
export interface ObservedItem extends InventoryItem {
  exists?: boolean;
}

/** What a phase's `check` observed. */
export interface CheckResult {
  /** True when reality matches what the phase made; false means drift and the phase runs again. */
  upToDate: boolean;
  /** Why the phase is not up to date. */
  reason?: string;
}

/** What a phase's `apply` or `rollback` established. */
export interface PhaseResult {
  patch: FactsPatch;
  events: EventRecord[];
}

/** Input of the projection activity. */
export interface ProjectionInput {
  workDir: string;
  state: DeploymentState;
  writePrivateKeys: boolean;
}

/** Input of the archive activity. */
export interface ArchiveInput {
  workDir: string;
  deploymentId: string;
  reason: string;
  /** Epoch ms fixed by the workflow so a retried call reuses the same folder. */
  at: number;
  mode: 'copy' | 'move';
  /** Remove `.clusterid` once archived (the next deploy gets a new id). */
  forgetClusterId: boolean;
}
