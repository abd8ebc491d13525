import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { PhaseStatus } from '../../../src/workflows/messages';
import { PHASE_NAMES } from '../../../src/workflows/phases';
import {
  detectStateFormat,
  importLegacyState,
  readStateFile,
  readYamlMap,
  StateFileError,
} from '../../../src/state/legacy';
import { projectState } from '../../../src/state/projection';
import {
  BASH_DOC_YAML,
  BASH_EVENTS_YAML,
  BASH_LATEST_YAML,
  BASH_PRIVATE_KEYS,
  freshState,
  ID,
  realisticState,
  tempDir,
} from './fixtures';

const STATE = 'state/deployment-state.yaml';
const EVENTS = 'state/deployment-events.yaml';

/** Writes `files` (relative path → content) under `dir`. */
async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await fs.writeFile(path.join(dir, rel), content);
  }
}

/** The content of every file under `dir`, by relative path. */
async function snapshot(
  dir: string,
  root = dir,
  out: Record<string, string> = {}
): Promise<Record<string, string>> {
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) await snapshot(file, root, out);
    else out[path.relative(root, file)] = await fs.readFile(file, 'utf8');
  }
  return out;
}

describe('detectStateFormat', () => {
  const cases: [string, unknown, string][] = [
    ['a latest-layout map', { deployment_id: ID, phases: {} }, 'latest'],
    ['an older-layout map', { deployment: { id: ID }, phases: { prepare_deployment: true } }, 'doc'],
    ['a map with both ids (our own projection)', { deployment_id: ID, deployment: { id: ID } }, 'latest'],
    ['a map without an id', { status: 'completed' }, 'unknown'],
    ['an empty deployment id', { deployment_id: '' }, 'unknown'],
    ['a list', [ID], 'unknown'],
    ['a string', ID, 'unknown'],
  ];
  for (const [name, value, expected] of cases) {
    it(`says ${expected} for ${name}`, () => {
      assert.equal(detectStateFormat(value), expected);
    });
  }
});

