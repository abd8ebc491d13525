/**
 * Corrupt and foreign deployment folders, generated from one realistic state file of the Bash tool's
 * layout: truncated, binary, not a map, wrongly typed fields, another deployment's id, unknown phases
 * and statuses, and a `.clusterid` that holds something else or is missing.
 */
import { parse, stringify } from 'yaml';
import { PHASE_NAMES } from '../../src/workflows/phases';

/** The kinds of bad folder, in the order the suite tries them. */
export const STATE_KINDS = [
  'truncated YAML',
  'binary garbage',
  'not a map',
  'wrongly typed field',
  'foreign deployment',
  'unknown phase',
  'unknown status',
  'bad .clusterid',
  'missing .clusterid',
] as const;

/** One kind of bad folder. */
export type StateKind = (typeof STATE_KINDS)[number];

/** A generated bad deployment folder. */
export interface BadFolder {
  kind: StateKind;
  label: string;
  /** Content of `.clusterid` (none when undefined). */
  clusterid?: string | Buffer;
  /** Content of `state/deployment-state.yaml` (none when undefined). */
  state?: string | Buffer;
  /** Which file is at fault: its path must be named. */
  bad: 'state' | 'clusterid';
  /** What the message must say about it: the field, or what is wrong with the file as a whole. */
  field: RegExp;
}

/** A state file as the Bash tool writes it for `id`: four phases completed, the rest pending. */
export function bashStateText(id: string): string {
  const phases = PHASE_NAMES.map(
    (name, i) =>
      `  ${name}:\n    status: "${i < 4 ? 'completed' : 'pending'}"\n    updated_at: "2025-12-01T09:0${i % 10}:00Z"`
  ).join('\n');
  return `# k0rdent Deployment State
deployment_id: "${id}"
deployer: "alice@example.com"
created_at: "2025-12-01T08:56:05Z"
last_updated: "2025-12-01T09:07:21Z"
phase: "setup_vpn"
status: "in_progress"
deployment_flags:
  azure_children: false
  kof: false
config:
  azure_location: "westus2"
  resource_group: "${id}-resgrp"
  controller_count: 1
  worker_count: 1
  wireguard_network: "192.168.100.0/24"
azure_rg_status: "created"
azure_network_status: "created"
azure_ssh_key_status: "created"
vm_states:
  k0s-controller-1:
    public_ip: "20.112.54.18"
    private_ip: "10.0.1.4"
    state: "Succeeded"
    last_checked: "2025-12-01T09:01:37Z"
wireguard_peers:
  mylaptop:
    ip: "192.168.100.1"
    role: "hub"
    public_key: "laptop-public-key"
wg_keys_generated: true
phases:
${phases}
artifacts: {}
`;
}

/** Deterministic bytes (a linear congruential generator), so a failure can be reproduced. */
function garbage(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    bytes[i] = x >>> 16;
  }
  return bytes;
}

/** The base state of `id` with `change` applied to its parsed form. */
function changed(id: string, change: (doc: Record<string, unknown>) => void): string {
  const doc = parse(bashStateText(id)) as Record<string, unknown>;
  change(doc);
  return stringify(doc);
}

const phasesOf = (doc: Record<string, unknown>) => doc.phases as Record<string, Record<string, unknown>>;

