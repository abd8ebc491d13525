/**
 * The deployment workflow's decisions, as pure functions of the state and of where its loop stands: the
 * next step, what the forward step does with a phase (leave it skipped, skip it, check it, run it), what a
 * rollback or a reset undoes and in which order, and where the loop stands after a rollback, a resume or a
 * change of components. The workflow asks and runs the activities; nothing here calls Temporal.
 */
import type { DeploymentState } from './messages';
import type { PhaseName } from './phases';
import { PHASES, PHASE_NAMES, isPhaseName, phaseDef, phaseEnabled, phaseIndex } from './phases';

/** Where the forward loop stands between steps. */
export interface Progress {
  /** Index in `PHASE_NAMES` of the phase the next forward step looks at; past the end when none is left. */
  readonly cursor: number;
  /** Waiting for an operator (resume, rollback or reset): after a failure, or a rollback that did not resume. */
  readonly waiting: boolean;
}

/** A resume and a change of components that arrived since the loop last looked. */
export interface Wake {
  readonly resume: boolean;
  readonly components: boolean;
}

/**
 * What the loop does when no request is queued: wait for an operator; the forward step for a phase; mark
 * the deployment completed once every phase was looked at; or rest, completed and open for requests.
 */
export type Step =
  | { kind: 'wait' }
  | { kind: 'phase'; phase: PhaseName }
  | { kind: 'complete' }
  | { kind: 'rest' };

/**
 * What the forward step does with a phase: `pass` it (its component is off and it is skipped already);
 * `skip` it (its component is off), undoing it first when it ran; `check` it (completed), running it again
 * when it drifted; or `run` it, setting it pending first when it was skipped.
 */
export type PhaseStep =
  | { kind: 'pass' }
  | { kind: 'skip'; reason: string; undo: boolean }
  | { kind: 'check' }
  | { kind: 'run'; unskip: boolean };

/** A completed phase that another needs, to check before that one runs or is undone. */
export interface RequiredCheck {
  readonly phase: PhaseName;
  /** Completed by the step just before: nothing can have drifted in between. */
  readonly fresh: boolean;
}

/**
 * Where a run starts: a new run (or an adopted state) at the first phase; a carried-over run waits when it
 * failed or paused, and has nothing left to check when it completed.
 */
export function initialProgress(state: DeploymentState, carried: boolean): Progress {
  if (!carried) return { cursor: 0, waiting: false };
  return {
    cursor: state.status === 'completed' ? PHASE_NAMES.length : 0,
    waiting: state.status === 'failed' || state.status === 'paused',
  };
}

/** The step the loop takes next, when no request is queued. */
export function nextStep(state: DeploymentState, progress: Progress): Step {
  if (progress.waiting) return { kind: 'wait' };
  const phase = PHASE_NAMES[progress.cursor];
  if (phase !== undefined) return { kind: 'phase', phase };
  return state.status === 'completed' ? { kind: 'rest' } : { kind: 'complete' };
}

/**
 * Whether `step` projects the state before anything waits (a phase's start, the projection before a check,
 * the completion), so the transitions before it can be written with it instead of alone.
 */
export function projectsWithStep(step: Step): boolean {
  return step.kind === 'phase' || step.kind === 'complete';
}

/** Past the phase at the cursor. */
export function advanced(progress: Progress): Progress {
  return { ...progress, cursor: progress.cursor + 1 };
}

/** What the forward step does with `phase`, from its status and the components enabled. */
export function phaseStep(state: DeploymentState, phase: PhaseName): PhaseStep {
  const status = state.phases[phase].status;
  if (!phaseEnabled(phaseDef(phase), state.flags)) {
    if (status === 'skipped') return { kind: 'pass' };
    return status === 'pending'
      ? { kind: 'skip', reason: 'Component not enabled', undo: false }
      : { kind: 'skip', reason: 'Component no longer enabled', undo: true };
  }
  if (status === 'completed') return { kind: 'check' };
  return { kind: 'run', unskip: status === 'skipped' };
}

/** The completed phases `phase` needs (`PhaseDef.requires`), in order, to check before it runs or is undone. */
export function requiredChecks(
  state: DeploymentState,
  phase: PhaseName,
  justCompleted: PhaseName | undefined
): RequiredCheck[] {
  return (phaseDef(phase).requires ?? [])
    .filter(isPhaseName)
    .filter((required) => state.phases[required].status === 'completed')
    .map((required) => ({ phase: required, fresh: required === justCompleted }));
}

/**
 * Whether a failed apply of `phase` first restores the phases it needs and runs once more (a tunnel lost in
 * the middle of a phase fails every retry); once per phase until it completes, so a second failure is final.
 */
export function restoresAfterFailure(phase: PhaseName, restoredBefore: ReadonlySet<PhaseName>): boolean {
  return phaseDef(phase).requires !== undefined && !restoredBefore.has(phase);
}

/** Why a rollback request cannot be served, or undefined when it can. */
export function rollbackRefusal(state: DeploymentState, toPhase: unknown): string | undefined {
  if (typeof toPhase !== 'string' || toPhase === '') return 'toPhase is required (a phase name)';
  if (!isPhaseName(toPhase)) {
    // Quoted and cut short: the name comes from whoever sent the request and ends up in the event log.
    const shown = JSON.stringify(toPhase.length > 60 ? `${toPhase.slice(0, 57)}...` : toPhase);
    return `unknown phase ${shown}; phases are: ${PHASE_NAMES.join(', ')}`;
  }
  if (state.status === 'resetting' || state.status === 'reset') return 'the deployment is being reset';
  const status = state.phases[toPhase].status;
  if (status === 'pending' || status === 'skipped') {
    return `phase ${toPhase} has not run (status ${status}); nothing to roll back`;
  }
  return undefined;
}

/** Phases a rollback to `toPhase` must undo, newest first: it and every later one that ran. */
export function rollbackPlan(state: DeploymentState, toPhase: PhaseName): PhaseName[] {
  return PHASE_NAMES.slice(phaseIndex(toPhase))
    .filter((name) => !['pending', 'skipped'].includes(state.phases[name].status))
    .reverse();
}

/** Phases a reset undoes, newest first: every one that ran. */
export function resetPlan(state: DeploymentState): PhaseName[] {
  return rollbackPlan(state, PHASES[0].name);
}

/**
 * Where the loop stands after a rollback to `toPhase`: at that phase, and waiting for an operator unless
 * the rollback finished and was asked to resume.
 */
export function afterRollback(toPhase: PhaseName, resumes: boolean): Progress {
  return { cursor: phaseIndex(toPhase), waiting: !resumes };
}

/**
 * Where the loop stands after a resume or a change of components. While it waits, a change of components
 * has every phase looked at again from the first, and a resume ends the wait; once complete, either one
 * (a new deploy or new components) has every phase checked again from the first.
 */
export function afterWake(progress: Progress, wake: Wake): Progress {
  if (progress.waiting) {
    return { cursor: wake.components ? 0 : progress.cursor, waiting: !wake.resume };
  }
  return wake.resume || wake.components ? { cursor: 0, waiting: false } : progress;
}

/**
 * The phase a completed deployment names: the KOF regional install when it ran, else the last phase of the
 * base deployment that completed, else the one it named before.
 */
export function completedPhase(state: DeploymentState): string {
  if (state.phases.install_kof_regional.status === 'completed') return 'install_kof_regional';
  const last = [...PHASE_NAMES]
    .reverse()
    .find((name) => state.phases[name].status === 'completed' && !phaseDef(name).component);
  return last ?? state.phase;
}
