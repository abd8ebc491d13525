import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { projectState } from '../../../src/state/projection';
import type { PhaseName } from '../../../src/workflows/phases';
import { checkFinalFiles, checkNoSecrets, checkReached, checkSweep } from '../../chaos/invariants';
import { enabledPhases } from '../../chaos/plan';
import { realisticState, tempDir } from '../state/fixtures';

describe('chaos invariants', () => {
  const core = enabledPhases(false);

  it('reached: a completed deployment holds, a paused one does not', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const state = realisticState();
      state.status = 'completed';
      for (const p of core) state.phases[p].status = 'completed';
      assert.deepEqual(await checkReached(state, { finish: 'complete', enabled: core }, dir, false), []);
      state.status = 'paused';
      state.phases.install_k0rdent.status = 'pending';
      const problems = await checkReached(state, { finish: 'complete', enabled: core }, dir, false);
      assert.ok(problems.some((p) => p.includes('status is paused')));
      assert.ok(problems.some((p) => p.includes('install_k0rdent is pending')));
    } finally {
      await cleanup();
    }
  });

  it('reached: resting at a target needs the earlier phases completed and the later ones pending', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const state = realisticState();
      state.status = 'paused';
      state.rollbackTarget = 'connect_vpn';
      const at = core.indexOf('connect_vpn');
      core.forEach((p, i) => (state.phases[p].status = i < at ? 'completed' : 'pending'));
      const expect = { finish: 'rest' as const, restAt: 'connect_vpn' as PhaseName, enabled: core };
      assert.deepEqual(await checkReached(state, expect, dir, false), []);
      state.phases.install_k0s.status = 'completed';
      assert.deepEqual(await checkReached(state, expect, dir, false), [
        'install_k0s is completed, not pending',
      ]);
    } finally {
      await cleanup();
    }
  });

  it('state-files: the projection of the final state holds, an edited file does not', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const state = realisticState();
      await projectState(dir, state, { writePrivateKeys: false });
      const stateDir = path.join(dir, 'state');
      assert.deepEqual(await checkFinalFiles(stateDir, state), []);
      const file = path.join(stateDir, 'deployment-state.yaml');
      await fs.writeFile(
        file,
        (await fs.readFile(file, 'utf8')).replace('status: "completed"', 'status: "failed"')
      );
      const problems = await checkFinalFiles(stateDir, state);
      assert.equal(problems.length, 1);
      assert.match(problems[0] ?? '', /deployment-state\.yaml differs .*status: "failed"/);
    } finally {
      await cleanup();
    }
  });

  it('no-secrets: finds key material by value and by shape', () => {
    const key = 'cGhvbnkgd2lyZWd1YXJkIGtleSBmb3IgdGVzdHMhIQ=';
    const needles = new Map([['the WireGuard key of hub', key]]);
    assert.deepEqual(checkNoSecrets(needles, [{ where: 'logs/a.log', text: 'nothing here' }]), []);
    assert.deepEqual(checkNoSecrets(needles, [{ where: 'history', text: `x ${key} y` }]), [
      'history: holds the WireGuard key of hub',
    ]);
    const pem = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----';
    assert.deepEqual(checkNoSecrets(new Map(), [{ where: 'state', text: pem }]), [
      'state: holds a PEM private key',
    ]);
    assert.deepEqual(
      checkNoSecrets(new Map(), [{ where: 'out', text: `PrivateKey = ${'A'.repeat(42)}E=` }]),
      ['out: holds a WireGuard PrivateKey line']
    );
  });

  it('sweep: a clean report holds; a stray, a running phase, a write or no report does not', () => {
    const report = (strays: unknown[], inFlight: unknown[] = []) =>
      JSON.stringify({ deploymentId: 'k0rdent-abcd1234', strays, inFlight });
    assert.deepEqual(checkSweep({ code: 0, output: report([]), writes: 0 }), []);
    const nic = {
      type: 'Microsoft.Network/networkInterfaces',
      name: 'k0s-worker-1-nic',
      owner: 'k0rdent-abcd1234',
      why: 'create_vms is pending, not completed',
    };
    assert.deepEqual(checkSweep({ code: 3, output: report([nic]), writes: 0 }), [
      'stray Microsoft.Network/networkInterfaces k0s-worker-1-nic of k0rdent-abcd1234: create_vms is pending, not completed',
      'sweep exited 3',
    ]);
    assert.deepEqual(
      checkSweep({ code: 0, output: report([], [{ ...nic, why: 'create_vms is in_progress' }]), writes: 1 }),
      [
        'left to a running phase: Microsoft.Network/networkInterfaces k0s-worker-1-nic (create_vms is in_progress)',
        'sweep without --delete made 1 ARM write(s)',
      ]
    );
    assert.deepEqual(checkSweep({ code: 1, output: 'error: no server\n', writes: 0 }), [
      'sweep printed no report (exit 1): error: no server',
    ]);
  });
});
