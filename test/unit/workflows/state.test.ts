import assert from 'node:assert/strict';
import type { DeploymentState } from '../../../src/workflows/messages';
import { PHASE_NAMES } from '../../../src/workflows/phases';
import {
  applyPatch,
  deploymentCompleted,
  detailsMarkdown,
  emptyFacts,
  initialState,
  isoSecond,
  phaseCompleted,
  phaseFailed,
  phaseStarted,
  resetFrom,
  rollbackFinished,
  rollbackStarted,
} from '../../../src/workflows/state';
import { NOW, deploymentInput, stateWith } from './fixtures';

describe('deployment state transitions', () => {
  it('formats timestamps to the second in UTC with a Z', () => {
    assert.equal(isoSecond(Date.UTC(2025, 11, 1, 8, 56, 5, 789)), '2025-12-01T08:56:05Z');
  });

  it('starts with every phase pending and the Bash tool initial values', () => {
    const state = initialState(deploymentInput(), NOW);
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

  it('times a phase from its start to its completion and counts its runs', () => {
    const state = stateWith({ setup_network: 'failed' });
    state.phases.setup_network.runs = 1;
    const started = Date.parse(NOW);
    phaseStarted(state, 'setup_network', started);
    assert.equal(state.phases.setup_network.status, 'in_progress');
    assert.equal(state.phases.setup_network.runs, 2);
    assert.equal(state.status, 'in_progress');
    phaseCompleted(state, 'setup_network', started, started + 61_600);
    assert.deepEqual(
      [
        state.phases.setup_network.status,
        state.phases.setup_network.durationSeconds,
        state.events.at(-1)?.action,
      ],
      ['completed', 62, 'phase_completed']
    );
  });

  it('records a failure on the phase and has the deployment wait for an operator', () => {
    const state = stateWith({ create_vms: 'in_progress' });
    phaseFailed(state, 'create_vms', 'phase create_vms failed: quota', NOW);
    assert.equal(state.phases.create_vms.error, 'phase create_vms failed: quota');
    assert.equal(state.status, 'failed');
    assert.equal(state.waitingFor, 'resume, rollback or reset');
  });

  const rollbacks: [string, boolean, DeploymentState['status'], string | undefined][] = [
    ['runs on when asked to resume', true, 'in_progress', undefined],
    ['pauses for a resume otherwise', false, 'paused', 'resume'],
  ];
  for (const [label, resume, status, waitingFor] of rollbacks) {
    it(`after a finished rollback ${label}, from the target phase`, () => {
      const state = stateWith({ prepare_deployment: 'completed', setup_network: 'rolling_back' });
      rollbackStarted(state, 'setup_network', NOW);
      assert.equal(state.status, 'rolling_back');
      rollbackFinished(state, 'setup_network', resume, NOW);
      assert.equal(state.status, status);
      assert.equal(state.waitingFor, waitingFor);
      assert.equal(state.phases.setup_network.status, 'pending');
      assert.equal(state.phase, 'setup_network');
      assert.equal(state.rollbackTarget, 'setup_network');
    });
  }

  it('completes a deployment with its duration since the start and the phase it is given', () => {
    const state = stateWith({});
    state.deploymentStartTime = NOW;
    state.lastError = 'an earlier failure';
    deploymentCompleted(state, Date.parse(NOW) + 125_000, 'install_k0rdent');
    assert.equal(state.status, 'completed');
    assert.equal(state.deploymentDurationSeconds, 125);
    assert.equal(state.phase, 'install_k0rdent');
    assert.equal(state.lastError, undefined);
    assert.equal(state.events.at(-1)?.message, 'k0rdent deployment completed successfully in 125 seconds');
  });

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
