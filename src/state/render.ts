/**
 * Pure renderers of the Bash tool's state files from a DeploymentState: same inputs, same bytes, no clock,
 * no I/O. The existing file's text is an input so that keys other tools wrote survive and events stay
 * append-only.
 */
import type {
  ArtifactRecord,
  ClusterRecord,
  DeploymentState,
  DeploymentStatus,
  EventRecord,
  FactValue,
  PhaseRecord,
} from '../workflows/messages';
import { PHASE_NAMES } from '../workflows/phases';
import {
  AZURE_STATUS_FACTS,
  CLUSTER_FACTS,
  compareHostNames,
  compareText,
  KNOWN_ARTIFACTS,
  LATER_FACTS,
  STRUCTURAL_KEYS,
  WIREGUARD_FACTS,
  WIREGUARD_PORT_FACT,
} from './keys';
import { localTimestamp } from './time';
import { mapEntries, tryParseYamlMap, YamlWriter } from './yaml';

/** Options of renderDeploymentState. */
export interface RenderOptions {
  /** Private keys by peer name, written as `wireguard_peers.<peer>.private_key`; opt-in for legacy scripts. */
  privateKeys?: Record<string, string>;
  /** IANA zone of `deployment_end_time`; the process's zone when absent. */
  timeZone?: string;
}

/** The top-level `status` the Bash tool's readers know: `completed`, `failed` or `in_progress`. */
export function legacyStatus(status: DeploymentStatus): 'completed' | 'failed' | 'in_progress' {
  if (status === 'completed' || status === 'failed') return status;
  return 'in_progress';
}

/** A fact as the Bash tool's `update_state` types it: booleans stay, everything else is a string. */
function factText(value: FactValue | undefined): string | boolean | undefined {
  if (value === undefined || typeof value === 'boolean' || typeof value === 'string') return value;
  return String(value);
}

/** A value of a record by key (the record types say every key exists; files say otherwise). */
function lookup<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

/** `record` as a Map with its keys in host order (hub, controllers, workers). */
function byHost<T, R>(record: Record<string, T>, render: (key: string, value: T) => R): Map<string, R> {
  const out = new Map<string, R>();
  for (const key of Object.keys(record).sort(compareHostNames)) out.set(key, render(key, record[key] as T));
  return out;
}

/** Keys in `first` order (those present), then the rest of `keys` in code-unit order. */
function orderedKeys(keys: string[], first: readonly string[]): string[] {
  const present = new Set(keys);
  const known = first.filter((k) => present.has(k));
  const rest = keys.filter((k) => !first.includes(k)).sort(compareText);
  return [...known, ...rest];
}

/** The `phases` map: all eleven phases in order, legacy keys first, our extra keys after. */
function phasesValue(state: DeploymentState): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const name of PHASE_NAMES) {
    const rec = lookup(state.phases as Record<string, PhaseRecord>, name);
    if (!rec) {
      out.set(name, { status: 'pending', updated_at: state.createdAt });
      continue;
    }
    out.set(name, {
      status: rec.status,
      updated_at: rec.updatedAt,
      skipped_reason: rec.status === 'skipped' ? (rec.skippedReason ?? 'Component not enabled') : undefined,
      started_at: rec.startedAt,
      finished_at: rec.finishedAt,
      duration_seconds: rec.durationSeconds,
      error: rec.error,
    });
  }
  return out;
}

/** The artifact registry, the Bash tool's names first. */
function artifactsValue(artifacts: Record<string, ArtifactRecord>): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const name of orderedKeys(Object.keys(artifacts), KNOWN_ARTIFACTS)) {
    const a = artifacts[name] as ArtifactRecord;
    out.set(name, { path: a.path, updated_at: a.updated_at });
  }
  return out;
}

/** `wireguard_peers`, with `private_key` only for peers in `privateKeys`. */
function peersValue(state: DeploymentState, privateKeys: Record<string, string>): Map<string, unknown> {
  return byHost(state.facts.wireguard_peers, (name, p) => ({
    ip: p.ip,
    role: p.role,
    private_key: lookup(privateKeys, name),
    public_key: p.public_key,
    keys_generated: p.keys_generated,
    keys_generated_at: p.keys_generated_at,
    private_key_file: p.private_key_file,
  }));
}

