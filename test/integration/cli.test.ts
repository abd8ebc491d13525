import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from './harness';

describe('k0rdent-deploy command line', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-cli-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('refuses a bad config naming the YAML paths, before creating anything', async () => {
    const config = path.join(dir, 'bad.yaml');
    await fs.writeFile(config, 'azure:\n  locaton: westus2\ncluster:\n  controllers:\n    count: 0\n');
    const run = await runCli(['deploy', '--config', config], dir);
    assert.equal(run.code, 2, run.output);
    assert.match(run.output, /azure\.locaton: unknown key \(did you mean azure\.location\?\)/);
    assert.match(run.output, /cluster\.controllers\.count/);
    assert.deepEqual(await fs.readdir(dir), ['bad.yaml']);
  });

  it('refuses --with-kof when the KOF regional settings are incomplete', async () => {
    const config = path.join(dir, 'k.yaml');
    await fs.writeFile(config, 'kof:\n  regional:\n    domain: ""\n');
    const run = await runCli(['deploy', '--config', config, '--with-kof'], dir);
    assert.equal(run.code, 2, run.output);
    assert.match(run.output, /kof\.regional\.domain/);
    assert.ok(!existsSync(path.join(dir, '.clusterid')));
  });

  const usage: [string, string[], RegExp][] = [
    ['an unknown command', ['deploi'], /unknown command "deploi"/],
    ['an unknown option', ['status', '--jsn'], /Unknown option '--jsn'/],
    ['rollback without a target', ['rollback'], /rollback needs --to PHASE/],
    ['rollback to an unknown phase', ['rollback', '--to', 'install_k8s'], /--to install_k8s: unknown phase/],
    ['a malformed --id', ['status', '--id', 'cluster-1'], /--id cluster-1: not a deployment id/],
    ['status of a folder without a deployment', ['status'], /no deployment in .* \(no \.clusterid\)/],
  ];
  for (const [label, args, expected] of usage) {
    it(`exits 2 with a clear message for ${label}`, async () => {
      const run = await runCli(args, dir);
      assert.equal(run.code, 2, run.output);
      assert.match(run.output, expected);
    });
  }

  it('refuses reset without --yes when nobody can answer the prompt', async () => {
    await fs.writeFile(path.join(dir, '.clusterid'), 'k0rdent-abcd1234\n');
    const run = await runCli(['reset'], dir);
    assert.equal(run.code, 2, run.output);
    assert.match(run.output, /pass --yes to confirm/);
  });
});
