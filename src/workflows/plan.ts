/**
 * `plan`: what a deploy, a rollback or a reset would do, worked out from every phase's `check` and a
 * read-only look at what each phase made. The decisions are a pure function (`decidePlan`); the workflow
 * only gathers the observations, so a plan writes nothing anywhere.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { AzureTarget } from '../azure/target';
import type { K0rdentConfig } from '../config/types';
import type {
  CheckResult,
  DeploymentFlags,
  DeploymentState,
  InventoryItem,
  ObservedItem,
  PhaseRequest,
} from './messages';
import type { PhaseName } from './phases';
import { PHASES, activityNames, phaseEnabled } from './phases';
import { resetPlan, rollbackPlan, rollbackRefusal } from './planner';

type Activities = ReturnType<typeof createActivities>;

/** What is planned: a deploy (forward), a rollback to a phase, or a reset. */
export type PlanRequest =
  | { action: 'deploy' }
  | { action: 'rollback'; toPhase: string }
  | { action: 'reset' };

/** The plan workflow's input: the deployment as it stands and where its world is. */
export interface PlanInput {
  deploymentId: string;
  workDir: string;
  config: K0rdentConfig;
  cloud: AzureTarget;
  /** The components the deploy would run with. */
  flags: DeploymentFlags;
  state: DeploymentState;
  request: PlanRequest;
}

/** What a phase would do: nothing, run for the first time, run again, or be undone. */
export type PhaseAction = 'skip' | 'run' | 'redo' | 'undo';

/** What would happen to an item: made, left as it is, removed; `unknown` where it could not be read. */
export type ItemChange = 'create' | 'keep' | 'delete' | 'unknown';

/** One item of a phase with its change. */
export interface PlannedItem extends InventoryItem {
  change: ItemChange;
}

/** One phase of a plan. */
export interface PhasePlan {
  phase: PhaseName;
  title: string;
  action: PhaseAction;
  /** Why: the drift a check found, the component switched off, the phase that is redone first. */
  reason?: string;
  items: PlannedItem[];
}

/** A whole plan, phases in the order they would be acted on. */
export interface DeploymentPlan {
  deploymentId: string;
  request: PlanRequest;
  phases: PhasePlan[];
  totals: Record<ItemChange, number>;
}

/** What the workflow observed per phase. */
export interface Observations {
  checks: Partial<Record<PhaseName, CheckResult>>;
  items: Partial<Record<PhaseName, ObservedItem[]>>;
}

const strip = ({ exists: _exists, ...item }: ObservedItem): InventoryItem => item;

function forwardItems(items: ObservedItem[]): PlannedItem[] {
  return items.map((i) => ({ ...strip(i), change: i.exists === true ? 'keep' : 'create' }));
}

/** What undoing a phase does to its items; `clusterGoes` when k0s is reset in the same rewind. */
function undoItems(items: ObservedItem[], clusterGoes: boolean): PlannedItem[] {
  return items
    .filter((i) => i.exists !== false)
    .map((i) => {
      if (i.outlivesRollback && !clusterGoes) return { ...strip(i), change: 'keep' };
      return { ...strip(i), change: i.exists === true ? 'delete' : 'unknown' };
    });
}

function keptItems(items: ObservedItem[]): PlannedItem[] {
  return items.filter((i) => i.exists !== false).map((i) => ({ ...strip(i), change: 'keep' }));
}

function forward(state: DeploymentState, flags: DeploymentFlags, seen: Observations): PhasePlan[] {
  const plans: PhasePlan[] = [];
  const undone: PhasePlan[] = [];
  let redoneFrom: PhaseName | undefined;
  for (const def of PHASES) {
    const phase = def.name;
    const status = state.phases[phase].status;
    const items = seen.items[phase] ?? [];
    const base = { phase, title: def.title };
    if (!phaseEnabled(def, flags)) {
      if (status === 'pending' || status === 'skipped') {
        plans.push({ ...base, action: 'skip', reason: 'component not enabled', items: [] });
      } else {
        undone.push({
          ...base,
          action: 'undo',
          reason: 'component no longer enabled',
          items: undoItems(items, false),
        });
      }
      continue;
    }
    if (status === 'completed' && redoneFrom === undefined) {
      const check = seen.checks[phase];
      if (check?.upToDate) {
        plans.push({ ...base, action: 'skip', items: keptItems(items) });
        continue;
      }
      redoneFrom = phase;
      const why = check?.reason ?? 'check found drift';
      plans.push({ ...base, action: 'redo', reason: `drifted: ${why}`, items: forwardItems(items) });
      continue;
    }
    if (status === 'completed') {
      plans.push({ ...base, action: 'redo', reason: `after ${redoneFrom}`, items: forwardItems(items) });
      continue;
    }
    plans.push({ ...base, action: 'run', items: forwardItems(items) });
  }
  // A component switched off is undone when the forward loop reaches it: newest first, ahead of the rest.
  return [...undone.reverse(), ...plans];
}