/** The older layout's `vms.<host>.status`: `running`, `creating` or the lower-cased Azure state. */
function docVmStatus(state: string): string {
  if (state === 'Succeeded') return 'running';
  return state.toLowerCase();
}

/** The sections of the older documented layout (`deployment`, `resources`, `vms`, `wireguard`, `cluster`). */
function docSections(state: DeploymentState): [string, unknown][] {
  const values = state.facts.values;
  const id = state.deploymentId;
  const isTrue = (key: string): boolean => lookup(values, key) === true;
  const resources: Record<string, unknown> = {};
  if (lookup(values, 'azure_rg_status') === 'created') {
    resources.resource_group = state.configSnapshot.resource_group;
  }
  if (lookup(values, 'azure_network_status') === 'created') {
    resources.vnet = `${id}-vnet`;
    resources.subnet = `${id}-subnet`;
    resources.nsg = `${id}-nsg`;
  }
  if (lookup(values, 'azure_ssh_key_status') === 'created') resources.ssh_key = `${id}-admin`;
  if (isTrue('wg_laptop_config_created')) resources.vpn_config_created = true;
  if (isTrue('wg_vpn_connected')) resources.vpn_connected = true;
  if (isTrue('k0s_config_generated')) resources.k0sctl_config_generated = true;
  if (isTrue('k0rdent_installed')) resources.helm_installed = true;

  const peers = state.facts.wireguard_peers;
  const vms = byHost(state.facts.vm_states, (host, vm) => ({
    name: host,
    public_ip: vm.public_ip === '' ? undefined : vm.public_ip,
    private_ip: vm.private_ip === '' ? undefined : vm.private_ip,
    wireguard_ip: lookup(peers, host)?.ip,
    status: docVmStatus(vm.state),
  }));
  const wgPeers = byHost(peers, (_name, p) => ({ public_key: p.public_key, wireguard_ip: p.ip }));
  return [
    [
      'deployment',
      { id, started_at: state.deploymentStartTime ?? state.createdAt, completed_at: state.deploymentEndTime },
    ],
    ['resources', resources],
    ['vms', vms],
    ['wireguard', { peers: wgPeers }],
    [
      'cluster',
      {
        k0s_deployed: isTrue('k0s_cluster_deployed'),
        kubeconfig_retrieved:
          isTrue('kubeconfig_retrieved') || lookup(state.facts.artifacts, 'kubeconfig_file') !== undefined,
        k0rdent_ready: isTrue('k0rdent_installed'),
      },
    ],
  ];
}

/** `deployment_end_time` in local time, or the stored text when it is not a date. */
function endTimeText(iso: string | undefined, timeZone: string | undefined): string | undefined {
  if (iso === undefined) return undefined;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : localTimestamp(d, timeZone);
}

/** The id a parsed state file belongs to, from either layout. */
function fileDeploymentId(existing: Map<unknown, unknown>): unknown {
  const id = existing.get('deployment_id');
  if (id !== undefined) return id;
  const deployment = existing.get('deployment');
  return deployment instanceof Map ? (deployment as Map<unknown, unknown>).get('id') : undefined;
}

/** True when a file's identifying value is missing or is `expected`. */
function absentOrEqual(found: unknown, expected: string): boolean {
  return found === undefined || found === null || found === expected;
}

/** Writes the entries of `existing` whose keys are not in `owned`, under a comment. */
function appendForeignKeys(
  w: YamlWriter,
  existing: Map<unknown, unknown> | undefined,
  owned: Set<string>
): void {
  const foreign = [...(existing?.entries() ?? [])].filter(([k]) => !(typeof k === 'string' && owned.has(k)));
  if (foreign.length === 0) return;
  w.blank().comment('Keys written by other tools, kept as they were');
  for (const [k, v] of foreign) w.entry(k, v);
}

/**
 * `state/deployment-state.yaml` in the Bash tool's latest layout, plus the older documented sections.
 * Keys of `existingText` this tool does not own are kept after ours; an existing file of another
 * deployment contributes nothing.
 */
