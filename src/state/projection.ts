/** Writes a DeploymentState to the files the Bash tool's readers use, each atomically and only when it changed. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { DeploymentState } from '../workflows/messages';
import { isNotFound, readTextIfExists, writeFileAtomic } from './atomic';
import { compareText } from './keys';
import {
  CLUSTER_ID_FILE,
  clusterEventsFile,
  DEPLOYMENT_EVENTS_FILE,
  DEPLOYMENT_STATE_FILE,
  resolveInside,
} from './paths';
import { renderClusterEventsFile, renderDeploymentState, renderEventsFile } from './render';

/** Options of projectState. */
export interface ProjectionOptions {
  /** Copy each peer's private key from its key file into the state file (mode 0600) for legacy scripts. */
  writePrivateKeys: boolean;
  /** IANA zone of `deployment_end_time`; the process's zone when absent. */
  timeZone?: string;
}

/** What projectState did. */
export interface ProjectionResult {
  /** Paths (relative to the deployment folder) of the files whose content or mode changed. */
  changed: string[];
}

/** Mode of state files without secrets. */
const PUBLIC_MODE = 0o644;
/** Mode of a state file that holds private keys. */
const SECRET_MODE = 0o600;

/** Private keys read from the peers' key files; a peer whose key file is missing is left out. */
async function readPrivateKeys(workDir: string, state: DeploymentState): Promise<Record<string, string>> {
  const keys: Record<string, string> = {};
  for (const [peer, record] of Object.entries(state.facts.wireguard_peers)) {
    if (record.private_key_file === undefined) continue;
    const text = await readTextIfExists(resolveInside(workDir, record.private_key_file));
    if (text !== undefined && text.trim() !== '') keys[peer] = text.trim();
  }
  return keys;
}

/**
 * Projects `state` into `<workDir>`: `state/deployment-state.yaml`, `state/deployment-events.yaml`,
 * `state/cluster-<name>-events.yaml` per known cluster and `.clusterid`. Projecting the same state twice
 * changes nothing the second time.
 */
export async function projectState(
  workDir: string,
  state: DeploymentState,
  opts: ProjectionOptions
): Promise<ProjectionResult> {
  const changed: string[] = [];
  const write = async (
    rel: string,
    render: (existing: string | undefined) => string,
    mode: number
  ): Promise<void> => {
    const file = path.join(workDir, rel);
    const content = render(await readTextIfExists(file));
    if (await writeFileAtomic(file, content, { mode })) changed.push(rel);
  };

  // Name every cluster file before writing anything, so a bad name leaves all files as they were.
  const clusters = Object.keys(state.facts.clusters)
    .sort(compareText)
    .map((name) => ({ name, rel: clusterEventsFile(name) }));

  await write(CLUSTER_ID_FILE, () => `${state.deploymentId}\n`, PUBLIC_MODE);
  await write(
    DEPLOYMENT_EVENTS_FILE,
    (existing) =>
      renderEventsFile(state.deploymentId, state.createdAt, state.lastUpdated, state.events, existing),
    PUBLIC_MODE
  );
  for (const { name, rel } of clusters) {
    const record = state.facts.clusters[name];
    if (record) await write(rel, (existing) => renderClusterEventsFile(name, record, existing), PUBLIC_MODE);
  }
  const privateKeys = opts.writePrivateKeys ? await readPrivateKeys(workDir, state) : {};
  const mode = Object.keys(privateKeys).length > 0 ? SECRET_MODE : PUBLIC_MODE;
  await write(
    DEPLOYMENT_STATE_FILE,
    (existing) => renderDeploymentState(state, existing, { privateKeys, timeZone: opts.timeZone }),
    mode
  );
  return { changed };
}

/** Removes the events file of a cluster that is gone; true when there was one. */
export async function removeClusterEventsFile(workDir: string, clusterName: string): Promise<boolean> {
  try {
    await fs.unlink(path.join(workDir, clusterEventsFile(clusterName)));
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
