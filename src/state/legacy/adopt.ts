/** Adopting a Bash-tool state file: its phases, VMs, peers, keys, artifacts and events become a deployment's state. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type {
  ArtifactRecord,
  DeploymentState,
  EventRecord,
  FactValue,
  PhaseRecord,
  VmState,
  WireguardPeer,
} from '../../workflows/messages';
import { PHASE_NAMES } from '../../workflows/phases';
import { readTextIfExists, writeFileAtomic } from '../atomic';
import { ADOPTED_FACT_PATTERN, WIREGUARD_PORT_FACT } from '../keys';
import {
  DEPLOYMENT_EVENTS_FILE,
  DEPLOYMENT_STATE_FILE,
  privateKeyFile,
  resolveInside,
  WIREGUARD_DIR,
} from '../paths';
import type { StateFormat, Obj } from './read';
import {
  isObj,
  objOf,
  text,
  textOrEmpty,
  isoOf,
  factOf,
  listText,
  readYamlMap,
  detectStateFormat,
} from './read';
import { readStateFile } from './validate';

/** What importLegacyState adopted. */
export interface LegacyImport {
  state: DeploymentState;
  /** What was adopted, in sentences, for the user. */
  notes: string[];
}

/** Status of a phase entry in either layout: `true`, `"completed"` or `{status: "completed", ...}`. */
function rawPhaseStatus(raw: unknown): string | undefined {
  if (raw === true) return 'completed';
  if (raw === false) return 'pending';
  if (typeof raw === 'string') return raw;
  if (isObj(raw)) return text(raw.status);
  return undefined;
}

/** Adopts the phase map; an interrupted or failed phase becomes pending so it runs again. */
function adoptPhases(state: DeploymentState, rawPhases: Obj, notes: string[]): void {
  const completed: string[] = [];
  const skipped: string[] = [];
  const rerun: string[] = [];
  for (const name of PHASE_NAMES) {
    const raw = rawPhases[name];
    const status = rawPhaseStatus(raw);
    const fields = objOf(raw);
    const base = state.phases[name];
    const updatedAt = isoOf(fields.updated_at) ?? base.updatedAt;
    if (status === 'completed') {
      const rec: PhaseRecord = { ...base, status: 'completed', updatedAt };
      const startedAt = isoOf(fields.started_at);
      const finishedAt = isoOf(fields.finished_at);
      if (startedAt) rec.startedAt = startedAt;
      if (finishedAt) rec.finishedAt = finishedAt;
      if (typeof fields.duration_seconds === 'number') rec.durationSeconds = fields.duration_seconds;
      delete rec.error;
      delete rec.skippedReason;
      state.phases[name] = rec;
      completed.push(name);
    } else if (status === 'skipped') {
      const rec: PhaseRecord = { ...base, status: 'skipped', updatedAt };
      rec.skippedReason = text(fields.skipped_reason) ?? 'Component not enabled';
      delete rec.error;
      state.phases[name] = rec;
      skipped.push(name);
    } else if (status !== undefined && status !== 'pending') {
      rerun.push(`${name} (${status})`);
    }
  }
  if (completed.length > 0) notes.push(`Phases already completed: ${listText(completed)}.`);
  if (skipped.length > 0) notes.push(`Phases skipped: ${listText(skipped)}.`);
  if (rerun.length > 0) {
    notes.push(`Phases that did not finish and will run again: ${listText(rerun)}.`);
  }
}

/** The role of a peer, from the file or, failing that, from its name. */
function roleOf(name: string, raw: unknown): WireguardPeer['role'] {
  if (raw === 'hub' || raw === 'controller' || raw === 'worker') return raw;
  if (name === 'mylaptop' || name === 'laptop') return 'hub';
  return name.includes('controller') ? 'controller' : 'worker';
}

/** The Azure provisioning state of an older layout's `vms.<host>.status`. */
function vmStateOfDocStatus(status: string | undefined): string {
  if (status === undefined) return '';
  if (status === 'running') return 'Succeeded';
  return status.charAt(0).toUpperCase() + status.slice(1);
}

