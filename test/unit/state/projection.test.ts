import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { projectState, removeClusterEventsFile } from '../../../src/state/projection';
import { renderDeploymentState } from '../../../src/state/render';
import type { DeploymentState } from '../../../src/workflows/messages';
import {
  BASH_PRIVATE_KEYS,
  GOLDEN_DIR,
  ID,
  keysDeep,
  midDeploymentState,
  realisticState,
  REGIONAL_CLUSTER,
  regionalClusterRecord,
  tempDir,
} from './fixtures';

type Obj = Record<string, unknown>;

const STATE = 'state/deployment-state.yaml';
const EVENTS = 'state/deployment-events.yaml';
const CLUSTER = `state/cluster-${REGIONAL_CLUSTER}-events.yaml`;
const LA = 'America/Los_Angeles';

/** Writes the realistic state's private-key files under `dir`. */
async function writeKeyFiles(dir: string): Promise<void> {
  await fs.mkdir(path.join(dir, 'wireguard'), { recursive: true });
  for (const [peer, key] of Object.entries(BASH_PRIVATE_KEYS)) {
    await fs.writeFile(path.join(dir, 'wireguard', `${peer}_privkey`), `${key}\n`, { mode: 0o600 });
  }
}

/** Permission bits of a file. */
async function modeOf(file: string): Promise<number> {
  return (await fs.stat(file)).mode & 0o777;
}

