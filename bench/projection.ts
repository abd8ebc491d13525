/** Projection latency samples: a transition's ActivityTaskCompleted time against the state file showing it. */
import { PHASES, activityNames } from '../src/workflows/phases';
import type { PhaseName } from '../src/workflows/phases';
import type { History } from './history';
import { activityRuns, workflowTaskStartedAfter } from './history';
import type { ProjectionSummary } from './results';
import type { StateSeen } from './state-watcher';
import { percentile } from './stats';

/** Samples gathered over deployments. */
export interface ProjectionSamples {
  /** Latencies of the exact samples, ms. */
  latencies: number[];
  /** Of each: the part until the worker started the workflow task that projects it. */
  pickups: number[];
  /** The latencies by the phase that completed. */
  byPhase: Map<PhaseName, number[]>;
  worst: ProjectionSummary['worst'];
  folded: number;
  missing: number;
}

/** No samples yet. */
export const newSamples = (): ProjectionSamples => ({
  latencies: [],
  pickups: [],
  byPhase: new Map(),
  worst: [],
  folded: 0,
  missing: 0,
});

/**
 * Adds a deployment's samples: per phase applied, the ctime of the first state file version showing it
 * completed minus the apply's ActivityTaskCompleted time; a version that already held the next
 * transition (written with it in one projection) is a sample too, and counted as folded.
 */
export function addSamples(history: History, seen: StateSeen, into: ProjectionSamples): void {
  const runs = activityRuns(history);
  for (const def of PHASES) {
    const apply = runs.find((r) => r.name === activityNames(def.name).apply && r.outcome === 'completed');
    if (!apply?.endedMs) continue;
    const s = seen.phases[def.name];
    if (!s) {
      into.missing++;
      continue;
    }
    // A version that also holds the next transition still dates when the completion became visible.
    if (!s.exact) into.folded++;
    const ms = s.ctimeMs - apply.endedMs;
    const started = workflowTaskStartedAfter(history, apply.endedIndex ?? 0);
    const pickupMs = started === undefined ? undefined : started - apply.endedMs;
    into.latencies.push(ms);
    into.byPhase.set(def.name, [...(into.byPhase.get(def.name) ?? []), ms]);
    if (pickupMs !== undefined) into.pickups.push(pickupMs);
    into.worst.push({
      id: seen.id,
      phase: def.name,
      ms: Math.round(ms),
      pickupMs: pickupMs === undefined ? undefined : Math.round(pickupMs),
    });
    into.worst.sort((a, b) => b.ms - a.ms).splice(5);
  }
}

/** Percentiles of the samples. */
export function summarize(p: ProjectionSamples): ProjectionSummary {
  return {
    samples: p.latencies.length,
    folded: p.folded,
    missing: p.missing,
    p50_ms: percentile(p.latencies, 50),
    p99_ms: percentile(p.latencies, 99),
    max_ms: p.latencies.length ? Math.max(...p.latencies) : undefined,
    workflow_task_pickup_p50_ms: percentile(p.pickups, 50),
    workflow_task_pickup_p99_ms: percentile(p.pickups, 99),
    worst: p.worst,
    p99_ms_by_phase: Object.fromEntries(
      [...p.byPhase].map(([phase, ms]) => [phase, Math.round(percentile(ms, 99) ?? 0)])
    ),
  };
}