/** Fact values of a latest-layout file: known scalar keys plus `config.wireguard_port`. */
function latestFacts(obj: Obj): Record<string, FactValue> {
  const values: Record<string, FactValue> = {};
  for (const [key, raw] of Object.entries(obj)) {
    const value = factOf(raw);
    if (value !== undefined && ADOPTED_FACT_PATTERN.test(key)) values[key] = value;
  }
  const port = text(objOf(obj.config).wireguard_port);
  if (port !== undefined) values[WIREGUARD_PORT_FACT] = port;
  return values;
}

/** Fact values of an older-layout file, translated from `resources.*`, `cluster.*` and `wireguard.*`. */
function docFacts(obj: Obj): Record<string, FactValue> {
  const values: Record<string, FactValue> = {};
  for (const [key, raw] of Object.entries(obj)) {
    const value = factOf(raw);
    if (value !== undefined && ADOPTED_FACT_PATTERN.test(key)) values[key] = value;
  }
  const resources = objOf(obj.resources);
  const cluster = objOf(obj.cluster);
  if (text(resources.resource_group)) values.azure_rg_status = 'created';
  const network = [resources.vnet, resources.subnet, resources.nsg];
  if (network.some((r) => text(r) !== undefined)) values.azure_network_status = 'created';
  if (text(resources.ssh_key)) values.azure_ssh_key_status = 'created';
  const flags: [string, unknown][] = [
    ['wg_laptop_config_created', resources.vpn_config_created],
    ['wg_vpn_connected', resources.vpn_connected],
    ['k0s_config_generated', resources.k0sctl_config_generated],
    ['k0rdent_installed', resources.helm_installed],
    ['k0s_cluster_deployed', cluster.k0s_deployed],
    ['kubeconfig_retrieved', cluster.kubeconfig_retrieved],
    ['k0rdent_ready', cluster.k0rdent_ready],
  ];
  for (const [key, raw] of flags) if (typeof raw === 'boolean') values[key] = raw;
  const peers = Object.values(objOf(objOf(obj.wireguard).peers));
  if (peers.some((p) => text(objOf(p).public_key) !== undefined)) values.wg_keys_generated = true;
  return values;
}

/** VM states of either layout. */
function adoptVms(obj: Obj, format: StateFormat, lastChecked: string): Record<string, VmState> {
  const out: Record<string, VmState> = {};
  if (format === 'latest') {
    for (const [host, raw] of Object.entries(objOf(obj.vm_states))) {
      const vm = objOf(raw);
      out[host] = {
        public_ip: textOrEmpty(vm.public_ip),
        private_ip: textOrEmpty(vm.private_ip),
        state: textOrEmpty(vm.state),
        last_checked: isoOf(vm.last_checked) ?? lastChecked,
      };
    }
  } else {
    for (const [host, raw] of Object.entries(objOf(obj.vms))) {
      const vm = objOf(raw);
      out[host] = {
        public_ip: textOrEmpty(vm.public_ip),
        private_ip: textOrEmpty(vm.private_ip),
        state: vmStateOfDocStatus(text(vm.status)),
        last_checked: lastChecked,
      };
    }
  }
  return out;
}

/** A WireGuard peer found in the file, with its private key kept apart. */
interface FoundPeer {
  record: WireguardPeer;
  privateKey?: string;
}

/** WireGuard peers of either layout. */
function adoptPeers(obj: Obj, format: StateFormat): Map<string, FoundPeer> {
  const out = new Map<string, FoundPeer>();
  const raw = format === 'latest' ? objOf(obj.wireguard_peers) : objOf(objOf(obj.wireguard).peers);
  for (const [name, value] of Object.entries(raw)) {
    const p = objOf(value);
    const publicKey = text(p.public_key);
    const record: WireguardPeer = {
      ip: textOrEmpty(format === 'latest' ? p.ip : (p.wireguard_ip ?? p.ip)),
      role: roleOf(name, p.role),
    };
    if (publicKey) record.public_key = publicKey;
    if (typeof p.keys_generated === 'boolean') record.keys_generated = p.keys_generated;
    else if (publicKey) record.keys_generated = true;
    const generatedAt = isoOf(p.keys_generated_at);
    if (generatedAt) record.keys_generated_at = generatedAt;
    const keyFile = text(p.private_key_file);
    if (keyFile) record.private_key_file = keyFile;
    out.set(name, { record, privateKey: text(p.private_key)?.trim() });
  }
  return out;
}

