import assert from 'node:assert/strict';
import { parse } from 'yaml';
import type { DeploymentStatus, EventRecord } from '../../../src/workflows/messages';
import { PHASE_NAMES } from '../../../src/workflows/phases';
import {
  mergeEvents,
  renderClusterEventsFile,
  renderDeploymentState,
  renderEventsFile,
} from '../../../src/state/render';
import {
  assertGolden,
  BASH_EVENTS_YAML,
  BASH_LATEST_YAML,
  ID,
  keysDeep,
  midDeploymentState,
  realisticEvents,
  realisticState,
  REGIONAL_CLUSTER,
  regionalClusterRecord,
} from './fixtures';

type Obj = Record<string, unknown>;

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const LA = { timeZone: 'America/Los_Angeles' };

/** Parses rendered YAML into a plain object. */
function load(text: string): Obj {
  return parse(text) as Obj;
}

/** The map at `key` of `obj`. */
function sub(obj: Obj, key: string): Obj {
  const value = obj[key];
  assert.ok(typeof value === 'object' && value !== null, `${key} is a map`);
  return value as Obj;
}

describe('renderDeploymentState', () => {
  it('matches the golden file for the completed deployment of domain §2.1.1', async () => {
    await assertGolden(
      'deployment-state.completed.yaml',
      renderDeploymentState(realisticState(), undefined, LA)
    );
  });

  it('matches the golden file for a deployment stopped while creating VMs', async () => {
    await assertGolden(
      'deployment-state.mid-deployment.yaml',
      renderDeploymentState(midDeploymentState(), undefined)
    );
  });

  it('contains every line of the Bash-written example of domain §2.1.1 in order, bar the private keys', () => {
    const expected = BASH_LATEST_YAML.split('\n').filter((l) => !/private_key:|^aws_/.test(l));
    const actual = renderDeploymentState(realisticState(), undefined, LA).split('\n');
    let at = 0;
    for (const line of expected) {
      const found = actual.indexOf(line, at);
      assert.ok(found >= 0, `line ${JSON.stringify(line)} missing or out of order`);
      at = found + 1;
    }
  });

  it('writes the keys and value types the compatibility contract lists', () => {
    const doc = load(renderDeploymentState(realisticState(), undefined, LA));
    assert.equal(doc.deployment_id, ID);
    assert.equal(doc.phase, 'install_k0rdent');
    assert.equal(doc.status, 'completed');
    for (const key of ['created_at', 'last_updated', 'deployment_start_time'])
      assert.match(String(doc[key]), ISO);
    assert.deepEqual(doc.deployment_flags, { azure_children: false, kof: false });
    const config = sub(doc, 'config');
    assert.equal(config.controller_count, 1);
    assert.equal(config.worker_count, 1);
    assert.equal(config.resource_group, `${ID}-resgrp`);
    assert.equal(typeof config.wireguard_port, 'string');
    assert.match(config.wireguard_port as string, /^[0-9]+$/);
    for (const key of ['azure_rg_status', 'azure_network_status', 'azure_ssh_key_status']) {
      assert.ok(['not_created', 'created', 'deleted'].includes(doc[key] as string), key);
    }
    for (const key of [
      'wg_keys_generated',
      'wg_vpn_connected',
      'k0s_cluster_deployed',
      'k0rdent_installed',
    ]) {
      assert.equal(doc[key], true, key);
    }
    const phases = sub(doc, 'phases');
    assert.deepEqual(Object.keys(phases), [...PHASE_NAMES]);
    for (const name of PHASE_NAMES) {
      const phase = sub(phases, name);
      assert.ok(
        ['pending', 'in_progress', 'completed', 'skipped', 'failed'].includes(phase.status as string),
        name
      );
      assert.match(phase.updated_at as string, ISO);
      if (phase.status === 'skipped') assert.equal(phase.skipped_reason, 'Component not enabled');
    }
    for (const vm of Object.values(sub(doc, 'vm_states')) as Obj[]) {
      assert.equal(vm.state, 'Succeeded');
      assert.match(vm.last_checked as string, ISO);
    }
    assert.deepEqual(Object.keys(sub(doc, 'vm_states')), ['k0s-controller-1', 'k0s-worker-1']);
    const hub = sub(sub(doc, 'wireguard_peers'), 'mylaptop');
    assert.deepEqual([hub.ip, hub.role], ['192.168.100.1', 'hub']);
    assert.equal(doc.deployment_end_time, '2025-12-01 01:07:21 PST');
    assert.equal(typeof doc.deployment_duration_seconds, 'string');
    assert.match(doc.deployment_duration_seconds as string, /^[0-9]+$/);
  });

  it('writes the older documented sections, with phases kept as status records', () => {
    const doc = load(renderDeploymentState(realisticState(), undefined, LA));
    assert.deepEqual(doc.deployment, {
      id: ID,
      started_at: '2025-12-01T08:56:05Z',
      completed_at: '2025-12-01T09:07:21Z',
    });
    assert.deepEqual(sub(doc, 'resources'), {
      resource_group: `${ID}-resgrp`,
      vnet: `${ID}-vnet`,
      subnet: `${ID}-subnet`,
      nsg: `${ID}-nsg`,
      ssh_key: `${ID}-admin`,
      vpn_config_created: true,
      vpn_connected: true,
      k0sctl_config_generated: true,
      helm_installed: true,
    });
    assert.deepEqual(sub(sub(doc, 'vms'), 'k0s-worker-1'), {
      name: 'k0s-worker-1',
      public_ip: '20.112.54.77',
      private_ip: '10.0.1.5',
      wireguard_ip: '192.168.100.12',
      status: 'running',
    });
    assert.deepEqual(sub(sub(sub(doc, 'wireguard'), 'peers'), 'k0s-controller-1'), {
      public_key: 's0Ye...redacted...Yj8=',
      wireguard_ip: '192.168.100.11',
    });
    assert.deepEqual(doc.cluster, { k0s_deployed: true, kubeconfig_retrieved: true, k0rdent_ready: true });
    assert.equal(typeof sub(doc, 'phases').setup_network, 'object');
  });

  const resourceCases: { name: string; values: Obj; expected: Obj }[] = [
    { name: 'nothing exists yet', values: {}, expected: {} },
    {
      name: 'only the resource group exists',
      values: { azure_rg_status: 'created' },
      expected: { resource_group: `${ID}-resgrp` },
    },
    {
      name: 'the network was deleted',
      values: {
        azure_rg_status: 'created',
        azure_network_status: 'deleted',
        azure_ssh_key_status: 'created',
      },
      expected: { resource_group: `${ID}-resgrp`, ssh_key: `${ID}-admin` },
    },
    {
      name: 'the VPN is set up but down',
      values: { wg_laptop_config_created: true },
      expected: { vpn_config_created: true },
    },
  ];
  for (const c of resourceCases) {
    it(`lists in resources only what exists when ${c.name}`, () => {
      const state = realisticState();
      state.facts.values = c.values as typeof state.facts.values;
      assert.deepEqual(load(renderDeploymentState(state, undefined, LA)).resources, c.expected);
    });
  }

  const vmCases: [string, string][] = [
    ['Succeeded', 'running'],
    ['Creating', 'creating'],
    ['Deleting', 'deleting'],
    ['Failed', 'failed'],
  ];
  for (const [azure, doc] of vmCases) {
    it(`writes vms.<host>.status ${doc} for an Azure state ${azure}`, () => {
      const state = realisticState();
      const vm = state.facts.vm_states['k0s-worker-1'];
      assert.ok(vm);
      vm.state = azure;
      const vms = sub(load(renderDeploymentState(state, undefined, LA)), 'vms');
      assert.equal(sub(vms, 'k0s-worker-1').status, doc);
    });
  }

  const statusCases: [DeploymentStatus, string][] = [
    ['in_progress', 'in_progress'],
    ['completed', 'completed'],
    ['failed', 'failed'],
    ['paused', 'in_progress'],
    ['rolling_back', 'in_progress'],
    ['resetting', 'in_progress'],
    ['reset', 'in_progress'],
  ];
  for (const [ours, legacy] of statusCases) {
    it(`writes status ${legacy} and orchestrator_status ${ours} for a deployment that is ${ours}`, () => {
      const state = realisticState();
      state.status = ours;
      const doc = load(renderDeploymentState(state, undefined, LA));
      assert.equal(doc.status, legacy);
      assert.equal(doc.orchestrator_status, ours);
    });
  }

  it('writes waiting_for, last_error and a failed phase with its error', () => {
    const state = midDeploymentState();
    state.status = 'paused';
    state.waitingFor = 'resume, rollback or reset';
    state.lastError = 'create VM k0s-controller-1: QuotaExceeded';
    state.phases.create_vms = {
      status: 'failed',
      updatedAt: '2025-12-01T09:00:00Z',
      error: 'create VM k0s-controller-1: QuotaExceeded',
      runs: 1,
    };
    const doc = load(renderDeploymentState(state, undefined));
    assert.equal(doc.waiting_for, 'resume, rollback or reset');
    assert.equal(doc.last_error, 'create VM k0s-controller-1: QuotaExceeded');
    assert.deepEqual(sub(doc, 'phases').create_vms, {
      status: 'failed',
      updated_at: '2025-12-01T09:00:00Z',
      error: 'create VM k0s-controller-1: QuotaExceeded',
    });
  });

  it('leaves deployment_end_time and the duration out while the deployment runs', () => {
    const doc = load(renderDeploymentState(midDeploymentState(), undefined));
    assert.equal('deployment_end_time' in doc, false);
    assert.equal('deployment_duration_seconds' in doc, false);
    assert.equal('completed_at' in sub(doc, 'deployment'), false);
  });

  const zoneCases: [string, string, string][] = [
    ['UTC', '2025-12-01T09:07:21Z', '2025-12-01 09:07:21 UTC'],
    ['America/Los_Angeles', '2025-12-01T09:07:21Z', '2025-12-01 01:07:21 PST'],
    ['America/Los_Angeles', '2025-07-01T09:07:21Z', '2025-07-01 02:07:21 PDT'],
    ['Asia/Tokyo', '2025-12-31T23:30:00Z', '2026-01-01 08:30:00 GMT+9'],
  ];
  for (const [zone, iso, expected] of zoneCases) {
    it(`writes deployment_end_time ${expected} for ${iso} in ${zone}`, () => {
      const state = realisticState();
      state.deploymentEndTime = iso;
      assert.equal(
        load(renderDeploymentState(state, undefined, { timeZone: zone })).deployment_end_time,
        expected
      );
    });
  }

  it('writes no private_key anywhere by default', () => {
    const text = renderDeploymentState(realisticState(), undefined, LA);
    assert.equal(keysDeep(load(text)).includes('private_key'), false);
    assert.doesNotMatch(text, /^\s*private_key:/m);
  });

  it('writes private_key only for the peers given in privateKeys', () => {
    const text = renderDeploymentState(realisticState(), undefined, {
      ...LA,
      privateKeys: { mylaptop: 'SECRET=' },
    });
    const peers = sub(load(text), 'wireguard_peers');
    assert.equal(sub(peers, 'mylaptop').private_key, 'SECRET=');
    assert.equal('private_key' in sub(peers, 'k0s-worker-1'), false);
    assert.equal(keysDeep(load(text)).filter((k) => k === 'private_key').length, 1);
  });

  it('drops a private_key inherited from the existing file', () => {
    const text = renderDeploymentState(realisticState(), BASH_LATEST_YAML, LA);
    assert.equal(keysDeep(load(text)).includes('private_key'), false);
    assert.doesNotMatch(text, /redacted\.\.\.Xl0=/);
  });

  it('keeps keys other tools wrote, in their order after ours, and replaces the keys it owns', () => {
    const existing = `${BASH_LATEST_YAML}aws_role_arn: arn:aws:iam::123456789012:role/k0rdent
aws_extra:
  regions: [us-east-1, us-west-2]
  nested: {a: 1}
`.replace('wg_vpn_connected: true', 'wg_vpn_connected: false');
    const doc = load(renderDeploymentState(realisticState(), existing, LA));
    const keys = Object.keys(doc);
    assert.deepEqual(keys.slice(-4), [
      'aws_credentials_configured',
      'aws_account_id',
      'aws_role_arn',
      'aws_extra',
    ]);
    assert.equal(doc.aws_credentials_configured, true);
    assert.equal(doc.aws_account_id, '123456789012');
    assert.deepEqual(doc.aws_extra, { regions: ['us-east-1', 'us-west-2'], nested: { a: 1 } });
    assert.equal(doc.wg_vpn_connected, true);
    assert.equal(keys.filter((k) => k === 'wg_vpn_connected').length, 1);
  });

  it('drops a fact it owns that the state no longer has', () => {
    const state = realisticState();
    delete state.facts.values.wg_macos_interface;
    const doc = load(renderDeploymentState(state, BASH_LATEST_YAML, LA));
    assert.equal('wg_macos_interface' in doc, false);
  });

  it('keeps nothing from the file of another deployment', () => {
    const other = BASH_LATEST_YAML.replaceAll(ID, 'k0rdent-zzzzzzzz');
    const doc = load(renderDeploymentState(realisticState(), other, LA));
    assert.equal('aws_account_id' in doc, false);
  });

  it('replaces an existing file that is not YAML', () => {
    const text = renderDeploymentState(realisticState(), 'deployment_id: [unclosed\n  : :', LA);
    assert.equal(text, renderDeploymentState(realisticState(), undefined, LA));
  });

  const idempotenceCases: { name: string; existing: string | undefined }[] = [
    { name: 'a fresh file', existing: undefined },
    { name: 'a Bash-written file with keys of other tools', existing: BASH_LATEST_YAML },
  ];
  for (const c of idempotenceCases) {
    it(`renders identical bytes when fed its own output, starting from ${c.name}`, () => {
      const first = renderDeploymentState(realisticState(), c.existing, LA);
      const second = renderDeploymentState(realisticState(), first, LA);
      assert.equal(second, first);
    });
  }

  it('places the facts it knows where the Bash tool does and appends the others sorted, as strings', () => {
    const state = midDeploymentState();
    state.facts.values = {
      zz_custom: 7,
      kof_regional_domain: 'regional.example.com',
      aa_custom: 'x',
      k0rdent_ready: false,
    };
    const keys = Object.keys(load(renderDeploymentState(state, undefined)));
    const tail = keys.slice(keys.indexOf('wireguard_peers') + 1, keys.indexOf('deployment'));
    assert.deepEqual(tail, ['k0rdent_ready', 'kof_regional_domain', 'aa_custom', 'zz_custom']);
    assert.equal(load(renderDeploymentState(state, undefined)).zz_custom, '7');
  });

  it('quotes strings and keys that would otherwise read back as other types', () => {
    const state = midDeploymentState();
    state.facts.values = { yes: 'true', 'odd key: x': '12', note: 'line 1\nline "2"\t\u2028 #not a comment' };
    const doc = load(renderDeploymentState(state, undefined));
    assert.equal(doc.yes, 'true');
    assert.equal(doc['odd key: x'], '12');
    assert.equal(doc.note, 'line 1\nline "2"\t\u2028 #not a comment');
  });
});