export function renderDeploymentState(
  state: DeploymentState,
  existingText: string | undefined,
  opts: RenderOptions = {}
): string {
  const values = state.facts.values;
  const fact = (key: string): string | boolean | undefined => factText(lookup(values, key));
  const w = new YamlWriter();
  w.comment('k0rdent Deployment State').comment(`Auto-generated on ${state.createdAt}`).blank();

  w.comment('Basic deployment info')
    .entry('deployment_id', state.deploymentId)
    .entry('deployer', state.deployer)
    .entry('created_at', state.createdAt)
    .entry('last_updated', state.lastUpdated)
    .entry('phase', state.phase)
    .entry('status', legacyStatus(state.status))
    .entry('orchestrator_status', state.status)
    .entry('waiting_for', state.waitingFor)
    .entry('last_error', state.lastError)
    .entry('rollback_target', state.rollbackTarget)
    .entry('archived_to', state.archivedTo)
    .entry('deployment_flags', { azure_children: state.flags.azureChildren, kof: state.flags.kof });

  w.blank()
    .comment('Source configuration file (for proper variable expansion)')
    .entry('source_config_file', state.sourceConfigFile);

  const snapshot = state.configSnapshot;
  w.blank()
    .comment('Configuration snapshot')
    .entry('config', {
      azure_location: snapshot.azure_location,
      resource_group: snapshot.resource_group,
      controller_count: snapshot.controller_count,
      worker_count: snapshot.worker_count,
      wireguard_network: snapshot.wireguard_network,
      wireguard_port: fact(WIREGUARD_PORT_FACT) ?? null,
    });

  w.blank().comment('Azure resources');
  for (const key of AZURE_STATUS_FACTS) w.entry(key, fact(key) ?? 'not_created');

  w.blank()
    .comment('VM states (will be populated as VMs are created)')
    .entry(
      'vm_states',
      byHost(state.facts.vm_states, (_host, vm) => ({
        public_ip: vm.public_ip,
        private_ip: vm.private_ip,
        state: vm.state,
        last_checked: vm.last_checked,
      }))
    );

  w.blank().comment('WireGuard setup');
  for (const key of WIREGUARD_FACTS) w.entry(key, fact(key) ?? false);
  w.blank().comment('Cluster setup');
  for (const key of CLUSTER_FACTS) w.entry(key, fact(key) ?? false);

  w.blank().comment('Deployment phase tracking').entry('phases', phasesValue(state));
  w.blank()
    .comment('Artifact registry (generated files/scripts)')
    .entry('artifacts', artifactsValue(state.facts.artifacts));

  w.entry('deployment_start_time', state.deploymentStartTime);
  if (Object.keys(state.facts.wireguard_peers).length > 0) {
    w.entry('wireguard_peers', peersValue(state, opts.privateKeys ?? {}));
  }

  const placed = new Set([
    ...STRUCTURAL_KEYS,
    ...AZURE_STATUS_FACTS,
    ...WIREGUARD_FACTS,
    ...CLUSTER_FACTS,
    WIREGUARD_PORT_FACT,
  ]);
  for (const key of orderedKeys(Object.keys(values), LATER_FACTS)) {
    if (!placed.has(key)) w.entry(key, fact(key));
  }
  w.entry('deployment_end_time', endTimeText(state.deploymentEndTime, opts.timeZone));
  const duration = state.deploymentDurationSeconds;
  w.entry(
    'deployment_duration_seconds',
    duration === undefined ? undefined : String(Math.max(0, Math.round(duration)))
  );

  w.blank().comment(
    'Summary in the older documented layout (docs/STATE_TRACKING_DETAILS.md), for its readers'
  );
  for (const [key, value] of docSections(state)) w.entry(key, value);

  const existing = tryParseYamlMap(existingText);
  const sameDeployment = existing && absentOrEqual(fileDeploymentId(existing), state.deploymentId);
  const owned = new Set([...placed, ...LATER_FACTS, ...Object.keys(values)]);
  appendForeignKeys(w, sameDeployment ? existing : undefined, owned);
  return w.toString();
}

