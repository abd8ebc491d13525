/** A phase whose work is a set of named resources in the world, with facts and events around them. */
import type { FactsPatch, PhaseContext, PhaseResult } from '../workflows/messages';
import type { Phase, PhaseDeps } from './phase';
import { simulate, verdict } from './phase';

/** One resource a phase makes. */
export interface ResourceSpec {
  kind: string;
  name: string;
  props: Record<string, unknown>;
}

/** What distinguishes one resource-making phase from another. */
export interface WorldPhaseSpec {
  /** Resources made in this order and removed in the reverse order. */
  resources(ctx: PhaseContext): ResourceSpec[];
  /** Facts and events after apply. */
  applied(ctx: PhaseContext): PhaseResult;
  /** Facts and events after rollback. */
  removed(ctx: PhaseContext): PhaseResult;
  /** Simulated work units per resource. */
  stepsPerResource?: number;
}

/** Builds the three verbs of a resource-making phase. */
export function worldPhase(deps: PhaseDeps, spec: WorldPhaseSpec): Phase {
  return {
    async check(ctx) {
      const world = deps.world(ctx.workDir);
      const problems: string[] = [];
      for (const r of spec.resources(ctx)) {
        const found = await world.get(r.kind, r.name);
        if (!found) problems.push(`${r.kind} ${r.name} is missing`);
        else if (found.owner !== ctx.deploymentId)
          problems.push(`${r.kind} ${r.name} belongs to ${found.owner}`);
      }
      return verdict(problems);
    },
    async apply(ctx) {
      const world = deps.world(ctx.workDir);
      for (const r of spec.resources(ctx)) {
        if (!(await world.get(r.kind, r.name)))
          await simulate(ctx, `${r.kind}/${r.name}`, spec.stepsPerResource ?? 2);
        await world.put(ctx.deploymentId, r.kind, r.name, r.props);
      }
      return spec.applied(ctx);
    },
    async rollback(ctx) {
      const world = deps.world(ctx.workDir);
      for (const r of [...spec.resources(ctx)].reverse()) {
        const found = await world.get(r.kind, r.name);
        if (found && found.owner === ctx.deploymentId) await world.remove(r.kind, r.name);
      }
      return spec.removed(ctx);
    },
  };
}

/** A patch setting top-level values only. */
export function values(v: FactsPatch['values']): FactsPatch {
  return { values: v };
}
