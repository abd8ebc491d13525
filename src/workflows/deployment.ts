/**
 * The deployment workflow: one per deployment, its history is the resume log. Its loop asks the planner
 * (`planner.ts`) what to do, runs the activities, and records each transition (`state.ts`); the handlers
 * (`handlers.ts`) queue what operators ask for.
 */
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
  ActivityPolicy,
  CheckResult,
  DeploymentFacts,
  DeploymentInput,
  DeploymentState,
  PhaseRequest,
  PhaseResult,
  ResetRequest,
  RollbackRequest,
} from './messages';
import { NON_RETRYABLE_FAILURES, SearchAttributeKeys } from './messages';
import { jsonDigest } from './digest';
import { Inbox, inputProblem } from './handlers';
import type { FactRead, PhaseKind, PhaseName } from './phases';
import { activityNames, phaseDef } from './phases';
import {
  advanced,
  afterRollback,
  afterWake,
  completedPhase,
  initialProgress,
  nextStep,
  phaseStep,
  projectsWithStep,
  requiredChecks,
  resetPlan,
  restoresAfterFailure,
  rollbackPlan,
  rollbackRefusal,
} from './planner';
import {
  deploymentCompleted,
  deploymentReset,
  deploymentResumed,
  deploymentStarted,
  detailsMarkdown,
  driftReason,
  initialState,
  isoSecond,
  phaseCompleted,
  phaseDrifted,
  phaseFailed,
  phaseRestored,
  phaseRolledBack,
  phaseSkipped,
  phaseStarted,
  recordResult,
  resetStarted,
  rollbackFailed,
  rollbackFinished,
  rollbackStarted,
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
  const { proxies, checks, local } = activityProxies(input.policy);

  const now = () => isoSecond(Date.now());
  const state: DeploymentState = input.carried ?? input.adopted ?? initialState(input, now());
  let progress = initialProgress(state, input.carried !== undefined);
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

  const fail = async (phase: PhaseName, err: unknown, what: string) => {
    phaseFailed(state, phase, `${what} ${phase} failed: ${errorMessage(err)}`, now());
    progress = { ...progress, waiting: true };
    await project();
  };

  // The phase the last forward step completed, until another step starts.
  let justCompleted: PhaseName | undefined;
  // Phases whose failure already led to restoring what they need, so a second failure is final.
  const restoredAfterFailure = new Set<PhaseName>();

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
    for (const required of requiredChecks(state, phase, justCompleted)) {
      if (required.fresh && patched(PATCH.freshRequirementNotRechecked)) continue;
      const names = activityNames(required.phase);
      const verdict = await wrap(() => call(checks[names.check], required.phase));
      if (verdict.upToDate) continue;
      phaseRestored(state, required.phase, phase, driftReason(verdict), now());
      await project();
      const kind = phaseDef(required.phase).kind;
      recordResult(state, await wrap(() => call(proxies[kind][names.apply], required.phase)), now());
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

  /** One forward step for `phase`; returns after the phase settled or was interrupted. */
  const runPhase = async (phase: PhaseName) => {
    const step = phaseStep(state, phase);
    if (step.kind === 'pass') {
      progress = advanced(progress);
      return;
    }
    if (step.kind === 'skip') {
      if (step.undo && !(await rollBack([phase]))) return;
      phaseSkipped(state, phase, step.reason, now());
      progress = advanced(progress);
      await project();
      return;
    }
    if (step.kind === 'run' && step.unskip) setPhaseStatus(state, phase, 'pending', now());
    const required = await (patched(PATCH.requiredPhasesRechecked) ? ensureRequired(phase) : 'held');
    justCompleted = undefined;
    if (required === 'stopped') return;
    const names = activityNames(phase);
    if (step.kind === 'check') {
      let verdict: CheckResult;
      try {
        verdict = await inbox.cancellable(() => call(checks[names.check], phase));
      } catch (err) {
        if (isCancellation(err)) return;
        await fail(phase, err, 'check of');
        return;
      }
      if (verdict.upToDate) {
        progress = advanced(progress);
        return;
      }
      phaseDrifted(state, phase, driftReason(verdict), now());
    }
    const started = Date.now();
    phaseStarted(state, phase, started);
    await project();
    let result: PhaseResult;
    try {
      result = await inbox.cancellable(() => call(proxies[phaseDef(phase).kind][names.apply], phase));
    } catch (err) {
      if (isCancellation(err)) return;
      if (restoresAfterFailure(phase, restoredAfterFailure) && patched(PATCH.requiredRestoredAfterFailure)) {
        restoredAfterFailure.add(phase);
        const outcome = await ensureRequired(phase);
        if (outcome !== 'held') return;
      }
      restoredAfterFailure.delete(phase);
      await fail(phase, err, 'phase');
      return;
    }
    restoredAfterFailure.delete(phase);
    recordResult(state, result, now());
    phaseCompleted(state, phase, started, Date.now());
    progress = advanced(progress);
    justCompleted = phase;
    await settled();
  };

  /** Undoes `plan` in its order; false when a rollback failed (recorded, the rewind stops). */
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
          const undo = proxies[phaseDef(phase).kind][activityNames(phase).rollback];
          recordResult(state, await call(undo, phase), now());
        } catch (err) {
          await fail(phase, err, 'rollback of');
          rollbackFailed(state, phase, now());
          await project();
          return false;
        }
        phaseRolledBack(state, phase, now());
        await settled();
      }
      return true;
    });

  const doRollback = async (req: RollbackRequest) => {
    const why = rollbackRefusal(state, req.toPhase);
    if (why) {
      inbox.reject('rollback', why);
      return;
    }
    const toPhase = req.toPhase as PhaseName;
    rollbackStarted(state, toPhase, now());
    const done = await rollBack(rollbackPlan(state, toPhase));
    progress = afterRollback(toPhase, done && req.resume === true);
    if (!done) return;
    rollbackFinished(state, toPhase, req.resume === true, now());
    await project();
  };

  /** Rolls back everything, archives the state; true when the deployment is gone. */
  const doReset = async (req: ResetRequest): Promise<boolean> => {
    const reason = req.reason ?? 'full-reset';
    const at = Date.now();
    resetStarted(state, reason, now());
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
    if (!(await rollBack(resetPlan(state)))) return false;
    // The last projection records where it goes, so the archived file equals the final state.
    deploymentReset(state, reason, folder, now());
    await project();
    state.archivedTo = await local.archiveState({ ...archive, mode: 'move', forgetClusterId: true });
    return true;
  };

  const complete = async () => {
    deploymentCompleted(state, Date.now(), completedPhase(state));
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

  if (!input.carried) deploymentStarted(state, input.flags, now());
  // A transition the next step's first projection carries too (a phase's start, the projection before a
  // check, the completion of the deployment) is written once, with it: so is the start.
  const nextStepProjects = () =>
    projectsWithStep(nextStep(state, progress)) && patched(PATCH.transitionWithNextStep);
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
    const step = nextStep(state, progress);
    if (step.kind === 'wait') {
      await condition(() => inbox.queued || inbox.woken || dirty);
      const wake = inbox.takeWake();
      progress = afterWake(progress, wake);
      // New components are shown at once: nothing else is projected until someone resumes.
      if (wake.components) dirty = true;
      if (wake.resume) {
        deploymentResumed(state, now());
        await project();
      }
      continue;
    }
    if (step.kind === 'phase') {
      await runPhase(step.phase);
      continue;
    }
    if (step.kind === 'complete') await complete();
    if (dirty) continue;
    await condition(() => inbox.queued || inbox.woken || dirty || workflowInfo().continueAsNewSuggested);
    const wake = inbox.takeWake();
    if (wake.resume || wake.components) {
      // A new deploy or a change of components: check everything again from the top.
      progress = afterWake(progress, wake);
      continue;
    }
    if (!inbox.queued && !dirty && workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof deploymentWorkflow>({ ...input, adopted: undefined, carried: state });
    }
  }
}