/**
 * Moves private keys out of the state into 0600 key files (kept when they already hold the same key) and
 * records each path. Checks every peer before writing anything, so a refusal leaves no file behind.
 */
async function movePrivateKeys(
  workDir: string,
  peers: Map<string, FoundPeer>,
  notes: string[]
): Promise<void> {
  const toWrite: { peer: string; rel: string; key: string }[] = [];
  const conflicts: string[] = [];
  for (const [peer, found] of peers) {
    const rel = found.record.private_key_file ?? privateKeyFile(peer);
    const onDisk = await readTextIfExists(resolveInside(workDir, rel));
    if (found.privateKey === undefined) {
      if (onDisk !== undefined && found.record.private_key_file === undefined) {
        found.record.private_key_file = rel;
        notes.push(`Peer ${peer} uses the private key already in ${rel}.`);
      }
      continue;
    }
    if (onDisk === undefined) {
      toWrite.push({ peer, rel, key: found.privateKey });
    } else if (onDisk.trim() !== found.privateKey) {
      conflicts.push(`${rel} (peer ${peer})`);
    } else {
      notes.push(`Peer ${peer}'s private key is already in ${rel}; the copy in the state file is dropped.`);
    }
    found.record.private_key_file = rel;
  }
  if (conflicts.length > 0) {
    throw new Error(
      `refusing to adopt the state file: ${listText(conflicts)} already hold a different private key than ` +
        'the state file; move the key file away or fix the state file, then try again'
    );
  }
  if (toWrite.length > 0) await fs.mkdir(path.join(workDir, WIREGUARD_DIR), { recursive: true, mode: 0o700 });
  for (const { peer, rel, key } of toWrite) {
    await writeFileAtomic(resolveInside(workDir, rel), `${key}\n`, { mode: 0o600 });
    notes.push(`Moved peer ${peer}'s private key from the state file to ${rel} (mode 0600).`);
  }
}

/** Artifacts of a latest-layout file. */
function adoptArtifacts(obj: Obj, fallbackTime: string): Record<string, ArtifactRecord> {
  const out: Record<string, ArtifactRecord> = {};
  for (const [name, raw] of Object.entries(objOf(obj.artifacts))) {
    const a = objOf(raw);
    const artifactPath = text(a.path);
    if (artifactPath) out[name] = { path: artifactPath, updated_at: isoOf(a.updated_at) ?? fallbackTime };
  }
  return out;
}

/** Identity of an event: its four fields. */
function eventKey(e: EventRecord): string {
  return JSON.stringify([e.timestamp, e.action, e.message, e.phase ?? null]);
}

/** Events of `state/deployment-events.yaml`, or undefined when there is no such file. */
async function readEvents(workDir: string, deploymentId: string): Promise<EventRecord[] | undefined> {
  const file = path.join(workDir, DEPLOYMENT_EVENTS_FILE);
  if ((await readTextIfExists(file)) === undefined) return undefined;
  const obj = await readYamlMap(file);
  const id = text(obj.deployment_id);
  if (id !== undefined && id !== deploymentId) {
    throw new Error(`${file} belongs to deployment ${id}, not ${deploymentId}; refusing to adopt it`);
  }
  const events: EventRecord[] = [];
  for (const raw of Array.isArray(obj.events) ? (obj.events as unknown[]) : []) {
    if (!isObj(raw)) continue;
    const e: EventRecord = {
      timestamp: textOrEmpty(raw.timestamp),
      action: textOrEmpty(raw.action),
      message: textOrEmpty(raw.message),
    };
    const phase = text(raw.phase);
    if (phase !== undefined) e.phase = phase;
    events.push(e);
  }
  return events;
}

