/** The shape every phase shares, and small helpers its three verbs use. */
import type { ArmAdapter } from '../azure/adapter';
import type { AzureTarget } from '../azure/target';
import type { LocalWorld } from '../emulator/local-world';
import type { CheckResult, EventRecord, PhaseContext, PhaseResult } from '../workflows/messages';
import { isoSecond } from '../workflows/state';
import { pause, resumeCursor } from './work';

/** A phase: `check` observes, `apply` makes (idempotently), `rollback` tears down (idempotently). */
export interface Phase {
  check(ctx: PhaseContext): Promise<CheckResult>;
  apply(ctx: PhaseContext): Promise<PhaseResult>;
  rollback(ctx: PhaseContext): Promise<PhaseResult>;
}

/** What phases are given: the endpoints they act on. */
export interface PhaseDeps {
  /** The world of one deployment folder. */
  world(workDir: string): LocalWorld;
  /** The ARM adapter of an Azure target (Azure itself or the local ARM emulator). */
  azure(target: AzureTarget): ArmAdapter;
}

/** Builds a phase from its dependencies. */
export type PhaseFactory = (deps: PhaseDeps) => Phase;

/** An event stamped now. */
export function event(action: string, message: string, phase?: string): EventRecord {
  const record: EventRecord = { timestamp: isoSecond(Date.now()), action, message };
  if (phase) record.phase = phase;
  return record;
}

/** A check verdict. */
export function verdict(problems: string[]): CheckResult {
  return problems.length === 0 ? { upToDate: true } : { upToDate: false, reason: problems.join('; ') };
}

/**
 * Spends `steps` units of the configured local step time, heartbeating a cursor so that a retried
 * attempt continues where the killed one stopped.
 */
export async function simulate(ctx: PhaseContext, label: string, steps: number): Promise<void> {
  const done = resumeCursor<Record<string, number>>()[label] ?? 0;
  for (let step = done; step < steps; step++) {
    await pause(ctx.config.orchestrator.local_step_ms, { [label]: step });
  }
  await pause(0, { [label]: steps });
}
