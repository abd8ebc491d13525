/** The deployment workflow: one per deployment, its history is the resume log. */
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type {
  CheckResult,
  DeploymentInput,
  DeploymentState,
  DeploymentFacts,
  PhaseRequest,
  PhaseResult,
  ResetRequest,
  RollbackRequest,
} from './messages';
import { NON_RETRYABLE_FAILURES, SearchAttributeKeys } from './messages';
import { jsonDigest } from './digest';
import { Inbox, inputProblem } from './handlers';
import type { FactRead, PhaseDef, PhaseName } from './phases';
import { PHASES, PHASE_NAMES, activityNames, phaseDef, phaseEnabled, phaseIndex } from './phases';
import {
  addEvent,
  applyPatch,
  detailsMarkdown,
  initialState,
  isoSecond,
  resetFrom,
  rollbackPlan,
  rollbackRefusal,
  setPhaseStatus,
} from './state';

type Activities = ReturnType<typeof createActivities>;
type PhaseFn<R> = (request: PhaseRequest) => Promise<R>;

/** Every change of the workflow's commands, behind `patched()`, oldest first. */
const PATCH = {
  requiredPhasesRechecked: 'required-phases-rechecked',
  requiredRestoredAfterFailure: 'required-restored-after-failure',
  rollbackRestoresRequired: 'rollback-restores-required',
  slimPhaseRequest: 'slim-phase-request',
  searchAttributesOnChange: 'search-attributes-on-change',
  foldedProjections: 'folded-projections',
  freshRequirementNotRechecked: 'fresh-requirement-not-rechecked',
  /** A transition is projected with the step after it, the start included. */
  transitionWithNextStep: 'transition-with-next-step',
} as const;

/**
 * The patch under which a run records every patch of `PATCH` in its first activation. Met for the first
 * time right after a local activity, a patch's marker could land in the workflow task after the one whose
 * replay asks for it (when the activity's result raced the task's completion), and that history no longer
 * replayed: a nondeterminism error, seen in a recorded rollback.
 */
const PATCHES_UP_FRONT = 'patches-up-front';

