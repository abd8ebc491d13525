import assert from 'node:assert/strict';
import type { DeploymentFlags, DeploymentState, PhaseStatus } from '../../../src/workflows/messages';
import { PHASE_NAMES } from '../../../src/workflows/phases';
import type { PhaseName } from '../../../src/workflows/phases';
import type { PhaseStep, Progress, Step, Wake } from '../../../src/workflows/planner';
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
} from '../../../src/workflows/planner';
import { stateWith } from './fixtures';

const OFF: DeploymentFlags = { azureChildren: false, kof: false };
const ALL: DeploymentFlags = { azureChildren: true, kof: true };
const BASE = PHASE_NAMES.slice(0, 7);
const OPTIONAL = PHASE_NAMES.slice(7);

function all(names: readonly PhaseName[], status: PhaseStatus): Partial<Record<PhaseName, PhaseStatus>> {
  return Object.fromEntries(names.map((name) => [name, status]));
}

/**
 * Walks the forward loop the way the workflow does, with every check up to date and every apply
 * succeeding; returns each phase with what its step was, then how the walk ended.
 */
function walk(state: DeploymentState, from: Progress): string[] {
  const seen: string[] = [];
  let progress = from;
  for (;;) {
    const step = nextStep(state, progress);
    if (step.kind !== 'phase') return [...seen, step.kind];
    const what = phaseStep(state, step.phase);
    seen.push(`${step.phase}:${what.kind}`);
    if (what.kind === 'skip') state.phases[step.phase].status = 'skipped';
    if (what.kind === 'run') state.phases[step.phase].status = 'completed';
    progress = advanced(progress);
  }
}

