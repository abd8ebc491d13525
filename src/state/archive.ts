/** `old_deployments/`: archived state files of past deployments and the deployment history. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isNotFound, readTextIfExists, writeFileAtomic } from './atomic';
import { compareText } from './keys';
import { ARCHIVE_DIR, assertSafeName, clusterNameOfEventsFile, HISTORY_FILE, STATE_DIR } from './paths';
import { archiveStamp } from './time';
import { parseYamlMapText, YamlMapError, YamlWriter } from './yaml';

/** State files archived when present, in the Bash tool's order; `cluster-*-events.yaml` files follow. */
export const ARCHIVED_STATE_FILES: readonly string[] = [
  'deployment-state.yaml',
  'deployment-events.yaml',
  'azure-state.yaml',
  'azure-events.yaml',
  'kof-state.yaml',
  'kof-events.yaml',
];

/** Whether archiving leaves the state files in place (`copy`) or takes them away (`move`). */
export type ArchiveMode = 'copy' | 'move';

/** Names of the files in `state/` that an archive takes, in order. */
async function filesToArchive(stateDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(stateDir);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
  const clusterFiles = names.filter((n) => clusterNameOfEventsFile(n) !== undefined).sort(compareText);
  return [...ARCHIVED_STATE_FILES.filter((n) => names.includes(n)), ...clusterFiles];
}

/**
 * Copies or moves the state files into `old_deployments/<id>_<YYYY-MM-DD_HH-MM-SS>_<reason>/` (local time
 * of `now`) and returns that folder relative to `workDir`. A retry with the same `now` reuses the folder.
 */
export async function archiveDeployment(
  workDir: string,
  deploymentId: string,
  reason: string,
  now: Date,
  mode: ArchiveMode,
  opts: { timeZone?: string } = {}
): Promise<string> {
  assertSafeName('deployment id', deploymentId);
  assertSafeName('archive reason', reason);
  const rel = `${ARCHIVE_DIR}/${deploymentId}_${archiveStamp(now, opts.timeZone)}_${reason}`;
  const target = path.join(workDir, rel);
  const stateDir = path.join(workDir, STATE_DIR);
  await fs.mkdir(target, { recursive: true });
  for (const name of await filesToArchive(stateDir)) {
    const from = path.join(stateDir, name);
    const to = path.join(target, name);
    if (mode === 'move') {
      await fs.rename(from, to);
    } else {
      const [content, stat] = await Promise.all([fs.readFile(from), fs.stat(from)]);
      await writeFileAtomic(to, content, { mode: stat.mode & 0o777 });
    }
  }
  return rel;
}

/** One entry of `old_deployments/deployment-history.yaml`. */
export interface HistoryEntry {
  cluster_id: string;
  /** ISO-8601 UTC to the second. */
  deployed_at: string;
  config_file: string;
  deployer: string;
}

/** True when a parsed history entry has exactly the fields and values of `entry`. */
function sameEntry(found: unknown, entry: HistoryEntry): boolean {
  if (!(found instanceof Map)) return false;
  const map = found as Map<unknown, unknown>;
  const fields = Object.entries(entry);
  return map.size === fields.length && fields.every(([k, v]) => map.get(k) === v);
}

/**
 * Appends `entry` to `old_deployments/deployment-history.yaml` (created when missing) unless an identical
 * entry is already there; returns true when it appended. Refuses to rewrite a history file it cannot parse.
 */
export async function recordDeploymentHistory(workDir: string, entry: HistoryEntry): Promise<boolean> {
  const file = path.join(workDir, HISTORY_FILE);
  const text = await readTextIfExists(file);
  let existing = new Map<unknown, unknown>();
  if (text !== undefined && text.trim() !== '') {
    try {
      existing = parseYamlMapText(text);
    } catch (err) {
      if (err instanceof YamlMapError) throw new Error(`${file}: ${err.message}; not rewriting it`);
      throw err;
    }
  }
  const found = existing.get('deployments');
  const deployments: unknown[] = Array.isArray(found) ? [...(found as unknown[])] : [];
  if (deployments.some((d) => sameEntry(d, entry))) return false;
  deployments.push({ ...entry });

  const w = new YamlWriter();
  w.comment('k0rdent Deployment History').comment('One entry per deploy run').blank();
  w.entry('deployments', deployments);
  const others = [...existing.entries()].filter(([k]) => k !== 'deployments');
  for (const [k, v] of others) w.entry(k, v);
  await writeFileAtomic(file, w.toString());
  return true;
}