/** Runs a deployment's phases in order, serves rollback / resume / reset, and stays open as its handle. */
export async function deploymentWorkflow(input: DeploymentInput): Promise<DeploymentState> {
  const problem = inputProblem(input);
  if (problem) throw ApplicationFailure.nonRetryable(problem, 'InvalidConfig');

  const policy = input.policy;
  const retry = {
    maximumAttempts: policy.maxAttempts,
    initialInterval: policy.initialRetrySeconds * 1000,
    maximumInterval: policy.maxRetrySeconds * 1000,
    nonRetryableErrorTypes: NON_RETRYABLE_FAILURES,
  };
  const proxyFor = (kind: keyof typeof policy.startToCloseSeconds): Activities =>
    proxyActivities<Activities>({
      startToCloseTimeout: policy.startToCloseSeconds[kind] * 1000,
      heartbeatTimeout: policy.heartbeatSeconds * 1000,
      retry,
      // The workflow waits until a cancelled phase has really stopped before it rolls anything back.
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    } satisfies ActivityOptions);
  const proxies = {
    local: proxyFor('local'),
    cloud: proxyFor('cloud'),
    vms: proxyFor('vms'),
    host: proxyFor('host'),
    cluster: proxyFor('cluster'),
  };
  const checks = proxyActivities<Activities>({
    startToCloseTimeout: policy.checkTimeoutSeconds * 1000,
    heartbeatTimeout: policy.heartbeatSeconds * 1000,
    retry,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
  const local = proxyLocalActivities<Activities>({
    startToCloseTimeout: '30s',
    retry: { initialInterval: '200ms', maximumInterval: '5s' },
  });

  const now = () => isoSecond(Date.now());
  const state: DeploymentState = input.carried ?? input.adopted ?? initialState(input, now());
  let waiting = state.status === 'failed' || state.status === 'paused';
  // A carried-over completed deployment has nothing left to check until someone asks.
  let cursor = input.carried?.status === 'completed' ? PHASE_NAMES.length : 0;
  let dirty = false;
  const inbox = new Inbox(state, now, () => {
    dirty = true;
  });
  inbox.listen();

  // What the search attributes hold now: set by the client at start, then only changed values are sent.
  const shown = new Map<string, string>();
  for (const pair of workflowInfo().typedSearchAttributes.getAll()) {
    if (typeof pair.value === 'string') shown.set(pair.key.name, pair.value);
  }
  // Transitions that the next step follows at once are written with it, in one projection.
  if (patched(PATCHES_UP_FRONT)) for (const id of Object.values(PATCH)) patched(id);
  const folding = patched(PATCH.foldedProjections);
  // Each phase's run times in the folder's earlier deployments, as the client read them at the start,
  // for the ETAs of the Web UI's details (not a command, so no patch).
  const times = input.phaseTimes;
  const project = async () => {
    dirty = false;
    const attributes = [
      { key: SearchAttributeKeys.deploymentId, value: state.deploymentId },
      { key: SearchAttributeKeys.phase, value: state.phase },
      { key: SearchAttributeKeys.status, value: state.status },
    ];
    if (patched(PATCH.searchAttributesOnChange)) {
      const changed = attributes.filter((a) => shown.get(a.key.name) !== a.value);
      for (const a of changed) shown.set(a.key.name, a.value);
      if (changed.length > 0) upsertSearchAttributes(changed);
    } else {
      upsertSearchAttributes(attributes);
    }
    setCurrentDetails(detailsMarkdown(state, times && { times, nowMs: Date.now() }));
    try {
      await local.projectState({
        workDir: input.workDir,
        state,
        writePrivateKeys: input.config.orchestrator.write_private_keys_to_state,
      });
    } catch (err) {
      // Not written (a cancelled scope): the next step writes it.
      dirty = true;
      throw err;
    }
  };
  /** A transition the next step writes along with its own (at once when folding is off). */
  const settled = async () => {
    if (folding) dirty = true;
    else await project();
  };

  const inputDigest = jsonDigest([input.config, input.cloud]);
  const context = (phase: PhaseName): PhaseRequest =>
    patched(PATCH.slimPhaseRequest)
      ? {
          deploymentId: state.deploymentId,
          workDir: input.workDir,
          phase,
          inputDigest,
          flags: state.flags,
          facts: phaseFacts(state.facts, phaseDef(phase).reads ?? []),
        }
      : {
          deploymentId: state.deploymentId,
          workDir: input.workDir,
          phase,
          config: input.config,
          flags: state.flags,
          facts: state.facts,
          cloud: input.cloud,
        };

  const call = async <R>(fn: PhaseFn<R>, phase: PhaseName): Promise<R> => {
    // The world sees every state the workflow waits in.
    if (folding && dirty) await project();
    return fn(context(phase));
  };

  const record = (phase: PhaseName, result: PhaseResult) => {
    applyPatch(state.facts, result.patch, now());
    for (const event of result.events) addEvent(state, event);
  };

  const fail = async (phase: PhaseName, err: unknown, what: string) => {
    const message = `${what} ${phase} failed: ${errorMessage(err)}`;
    setPhaseStatus(state, phase, 'failed', now(), { error: message });
    state.status = 'failed';
    state.lastError = message;
    state.waitingFor = 'resume, rollback or reset';
    addEvent(state, { timestamp: now(), action: 'phase_failed', message, phase });
    waiting = true;
    await project();
  };

  /**
   * Checks the completed phases `phase` needs (the tunnel) and runs a drifted one again alone; `held`
   * when none drifted, `restored` when one ran again. Throws what the check or the restore threw. `wrap`
   * runs each activity (in a cancellable scope on the forward path, as is during a teardown).
   */
  const restoreRequired = async (
    phase: PhaseName,
    wrap: <R>(fn: () => Promise<R>) => Promise<R>
  ): Promise<'held' | 'restored'> => {
    let outcome: 'held' | 'restored' = 'held';
    for (const required of (phaseDef(phase).requires ?? []) as PhaseName[]) {
      if (state.phases[required].status !== 'completed') continue;
      // Completed by the step just before this one: nothing can have drifted in between.
      if (justCompleted === required && patched(PATCH.freshRequirementNotRechecked)) continue;
      const names = activityNames(required);
      const verdict = await wrap(() => call(checks[names.check], required));
      if (verdict.upToDate) continue;
      addEvent(state, {
        timestamp: now(),
        action: 'phase_restored',
        message: `Phase ${required}, needed by ${phase}, drifted (${verdict.reason ?? 'check found drift'}); running it again`,
        phase: required,
      });
      await project();
      record(required, await wrap(() => call(proxies[phaseDef(required).kind][names.apply], required)));
      outcome = 'restored';
    }
    return outcome;
  };

  /**
   * `restoreRequired` before `phase` runs: `stopped` when the restore failed (recorded against `phase`)
   * or was interrupted.
   */
  const ensureRequired = async (phase: PhaseName): Promise<'held' | 'restored' | 'stopped'> => {
    try {
      return await restoreRequired(phase, (fn) => inbox.cancellable(fn));
    } catch (err) {
      if (isCancellation(err)) return 'stopped';
      await fail(phase, err, `restoring ${(phaseDef(phase).requires ?? []).join(', ')} for`);
      return 'stopped';
    }
  };
  // The phase the last forward step completed, until another step starts.
  let justCompleted: PhaseName | undefined;
  // Phases whose failure already led to restoring what they need, so a second failure is final.
  const restoredAfterFailure = new Set<PhaseName>();

  /** One step of the forward loop for `phase`; returns after the phase settled or was interrupted. */
  const runPhase = async (phase: PhaseName) => {
    const def = phaseDef(phase);
    const rec = state.phases[phase];
    if (!phaseEnabled(def, state.flags)) {
      if (rec.status === 'skipped') {
        cursor++;
        return;
      }
      if (rec.status !== 'pending') {
        // The component was switched off after it ran: undo it before marking it skipped.
        if (!(await rollBack([phase]))) return;
      }
      const reason = rec.status === 'pending' ? 'Component not enabled' : 'Component no longer enabled';
      setPhaseStatus(state, phase, 'skipped', now(), { skippedReason: reason });
      addEvent(state, {
        timestamp: now(),
        action: 'phase_skipped',
        message: `Phase skipped: ${phase} - ${reason}`,
        phase,
      });
      cursor++;
      await project();
      return;
    }
    if (rec.status === 'skipped') setPhaseStatus(state, phase, 'pending', now());
    const required = await (patched(PATCH.requiredPhasesRechecked) ? ensureRequired(phase) : 'held');
    justCompleted = undefined;
    if (required === 'stopped') return;
    const names = activityNames(phase);
    if (state.phases[phase].status === 'completed') {
      let verdict: CheckResult;
      try {
        verdict = await inbox.cancellable(() => call(checks[names.check], phase));
      } catch (err) {
        if (isCancellation(err)) return;
        await fail(phase, err, 'check of');
        return;
      }
      if (verdict.upToDate) {
        cursor++;
        return;
      }
      resetFrom(state, phase, now());
      addEvent(state, {
        timestamp: now(),
        action: 'phase_reset',
        message: `Phase reset invoked from: ${phase} (${verdict.reason ?? 'check found drift'})`,
      });
    }
    const started = Date.now();
    setPhaseStatus(state, phase, 'in_progress', now(), {
      startedAt: isoSecond(started),
      runs: state.phases[phase].runs + 1,
    });
    state.phase = phase;
    state.status = 'in_progress';
    state.waitingFor = undefined;
    await project();
    let result: PhaseResult;
    try {
      result = await inbox.cancellable(() => call(proxies[def.kind][names.apply], phase));
    } catch (err) {
      if (isCancellation(err)) return;
      // A tunnel lost in the middle of a phase fails every retry; restore it and run the phase again once.
      if (def.requires && !restoredAfterFailure.has(phase) && patched(PATCH.requiredRestoredAfterFailure)) {
        restoredAfterFailure.add(phase);
        const outcome = await ensureRequired(phase);
        if (outcome !== 'held') return;
      }
      restoredAfterFailure.delete(phase);
      await fail(phase, err, 'phase');
      return;
    }
    restoredAfterFailure.delete(phase);
    record(phase, result);
    const finished = Date.now();
    setPhaseStatus(state, phase, 'completed', isoSecond(finished), {
      finishedAt: isoSecond(finished),
      durationSeconds: Math.round((finished - started) / 1000),
    });
    state.phase = phase;
    addEvent(state, {
      timestamp: now(),
      action: 'phase_completed',
      message: `Phase completed: ${phase}`,
      phase,
    });
    cursor++;
    justCompleted = phase;
    await settled();
  };

  /** Undoes `plan` newest first; false when a rollback failed (recorded, the rewind stops). */
  const rollBack = async (plan: PhaseName[]): Promise<boolean> =>
    // Teardown must finish even if another request arrives meanwhile.
    CancellationScope.nonCancellable(async () => {
      justCompleted = undefined;
      for (const phase of plan) {
        setPhaseStatus(state, phase, 'rolling_back', now());
        await project();
        try {
          // Undoing a phase goes through the same doors as doing it: bring a dropped tunnel back first.
          if (patched(PATCH.rollbackRestoresRequired)) await restoreRequired(phase, (fn) => fn());
          record(phase, await call(proxies[phaseDef(phase).kind][activityNames(phase).rollback], phase));
        } catch (err) {
          await fail(phase, err, 'rollback of');
          addEvent(state, {
            timestamp: now(),
            action: 'rollback_failed',
            message: state.lastError ?? '',
            phase,
          });
          await project();
          return false;
        }
        setPhaseStatus(state, phase, 'pending', now());
        addEvent(state, {
          timestamp: now(),
          action: 'phase_rolled_back',
          message: `Phase rolled back: ${phase}`,
          phase,
        });
        await settled();
      }
      return true;
    });

  const doRollback = async (req: RollbackRequest) => {
    const toPhase = req.toPhase as PhaseName;
    const why = rollbackRefusal(state, toPhase);
    if (why) {
      inbox.reject('rollback', why);
      return;
    }
    state.status = 'rolling_back';
    state.rollbackTarget = toPhase;
    state.waitingFor = undefined;
    addEvent(state, { timestamp: now(), action: 'rollback_started', message: `Rolling back to ${toPhase}` });
    cursor = phaseIndex(toPhase);
    if (!(await rollBack(rollbackPlan(state, toPhase)))) return;
    resetFrom(state, toPhase, now());
    addEvent(state, {
      timestamp: now(),
      action: 'phase_reset',
      message: `Phase reset invoked from: ${toPhase}`,
    });
    state.deploymentEndTime = undefined;
    state.deploymentDurationSeconds = undefined;
    if (req.resume) {
      state.status = 'in_progress';
      waiting = false;
    } else {
      state.status = 'paused';
      state.waitingFor = 'resume';
      waiting = true;
    }
    await project();
  };

  /** Rolls back everything, archives the state; true when the deployment is gone. */
  const doReset = async (req: ResetRequest): Promise<boolean> => {
    const reason = req.reason ?? 'full-reset';
    const at = Date.now();
    state.status = 'resetting';
    state.waitingFor = undefined;
    addEvent(state, { timestamp: now(), action: 'reset_started', message: `Reset started (${reason})` });
    await project();
    // Archive before anything is deleted, so an interrupted reset never loses the record.
    const archive = {
      workDir: input.workDir,
      deploymentId: state.deploymentId,
      reason,
      at,
      forgetClusterId: false,
    };
    const folder = await local.archiveState({ ...archive, mode: 'copy' });
    if (!(await rollBack(rollbackPlan(state, PHASE_NAMES[0] as PhaseName)))) return false;
    state.status = 'reset';
    state.phase = 'reset';
    // The last projection records where it goes, so the archived file equals the final state.
    state.archivedTo = folder;
    addEvent(state, {
      timestamp: now(),
      action: 'deployment_reset',
      message: `Deployment reset (${reason})`,
    });
    await project();
    state.archivedTo = await local.archiveState({ ...archive, mode: 'move', forgetClusterId: true });
    return true;
  };

  const complete = async () => {
    const end = Date.now();
    const start = Date.parse(state.deploymentStartTime ?? state.createdAt);
    state.status = 'completed';
    state.waitingFor = undefined;
    state.rollbackTarget = undefined;
    state.lastError = undefined;
    state.deploymentEndTime = isoSecond(end);
    state.deploymentDurationSeconds = Math.max(0, Math.round((end - start) / 1000));
    const last = [...(PHASES as readonly PhaseDef[])]
      .reverse()
      .find((p) => state.phases[p.name as PhaseName].status === 'completed' && !p.component);
    state.phase =
      state.phases.install_kof_regional.status === 'completed'
        ? 'install_kof_regional'
        : (last?.name ?? state.phase);
    addEvent(state, {
      timestamp: now(),
      action: 'deployment_completed',
      message: `k0rdent deployment completed successfully in ${state.deploymentDurationSeconds} seconds`,
    });
    await project();
    await local.recordHistory({
      workDir: input.workDir,
      entry: {
        cluster_id: state.deploymentId,
        deployed_at: state.deploymentStartTime ?? state.createdAt,
        config_file: input.configFile,
        deployer: state.deployer,
      },
    });
  };

  if (!input.carried) {
    const start = now();
    state.status = 'in_progress';
    state.flags = { ...input.flags };
    state.deploymentStartTime = start;
    state.deploymentEndTime = undefined;
    state.deploymentDurationSeconds = undefined;
    waiting = false;
    addEvent(state, {
      timestamp: start,
      action: 'deployment_started',
      message: `Deployment started with flags: azure-children=${input.flags.azureChildren}, kof=${input.flags.kof}`,
    });
  }
  // A transition the next step's first projection carries too (a phase's start, the projection before a
  // check, the completion of the deployment) is written once, with it: so is the start.
  const nextStepProjects = () =>
    !waiting &&
    (cursor < PHASE_NAMES.length || state.status !== 'completed') &&
    patched(PATCH.transitionWithNextStep);
  if (nextStepProjects()) dirty = true;
  else await project();

  for (;;) {
    const request = inbox.next();
    if (request?.kind === 'reset') {
      if (await doReset(request.req)) return state;
      continue;
    }
    if (request?.kind === 'rollback') {
      await doRollback(request.req);
      continue;
    }
    if (dirty && !nextStepProjects()) await project();
    if (waiting) {
      await condition(() => inbox.queued || inbox.woken || dirty);
      const wake = inbox.takeWake();
      if (wake.components) {
        cursor = 0;
        dirty = true;
      }
      if (wake.resume) {
        waiting = false;
        state.status = 'in_progress';
        state.waitingFor = undefined;
        addEvent(state, { timestamp: now(), action: 'deployment_resumed', message: 'Deployment resumed' });
        await project();
      }
      continue;
    }
    if (cursor < PHASE_NAMES.length) {
      await runPhase(PHASE_NAMES[cursor] as PhaseName);
      continue;
    }
    if (state.status !== 'completed') await complete();
    if (dirty) continue;
    await condition(() => inbox.queued || inbox.woken || dirty || workflowInfo().continueAsNewSuggested);
    const wake = inbox.takeWake();
    if (wake.resume || wake.components) {
      // A new deploy or a change of components: check everything again from the top.
      cursor = 0;
      continue;
    }
    if (!inbox.queued && !dirty && workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof deploymentWorkflow>({ ...input, adopted: undefined, carried: state });
    }
  }
}

/** The facts a phase reads (`PhaseDef.reads`); the rest stays in the workflow. */
function phaseFacts(facts: DeploymentFacts, reads: readonly FactRead[]): DeploymentFacts {
  const port = facts.values.wireguard_port;
  return {
    values: reads.includes('wireguard_port') && port !== undefined ? { wireguard_port: port } : {},
    vm_states: reads.includes('vm_states') ? facts.vm_states : {},
    wireguard_peers: reads.includes('wireguard_peers') ? facts.wireguard_peers : {},
    artifacts: {},
    clusters: {},
  };
}

function errorMessage(err: unknown): string {
  let current: unknown = err;
  const parts: string[] = [];
  while (current instanceof Error) {
    if (current.message && !parts.includes(current.message)) parts.push(current.message);
    current = (current as Error & { cause?: unknown }).cause;
  }
  return parts.length > 0 ? parts.join(': ') : String(err);
}
