import assert from 'node:assert/strict';
import { DEFAULT_CONFIG } from '../../../src/config/defaults';
import type { DeploymentFlags, DeploymentState, ObservedItem } from '../../../src/workflows/messages';
import { PHASE_NAMES } from '../../../src/workflows/phases';
import type { PhaseName } from '../../../src/workflows/phases';
import type { Observations } from '../../../src/workflows/plan';
import { decidePlan, phasesToObserve, planRefusal } from '../../../src/workflows/plan';
import { initialState } from '../../../src/workflows/state';
import { renderPlan } from '../../../src/cli/plan-view';

const CORE: DeploymentFlags = { azureChildren: false, kof: false };
const ALL: DeploymentFlags = { azureChildren: true, kof: true };

function state(flags: DeploymentFlags, completedThrough?: PhaseName): DeploymentState {
  const s = initialState(
    {
      deploymentId: 'k0rdent-abcd1234',
      deployer: 'alice@example.com',
      configFile: 'config/k0rdent.yaml',
      config: structuredClone(DEFAULT_CONFIG),
      flags,
    },
    '2026-12-04T00:00:00Z'
  );
  if (completedThrough) {
    for (const name of PHASE_NAMES.slice(0, PHASE_NAMES.indexOf(completedThrough) + 1)) {
      s.phases[name].status = 'completed';
    }
  }
  if (!flags.kof) {
    for (const name of ['install_azure_csi', 'install_kof_mothership', 'install_kof_regional'] as const)
      s.phases[name].status = 'skipped';
  }
  if (!flags.azureChildren) s.phases.setup_azure_children.status = 'skipped';
  return s;
}

const vm = (name: string, exists?: boolean): ObservedItem => ({
  kind: 'azure',
  type: 'Microsoft.Compute/virtualMachines',
  name,
  ...(exists === undefined ? {} : { exists }),
});

function observed(overrides: Partial<Observations> = {}): Observations {
  const checks: Observations['checks'] = {};
  for (const name of PHASE_NAMES) checks[name] = { upToDate: true };
  return { checks: { ...checks, ...overrides.checks }, items: overrides.items ?? {} };
}

describe('plan decisions', () => {
  it('skips every up-to-date completed phase and keeps what they made', () => {
    const s = state(CORE, 'install_k0rdent');
    const p = decidePlan(s, CORE, { action: 'deploy' }, observed({ items: { create_vms: [vm('a', true)] } }));
    assert.deepEqual(
      p.phases.map((x) => x.action),
      PHASE_NAMES.map(() => 'skip')
    );
    assert.deepEqual(p.totals, { create: 0, keep: 1, delete: 0, unknown: 0 });
  });

  it('redoes the first drifted phase with its reason, and every completed phase after it', () => {
    const s = state(CORE, 'install_k0rdent');
    const p = decidePlan(
      s,
      CORE,
      { action: 'deploy' },
      observed({
        checks: { create_vms: { upToDate: false, reason: 'vm b is missing' } },
        items: { create_vms: [vm('a', true), vm('b', false)] },
      })
    );
    const byPhase = Object.fromEntries(p.phases.map((x) => [x.phase, x]));
    assert.equal(byPhase.setup_network?.action, 'skip');
    assert.equal(byPhase.create_vms?.action, 'redo');
    assert.equal(byPhase.create_vms?.reason, 'drifted: vm b is missing');
    assert.deepEqual(
      byPhase.create_vms?.items.map((i) => `${i.name}:${i.change}`),
      ['a:keep', 'b:create']
    );
    for (const later of ['setup_vpn', 'connect_vpn', 'install_k0s', 'install_k0rdent'])
      assert.equal(byPhase[later]?.reason, 'after create_vms', later);
    assert.match(
      renderPlan(p),
      /create_vms: redo \(drifted: vm b is missing\)\n {4}= keep {4}\S+ a\n {4}\+ create {2}\S+ b/
    );
  });

  it('runs pending phases and undoes a component switched off, before the rest', () => {
    const s = state(ALL, 'install_kof_regional');
    const p = decidePlan(s, CORE, { action: 'deploy' }, observed());
    assert.deepEqual(
      p.phases.slice(0, 4).map((x) => `${x.phase}:${x.action}`),
      [
        'install_kof_regional:undo',
        'install_kof_mothership:undo',
        'install_azure_csi:undo',
        'setup_azure_children:undo',
      ]
    );
    const fresh = decidePlan(
      state(CORE),
      CORE,
      { action: 'deploy' },
      observed({ items: { create_vms: [vm('a')] } })
    );
    assert.equal(fresh.phases.find((x) => x.phase === 'install_k0s')?.action, 'run');
    assert.deepEqual(fresh.totals, { create: 1, keep: 0, delete: 0, unknown: 0 });
  });

  it('a rollback undoes newest first and deletes what exists; a namespace outlives its phase unless k0s goes', () => {
    const s = state(ALL, 'install_kof_regional');
    const ns: ObservedItem = {
      kind: 'object',
      type: 'Namespace',
      name: 'kof',
      outlivesRollback: true,
      exists: true,
    };
    const items: Observations['items'] = {
      install_kof_mothership: [
        ns,
        { kind: 'helm', type: 'Helm release', name: 'kof-mothership', exists: true },
      ],
      install_k0s: [{ kind: 'k0s', type: 'k0s cluster', name: s.deploymentId, exists: true }],
      create_vms: [vm('gone', false), vm('unread')],
    };
    const toMothership = decidePlan(
      s,
      ALL,
      { action: 'rollback', toPhase: 'install_kof_mothership' },
      observed({ items })
    );
    assert.deepEqual(
      toMothership.phases.filter((x) => x.action === 'undo').map((x) => x.phase),
      ['install_kof_regional', 'install_kof_mothership']
    );
    assert.deepEqual(
      toMothership.phases[1]?.items.map((i) => `${i.name}:${i.change}`),
      ['kof:keep', 'kof-mothership:delete']
    );
    const reset = decidePlan(s, ALL, { action: 'reset' }, observed({ items }));
    assert.equal(reset.phases.filter((x) => x.action === 'undo').length, PHASE_NAMES.length);
    const mothership = reset.phases.find((x) => x.phase === 'install_kof_mothership');
    assert.equal(mothership?.items[0]?.change, 'delete');
    const vms = reset.phases.find((x) => x.phase === 'create_vms');
    assert.deepEqual(
      vms?.items.map((i) => `${i.name}:${i.change}`),
      ['unread:unknown']
    );
  });

  it('refuses a rollback to a phase that has not run, and a reset of a reset deployment', () => {
    const s = state(CORE, 'create_vms');
    assert.match(planRefusal(s, { action: 'rollback', toPhase: 'install_k0s' }) ?? '', /has not run/);
    assert.equal(planRefusal(s, { action: 'rollback', toPhase: 'setup_network' }), undefined);
    s.status = 'reset';
    assert.match(planRefusal(s, { action: 'reset' }) ?? '', /reset already/);
  });

  it('observes enabled phases and disabled ones that ran', () => {
    const s = state(ALL, 'install_kof_regional');
    assert.deepEqual(phasesToObserve(s, CORE), PHASE_NAMES);
    assert.deepEqual(phasesToObserve(state(CORE), CORE), PHASE_NAMES.slice(0, 7));
  });
});
