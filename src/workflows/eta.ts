/**
 * How long the rest of a deployment should take, from how long each phase took in earlier runs: median
 * and p90 per phase, the time left per phase and in all, and the phases running past their p90.
 * Deterministic code only: the workflow renders it into the Web UI's details, the CLI prints it.
 */
import type { DeploymentFlags, PhaseStatus } from './messages';
import type { PhaseName } from './phases';
import { PHASES, phaseEnabled } from './phases';

/** What earlier runs of one phase took. */
export interface PhaseTime {
  /** How many runs the figures come from. */
  runs: number;
  medianSeconds: number;
  p90Seconds: number;
}

/** Past run times of the phases that have any. */
export type PhaseTimes = Partial<Record<PhaseName, PhaseTime>>;

/** The nearest-rank percentile `p` (0..100] of non-empty `sorted` (ascending). */
function percentile(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/** Median and p90 of a phase's past durations in seconds; undefined when there are none. */
export function phaseTime(seconds: number[]): PhaseTime | undefined {
  const sorted = seconds.filter((s) => Number.isFinite(s) && s >= 0).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  return { runs: sorted.length, medianSeconds: percentile(sorted, 50), p90Seconds: percentile(sorted, 90) };
}

/** The parts of a phase record an estimate reads. */
export interface EtaPhaseInput {
  status: PhaseStatus;
  /** ISO-8601 UTC. */
  startedAt?: string;
  durationSeconds?: number;
}

/** The parts of a deployment an estimate reads (a DeploymentState has them). */
export interface EtaInput {
  phases: Record<PhaseName, EtaPhaseInput>;
  flags: DeploymentFlags;
}

/** One phase's estimate. */
export interface PhaseEta {
  phase: PhaseName;
  /** Median and p90 of past runs; absent when the phase never ran here before. */
  medianSeconds?: number;
  p90Seconds?: number;
  runs: number;
  /** Seconds since it started, while it runs. */
  elapsedSeconds?: number;
  /** Seconds it should still take: 0 once done or when it will be skipped; absent when unknown. */
  remainingSeconds?: number;
  /** It took longer than its p90, or runs longer than it already. */
  pastP90: boolean;
}

/** The whole deployment's estimate. */
export interface Eta {
  phases: PhaseEta[];
  /** Sum of the phases' remaining seconds that are known. */
  remainingSeconds: number;
  /** Phases still to run with no past run to estimate them from; the remaining time leaves them out. */
  unknown: PhaseName[];
  /** Phases that took or take longer than their p90. */
  pastP90: PhaseName[];
}

const DONE: readonly PhaseStatus[] = ['completed', 'skipped'];

/** The estimate of `state` at `nowMs` (epoch ms) from `times`. */
export function estimate(state: EtaInput, times: PhaseTimes, nowMs: number): Eta {
  const phases = PHASES.map((def): PhaseEta => {
    const name = def.name;
    const rec = state.phases[name];
    const past = times[name];
    const eta: PhaseEta = {
      phase: name,
      ...(past ? { medianSeconds: past.medianSeconds, p90Seconds: past.p90Seconds } : {}),
      runs: past?.runs ?? 0,
      pastP90: false,
    };
    if (DONE.includes(rec.status) || (rec.status === 'pending' && !phaseEnabled(def, state.flags))) {
      eta.remainingSeconds = 0;
      eta.pastP90 =
        rec.status === 'completed' && past !== undefined && (rec.durationSeconds ?? 0) > past.p90Seconds;
      return eta;
    }
    const started = rec.status === 'in_progress' && rec.startedAt ? Date.parse(rec.startedAt) : NaN;
    if (Number.isFinite(started)) eta.elapsedSeconds = Math.max(0, Math.floor((nowMs - started) / 1000));
    if (past) {
      eta.remainingSeconds = Math.max(0, past.medianSeconds - (eta.elapsedSeconds ?? 0));
      eta.pastP90 = eta.elapsedSeconds !== undefined && eta.elapsedSeconds > past.p90Seconds;
    }
    return eta;
  });
  return {
    phases,
    remainingSeconds: phases.reduce((s, p) => s + (p.remainingSeconds ?? 0), 0),
    unknown: phases.filter((p) => p.remainingSeconds === undefined).map((p) => p.phase),
    pastP90: phases.filter((p) => p.pastP90).map((p) => p.phase),
  };
}

/** `75` → `1m 15s`; empty for undefined. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined) return '';
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m > 0 ? `${m}m ${s}s` : `${s}s`;
}

/** `12s / 20s`: a phase's median and p90, or empty when it never ran before. */
export function formatPhaseTime(p: PhaseEta): string {
  return p.medianSeconds === undefined
    ? ''
    : `${formatDuration(p.medianSeconds)} / ${formatDuration(p.p90Seconds)}`;
}

/** One line on what is left: `about 3m 10s left (no past run of: install_kof_regional)`. */
export function remainingLine(eta: Eta): string {
  const known = eta.phases.some((p) => p.runs > 0);
  if (!known) return 'no earlier run in this folder to estimate from';
  const unknown = eta.unknown.length > 0 ? ` (no past run of: ${eta.unknown.join(', ')})` : '';
  const late = eta.pastP90.length > 0 ? `; past p90: ${eta.pastP90.join(', ')}` : '';
  return `about ${formatDuration(eta.remainingSeconds)} left${unknown}${late}`;
}
