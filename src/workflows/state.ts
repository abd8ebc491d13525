/** Pure transitions of the deployment state; deterministic, shared by the workflow and tests. */
import type { PhaseTimes } from './eta';
import { estimate, formatDuration, formatPhaseTime, remainingLine } from './eta';
import type { PhaseName } from './phases';
import { PHASES, PHASE_NAMES, phaseIndex } from './phases';
import type {
  DeploymentFacts,
  DeploymentInput,
  DeploymentState,
  EventRecord,
  FactsPatch,
  PhaseRecord,
  PhaseStatus,
} from './messages';

/** ISO-8601 UTC to the second with a `Z`, the only timestamp format the state files use. */
export function isoSecond(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** An empty set of facts, with the Bash tool's initial values. */
export function emptyFacts(): DeploymentFacts {
  return {
    values: {
      azure_rg_status: 'not_created',
      azure_network_status: 'not_created',
      azure_ssh_key_status: 'not_created',
      wg_keys_generated: false,
      wg_laptop_config_created: false,
      wg_vpn_connected: false,
      k0s_config_generated: false,
      k0s_cluster_deployed: false,
      k0rdent_installed: false,
    },
    vm_states: {},
    wireguard_peers: {},
    artifacts: {},
    clusters: {},
  };
}

/** The state of a deployment that has not run yet (where its Azure phases go plays no part). */
export function initialState(
  input: Pick<DeploymentInput, 'deploymentId' | 'deployer' | 'configFile' | 'config' | 'flags'>,
  now: string
): DeploymentState {
  const phases = {} as Record<PhaseName, PhaseRecord>;
  for (const name of PHASE_NAMES) phases[name] = { status: 'pending', updatedAt: now, runs: 0 };
  const cfg = input.config;
  return {
    deploymentId: input.deploymentId,
    deployer: input.deployer,
    createdAt: now,
    lastUpdated: now,
    sourceConfigFile: input.configFile,
    phase: 'preparation',
    status: 'in_progress',
    flags: { ...input.flags },
    configSnapshot: {
      azure_location: cfg.azure.location,
      resource_group: `${input.deploymentId}-resgrp`,
      controller_count: cfg.cluster.controllers.count,
      worker_count: cfg.cluster.workers.count,
      wireguard_network: cfg.network.wireguard_network,
    },
    phases,
    facts: emptyFacts(),
    events: [
      { timestamp: now, action: 'deployment_initialized', message: 'Deployment state tracking initialized' },
    ],
  };
}

/** Appends an event and bumps `lastUpdated`. */
export function addEvent(state: DeploymentState, event: EventRecord): void {
  state.events.push(event);
  state.lastUpdated = event.timestamp;
}

/** Sets a phase's status, keeping its timing fields consistent. */
export function setPhaseStatus(
  state: DeploymentState,
  phase: PhaseName,
  status: PhaseStatus,
  now: string,
  extra: Partial<PhaseRecord> = {}
): void {
  const prev = state.phases[phase];
  const next: PhaseRecord = { ...prev, ...extra, status, updatedAt: now };
  if (status !== 'skipped') delete next.skippedReason;
  if (status !== 'failed') delete next.error;
  if (status === 'pending') {
    delete next.startedAt;
    delete next.finishedAt;
    delete next.durationSeconds;
  }
  state.phases[phase] = next;
  state.lastUpdated = now;
}

/** Applies a phase's facts patch; `null` entries delete. */
export function applyPatch(facts: DeploymentFacts, patch: FactsPatch, now: string): void {
  const merge = <T>(target: Record<string, T>, changes: Record<string, T | null> | undefined) => {
    if (!changes) return;
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) delete target[key];
      else target[key] = value;
    }
  };
  merge(facts.values, patch.values);
  merge(facts.vm_states, patch.vm_states);
  merge(facts.wireguard_peers, patch.wireguard_peers);
  merge(facts.artifacts, patch.artifacts);
  for (const { cluster, event } of patch.cluster_events ?? []) {
    const record = facts.clusters[cluster] ?? { created_at: event.timestamp, last_updated: now, events: [] };
    record.events.push(event);
    record.last_updated = event.timestamp;
    facts.clusters[cluster] = record;
  }
  for (const cluster of patch.clusters_removed ?? []) delete facts.clusters[cluster];
}

