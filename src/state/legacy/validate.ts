/** What makes a state file unusable, each problem named by its key, before anything is adopted. */
import * as path from 'node:path';
import type { PhaseStatus } from '../../workflows/messages';
import { isDeploymentId } from '../../workflows/messages';
import { PHASE_NAMES } from '../../workflows/phases';
import { DEPLOYMENT_STATE_FILE } from '../paths';
import type { StateFormat, Obj } from './read';
import { isObj, objOf, isoOf, clip, readYamlMap, detectStateFormat } from './read';

/** Every phase status a state file may hold: the Bash tool's four, plus the two this tool writes. */
const PHASE_STATUSES: readonly PhaseStatus[] = [
  'pending',
  'in_progress',
  'completed',
  'skipped',
  'failed',
  'rolling_back',
];

/** A value as a message shows it: text quoted and cut short, collections by kind. */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(clip(value, 60));
  if (Array.isArray(value)) return 'a list';
  if (isObj(value)) return 'a map';
  return String(value);
}

/** A state file that cannot be used; the message lists every problem, one `<file>: <field>: ...` a line. */
export class StateFileError extends Error {
  constructor(
    readonly file: string,
    readonly issues: string[]
  ) {
    super(issues.map((issue) => `${file}: ${issue}`).join('\n'));
    this.name = 'StateFileError';
  }
}

/** Issues of the id field: present and a deployment id, and the one this folder expects. */
function idIssues(obj: Obj, format: StateFormat, deploymentId: string): string[] {
  const field = format === 'doc' ? 'deployment.id' : 'deployment_id';
  const raw = format === 'doc' ? objOf(obj.deployment).id : obj.deployment_id;
  if (format === 'unknown' && (obj.deployment_id === undefined || obj.deployment_id === null)) {
    return ['not a k0rdent deployment state file: it has neither deployment_id nor deployment.id'];
  }
  if (typeof raw !== 'string' || !isDeploymentId(raw)) {
    return [`${field}: must be a deployment id like k0rdent-q7m2xk4p, got ${shown(raw)}`];
  }
  if (raw !== deploymentId) {
    return [`${field}: the file belongs to deployment ${raw}, not ${deploymentId}; refusing to adopt it`];
  }
  return [];
}

/** Issues of one `phases.<name>` entry: `true`/`false`/null, a known status, or a map with one. */
function phaseIssues(name: string, raw: unknown): string[] {
  const at = `phases.${name}`;
  const known = `known statuses: ${PHASE_STATUSES.join(', ')}`;
  if (!(PHASE_NAMES as readonly string[]).includes(name)) {
    return [`${at}: unknown phase; phases are: ${PHASE_NAMES.join(', ')}`];
  }
  if (raw === null || raw === undefined || typeof raw === 'boolean') return [];
  if (typeof raw === 'string') {
    return (PHASE_STATUSES as readonly string[]).includes(raw)
      ? []
      : [`${at}: unknown status ${shown(raw)}; ${known}`];
  }
  if (!isObj(raw)) return [`${at}: must be a map with a status, got ${shown(raw)}`];
  const issues: string[] = [];
  const status = raw.status;
  if (status !== undefined && status !== null && !(PHASE_STATUSES as readonly unknown[]).includes(status)) {
    issues.push(`${at}.status: unknown status ${shown(status)}; ${known}`);
  }
  for (const key of ['updated_at', 'started_at', 'finished_at']) {
    const value = raw[key];
    if (value !== undefined && value !== null && isoOf(value) === undefined) {
      issues.push(`${at}.${key}: must be a timestamp like 2025-12-01T09:00:00Z, got ${shown(value)}`);
    }
  }
  const duration = raw.duration_seconds;
  if (duration !== undefined && duration !== null && (typeof duration !== 'number' || !(duration >= 0))) {
    issues.push(`${at}.duration_seconds: must be a number of seconds, got ${shown(duration)}`);
  }
  for (const key of ['skipped_reason', 'error']) {
    const value = raw[key];
    if (value !== undefined && value !== null && typeof value !== 'string') {
      issues.push(`${at}.${key}: must be text, got ${shown(value)}`);
    }
  }
  return issues;
}

/** Issues of the maps a layout keeps: each a map (or empty), and `entries` maps holding maps. */
function mapIssues(obj: Obj, format: StateFormat): string[] {
  const issues: string[] = [];
  const check = (field: string, value: unknown, entries: boolean) => {
    if (value === undefined || value === null) return;
    if (!isObj(value)) {
      issues.push(`${field}: must be a map, got ${shown(value)}`);
      return;
    }
    if (!entries) return;
    for (const [key, entry] of Object.entries(value)) {
      if (entry !== null && !isObj(entry)) issues.push(`${field}.${key}: must be a map, got ${shown(entry)}`);
    }
  };
  if (format === 'doc') {
    check('deployment', obj.deployment, false);
    check('resources', obj.resources, false);
    check('vms', obj.vms, true);
    check('wireguard', obj.wireguard, false);
    check('wireguard.peers', objOf(obj.wireguard).peers, true);
    check('cluster', obj.cluster, false);
  } else {
    check('config', obj.config, false);
    check('deployment_flags', obj.deployment_flags, false);
    check('vm_states', obj.vm_states, true);
    check('wireguard_peers', obj.wireguard_peers, true);
    check('artifacts', obj.artifacts, true);
    for (const [flag, value] of Object.entries(objOf(obj.deployment_flags))) {
      if (value !== null && typeof value !== 'boolean') {
        issues.push(`deployment_flags.${flag}: must be true or false, got ${shown(value)}`);
      }
    }
    for (const key of ['phase', 'status', 'orchestrator_status']) {
      const value = obj[key];
      if (value !== undefined && value !== null && typeof value !== 'string') {
        issues.push(`${key}: must be text, got ${shown(value)}`);
      }
    }
  }
  return issues;
}

/**
 * What is wrong with a parsed state file for the deployment `deploymentId`, one `<field>: <problem>` per
 * entry (empty when it can be used): the id, the `phases` map (known phases and statuses, typed fields)
 * and the shape of the maps adoption reads. Keys this tool does not know are left alone.
 */
export function stateFileIssues(obj: Obj, deploymentId: string): string[] {
  const format = detectStateFormat(obj);
  const issues = idIssues(obj, format, deploymentId);
  const phases = obj.phases;
  if (phases !== undefined && phases !== null && !isObj(phases)) {
    issues.push(`phases: must be a map of phase entries, got ${shown(phases)}`);
  } else {
    for (const [name, raw] of Object.entries(objOf(phases))) issues.push(...phaseIssues(name, raw));
  }
  issues.push(...mapIssues(obj, format));
  return issues;
}

/**
 * Reads `<workDir>/state/deployment-state.yaml` and checks it belongs to `deploymentId` and has the shape
 * a state file has; throws `StateFileError` naming the file and every field that is wrong. Reads only.
 */
export async function readStateFile(workDir: string, deploymentId: string): Promise<Record<string, unknown>> {
  const file = path.join(workDir, DEPLOYMENT_STATE_FILE);
  const obj = await readYamlMap(file);
  const issues = stateFileIssues(obj, deploymentId);
  if (issues.length > 0) throw new StateFileError(file, issues);
  return obj;
}