describe('deployment planner', () => {
  describe('where a run starts', () => {
    const starts: [string, boolean, DeploymentState['status'], Progress][] = [
      ['a new run', false, 'in_progress', { cursor: 0, waiting: false }],
      ['an adopted state that had failed', false, 'failed', { cursor: 0, waiting: false }],
      ['a carried-over completed run', true, 'completed', { cursor: PHASE_NAMES.length, waiting: false }],
      ['a carried-over failed run', true, 'failed', { cursor: 0, waiting: true }],
      ['a carried-over paused run', true, 'paused', { cursor: 0, waiting: true }],
    ];
    for (const [label, carried, status, expected] of starts) {
      it(`starts ${label} at ${expected.cursor}${expected.waiting ? ', waiting' : ''}`, () => {
        const state = stateWith({});
        state.status = status;
        assert.deepEqual(initialProgress(state, carried), expected);
      });
    }
  });

  describe('the next step', () => {
    const steps: [string, Progress, DeploymentState['status'], Step, boolean][] = [
      ['waits for an operator', { cursor: 3, waiting: true }, 'failed', { kind: 'wait' }, false],
      ['waits even past the last phase', { cursor: 11, waiting: true }, 'paused', { kind: 'wait' }, false],
      [
        'looks at the first phase',
        { cursor: 0, waiting: false },
        'in_progress',
        { kind: 'phase', phase: 'prepare_deployment' },
        true,
      ],
      [
        'looks at the last phase',
        { cursor: 10, waiting: false },
        'in_progress',
        { kind: 'phase', phase: 'install_kof_regional' },
        true,
      ],
      [
        'completes past the last phase',
        { cursor: 11, waiting: false },
        'in_progress',
        { kind: 'complete' },
        true,
      ],
      ['rests once completed', { cursor: 11, waiting: false }, 'completed', { kind: 'rest' }, false],
    ];
    for (const [label, progress, status, expected, projects] of steps) {
      it(`${label}${projects ? ', projecting with the step' : ''}`, () => {
        const state = stateWith({});
        state.status = status;
        const step = nextStep(state, progress);
        assert.deepEqual(step, expected);
        assert.equal(projectsWithStep(step), projects);
      });
    }
  });

  describe('the forward step for a phase', () => {
    const cases: [string, PhaseName, PhaseStatus, DeploymentFlags, PhaseStep][] = [
      ['runs a pending phase', 'setup_network', 'pending', OFF, { kind: 'run', unskip: false }],
      ['runs a failed phase again', 'create_vms', 'failed', OFF, { kind: 'run', unskip: false }],
      [
        'runs a phase a killed worker left running',
        'install_k0s',
        'in_progress',
        OFF,
        { kind: 'run', unskip: false },
      ],
      ['checks a completed phase', 'install_k0rdent', 'completed', OFF, { kind: 'check' }],
      [
        'checks a completed optional phase still on',
        'install_kof_regional',
        'completed',
        ALL,
        { kind: 'check' },
      ],
      [
        'runs a skipped phase whose component is on now',
        'install_azure_csi',
        'skipped',
        ALL,
        { kind: 'run', unskip: true },
      ],
      [
        'passes a skipped phase whose component is off',
        'install_kof_mothership',
        'skipped',
        OFF,
        { kind: 'pass' },
      ],
      [
        'skips a pending phase whose component is off',
        'setup_azure_children',
        'pending',
        OFF,
        { kind: 'skip', reason: 'Component not enabled', undo: false },
      ],
      [
        'undoes, then skips, a completed phase whose component was switched off',
        'install_kof_regional',
        'completed',
        { azureChildren: true, kof: false },
        { kind: 'skip', reason: 'Component no longer enabled', undo: true },
      ],
      [
        'undoes, then skips, a failed phase whose component was switched off',
        'install_azure_csi',
        'failed',
        OFF,
        { kind: 'skip', reason: 'Component no longer enabled', undo: true },
      ],
    ];
    for (const [label, phase, status, flags, expected] of cases) {
      it(label, () => {
        assert.deepEqual(phaseStep(stateWith({ [phase]: status }, flags), phase), expected);
      });
    }
  });

  describe('what a phase needs checked first', () => {
    const cases: [
      string,
      PhaseName,
      PhaseStatus,
      PhaseName | undefined,
      ReturnType<typeof requiredChecks>,
    ][] = [
      [
        'checks the tunnel before install_k0s',
        'install_k0s',
        'completed',
        undefined,
        [{ phase: 'connect_vpn', fresh: false }],
      ],
      [
        'marks the tunnel fresh when the step before completed it',
        'install_k0s',
        'completed',
        'connect_vpn',
        [{ phase: 'connect_vpn', fresh: true }],
      ],
      [
        'does not mark it fresh after another phase',
        'install_k0rdent',
        'completed',
        'install_k0s',
        [{ phase: 'connect_vpn', fresh: false }],
      ],
      ['checks nothing that has not completed', 'install_k0s', 'failed', undefined, []],
      ['checks nothing for a phase that needs nothing', 'create_vms', 'completed', undefined, []],
    ];
    for (const [label, phase, tunnel, justCompleted, expected] of cases) {
      it(label, () => {
        const state = stateWith({ connect_vpn: tunnel });
        assert.deepEqual(requiredChecks(state, phase, justCompleted), expected);
      });
    }

    const retries: [string, PhaseName, PhaseName[], boolean][] = [
      ['restores the tunnel after a phase that needs it fails', 'install_k0rdent', [], true],
      ['does not restore it twice for the same phase', 'install_k0rdent', ['install_k0rdent'], false],
      ['restores it for another phase', 'install_k0s', ['install_k0rdent'], true],
      ['does not restore anything for a phase that needs nothing', 'setup_vpn', [], false],
    ];
    for (const [label, phase, before, expected] of retries) {
      it(label, () => {
        assert.equal(restoresAfterFailure(phase, new Set(before)), expected);
      });
    }
  });

  describe('rollbacks and resets', () => {
    it('plans a rollback newest first over the phases that ran', () => {
      const state = stateWith({
        prepare_deployment: 'completed',
        setup_network: 'completed',
        create_vms: 'completed',
        setup_vpn: 'failed',
      });
      assert.deepEqual(rollbackPlan(state, 'setup_network'), ['setup_vpn', 'create_vms', 'setup_network']);
    });

    it('leaves pending and skipped phases out of a rollback, and undoes running ones', () => {
      const state = stateWith({
        ...all(BASE, 'completed'),
        setup_azure_children: 'skipped',
        install_azure_csi: 'rolling_back',
        install_kof_mothership: 'in_progress',
      });
      assert.deepEqual(rollbackPlan(state, 'install_k0rdent'), [
        'install_kof_mothership',
        'install_azure_csi',
        'install_k0rdent',
      ]);
    });

    it('plans a reset over every phase that ran, newest first', () => {
      const state = stateWith({ ...all(BASE, 'completed'), ...all(OPTIONAL, 'skipped') });
      assert.deepEqual(resetPlan(state), [...BASE].reverse());
    });

    it('plans nothing for a reset of a deployment that never ran', () => {
      assert.deepEqual(resetPlan(stateWith({})), []);
    });

    const refusals: [string, unknown, RegExp | undefined][] = [
      ['a missing target', undefined, /toPhase is required/],
      ['a non-string target', 42, /toPhase is required/],
      ['an unknown phase', 'install_k8s', /unknown phase "install_k8s"/],
      ['a huge unknown name, quoted short', 'x'.repeat(100_000), /unknown phase "x{57}\.\.\."; phases are/],
      ['a name with a line break, escaped', 'a\nb', /unknown phase "a\\nb"/],
      ['a phase that has not run', 'install_k0rdent', /install_k0rdent has not run \(status pending\)/],
      ['a skipped phase', 'setup_azure_children', /has not run \(status skipped\)/],
      ['a completed phase', 'setup_network', undefined],
      ['the running phase', 'create_vms', undefined],
    ];
    for (const [label, target, expected] of refusals) {
      it(`${expected ? 'refuses' : 'accepts'} a rollback to ${label}`, () => {
        const state = stateWith({
          prepare_deployment: 'completed',
          setup_network: 'completed',
          create_vms: 'in_progress',
          setup_azure_children: 'skipped',
        });
        const why = rollbackRefusal(state, target);
        if (expected) assert.match(why ?? '', expected);
        else assert.equal(why, undefined);
      });
    }

    for (const status of ['resetting', 'reset'] as const) {
      it(`refuses a rollback while the deployment is ${status}`, () => {
        const state = stateWith({ prepare_deployment: 'completed' });
        state.status = status;
        assert.equal(rollbackRefusal(state, 'prepare_deployment'), 'the deployment is being reset');
      });
    }

    const afters: [string, boolean, Progress][] = [
      ['runs on from the target when asked to resume', true, { cursor: 1, waiting: false }],
      ['rests at the target, waiting, otherwise', false, { cursor: 1, waiting: true }],
    ];
    for (const [label, resumes, expected] of afters) {
      it(`after a rollback ${label}`, () => {
        assert.deepEqual(afterRollback('setup_network', resumes), expected);
      });
    }
  });

  describe('resumes and changes of components', () => {
    const at = (cursor: number, waiting: boolean): Progress => ({ cursor, waiting });
    const wake = (resume: boolean, components: boolean): Wake => ({ resume, components });
    const cases: [string, Progress, Wake, Progress][] = [
      ['a resume ends the wait where it stopped', at(4, true), wake(true, false), at(4, false)],
      ['new components while waiting look at every phase again', at(4, true), wake(false, true), at(0, true)],
      ['both while waiting start from the top', at(4, true), wake(true, true), at(0, false)],
      ['nothing while waiting changes nothing', at(4, true), wake(false, false), at(4, true)],
      ['a new deploy of a completed run checks from the top', at(11, false), wake(true, false), at(0, false)],
      [
        'new components of a completed run check from the top',
        at(11, false),
        wake(false, true),
        at(0, false),
      ],
      ['nothing once completed changes nothing', at(11, false), wake(false, false), at(11, false)],
    ];
    for (const [label, from, wake, expected] of cases) {
      it(label, () => {
        assert.deepEqual(afterWake(from, wake), expected);
      });
    }
  });

  describe('a completed deployment', () => {
    const cases: [string, Partial<Record<PhaseName, PhaseStatus>>, string][] = [
      [
        'names the KOF regional install when it ran',
        { ...all(PHASE_NAMES, 'completed') },
        'install_kof_regional',
      ],
      [
        'names the last base phase otherwise',
        { ...all(BASE, 'completed'), ...all(OPTIONAL, 'skipped') },
        'install_k0rdent',
      ],
      [
        'does not name an optional phase other than the KOF regional install',
        { ...all(BASE, 'completed'), setup_azure_children: 'completed' },
        'install_k0rdent',
      ],
      ['keeps the phase it named when nothing completed', {}, 'preparation'],
    ];
    for (const [label, statuses, expected] of cases) {
      it(label, () => {
        assert.equal(completedPhase(stateWith(statuses)), expected);
      });
    }
  });

  describe('walking the forward loop', () => {
    it('runs the base phases, skips the optional ones and completes, without components', () => {
      assert.deepEqual(walk(stateWith({}), initialProgress(stateWith({}), false)), [
        ...BASE.map((p) => `${p}:run`),
        ...OPTIONAL.map((p) => `${p}:skip`),
        'complete',
      ]);
    });

    it('checks what ran and runs the optional phases after components are switched on', () => {
      const state = stateWith({ ...all(BASE, 'completed'), ...all(OPTIONAL, 'skipped') }, ALL);
      state.status = 'completed';
      const woken = afterWake(initialProgress(state, true), { resume: false, components: true });
      state.status = 'in_progress';
      assert.deepEqual(walk(state, woken), [
        ...BASE.map((p) => `${p}:check`),
        ...OPTIONAL.map((p) => `${p}:run`),
        'complete',
      ]);
    });

    it('checks the phases before a rollback target and runs it and the rest again on resume', () => {
      const state = stateWith(all(BASE, 'completed'));
      for (const phase of rollbackPlan(state, 'connect_vpn')) state.phases[phase].status = 'pending';
      assert.deepEqual(walk(state, afterRollback('connect_vpn', true)), [
        'connect_vpn:run',
        'install_k0s:run',
        'install_k0rdent:run',
        ...OPTIONAL.map((p) => `${p}:skip`),
        'complete',
      ]);
    });

    it('rests once a carried-over completed run has nothing left to do', () => {
      const state = stateWith({ ...all(BASE, 'completed'), ...all(OPTIONAL, 'skipped') });
      state.status = 'completed';
      assert.deepEqual(walk(state, initialProgress(state, true)), ['rest']);
    });
  });
});