describe('readYamlMap', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(async () => cleanup());

  it('parses a map', async () => {
    await writeFiles(dir, { 'a.yaml': 'a: 1\nb: {c: "x"}\n' });
    assert.deepEqual(await readYamlMap(path.join(dir, 'a.yaml')), { a: 1, b: { c: 'x' } });
  });

  const badCases: [string, string, RegExp][] = [
    ['broken YAML', 'deployment_id: "k0rdent-q7m2xk4p\nphases: [\n', /invalid YAML at line \d+, column \d+/],
    ['a list', '- a\n- b\n', /expected a map of keys at the top level, found a list/],
    ['an empty file', '', /found an empty document/],
    ['a scalar', 'just words\n', /found a string/],
    ['binary data', '\u0000\u0001\u0002', /holds binary data, not YAML text/],
    ['a long scalar, quoted short', 'w'.repeat(10_000), /found a string \("w+\.\.\.$/],
  ];
  for (const [name, content, reason] of badCases) {
    it(`refuses ${name}, naming the file, and leaves the file alone`, async () => {
      const file = path.join(dir, 'bad.yaml');
      await writeFiles(dir, { 'bad.yaml': content });
      await assert.rejects(readYamlMap(file), (err: Error) => {
        assert.ok(err.message.startsWith(`${file}: `), err.message);
        assert.match(err.message, reason);
        return true;
      });
      assert.equal(await fs.readFile(file, 'utf8'), content);
    });
  }

  it('refuses bytes that are not UTF-8 as binary data and leaves them alone', async () => {
    const file = path.join(dir, 'bad.yaml');
    const bytes = Buffer.from([0x64, 0x3a, 0x20, 0xff, 0xfe, 0x0a]);
    await fs.writeFile(file, bytes);
    await assert.rejects(readYamlMap(file), (err: Error) => {
      assert.equal(err.message, `${file}: holds binary data, not YAML text`);
      return true;
    });
    assert.deepEqual(await fs.readFile(file), bytes);
  });

  it('says so when the file does not exist', async () => {
    await assert.rejects(readYamlMap(path.join(dir, 'missing.yaml')), /missing\.yaml: no such file/);
  });
});

describe('importLegacyState', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(async () => cleanup());

  it('adopts a file in the latest layout with its events', async () => {
    await writeFiles(dir, { [STATE]: BASH_LATEST_YAML, [EVENTS]: BASH_EVENTS_YAML });
    const { state, notes } = await importLegacyState(dir, freshState());
    const expected = realisticState();
    assert.equal(state.createdAt, '2025-12-01T08:56:05Z');
    for (const name of PHASE_NAMES) {
      assert.equal(state.phases[name].status, expected.phases[name].status, name);
      assert.equal(state.phases[name].updatedAt, expected.phases[name].updatedAt, name);
    }
    assert.equal(state.phases.install_kof_regional.skippedReason, 'Component not enabled');
    assert.deepEqual(state.facts.vm_states, {
      'k0s-controller-1': expected.facts.vm_states['k0s-controller-1'],
      'k0s-worker-1': expected.facts.vm_states['k0s-worker-1'],
    });
    assert.deepEqual(state.facts.artifacts, expected.facts.artifacts);
    assert.deepEqual(state.facts.wireguard_peers, expected.facts.wireguard_peers);
    assert.equal(state.facts.values.wireguard_port, '47213');
    assert.equal(state.facts.values.k0rdent_installed, true);
    assert.equal(state.facts.values.wg_macos_interface, 'utun6');
    assert.equal('aws_account_id' in state.facts.values, false, 'keys of other tools stay the file’s own');
    assert.deepEqual(
      state.events.map((e) => e.action),
      ['deployment_initialized', 'deployment_started', 'phase_completed']
    );
    assert.equal(state.events[2]?.phase, 'prepare_deployment');
    assert.ok(notes.some((n) => n.includes('latest') || n.includes("Bash tool's layout")));
    assert.ok(notes.some((n) => n.includes('wireguard/mylaptop_privkey')));
  });

  it('moves private keys into 0600 key files and keeps none in the returned state', async () => {
    await writeFiles(dir, { [STATE]: BASH_LATEST_YAML });
    const { state } = await importLegacyState(dir, freshState());
    for (const [peer, key] of Object.entries(BASH_PRIVATE_KEYS)) {
      const file = path.join(dir, 'wireguard', `${peer}_privkey`);
      assert.equal(await fs.readFile(file, 'utf8'), `${key}\n`);
      assert.equal((await fs.stat(file)).mode & 0o777, 0o600, `${peer} key file mode`);
      assert.equal(state.facts.wireguard_peers[peer]?.private_key_file, `wireguard/${peer}_privkey`);
    }
    const serialised = JSON.stringify(state);
    for (const key of Object.values(BASH_PRIVATE_KEYS)) assert.equal(serialised.includes(key), false);
    assert.equal(serialised.includes('"private_key"'), false);
    assert.equal(await fs.readFile(path.join(dir, STATE), 'utf8'), BASH_LATEST_YAML, 'state file untouched');
  });

  it('accepts a key file that already holds the same key', async () => {
    await writeFiles(dir, {
      [STATE]: BASH_LATEST_YAML,
      'wireguard/mylaptop_privkey': '8Ae3...redacted...Xl0=\n',
    });
    const { notes } = await importLegacyState(dir, freshState());
    assert.ok(notes.some((n) => n.includes('already in wireguard/mylaptop_privkey')));
  });

  it('refuses a key file that holds a different key, writing no key file at all', async () => {
    await writeFiles(dir, { [STATE]: BASH_LATEST_YAML, 'wireguard/k0s-worker-1_privkey': 'OTHER=\n' });
    const before = await snapshot(dir);
    await assert.rejects(importLegacyState(dir, freshState()), (err: Error) => {
      assert.match(err.message, /wireguard\/k0s-worker-1_privkey/);
      assert.match(err.message, /different private key/);
      return true;
    });
    assert.deepEqual(await snapshot(dir), before);
  });

  it('adopts a file in the older documented layout of seed 000', async () => {
    await writeFiles(dir, { [STATE]: BASH_DOC_YAML });
    const { state, notes } = await importLegacyState(dir, freshState());
    assert.equal(state.createdAt, '2024-01-20T10:00:00Z');
    const statuses = PHASE_NAMES.map((name) => state.phases[name].status);
    assert.deepEqual(statuses, [
      'completed',
      'completed',
      'completed',
      'pending',
      'pending',
      'pending',
      'pending',
      'pending',
      'pending',
      'pending',
      'pending',
    ]);
    assert.deepEqual(state.facts.values, {
      azure_rg_status: 'created',
      azure_network_status: 'created',
      azure_ssh_key_status: 'created',
      wg_laptop_config_created: true,
      k0s_cluster_deployed: false,
      kubeconfig_retrieved: false,
      wg_keys_generated: true,
    });
    assert.deepEqual(state.facts.vm_states['k0rdent-vm1'], {
      public_ip: '20.x.x.x',
      private_ip: '10.0.1.11',
      state: 'Succeeded',
      last_checked: '2024-01-20T10:00:00Z',
    });
    assert.equal(state.facts.vm_states['k0rdent-vm2']?.state, 'Creating');
    assert.deepEqual(state.facts.wireguard_peers.laptop, {
      ip: '192.168.100.1',
      role: 'hub',
      public_key: 'generated-public-key',
      keys_generated: true,
    });
    assert.ok(notes.some((n) => n.includes('older documented layout')));
    assert.ok(notes.some((n) => n.includes('config.resource_group is k0rdent-rg-q7m2xk4p')));
  });

  const phaseCases: { raw: string; status: PhaseStatus; reason?: string }[] = [
    { raw: '{status: "completed", updated_at: "2025-12-01T09:00:00Z"}', status: 'completed' },
    { raw: 'true', status: 'completed' },
    {
      raw: '{status: "skipped", skipped_reason: "Component no longer enabled"}',
      status: 'skipped',
      reason: 'Component no longer enabled',
    },
    { raw: '{status: "in_progress", updated_at: "2025-12-01T09:00:00Z"}', status: 'pending' },
    { raw: '{status: "pending"}', status: 'pending' },
    { raw: '{status: "failed"}', status: 'pending' },
    { raw: 'false', status: 'pending' },
    { raw: 'null', status: 'pending' },
  ];
  for (const c of phaseCases) {
    it(`adopts install_k0s: ${c.raw} as ${c.status}`, async () => {
      const text = `deployment_id: "${ID}"\nphases:\n  install_k0s: ${c.raw}\n`;
      await writeFiles(dir, { [STATE]: text });
      const { state } = await importLegacyState(dir, freshState());
      assert.equal(state.phases.install_k0s.status, c.status);
      assert.equal(state.phases.install_k0s.skippedReason, c.reason);
      assert.equal(state.phases.prepare_deployment.status, 'pending', 'a missing phase is pending');
    });
  }

  it('notes an interrupted phase that will run again', async () => {
    const text = BASH_LATEST_YAML.replace(
      'install_k0rdent:\n    status: "completed"',
      'install_k0rdent:\n    status: "in_progress"'
    );
    await writeFiles(dir, { [STATE]: text });
    const { state, notes } = await importLegacyState(dir, freshState());
    assert.equal(state.phases.install_k0rdent.status, 'pending');
    assert.ok(notes.some((n) => n.includes('install_k0rdent (in_progress)')));
  });

  it('adopts a file this tool projected, with the same phases and facts', async () => {
    const original = realisticState();
    await writeFiles(
      dir,
      Object.fromEntries(
        Object.entries(BASH_PRIVATE_KEYS).map(([p, k]) => [`wireguard/${p}_privkey`, `${k}\n`])
      )
    );
    await projectState(dir, original, { writePrivateKeys: true });
    const { state } = await importLegacyState(dir, freshState());
    for (const name of PHASE_NAMES) {
      // `runs` counts this tool's attempts; a state file does not carry it.
      assert.deepEqual({ ...state.phases[name], runs: 0 }, { ...original.phases[name], runs: 0 }, name);
    }
    assert.deepEqual(state.facts.values, { ...original.facts.values, wireguard_port: '47213' });
    assert.deepEqual(state.facts.wireguard_peers, original.facts.wireguard_peers);
    assert.deepEqual(state.events, original.events);
  });

  const refusals: { name: string; files: Record<string, string>; reason: RegExp }[] = [
    {
      name: 'a file of another deployment',
      files: { [STATE]: BASH_LATEST_YAML.replaceAll(ID, 'k0rdent-zzzzzzzz') },
      reason: /belongs to deployment k0rdent-zzzzzzzz, not k0rdent-q7m2xk4p/,
    },
    {
      name: 'an older-layout file of another deployment',
      files: { [STATE]: BASH_DOC_YAML.replaceAll(ID, 'k0rdent-zzzzzzzz') },
      reason: /belongs to deployment k0rdent-zzzzzzzz, not k0rdent-q7m2xk4p/,
    },
    {
      name: 'a file without a deployment id',
      files: { [STATE]: 'status: "completed"\nphases: {}\n' },
      reason: /not a k0rdent deployment state file/,
    },
    {
      name: 'a corrupt file',
      files: { [STATE]: BASH_LATEST_YAML.replace('vm_states:\n', 'vm_states: [\n') },
      reason: /deployment-state\.yaml: invalid YAML at line \d+, column \d+/,
    },
    {
      name: 'an events file of another deployment',
      files: { [STATE]: BASH_LATEST_YAML, [EVENTS]: BASH_EVENTS_YAML.replace(ID, 'k0rdent-zzzzzzzz') },
      reason: /deployment-events\.yaml belongs to deployment k0rdent-zzzzzzzz/,
    },
    {
      name: 'a private key file outside the deployment folder',
      files: {
        [STATE]: `deployment_id: "${ID}"\nwireguard_peers:\n  mylaptop:\n    ip: "192.168.100.1"\n    private_key: "K="\n    private_key_file: "../stolen"\n`,
      },
      reason: /\.\.\/stolen is outside the deployment folder/,
    },
    {
      name: 'a corrupt events file',
      files: { [STATE]: BASH_LATEST_YAML, [EVENTS]: 'events:\n  - {timestamp: [\n' },
      reason: /deployment-events\.yaml: invalid YAML/,
    },
  ];
  for (const c of refusals) {
    it(`refuses ${c.name} and leaves every file as it was`, async () => {
      await writeFiles(dir, c.files);
      const before = await snapshot(dir);
      await assert.rejects(importLegacyState(dir, freshState()), (err: Error) => {
        assert.match(err.message, c.reason);
        if (/deployment-state/.test(c.reason.source)) assert.ok(err.message.includes(path.join(dir, STATE)));
        return true;
      });
      assert.deepEqual(await snapshot(dir), before);
    });
  }

  const shapes: { name: string; body: string; field: RegExp }[] = [
    {
      name: 'an unknown phase entry',
      body: 'phases:\n  install_k8s: {status: "completed"}\n',
      field: /: phases\.install_k8s: unknown phase; phases are: prepare_deployment, /,
    },
    {
      name: 'an unknown phase status',
      body: 'phases:\n  install_k0s: {status: "exploded"}\n',
      field: /: phases\.install_k0s\.status: unknown status "exploded"; known statuses: pending, /,
    },
    {
      name: 'an unknown status written in short form',
      body: 'phases:\n  install_k0s: done\n',
      field: /: phases\.install_k0s: unknown status "done"/,
    },
    {
      name: 'phases as a list',
      body: 'phases: [prepare_deployment]\n',
      field: /: phases: must be a map of phase entries, got a list/,
    },
    {
      name: 'a phase entry that is a number',
      body: 'phases:\n  setup_network: 5\n',
      field: /: phases\.setup_network: must be a map with a status, got 5/,
    },
    {
      name: 'a duration written as text',
      body: 'phases:\n  setup_network: {status: "completed", duration_seconds: "abc"}\n',
      field: /: phases\.setup_network\.duration_seconds: must be a number of seconds, got "abc"/,
    },
    {
      name: 'a timestamp that is no date',
      body: 'phases:\n  setup_network: {status: "completed", updated_at: "yesterday"}\n',
      field: /: phases\.setup_network\.updated_at: must be a timestamp/,
    },
    { name: 'vm_states as a number', body: 'vm_states: 5\n', field: /: vm_states: must be a map, got 5/ },
    {
      name: 'a peer that is not a map',
      body: 'wireguard_peers:\n  mylaptop: "192.168.100.1"\n',
      field: /: wireguard_peers\.mylaptop: must be a map, got "192\.168\.100\.1"/,
    },
    {
      name: 'a flag written as text',
      body: 'deployment_flags: {kof: "yes"}\n',
      field: /: deployment_flags\.kof: must be true or false, got "yes"/,
    },
  ];
  for (const c of shapes) {
    it(`refuses a state file with ${c.name}, naming the file and the field`, async () => {
      const content = `deployment_id: "${ID}"\n${c.body}`;
      await writeFiles(dir, { [STATE]: content });
      await assert.rejects(importLegacyState(dir, freshState()), (err: Error) => {
        assert.ok(err instanceof StateFileError, String(err));
        assert.ok(err.message.startsWith(`${path.join(dir, STATE)}: `), err.message);
        assert.match(err.message, c.field);
        return true;
      });
      assert.equal(await fs.readFile(path.join(dir, STATE), 'utf8'), content);
    });
  }

  const ids: [string, string, RegExp][] = [
    [
      'a number',
      'deployment_id: 12345\n',
      /: deployment_id: must be a deployment id like k0rdent-q7m2xk4p, got 12345/,
    ],
    ['a list', `deployment_id: ["${ID}"]\n`, /: deployment_id: must be a deployment id like .*, got a list/],
    ['empty text', 'deployment_id: ""\n', /: deployment_id: must be a deployment id like .*, got ""/],
  ];
  for (const [what, content, reason] of ids) {
    it(`refuses a deployment_id that is ${what}`, async () => {
      await writeFiles(dir, { [STATE]: content });
      await assert.rejects(importLegacyState(dir, freshState()), reason);
    });
  }

  it('lists every problem of a state file at once, one line each', async () => {
    await writeFiles(dir, {
      [STATE]: `deployment_id: "${ID}"\nphases:\n  install_k8s: true\n  install_k0s: {status: 1}\nvm_states: []\n`,
    });
    await assert.rejects(readStateFile(dir, ID), (err: StateFileError) => {
      assert.deepEqual(
        err.issues.map((issue) => issue.split(':')[0]),
        ['phases.install_k8s', 'phases.install_k0s.status', 'vm_states']
      );
      assert.equal(err.message.split('\n').length, 3);
      return true;
    });
  });

  it('fails naming the file when there is no state file', async () => {
    await assert.rejects(importLegacyState(dir, freshState()), /deployment-state\.yaml: no such file/);
  });
});