describe('renderEventsFile', () => {
  const render = (events: EventRecord[], existing?: string): string =>
    renderEventsFile(ID, '2025-12-01T08:56:05Z', '2025-12-01T09:07:21Z', events, existing);

  it('matches the golden file for the events of a basic run', async () => {
    await assertGolden('deployment-events.yaml', render(realisticEvents()));
  });

  it('writes the fields of domain §2.2, with phase only where the event has one', () => {
    const doc = load(render(realisticEvents()));
    assert.deepEqual(Object.keys(doc), ['deployment_id', 'created_at', 'last_updated', 'events']);
    const events = doc.events as Obj[];
    assert.equal(events.length, realisticEvents().length);
    for (const e of events) {
      assert.match(e.timestamp as string, ISO);
      assert.equal('phase' in e, e.action === 'phase_completed' || e.action === 'phase_skipped');
    }
  });

  it('writes our events when the file holds a prefix of them', () => {
    const ours = realisticEvents();
    const text = render(ours, render(ours.slice(0, 2)));
    assert.deepEqual(load(text).events, load(render(ours)).events);
  });

  it('renders identical bytes when fed its own output', () => {
    const first = render(realisticEvents(), BASH_EVENTS_YAML);
    assert.equal(render(realisticEvents(), first), first);
  });

  it('never drops an event another tool appended, and adds ours after it', () => {
    const external = {
      timestamp: '2025-12-01T08:56:50Z',
      action: 'aws_credentials_configured',
      message: 'AWS credentials configured',
    };
    const existing = `${BASH_EVENTS_YAML}  - timestamp: "${external.timestamp}"
    action: ${external.action}
    message: ${external.message}
`;
    const ours = realisticEvents();
    const events = load(render(ours, existing)).events as Obj[];
    assert.deepEqual(events.slice(0, 4), [...(load(BASH_EVENTS_YAML).events as Obj[]), external]);
    assert.deepEqual(events.slice(4), ours.slice(3));
  });

  it('keeps an event of ours that repeats an earlier one', () => {
    const ours = realisticEvents();
    const twice = [...ours, ours[2] as EventRecord];
    const events = load(render(twice, render(ours))).events as Obj[];
    assert.equal(events.length, ours.length + 1);
  });

  it('keeps extra fields of an existing event and does not add it again', () => {
    const existing = BASH_EVENTS_YAML.replace(
      '    message: Deployment state tracking initialized\n',
      '    message: Deployment state tracking initialized\n    source: bash\n'
    );
    const events = load(render(realisticEvents(), existing)).events as Obj[];
    assert.equal(events.length, realisticEvents().length);
    assert.equal((events[0] as Obj).source, 'bash');
  });

  it('starts over when the existing file belongs to another deployment', () => {
    const other = BASH_EVENTS_YAML.replace(ID, 'k0rdent-zzzzzzzz');
    assert.equal(render(realisticEvents().slice(3), other), render(realisticEvents().slice(3)));
  });
});

