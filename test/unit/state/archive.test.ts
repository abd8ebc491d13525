import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { archiveDeployment, recordDeploymentHistory } from '../../../src/state/archive';
import type { HistoryEntry } from '../../../src/state/archive';
import { archiveStamp } from '../../../src/state/time';
import { ID, tempDir } from './fixtures';

const NAME_PATTERN = /^k0rdent-[a-z0-9]{8}_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d_full-reset$/;
const NOW = new Date('2025-12-01T12:30:44Z');

const STATE_FILES: Record<string, string> = {
  'deployment-state.yaml': `deployment_id: "${ID}"\n`,
  'deployment-events.yaml': `deployment_id: "${ID}"\nevents: []\n`,
  'azure-state.yaml': 'azure_credentials_configured: true\n',
  'azure-events.yaml': 'events: []\n',
  'cluster-kof-regional-q7m2xk4p-southeastasia-events.yaml':
    'cluster_name: "kof-regional-q7m2xk4p-southeastasia"\n',
};

/** Fills `<dir>/state` with the files an archive takes, plus a notifier file it must leave. */
async function seedStateDir(dir: string): Promise<void> {
  await fs.mkdir(path.join(dir, 'state'));
  for (const [name, content] of Object.entries(STATE_FILES))
    await fs.writeFile(path.join(dir, 'state', name), content);
  await fs.chmod(path.join(dir, 'state', 'deployment-state.yaml'), 0o600);
  await fs.writeFile(path.join(dir, 'state', 'notifier-deployment.pid'), '4242\n');
}

describe('archiveDeployment', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(async () => cleanup());

  it('moves the state files into old_deployments/<id>_<local time>_<reason>/', async () => {
    await seedStateDir(dir);
    const rel = await archiveDeployment(dir, ID, 'full-reset', NOW, 'move');
    assert.equal(rel, `old_deployments/${ID}_${archiveStamp(NOW)}_full-reset`);
    assert.match(path.basename(rel), NAME_PATTERN);
    for (const [name, content] of Object.entries(STATE_FILES)) {
      assert.equal(await fs.readFile(path.join(dir, rel, name), 'utf8'), content, name);
    }
    assert.deepEqual(await fs.readdir(path.join(dir, 'state')), ['notifier-deployment.pid']);
  });

  it('names the folder after the given time zone', async () => {
    await seedStateDir(dir);
    const rel = await archiveDeployment(dir, ID, 'fast-reset', NOW, 'move', {
      timeZone: 'America/Los_Angeles',
    });
    assert.equal(rel, `old_deployments/${ID}_2025-12-01_04-30-44_fast-reset`);
  });

  it('copies when asked, leaving the state files in place with their modes', async () => {
    await seedStateDir(dir);
    const rel = await archiveDeployment(dir, ID, 'full-reset', NOW, 'copy');
    for (const [name, content] of Object.entries(STATE_FILES)) {
      assert.equal(await fs.readFile(path.join(dir, 'state', name), 'utf8'), content, name);
      assert.equal(await fs.readFile(path.join(dir, rel, name), 'utf8'), content, name);
    }
    assert.equal((await fs.stat(path.join(dir, rel, 'deployment-state.yaml'))).mode & 0o777, 0o600);
  });

  const retryModes: ('copy' | 'move')[] = ['copy', 'move'];
  for (const mode of retryModes) {
    it(`reuses the same folder when a ${mode} is retried with the same time`, async () => {
      await seedStateDir(dir);
      const first = await archiveDeployment(dir, ID, 'full-reset', NOW, mode);
      const second = await archiveDeployment(dir, ID, 'full-reset', NOW, mode);
      assert.equal(second, first);
      assert.deepEqual(await fs.readdir(path.join(dir, 'old_deployments')), [path.basename(first)]);
      assert.deepEqual((await fs.readdir(path.join(dir, first))).sort(), Object.keys(STATE_FILES).sort());
    });
  }

  it('refuses a reason that would leave old_deployments', async () => {
    await seedStateDir(dir);
    await assert.rejects(archiveDeployment(dir, ID, '../escape', NOW, 'move'), /archive reason/);
    assert.equal((await fs.readdir(path.join(dir, 'state'))).length, 6);
  });
});

describe('recordDeploymentHistory', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(async () => cleanup());

  const entry = (deployedAt: string): HistoryEntry => ({
    cluster_id: ID,
    deployed_at: deployedAt,
    config_file: './config/k0rdent.yaml',
    deployer: 'alice@example.com',
  });
  const historyFile = (): string => path.join(dir, 'old_deployments', 'deployment-history.yaml');

  it('creates the history file with a comment header and appends each entry once', async () => {
    assert.equal(await recordDeploymentHistory(dir, entry('2025-12-01T08:56:05Z')), true);
    assert.equal(await recordDeploymentHistory(dir, entry('2025-12-01T08:56:05Z')), false);
    assert.equal(await recordDeploymentHistory(dir, entry('2025-12-02T10:00:00Z')), true);
    const text = await fs.readFile(historyFile(), 'utf8');
    assert.match(text, /^# /);
    assert.deepEqual((parse(text) as { deployments: unknown[] }).deployments, [
      entry('2025-12-01T08:56:05Z'),
      entry('2025-12-02T10:00:00Z'),
    ]);
  });

  it('appends to a history the Bash tool started', async () => {
    await fs.mkdir(path.join(dir, 'old_deployments'));
    const bash = `# k0rdent Deployment History\ndeployments: [{cluster_id: k0rdent-abc12xyz, deployed_at: "2025-11-28T09:02:17Z", config_file: ./config/k0rdent.yaml, deployer: bob}]\n`;
    await fs.writeFile(historyFile(), bash);
    await recordDeploymentHistory(dir, entry('2025-12-01T08:56:05Z'));
    const doc = parse(await fs.readFile(historyFile(), 'utf8')) as { deployments: HistoryEntry[] };
    assert.deepEqual(
      doc.deployments.map((d) => d.cluster_id),
      ['k0rdent-abc12xyz', ID]
    );
  });

  it('refuses to rewrite a history file it cannot parse, and leaves it unchanged', async () => {
    await fs.mkdir(path.join(dir, 'old_deployments'));
    const broken = 'deployments:\n  - cluster_id: [oops\n';
    await fs.writeFile(historyFile(), broken);
    await assert.rejects(recordDeploymentHistory(dir, entry('2025-12-01T08:56:05Z')), (err: Error) => {
      assert.match(err.message, /deployment-history\.yaml/);
      assert.match(err.message, /line \d+, column \d+/);
      return true;
    });
    assert.equal(await fs.readFile(historyFile(), 'utf8'), broken);
  });
});