/** Notes about settings in the file that differ from the configuration the orchestrator will use. */
function configNotes(obj: Obj, format: StateFormat, base: DeploymentState): string[] {
  const notes: string[] = [];
  const found: Obj =
    format === 'latest' ? objOf(obj.config) : { resource_group: objOf(obj.resources).resource_group };
  for (const [key, current] of Object.entries(base.configSnapshot)) {
    const value = text(found[key]);
    if (value !== undefined && value !== String(current)) {
      notes.push(
        `The file's config.${key} is ${value}; the current configuration says ${current}, which is used.`
      );
    }
  }
  const flags = objOf(obj.deployment_flags);
  const pairs: [string, unknown, boolean][] = [
    ['azure_children', flags.azure_children, base.flags.azureChildren],
    ['kof', flags.kof, base.flags.kof],
  ];
  for (const [name, value, current] of pairs) {
    if (typeof value === 'boolean' && value !== current) {
      notes.push(`The file's deployment_flags.${name} is ${value}; this run uses ${current}.`);
    }
  }
  return notes;
}

/**
 * Adopts `<workDir>/state/deployment-state.yaml` (and the events file, when present) written by the Bash
 * tool into `base`, the state the orchestrator would start with. Refuses (`StateFileError`) a file of
 * another deployment, a file that is not a deployment state or holds unknown phases, statuses or wrongly
 * typed fields, and private keys that clash with key files on disk. Private keys go to 0600 files under
 * `wireguard/` and never into the returned state. The state files are not modified.
 */
export async function importLegacyState(workDir: string, base: DeploymentState): Promise<LegacyImport> {
  const obj = await readStateFile(workDir, base.deploymentId);
  const format = detectStateFormat(obj);
  const id = base.deploymentId;

  const events = await readEvents(workDir, base.deploymentId);

  const state = structuredClone(base);
  const layout = format === 'latest' ? "the Bash tool's layout" : 'the older documented layout';
  const notes = [`Adopted ${DEPLOYMENT_STATE_FILE} of ${id} (${layout}).`];
  const createdAt = isoOf(format === 'latest' ? obj.created_at : objOf(obj.deployment).started_at);
  if (createdAt) state.createdAt = createdAt;

  adoptPhases(state, objOf(obj.phases), notes);

  const values = format === 'latest' ? latestFacts(obj) : docFacts(obj);
  state.facts.values = { ...state.facts.values, ...values };
  const vms = adoptVms(obj, format, isoOf(obj.last_updated) ?? state.createdAt);
  state.facts.vm_states = { ...state.facts.vm_states, ...vms };
  const peers = adoptPeers(obj, format);
  await movePrivateKeys(workDir, peers, notes);
  for (const [name, found] of peers) state.facts.wireguard_peers[name] = found.record;
  const artifacts = format === 'latest' ? adoptArtifacts(obj, state.createdAt) : {};
  state.facts.artifacts = { ...state.facts.artifacts, ...artifacts };
  const counts = [
    `${Object.keys(values).length} facts`,
    `${Object.keys(vms).length} VM states`,
    `${peers.size} WireGuard peers`,
    `${Object.keys(artifacts).length} artifacts`,
  ];
  notes.push(`Adopted ${listText(counts)}.`);

  if (events === undefined) {
    notes.push(`No ${DEPLOYMENT_EVENTS_FILE} was found; the event log starts with this run.`);
  } else {
    const known = new Set(events.map(eventKey));
    state.events = [...events, ...base.events.filter((e) => !known.has(eventKey(e)))];
    notes.push(`Adopted ${events.length} events from ${DEPLOYMENT_EVENTS_FILE}.`);
  }
  notes.push(...configNotes(obj, format, base));
  return { state, notes };
}
