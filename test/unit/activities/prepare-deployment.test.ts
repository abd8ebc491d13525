import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { defaultDeps } from '../../../src/activities';
import { prepareDeploymentPhase } from '../../../src/activities/prepare-deployment';
import { emulatorTarget } from '../../../src/azure/target';
import { DEFAULT_CONFIG } from '../../../src/config/defaults';
import type { PhaseContext } from '../../../src/workflows/messages';
import { applyPatch, emptyFacts } from '../../../src/workflows/state';

describe('prepare_deployment', () => {
  let ctx: PhaseContext;
  const phase = prepareDeploymentPhase(defaultDeps());

  beforeEach(async () => {
    const config = structuredClone(DEFAULT_CONFIG);
    config.cluster.workers.count = 2;
    ctx = {
      deploymentId: 'k0rdent-abcd1234',
      workDir: await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-prepare-')),
      phase: 'prepare_deployment',
      config,
      flags: { azureChildren: false, kof: false },
      facts: emptyFacts(),
      cloud: emulatorTarget('https://127.0.0.1:1', '/nonexistent-ca.pem'),
    };
  });
  afterEach(async () => {
    await fs.rm(ctx.workDir, { recursive: true, force: true });
  });

  it('writes 0600 keys and per-VM cloud-init, and returns only public material', async () => {
    const result = await phase.apply(ctx);
    const peers = result.patch.wireguard_peers ?? {};
    assert.deepEqual(Object.keys(peers), ['mylaptop', 'k0s-controller-1', 'k0s-worker-1', 'k0s-worker-2']);
    assert.equal(peers['k0s-worker-2']?.ip, '192.168.100.13');
    for (const name of Object.keys(peers)) {
      const priv = path.join(ctx.workDir, 'wireguard', `${name}_privkey`);
      assert.equal((await fs.stat(priv)).mode & 0o777, 0o600, name);
      const key = (await fs.readFile(priv, 'utf8')).trim();
      assert.ok(!JSON.stringify(result).includes(key), `private key of ${name} leaked into the result`);
    }
    const cloudInit = path.join(ctx.workDir, 'cloud-init-yaml', 'k0s-worker-1-cloud-init.yaml');
    assert.equal((await fs.stat(cloudInit)).mode & 0o777, 0o600);
    const text = await fs.readFile(cloudInit, 'utf8');
    assert.ok(text.startsWith('#cloud-config\n'));
    const doc = parse(text) as { write_files: { path: string; content: string }[]; packages: string[] };
    assert.deepEqual(doc.packages, ['wireguard']);
    const wg0 = doc.write_files.find((f) => f.path === '/etc/wireguard/wg0.conf')?.content ?? '';
    assert.match(wg0, /Address = 192\.168\.100\.12\/32/);
    assert.match(wg0, new RegExp(`PublicKey = ${peers.mylaptop?.public_key?.replace(/[+/=]/g, '\\$&')}`));
    assert.match(wg0, /AllowedIPs = 192\.168\.100\.1\/32/);
    const port = Number(result.patch.values?.wireguard_port);
    assert.ok(port >= 30000 && port <= 64000);
  });

  it('checks clean after apply and finds a deleted cloud-init file', async () => {
    applyPatch(ctx.facts, (await phase.apply(ctx)).patch, '2026-01-01T00:00:00Z');
    assert.deepEqual(await phase.check(ctx), { upToDate: true });
    await fs.rm(path.join(ctx.workDir, 'cloud-init-yaml', 'k0s-worker-2-cloud-init.yaml'));
    const seen = await phase.check(ctx);
    assert.equal(seen.upToDate, false);
    assert.match(seen.reason ?? '', /cloud-init of k0s-worker-2 is missing/);
  });

  it('keeps the keys and port of an earlier run when applied again', async () => {
    const first = await phase.apply(ctx);
    applyPatch(ctx.facts, first.patch, '2026-01-01T00:00:00Z');
    const second = await phase.apply(ctx);
    assert.equal(second.patch.values?.wireguard_port, first.patch.values?.wireguard_port);
    assert.equal(
      second.patch.wireguard_peers?.mylaptop?.public_key,
      first.patch.wireguard_peers?.mylaptop?.public_key
    );
  });

  it('removes keys and cloud-init on rollback, and rollback of nothing succeeds', async () => {
    await phase.apply(ctx);
    const undone = await phase.rollback(ctx);
    assert.equal(undone.patch.values?.wg_keys_generated, false);
    await assert.rejects(fs.access(path.join(ctx.workDir, 'wireguard')));
    await assert.rejects(fs.access(path.join(ctx.workDir, 'cloud-init-yaml')));
    await phase.rollback(ctx);
  });
});