/** An event as a map in the file's key order; no `phase` key when it has none. */
function eventValue(e: EventRecord): Record<string, unknown> {
  return { timestamp: e.timestamp, action: e.action, message: e.message, phase: e.phase ?? undefined };
}

/** Identity of an event for the append-only merge: its four fields as text, other keys ignored. */
function eventIdentity(e: unknown): string {
  const entries = mapEntries(e);
  if (!entries) return `other:${JSON.stringify(String(e))}`;
  const get = (key: string): string | null => {
    const v = entries.find(([k]) => k === key)?.[1];
    return v === undefined || v === null ? null : typeof v === 'string' ? v : JSON.stringify(v);
  };
  return JSON.stringify([get('timestamp'), get('action'), get('message'), get('phase')]);
}

/**
 * The file's events followed by ours that it does not hold yet, in order. Matching counts duplicates, so
 * when the file's events are a prefix of ours the result is ours, and a file event we do not know is kept.
 */
export function mergeEvents(existing: readonly unknown[], ours: readonly EventRecord[]): unknown[] {
  const remaining = new Map<string, number>();
  for (const e of existing) {
    const id = eventIdentity(e);
    remaining.set(id, (remaining.get(id) ?? 0) + 1);
  }
  const out: unknown[] = [...existing];
  for (const e of ours) {
    const id = eventIdentity(eventValue(e));
    const left = remaining.get(id) ?? 0;
    if (left > 0) remaining.set(id, left - 1);
    else out.push(eventValue(e));
  }
  return out;
}

/** The `events` list of a parsed events file (empty when missing or not a list). */
function eventsOf(existing: Map<unknown, unknown> | undefined): unknown[] {
  const events = existing?.get('events');
  return Array.isArray(events) ? (events as unknown[]) : [];
}

const EVENTS_FILE_KEYS = new Set(['deployment_id', 'created_at', 'last_updated', 'events']);
const CLUSTER_FILE_KEYS = new Set(['cluster_name', 'created_at', 'last_updated', 'events']);

/**
 * `state/deployment-events.yaml`: strictly append-only against `existingText` (of the same deployment),
 * so a reader that indexes events by position never sees one move or vanish.
 */
export function renderEventsFile(
  deploymentId: string,
  createdAt: string,
  lastUpdated: string,
  events: readonly EventRecord[],
  existingText?: string
): string {
  const parsed = tryParseYamlMap(existingText);
  const existing = parsed && absentOrEqual(parsed.get('deployment_id'), deploymentId) ? parsed : undefined;
  const w = new YamlWriter();
  w.comment('k0rdent Deployment Events Log').comment(`Auto-generated on ${createdAt}`).blank();
  w.entry('deployment_id', deploymentId).entry('created_at', createdAt).entry('last_updated', lastUpdated);
  w.blank()
    .comment('Events log')
    .entry('events', mergeEvents(eventsOf(existing), events));
  appendForeignKeys(w, existing, EVENTS_FILE_KEYS);
  return w.toString();
}

/** `state/cluster-<name>-events.yaml` of a child or regional cluster, append-only like the events file. */
export function renderClusterEventsFile(
  clusterName: string,
  record: ClusterRecord,
  existingText?: string
): string {
  const parsed = tryParseYamlMap(existingText);
  const existing = parsed && absentOrEqual(parsed.get('cluster_name'), clusterName) ? parsed : undefined;
  const w = new YamlWriter();
  w.comment(`Cluster Events Log: ${clusterName}`)
    .comment(`Auto-generated on ${record.created_at}`)
    .comment('Note: Cluster state is tracked in k0rdent - this file only tracks local events')
    .blank();
  w.entry('cluster_name', clusterName)
    .entry('created_at', record.created_at)
    .entry('last_updated', record.last_updated);
  w.blank()
    .comment('Events log (local operations only)')
    .entry('events', mergeEvents(eventsOf(existing), record.events));
  appendForeignKeys(w, existing, CLUSTER_FILE_KEYS);
  return w.toString();
}