function rewind(undo: PhaseName[], seen: Observations): PhasePlan[] {
  const set = new Set(undo);
  const untouched = PHASES.filter((p) => !set.has(p.name)).map(
    (p): PhasePlan => ({
      phase: p.name,
      title: p.title,
      action: 'skip',
      items: keptItems(seen.items[p.name] ?? []),
    })
  );
  const undone = undo.map((phase): PhasePlan => {
    const def = PHASES.find((p) => p.name === phase);
    const items = undoItems(seen.items[phase] ?? [], set.has('install_k0s'));
    return { phase, title: def?.title ?? phase, action: 'undo', items };
  });
  return [...undone, ...untouched];
}

/** Why a plan request cannot be served by this deployment, or undefined. */
export function planRefusal(state: DeploymentState, request: PlanRequest): string | undefined {
  if (request.action === 'rollback') return rollbackRefusal(state, request.toPhase);
  if (request.action === 'reset' && state.status === 'reset') return 'the deployment was reset already';
  return undefined;
}

/** The phases whose items and checks a plan needs. */
export function phasesToObserve(state: DeploymentState, flags: DeploymentFlags): PhaseName[] {
  return PHASES.filter(
    (p) => phaseEnabled(p, flags) || !['pending', 'skipped'].includes(state.phases[p.name].status)
  ).map((p) => p.name);
}

/** The plan of `request` from what was observed; pure. */
export function decidePlan(
  state: DeploymentState,
  flags: DeploymentFlags,
  request: PlanRequest,
  seen: Observations
): DeploymentPlan {
  let phases: PhasePlan[];
  if (request.action === 'deploy') phases = forward(state, flags, seen);
  else if (request.action === 'rollback')
    phases = rewind(rollbackPlan(state, request.toPhase as PhaseName), seen);
  else phases = rewind(resetPlan(state), seen);
  const totals: Record<ItemChange, number> = { create: 0, keep: 0, delete: 0, unknown: 0 };
  for (const p of phases) for (const i of p.items) totals[i.change]++;
  return { deploymentId: state.deploymentId, request, phases, totals };
}

/** Observes every phase the plan needs (checks of completed phases, items of all) and decides. */
export async function planWorkflow(input: PlanInput): Promise<DeploymentPlan> {
  const refusal = planRefusal(input.state, input.request);
  if (refusal) throw ApplicationFailure.nonRetryable(refusal, 'PlanRefused');
  const reads = proxyActivities<Activities>({
    startToCloseTimeout: '2 minutes',
    retry: { maximumAttempts: 3 },
  });
  const seen: Observations = { checks: {}, items: {} };
  const request = (phase: PhaseName): PhaseRequest & { config: K0rdentConfig; cloud: AzureTarget } => ({
    deploymentId: input.deploymentId,
    workDir: input.workDir,
    phase,
    flags: input.flags,
    facts: input.state.facts,
    config: input.config,
    cloud: input.cloud,
  });
  for (const phase of phasesToObserve(input.state, input.flags)) {
    seen.items[phase] = await reads.observePhaseItems(request(phase));
    if (input.state.phases[phase].status === 'completed') {
      const check = reads[activityNames(phase).check];
      try {
        seen.checks[phase] = await check(request(phase));
      } catch (err) {
        // A check that cannot finish is what the forward loop would meet too: the phase does not hold.
        const cause = err instanceof ActivityFailure ? err.cause : err;
        seen.checks[phase] = { upToDate: false, reason: `check failed: ${(cause as Error).message}` };
      }
    }
  }
  return decidePlan(input.state, input.flags, input.request, seen);
}
