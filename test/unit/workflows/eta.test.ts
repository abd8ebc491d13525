import assert from 'node:assert/strict';
import type { EtaInput, PhaseTimes } from '../../../src/workflows/eta';
import { estimate, formatDuration, phaseTime, remainingLine } from '../../../src/workflows/eta';
import { PHASE_NAMES } from '../../../src/workflows/phases';
import type { PhaseName } from '../../../src/workflows/phases';

const START = Date.parse('2026-01-02T03:00:00Z');

function deployment(
  statuses: Partial<Record<PhaseName, EtaInput['phases'][PhaseName]>>,
  kof = false
): EtaInput {
  const phases = Object.fromEntries(
    PHASE_NAMES.map((name) => [name, statuses[name] ?? { status: 'pending' }])
  ) as EtaInput['phases'];
  return { phases, flags: { azureChildren: kof, kof } };
}

const TIMES: PhaseTimes = {
  prepare_deployment: { runs: 2, medianSeconds: 1, p90Seconds: 2 },
  setup_network: { runs: 2, medianSeconds: 30, p90Seconds: 40 },
  create_vms: { runs: 2, medianSeconds: 60, p90Seconds: 90 },
  install_kof_regional: { runs: 1, medianSeconds: 300, p90Seconds: 300 },
};

describe('phase time estimates', () => {
  it('takes the nearest-rank median and p90 of past runs', () => {
    assert.deepEqual(phaseTime([5]), { runs: 1, medianSeconds: 5, p90Seconds: 5 });
    assert.deepEqual(phaseTime([10, 1, 3, 2]), { runs: 4, medianSeconds: 2, p90Seconds: 10 });
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 100];
    assert.deepEqual(phaseTime(ten), { runs: 10, medianSeconds: 5, p90Seconds: 9 });
    assert.equal(phaseTime([]), undefined);
    assert.equal(phaseTime([Number.NaN, -1]), undefined);
  });

  it('counts what is left: the rest of the running phase and the median of each one still to run', () => {
    const eta = estimate(
      deployment({
        prepare_deployment: { status: 'completed' },
        setup_network: { status: 'in_progress', startedAt: '2026-01-02T03:00:00Z' },
      }),
      TIMES,
      START + 12_500
    );
    const network = eta.phases.find((p) => p.phase === 'setup_network');
    assert.deepEqual(network, {
      phase: 'setup_network',
      medianSeconds: 30,
      p90Seconds: 40,
      runs: 2,
      elapsedSeconds: 12,
      remainingSeconds: 18,
      pastP90: false,
    });
    // 18 s of setup_network and 60 s of create_vms; KOF's phases are off, so they take none.
    assert.equal(eta.remainingSeconds, 78);
    assert.deepEqual(eta.unknown, ['setup_vpn', 'connect_vpn', 'install_k0s', 'install_k0rdent']);
    assert.deepEqual(eta.pastP90, []);
    assert.equal(
      remainingLine(eta),
      'about 1m 18s left (no past run of: setup_vpn, connect_vpn, install_k0s, install_k0rdent)'
    );
  });

  it('flags a phase running past its p90 and counts none of its time as left', () => {
    const eta = estimate(
      deployment({ create_vms: { status: 'in_progress', startedAt: '2026-01-02T03:00:00Z' } }),
      TIMES,
      START + 91_000
    );
    const vms = eta.phases.find((p) => p.phase === 'create_vms');
    assert.equal(vms?.pastP90, true);
    assert.equal(vms?.remainingSeconds, 0);
    assert.deepEqual(eta.pastP90, ['create_vms']);
    assert.match(remainingLine(eta), /; past p90: create_vms$/);
  });

  it('flags a completed phase that took longer than its p90, and not one that took as long', () => {
    const eta = estimate(
      deployment({
        setup_network: { status: 'completed', durationSeconds: 41 },
        create_vms: { status: 'completed', durationSeconds: 90 },
      }),
      TIMES,
      START
    );
    assert.deepEqual(eta.pastP90, ['setup_network']);
  });

  it('counts an enabled optional phase and a failed one, which runs again', () => {
    const eta = estimate(deployment({ create_vms: { status: 'failed' } }, true), TIMES, START);
    assert.equal(eta.phases.find((p) => p.phase === 'create_vms')?.remainingSeconds, 60);
    assert.equal(eta.phases.find((p) => p.phase === 'install_kof_regional')?.remainingSeconds, 300);
  });

  it('says so when the folder has no earlier run', () => {
    const eta = estimate(deployment({}), {}, START);
    assert.equal(eta.remainingSeconds, 0);
    assert.equal(remainingLine(eta), 'no earlier run in this folder to estimate from');
  });

  it('formats seconds as the phase tables do', () => {
    assert.equal(formatDuration(75), '1m 15s');
    assert.equal(formatDuration(9), '9s');
    assert.equal(formatDuration(undefined), '');
  });
});
