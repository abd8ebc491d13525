/** Pure transitions of the deployment state; deterministic, shared by the workflow and tests. */
import type { PhaseTimes } from './eta';
import { estimate, formatDuration, formatPhaseTime, remainingLine } from './eta';
import type { PhaseName } from './phases';
import { PHASES, PHASE_NAMES, phaseIndex } from './phases';
import type {
  CheckResult,
  DeploymentFacts,
  DeploymentFlags,
  DeploymentInput,
  DeploymentState,
  EventRecord,
  FactsPatch,
  PhaseRecord,
  PhaseResult,
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

/** Records a phase activity's result: its facts patch and its events. */
export function recordResult(state: DeploymentState, result: PhaseResult, now: string): void {
  applyPatch(state.facts, result.patch, now);
  for (const event of result.events) addEvent(state, event);
}

/** A new run starts (not one carried over): in progress with the input's components. */
export function deploymentStarted(state: DeploymentState, flags: DeploymentFlags, now: string): void {
  state.status = 'in_progress';
  state.flags = { ...flags };
  state.deploymentStartTime = now;
  state.deploymentEndTime = undefined;
  state.deploymentDurationSeconds = undefined;
  addEvent(state, {
    timestamp: now,
    action: 'deployment_started',
    message: `Deployment started with flags: azure-children=${flags.azureChildren}, kof=${flags.kof}`,
  });
}

/** A phase whose component is off is marked skipped. */
export function phaseSkipped(state: DeploymentState, phase: PhaseName, reason: string, now: string): void {
  setPhaseStatus(state, phase, 'skipped', now, { skippedReason: reason });
  addEvent(state, {
    timestamp: now,
    action: 'phase_skipped',
    message: `Phase skipped: ${phase} - ${reason}`,
    phase,
  });
}

/** What a failed check reports. */
export function driftReason(verdict: CheckResult): string {
  return verdict.reason ?? 'check found drift';
}

/** A completed phase's check found drift: it and every later phase that ran are to run again. */
export function phaseDrifted(state: DeploymentState, phase: PhaseName, reason: string, now: string): void {
  resetFrom(state, phase, now);
  addEvent(state, {
    timestamp: now,
    action: 'phase_reset',
    message: `Phase reset invoked from: ${phase} (${reason})`,
  });
}

/** A completed phase that `by` needs drifted and runs again alone. */
export function phaseRestored(
  state: DeploymentState,
  phase: PhaseName,
  by: PhaseName,
  reason: string,
  now: string
): void {
  addEvent(state, {
    timestamp: now,
    action: 'phase_restored',
    message: `Phase ${phase}, needed by ${by}, drifted (${reason}); running it again`,
    phase,
  });
}

/** A phase's apply starts at `startedMs`. */
export function phaseStarted(state: DeploymentState, phase: PhaseName, startedMs: number): void {
  const now = isoSecond(startedMs);
  setPhaseStatus(state, phase, 'in_progress', now, { startedAt: now, runs: state.phases[phase].runs + 1 });
  state.phase = phase;
  state.status = 'in_progress';
  state.waitingFor = undefined;
}

/** A phase's apply, started at `startedMs`, completed at `finishedMs`. */
export function phaseCompleted(
  state: DeploymentState,
  phase: PhaseName,
  startedMs: number,
  finishedMs: number
): void {
  const now = isoSecond(finishedMs);
  setPhaseStatus(state, phase, 'completed', now, {
    finishedAt: now,
    durationSeconds: Math.round((finishedMs - startedMs) / 1000),
  });
  state.phase = phase;
  addEvent(state, { timestamp: now, action: 'phase_completed', message: `Phase completed: ${phase}`, phase });
}

/** A phase (its check, apply, rollback or a restore before it) failed: the deployment waits for an operator. */
export function phaseFailed(state: DeploymentState, phase: PhaseName, message: string, now: string): void {
  setPhaseStatus(state, phase, 'failed', now, { error: message });
  state.status = 'failed';
  state.lastError = message;
  state.waitingFor = 'resume, rollback or reset';
  addEvent(state, { timestamp: now, action: 'phase_failed', message, phase });
}

/** The rollback of a phase failed (recorded by `phaseFailed` first): the rewind stops there. */
export function rollbackFailed(state: DeploymentState, phase: PhaseName, now: string): void {
  addEvent(state, { timestamp: now, action: 'rollback_failed', message: state.lastError ?? '', phase });
}

/** A phase was undone. */
export function phaseRolledBack(state: DeploymentState, phase: PhaseName, now: string): void {
  setPhaseStatus(state, phase, 'pending', now);
  addEvent(state, {
    timestamp: now,
    action: 'phase_rolled_back',
    message: `Phase rolled back: ${phase}`,
    phase,
  });
}

/** A rollback to `toPhase` starts. */
export function rollbackStarted(state: DeploymentState, toPhase: PhaseName, now: string): void {
  state.status = 'rolling_back';
  state.rollbackTarget = toPhase;
  state.waitingFor = undefined;
  addEvent(state, { timestamp: now, action: 'rollback_started', message: `Rolling back to ${toPhase}` });
}

/** A rollback to `toPhase` undid every phase it had to: in progress again when asked to resume, else paused. */
export function rollbackFinished(
  state: DeploymentState,
  toPhase: PhaseName,
  resume: boolean,
  now: string
): void {
  resetFrom(state, toPhase, now);
  addEvent(state, {
    timestamp: now,
    action: 'phase_reset',
    message: `Phase reset invoked from: ${toPhase}`,
  });
  state.deploymentEndTime = undefined;
  state.deploymentDurationSeconds = undefined;
  if (resume) {
    state.status = 'in_progress';
  } else {
    state.status = 'paused';
    state.waitingFor = 'resume';
  }
}

/** A reset starts. */
export function resetStarted(state: DeploymentState, reason: string, now: string): void {
  state.status = 'resetting';
  state.waitingFor = undefined;
  addEvent(state, { timestamp: now, action: 'reset_started', message: `Reset started (${reason})` });
}

/** A reset undid every phase; the state is archived to `folder`. */
export function deploymentReset(state: DeploymentState, reason: string, folder: string, now: string): void {
  state.status = 'reset';
  state.phase = 'reset';
  state.archivedTo = folder;
  addEvent(state, {
    timestamp: now,
    action: 'deployment_reset',
    message: `Deployment reset (${reason})`,
  });
}

/** A waiting deployment resumes. */
export function deploymentResumed(state: DeploymentState, now: string): void {
  state.status = 'in_progress';
  state.waitingFor = undefined;
  addEvent(state, { timestamp: now, action: 'deployment_resumed', message: 'Deployment resumed' });
}

/** Every phase completed or was skipped, at `endMs`; the state names `phase` (see `completedPhase`). */
export function deploymentCompleted(state: DeploymentState, endMs: number, phase: string): void {
  const start = Date.parse(state.deploymentStartTime ?? state.createdAt);
  const now = isoSecond(endMs);
  state.status = 'completed';
  state.waitingFor = undefined;
  state.rollbackTarget = undefined;
  state.lastError = undefined;
  state.deploymentEndTime = now;
  state.deploymentDurationSeconds = Math.max(0, Math.round((endMs - start) / 1000));
  state.phase = phase;
  addEvent(state, {
    timestamp: now,
    action: 'deployment_completed',
    message: `k0rdent deployment completed successfully in ${state.deploymentDurationSeconds} seconds`,
  });
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
