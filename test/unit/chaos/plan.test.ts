import assert from 'node:assert/strict';
import { describePlan, drawPlan, enabledPhases, Rng } from '../../chaos/plan';
import { phaseIndex } from '../../../src/workflows/phases';

describe('chaos plans', () => {
  it('draws the same plan from the same seed, and other plans from other seeds', () => {
    assert.deepEqual(drawPlan(42), drawPlan(42));
    const lines = new Set(Array.from({ length: 50 }, (_, i) => describePlan(drawPlan(i))));
    assert.ok(lines.size > 45, `only ${lines.size} distinct plans in 50 seeds`);
  });

  it('keeps the generator in range', () => {
    const rng = new Rng(7);
    for (let i = 0; i < 1000; i++) {
      const n = rng.int(3, 5);
      assert.ok(n >= 3 && n <= 5);
      const f = rng.next();
      assert.ok(f >= 0 && f < 1);
    }
  });

  it('orders actions by phase and rolls back only to phases that ran', () => {
    for (let seed = 0; seed < 300; seed++) {
      const plan = drawPlan(seed);
      const phases = enabledPhases(plan.kof);
      const at = plan.actions.map((a) => phases.indexOf(a.at.phase));
      assert.ok(
        at.every((i) => i >= 1),
        `seed ${seed}: a trigger on a phase that is not enabled`
      );
      assert.deepEqual(
        at,
        [...at].sort((a, b) => a - b),
        `seed ${seed}: actions out of order`
      );
      for (const a of plan.actions) {
        if (a.kind !== 'rollback') continue;
        const limit = phaseIndex(a.at.phase) - (a.at.when === 'completed' ? 0 : 1);
        assert.ok(phaseIndex(a.toPhase) <= limit, `seed ${seed}: rollback to ${a.toPhase} at ${a.at.phase}`);
        assert.ok(phases.includes(a.toPhase), `seed ${seed}: rollback to a skipped phase`);
      }
      const rest = plan.actions.findIndex((a) => a.kind === 'rollback' && a.resume === 'rest');
      if (rest >= 0) assert.equal(rest, plan.actions.length - 1, `seed ${seed}: actions after resting`);
      if (plan.finish === 'rest') assert.ok(rest >= 0, `seed ${seed}: rest without a rollback`);
    }
  });
});