/** Every generated bad folder for the deployment `id` (`other` is a second, valid id). */
export function badFolders(id: string, other: string): BadFolder[] {
  const base = bashStateText(id);
  const folders: BadFolder[] = [];
  const state = (kind: StateKind, label: string, content: string | Buffer, field: RegExp) =>
    folders.push({ kind, label, clusterid: `${id}\n`, state: content, bad: 'state', field });

  const quotes = [...base.matchAll(/: "/g)].map((m) => (m.index ?? 0) + 3);
  for (const at of [quotes[1], quotes[Math.floor(quotes.length / 2)], quotes[quotes.length - 2]]) {
    const line = base.slice(0, at).split('\n').length;
    state(
      'truncated YAML',
      `cut inside a quoted value on line ${line}`,
      base.slice(0, (at ?? 0) + 4),
      /invalid YAML at line \d+, column \d+/
    );
  }

  state(
    'binary garbage',
    'NUL bytes before the text',
    Buffer.concat([Buffer.from([0, 0, 0]), Buffer.from(base)]),
    /holds binary data/
  );
  state('binary garbage', 'random bytes', garbage(512, 7), /holds binary data/);
  state('binary garbage', 'the text in UTF-16', Buffer.from(base, 'utf16le'), /holds binary data/);
  state(
    'binary garbage',
    'a gzip stream',
    Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), garbage(64, 11)]),
    /holds binary data/
  );

  state(
    'not a map',
    'a YAML list',
    stringify(PHASE_NAMES),
    /expected a map of keys at the top level, found a list/
  );
  state(
    'not a map',
    'a scalar',
    'all phases done\n',
    /expected a map of keys at the top level, found a string/
  );
  state('not a map', 'an empty file', '', /found an empty document/);
  state('not a map', 'null', 'null\n', /found null/);

  const typed: [string, (doc: Record<string, unknown>) => void, RegExp][] = [
    [
      'phases as a list',
      (doc) => (doc.phases = PHASE_NAMES),
      /phases: must be a map of phase entries, got a list/,
    ],
    [
      'phases as text',
      (doc) => (doc.phases = 'all done'),
      /phases: must be a map of phase entries, got "all done"/,
    ],
    [
      'a phase as a number',
      (doc) => ((doc.phases as Record<string, unknown>).setup_network = 5),
      /phases\.setup_network: must be a map with a status, got 5/,
    ],
    [
      'a duration as text',
      (doc) => ((phasesOf(doc).setup_network as Record<string, unknown>).duration_seconds = 'abc'),
      /phases\.setup_network\.duration_seconds: must be a number of seconds, got "abc"/,
    ],
    [
      'a timestamp as a number',
      (doc) => ((phasesOf(doc).create_vms as Record<string, unknown>).updated_at = 12345),
      /phases\.create_vms\.updated_at: must be a timestamp like .*, got 12345/,
    ],
    ['vm_states as text', (doc) => (doc.vm_states = 'none'), /vm_states: must be a map, got "none"/],
    [
      'a WireGuard peer as text',
      (doc) => ((doc.wireguard_peers as Record<string, unknown>).mylaptop = '192.168.100.1'),
      /wireguard_peers\.mylaptop: must be a map, got "192\.168\.100\.1"/,
    ],
    [
      'a flag as text',
      (doc) => ((doc.deployment_flags as Record<string, unknown>).kof = 'yes'),
      /deployment_flags\.kof: must be true or false, got "yes"/,
    ],
    [
      'deployment_id as a number',
      (doc) => (doc.deployment_id = 12345),
      /deployment_id: must be a deployment id like .*, got 12345/,
    ],
    ['status as a list', (doc) => (doc.status = ['completed']), /status: must be text, got a list/],
  ];
  for (const [label, change, field] of typed) state('wrongly typed field', label, changed(id, change), field);

  state(
    'foreign deployment',
    `the Bash tool's layout, of ${other}`,
    base.replaceAll(id, other),
    new RegExp(`deployment_id: the file belongs to deployment ${other}, not ${id}`)
  );
  state(
    'foreign deployment',
    `the older layout, of ${other}`,
    `deployment:\n  id: "${other}"\nphases:\n  prepare_deployment: true\n`,
    new RegExp(`deployment\\.id: the file belongs to deployment ${other}, not ${id}`)
  );
  state(
    'foreign deployment',
    'no id at all',
    changed(id, (doc) => delete doc.deployment_id),
    /not a k0rdent deployment state file: it has neither deployment_id nor deployment\.id/
  );

  for (const name of PHASE_NAMES.filter((_, i) => i % 4 === 1)) {
    const wrong = name.slice(0, -1);
    state(
      'unknown phase',
      `phases.${wrong}`,
      changed(id, (doc) => (phasesOf(doc)[wrong] = { status: 'completed' })),
      new RegExp(`phases\\.${wrong}: unknown phase; phases are: ${PHASE_NAMES.join(', ')}`)
    );
  }

  const statuses = ['exploded', 'COMPLETED', 'done', 'complete'];
  PHASE_NAMES.filter((_, i) => i % 3 === 0).forEach((name, i) => {
    const status = statuses[i % statuses.length] as string;
    state(
      'unknown status',
      `phases.${name}.status: ${status}`,
      changed(id, (doc) => ((phasesOf(doc)[name] as Record<string, unknown>).status = status)),
      new RegExp(`phases\\.${name}\\.status: unknown status "${status}"; known statuses: pending, `)
    );
  });

  const clusterids: [string, string | Buffer, RegExp][] = [
    ['text', 'hello world\n', /"hello world" is not a cluster id/],
    ['binary data', Buffer.from([0x00, 0xff, 0x0a]), /"\\u0000\uFFFD" is not a cluster id/],
    ['capital letters', 'k0rdent-ABCDEFGH\n', /"k0rdent-ABCDEFGH" is not a cluster id/],
    ['seven characters', 'k0rdent-1234567\n', /"k0rdent-1234567" is not a cluster id/],
    ['nothing', '\n', /the file is empty/],
    ['a very long line', `k0rdent-${'a'.repeat(5000)}`, /"k0rdent-a{29}\.\.\." is not a cluster id/],
    ['two ids', `${id}\n${other}\n`, /is not a cluster id/],
  ];
  for (const [label, content, field] of clusterids) {
    folders.push({ kind: 'bad .clusterid', label, clusterid: content, bad: 'clusterid', field });
  }
  folders.push({
    kind: 'missing .clusterid',
    label: 'a state file without .clusterid',
    state: base,
    bad: 'clusterid',
    field: /\.clusterid is missing|no \.clusterid/,
  });
  return folders;
}