/** The activity proxies of a run: applies and rollbacks by timeout profile, checks, local activities. */
function activityProxies(policy: ActivityPolicy) {
  const retry = {
    maximumAttempts: policy.maxAttempts,
    initialInterval: policy.initialRetrySeconds * 1000,
    maximumInterval: policy.maxRetrySeconds * 1000,
    nonRetryableErrorTypes: NON_RETRYABLE_FAILURES,
  };
  const proxyWithin = (startToCloseSeconds: number): Activities =>
    proxyActivities<Activities>({
      startToCloseTimeout: startToCloseSeconds * 1000,
      heartbeatTimeout: policy.heartbeatSeconds * 1000,
      retry,
      // The workflow waits until a cancelled phase has really stopped before it rolls anything back.
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    } satisfies ActivityOptions);
  const timeouts = policy.startToCloseSeconds;
  const proxies: Record<PhaseKind, Activities> = {
    local: proxyWithin(timeouts.local),
    cloud: proxyWithin(timeouts.cloud),
    vms: proxyWithin(timeouts.vms),
    host: proxyWithin(timeouts.host),
    cluster: proxyWithin(timeouts.cluster),
  };
  const checks = proxyWithin(policy.checkTimeoutSeconds);
  const local = proxyLocalActivities<Activities>({
    startToCloseTimeout: '30s',
    retry: { initialInterval: '200ms', maximumInterval: '5s' },
  });
  return { proxies, checks, local };
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
