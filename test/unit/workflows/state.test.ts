import assert from 'node:assert/strict';
import { emulatorTarget } from '../../../src/azure/target';
import { DEFAULT_CONFIG } from '../../../src/config/defaults';
import { activityPolicy } from '../../../src/config/policy';
import type { DeploymentInput, DeploymentState } from '../../../src/workflows/messages';
import { PHASE_NAMES } from '../../../src/workflows/phases';
import type { PhaseName } from '../../../src/workflows/phases';
import {
  applyPatch,
  detailsMarkdown,
  emptyFacts,
  initialState,
  isoSecond,
  resetFrom,
  rollbackPlan,
  rollbackRefusal,
} from '../../../src/workflows/state';

const NOW = '2026-01-02T03:04:05Z';

function input(): DeploymentInput {
  return {
    deploymentId: 'k0rdent-abcd1234',
    workDir: '/tmp/x',
    configFile: 'config/k0rdent.yaml',
    config: structuredClone(DEFAULT_CONFIG),
    flags: { azureChildren: false, kof: false },
    deployer: 'alice@example.com',
    policy: activityPolicy(DEFAULT_CONFIG),
    cloud: emulatorTarget('https://127.0.0.1:1', '/nonexistent-ca.pem'),
  };
}

function stateWith(
  statuses: Partial<Record<PhaseName, DeploymentState['phases'][PhaseName]['status']>>
): DeploymentState {
  const state = initialState(input(), NOW);
  for (const [name, status] of Object.entries(statuses)) state.phases[name as PhaseName].status = status;
  return state;
}

describe('deployment state transitions', () => {
  it('formats timestamps to the second in UTC with a Z', () => {
    assert.equal(isoSecond(Date.UTC(2025, 11, 1, 8, 56, 5, 789)), '2025-12-01T08:56:05Z');
  });

  it('starts with every phase pending and the Bash tool initial values', () => {
    const state = initialState(input(), NOW);
    for (const name of PHASE_NAMES) assert.equal(state.phases[name].status, 'pending');
    assert.equal(state.configSnapshot.resource_group, 'k0rdent-abcd1234-resgrp');
    assert.equal(state.facts.values.azure_rg_status, 'not_created');
    assert.equal(state.events[0]?.action, 'deployment_initialized');
  });

  it('resets a phase and every later one that ran, leaving skipped ones alone', () => {
    const state = stateWith({
      prepare_deployment: 'completed',
      setup_network: 'completed',
      create_vms: 'completed',
      setup_vpn: 'in_progress',
      setup_azure_children: 'skipped',
    });
    assert.deepEqual(resetFrom(state, 'setup_network', NOW), ['setup_network', 'create_vms', 'setup_vpn']);
    assert.equal(state.phases.prepare_deployment.status, 'completed');
    assert.equal(state.phases.setup_azure_children.status, 'skipped');
    assert.equal(state.phase, 'setup_network');
  });

  it('plans a rollback newest first over the phases that ran', () => {
    const state = stateWith({
      prepare_deployment: 'completed',
      setup_network: 'completed',
      create_vms: 'completed',
      setup_vpn: 'failed',
    });
    assert.deepEqual(rollbackPlan(state, 'setup_network'), ['setup_vpn', 'create_vms', 'setup_network']);
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

  it('applies facts patches, deleting entries set to null and appending cluster events', () => {
    const facts = emptyFacts();
    applyPatch(
      facts,
      {
        values: { wg_keys_generated: true },
        vm_states: { a: { public_ip: '1', private_ip: '2', state: 'Succeeded', last_checked: NOW } },
      },
      NOW
    );
    applyPatch(
      facts,
      {
        values: { wg_keys_generated: null },
        vm_states: { a: null },
        cluster_events: [
          { cluster: 'c1', event: { timestamp: NOW, action: 'cluster_deployment_created', message: 'made' } },
        ],
      },
      NOW
    );
    assert.equal('wg_keys_generated' in facts.values, false);
    assert.deepEqual(facts.vm_states, {});
    assert.equal(facts.clusters.c1?.events.length, 1);
    assert.equal(facts.clusters.c1?.created_at, NOW);
  });

  it('renders a markdown table with one row per phase for the Web UI', () => {
    const state = stateWith({ prepare_deployment: 'completed' });
    state.phases.prepare_deployment.durationSeconds = 75;
    const md = detailsMarkdown(state);
    assert.match(md, /\| phase \| status \| duration \| note \|/);
    assert.match(md, /\| prepare_deployment \| completed \| 1m 15s \|/);
    assert.equal(
      md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| phase') && !l.startsWith('| ---'))
        .length,
      11
    );
  });

  it('adds each phase’s median / p90, the time left and a late flag when past run times are known', () => {
    const state = stateWith({ prepare_deployment: 'completed', setup_network: 'in_progress' });
    state.status = 'in_progress';
    state.phases.prepare_deployment.durationSeconds = 9;
    state.phases.setup_network.startedAt = NOW;
    const times = {
      prepare_deployment: { runs: 3, medianSeconds: 2, p90Seconds: 4 },
      setup_network: { runs: 3, medianSeconds: 30, p90Seconds: 50 },
    };
    const md = detailsMarkdown(state, { times, nowMs: Date.parse(NOW) + 10_000 });
    assert.match(md, /\| phase \| status \| duration \| median \/ p90 \| late \| note \|/);
    assert.match(md, /\| prepare_deployment \| completed \| 9s \| 2s \/ 4s \| \*\*past p90\*\* \| {2}\|$/m);
    assert.match(md, /^\| setup_network \| in_progress \| {2}\| 30s \/ 50s \| {2}\| {2}\|$/m);
    assert.match(md, /^about 20s left \(no past run of: create_vms, /m);
  });
});