describe('mergeEvents', () => {
  const e = (action: string): EventRecord => ({ timestamp: '2025-12-01T08:56:05Z', action, message: action });
  const cases: { name: string; existing: EventRecord[]; ours: EventRecord[]; expected: string[] }[] = [
    { name: 'an empty file', existing: [], ours: [e('a'), e('b')], expected: ['a', 'b'] },
    { name: 'a prefix of ours', existing: [e('a')], ours: [e('a'), e('b')], expected: ['a', 'b'] },
    { name: 'exactly ours', existing: [e('a'), e('b')], ours: [e('a'), e('b')], expected: ['a', 'b'] },
    { name: 'an extra event', existing: [e('a'), e('x')], ours: [e('a'), e('b')], expected: ['a', 'x', 'b'] },
    { name: 'more than ours', existing: [e('a'), e('b'), e('c')], ours: [e('a')], expected: ['a', 'b', 'c'] },
  ];
  for (const c of cases) {
    it(`keeps the file's events and appends the missing ones of ours against ${c.name}`, () => {
      const merged = mergeEvents(c.existing, c.ours) as EventRecord[];
      assert.deepEqual(
        merged.map((m) => m.action),
        c.expected
      );
    });
  }
});

describe('renderClusterEventsFile', () => {
  it('matches the golden file for the regional cluster of domain §2.5', async () => {
    await assertGolden(
      `cluster-${REGIONAL_CLUSTER}-events.yaml`,
      renderClusterEventsFile(REGIONAL_CLUSTER, regionalClusterRecord())
    );
  });

  it('writes the fields list-child-clusters.sh reads', () => {
    const doc = load(renderClusterEventsFile(REGIONAL_CLUSTER, regionalClusterRecord()));
    assert.equal(doc.cluster_name, REGIONAL_CLUSTER);
    assert.match(doc.created_at as string, ISO);
    const events = doc.events as Obj[];
    assert.equal((events[events.length - 1] as Obj).action, 'kof_regional_configured');
  });

  it('keeps a local event written by a Bash child script and appends ours after it', () => {
    const record = regionalClusterRecord();
    const first = { ...record, events: record.events.slice(0, 2) };
    const existing = `${renderClusterEventsFile(REGIONAL_CLUSTER, first)}  - timestamp: "2025-12-01T09:30:00Z"
    action: manual_note
    message: checked by hand
`;
    const text = renderClusterEventsFile(REGIONAL_CLUSTER, record, existing);
    const actions = (load(text).events as Obj[]).map((x) => x.action);
    assert.deepEqual(actions, [
      'cluster_events_initialized',
      'cluster_deployment_created',
      'manual_note',
      'cluster_config_recorded',
      'kof_regional_cluster_ready',
      'kof_regional_configured',
    ]);
    assert.equal(renderClusterEventsFile(REGIONAL_CLUSTER, record, text), text);
  });
});