/** `phase_reset_from` semantics: the phase and every later one that is not skipped become pending. */
export function resetFrom(state: DeploymentState, from: PhaseName, now: string): PhaseName[] {
  const reset: PhaseName[] = [];
  for (const name of PHASE_NAMES.slice(phaseIndex(from))) {
    const status = state.phases[name].status;
    if (status === 'pending' || status === 'skipped') continue;
    setPhaseStatus(state, name, 'pending', now);
    reset.push(name);
  }
  state.phase = from;
  return reset;
}

/** Phases a rollback to `toPhase` must undo, newest first. */
export function rollbackPlan(state: DeploymentState, toPhase: PhaseName): PhaseName[] {
  return PHASE_NAMES.slice(phaseIndex(toPhase))
    .filter((name) => !['pending', 'skipped'].includes(state.phases[name].status))
    .reverse();
}

/** Why a rollback request cannot be served, or undefined when it can. */
export function rollbackRefusal(state: DeploymentState, toPhase: unknown): string | undefined {
  if (typeof toPhase !== 'string' || toPhase === '') return 'toPhase is required (a phase name)';
  const known = PHASE_NAMES as readonly string[];
  if (!known.includes(toPhase)) {
    // Quoted and cut short: the name comes from whoever sent the request and ends up in the event log.
    const shown = JSON.stringify(toPhase.length > 60 ? `${toPhase.slice(0, 57)}...` : toPhase);
    return `unknown phase ${shown}; phases are: ${known.join(', ')}`;
  }
  if (state.status === 'resetting' || state.status === 'reset') return 'the deployment is being reset';
  const status = state.phases[toPhase as PhaseName].status;
  if (status === 'pending' || status === 'skipped') {
    return `phase ${toPhase} has not run (status ${status}); nothing to roll back`;
  }
  return undefined;
}

/** Markdown table of phases with status and duration, for the Web UI's current details; with past run
 * times, each phase's median / p90 and the time left. */
export function detailsMarkdown(state: DeploymentState, past?: { times: PhaseTimes; nowMs: number }): string {
  const eta = past ? estimate(state, past.times, past.nowMs) : undefined;
  const rows = PHASES.map((p, i) => {
    const rec = state.phases[p.name];
    const note = rec.status === 'skipped' ? (rec.skippedReason ?? '') : (rec.error ?? '');
    const cells = [p.name, rec.status, formatDuration(rec.durationSeconds)];
    const e = eta?.phases[i];
    if (e) {
      cells.push(formatPhaseTime(e), e.pastP90 ? '**past p90**' : '');
    }
    cells.push(note.replace(/\|/g, '/'));
    return `| ${cells.join(' | ')} |`;
  });
  const columns = eta
    ? ['phase', 'status', 'duration', 'median / p90', 'late', 'note']
    : ['phase', 'status', 'duration', 'note'];
  const head = [
    `**${state.deploymentId}**: ${state.status}${state.waitingFor ? ` (waiting for ${state.waitingFor})` : ''}`,
    ...(eta && state.status === 'in_progress' ? ['', remainingLine(eta)] : []),
    '',
    `| ${columns.join(' | ')} |`,
    `| ${columns.map(() => '---').join(' | ')} |`,
  ];
  return [...head, ...rows].join('\n');
}

/** One-line summary shown in the Web UI's workflow list. */
export function summaryLine(input: DeploymentInput): string {
  const c = input.config;
  const extras = [input.flags.azureChildren ? 'azure children' : '', input.flags.kof ? 'KOF' : '']
    .filter(Boolean)
    .join(', ');
  return (
    `k0rdent ${input.deploymentId}: ${c.cluster.controllers.count} controller(s) + ` +
    `${c.cluster.workers.count} worker(s) in ${c.azure.location}` +
    (extras ? ` with ${extras}` : '')
  );
}