/** Sleeps long enough for a rewrite to show in mtimes. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('projectState', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(async () => cleanup());

  it('writes the state, events, cluster events and .clusterid files', async () => {
    const state = realisticState();
    state.facts.clusters[REGIONAL_CLUSTER] = regionalClusterRecord();
    const { changed } = await projectState(dir, state, { writePrivateKeys: false, timeZone: LA });
    assert.deepEqual(changed, ['.clusterid', EVENTS, CLUSTER, STATE]);
    assert.equal(await fs.readFile(path.join(dir, '.clusterid'), 'utf8'), `${ID}\n`);
    assert.equal(
      await fs.readFile(path.join(dir, STATE), 'utf8'),
      renderDeploymentState(state, undefined, { timeZone: LA })
    );
    assert.equal(
      ((parse(await fs.readFile(path.join(dir, EVENTS), 'utf8')) as Obj).events as unknown[]).length,
      6
    );
    assert.equal(
      (parse(await fs.readFile(path.join(dir, CLUSTER), 'utf8')) as Obj).cluster_name,
      REGIONAL_CLUSTER
    );
    for (const rel of ['.clusterid', STATE, EVENTS, CLUSTER])
      assert.equal(await modeOf(path.join(dir, rel)), 0o644);
  });

  it('changes nothing, mtimes included, when the same state is projected twice', async () => {
    const state = realisticState();
    state.facts.clusters[REGIONAL_CLUSTER] = regionalClusterRecord();
    await projectState(dir, state, { writePrivateKeys: false, timeZone: LA });
    const files = ['.clusterid', STATE, EVENTS, CLUSTER].map((rel) => path.join(dir, rel));
    const before = await Promise.all(files.map((f) => fs.stat(f)));
    await sleep(20);
    const second = await projectState(dir, state, { writePrivateKeys: false, timeZone: LA });
    assert.deepEqual(second.changed, []);
    const after = await Promise.all(files.map((f) => fs.stat(f)));
    assert.deepEqual(
      after.map((s) => s.mtimeMs),
      before.map((s) => s.mtimeMs)
    );
  });

  it('rewrites only the files whose content changed', async () => {
    const state = midDeploymentState();
    await projectState(dir, state, { writePrivateKeys: false });
    state.lastUpdated = '2025-12-01T08:59:00Z';
    state.facts.values.wg_laptop_config_created = true;
    const { changed } = await projectState(dir, state, { writePrivateKeys: false });
    assert.deepEqual(changed, [EVENTS, STATE]);
  });

  it('copies the private keys from their key files into a 0600 state file when asked', async () => {
    await writeKeyFiles(dir);
    await projectState(dir, realisticState(), { writePrivateKeys: true, timeZone: LA });
    const doc = parse(await fs.readFile(path.join(dir, STATE), 'utf8')) as Obj;
    const peers = doc.wireguard_peers as Record<string, Obj>;
    for (const [peer, key] of Object.entries(BASH_PRIVATE_KEYS)) assert.equal(peers[peer]?.private_key, key);
    assert.equal(await modeOf(path.join(dir, STATE)), 0o600);
  });

  it('drops the keys and goes back to mode 0644 when private keys are switched off', async () => {
    await writeKeyFiles(dir);
    await projectState(dir, realisticState(), { writePrivateKeys: true, timeZone: LA });
    const { changed } = await projectState(dir, realisticState(), { writePrivateKeys: false, timeZone: LA });
    assert.deepEqual(changed, [STATE]);
    const text = await fs.readFile(path.join(dir, STATE), 'utf8');
    assert.equal(keysDeep(parse(text)).includes('private_key'), false);
    assert.equal(await modeOf(path.join(dir, STATE)), 0o644);
  });

  it('never reads the key files unless private keys are asked for', async () => {
    // Key "files" that are folders: reading one fails, so a projection that succeeds did not read them.
    for (const peer of Object.keys(BASH_PRIVATE_KEYS)) {
      await fs.mkdir(path.join(dir, 'wireguard', `${peer}_privkey`), { recursive: true });
    }
    await projectState(dir, realisticState(), { writePrivateKeys: false, timeZone: LA });
    await assert.rejects(projectState(dir, realisticState(), { writePrivateKeys: true, timeZone: LA }), {
      code: 'EISDIR',
    });
  });

  it('keeps a key a legacy script added between two projections', async () => {
    const state = midDeploymentState();
    await projectState(dir, state, { writePrivateKeys: false });
    const file = path.join(dir, STATE);
    await fs.appendFile(file, 'aws_account_id: "123456789012"\n');
    state.lastUpdated = '2025-12-01T08:59:00Z';
    await projectState(dir, state, { writePrivateKeys: false });
    assert.equal((parse(await fs.readFile(file, 'utf8')) as Obj).aws_account_id, '123456789012');
  });

  it('refuses a cluster name that is not a plain file name', async () => {
    const state = midDeploymentState();
    state.facts.clusters['../escape'] = regionalClusterRecord();
    await assert.rejects(
      projectState(dir, state, { writePrivateKeys: false }),
      /cluster name "\.\.\/escape"/
    );
    assert.deepEqual(await fs.readdir(dir), []);
  });
});

describe('the demo deployment projected', () => {
  const DEMO = path.join(GOLDEN_DIR, 'demo');

  it('writes its files byte for byte as they were before the YAML writer and config schema moved to libraries', async () => {
    // state.json is a full demo deployment's final state (every phase, KOF); the expected files beside
    // it were written from it by the projection as it was before those changes.
    const state = JSON.parse(await fs.readFile(path.join(DEMO, 'state.json'), 'utf8')) as DeploymentState;
    const { dir, cleanup } = await tempDir();
    try {
      await projectState(dir, state, { writePrivateKeys: false, timeZone: 'UTC' });
      const cluster = `cluster-${Object.keys(state.facts.clusters)[0] ?? ''}-events.yaml`;
      for (const [written, expected] of [
        ['.clusterid', 'clusterid'],
        [STATE, STATE],
        [EVENTS, EVENTS],
        [`state/${cluster}`, `state/${cluster}`],
      ] as const) {
        const actual = await fs.readFile(path.join(dir, written));
        assert.ok(
          actual.equals(await fs.readFile(path.join(DEMO, expected))),
          `${written} is byte-identical`
        );
      }
    } finally {
      await cleanup();
    }
  });
});

describe('removeClusterEventsFile', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(async () => cleanup());

  it('removes the events file of a cluster that is gone, once', async () => {
    const state = midDeploymentState();
    state.facts.clusters[REGIONAL_CLUSTER] = regionalClusterRecord();
    await projectState(dir, state, { writePrivateKeys: false });
    assert.equal(await removeClusterEventsFile(dir, REGIONAL_CLUSTER), true);
    assert.equal(await removeClusterEventsFile(dir, REGIONAL_CLUSTER), false);
    await assert.rejects(fs.stat(path.join(dir, CLUSTER)), { code: 'ENOENT' });
  });
});
