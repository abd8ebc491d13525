/** The shape every phase shares, and small helpers its three verbs use. */
import type { ArmAdapter } from '../azure/adapter';
import type { AzureTarget } from '../azure/target';
import type { HostAccess } from '../hosts/access';
import type { VerbHooks } from '../local-world';
import type { CheckResult, EventRecord, PhaseContext, PhaseResult } from '../workflows/messages';
import { isoSecond } from '../workflows/state';

/** A phase: `check` observes, `apply` makes (idempotently), `rollback` tears down (idempotently). */
export interface Phase {
  check(ctx: PhaseContext): Promise<CheckResult>;
  apply(ctx: PhaseContext): Promise<PhaseResult>;
  rollback(ctx: PhaseContext): Promise<PhaseResult>;
}

/** What phases are given: the endpoints they act on. */
export interface PhaseDeps {
  /** Run around every phase verb (the local world's counting and armed faults); none in production. */
  hooks?: VerbHooks;
  /** The ARM adapter of an Azure target (Azure itself or the local ARM emulator). */
  azure(target: AzureTarget): ArmAdapter;
  /** The commands' environment and the SSH dialer for a deployment's hosts. */
  hosts(target: AzureTarget): HostAccess;
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
