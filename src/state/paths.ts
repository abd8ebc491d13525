/** Where the Bash tool keeps its state files, relative to the deployment folder. */
import * as path from 'node:path';

/** Folder of the state and events files. */
export const STATE_DIR = 'state';
/** The deployment state file. */
export const DEPLOYMENT_STATE_FILE = 'state/deployment-state.yaml';
/** The deployment events file. */
export const DEPLOYMENT_EVENTS_FILE = 'state/deployment-events.yaml';
/** The file holding the cluster id. */
export const CLUSTER_ID_FILE = '.clusterid';
/** Folder of archived deployments and the history file. */
export const ARCHIVE_DIR = 'old_deployments';
/** The deployment history file. */
export const HISTORY_FILE = 'old_deployments/deployment-history.yaml';
/** Folder of the WireGuard key files. */
export const WIREGUARD_DIR = 'wireguard';

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Throws unless `name` can be used as one path segment (no separators, no leading dot). */
export function assertSafeName(what: string, name: string): void {
  if (!SAFE_NAME.test(name)) {
    throw new Error(`${what} "${name}" cannot be used in a file name (letters, digits, '.', '_', '-' only)`);
  }
}

/** Events file of a child or regional cluster, e.g. `state/cluster-kof-regional-x-events.yaml`. */
export function clusterEventsFile(clusterName: string): string {
  assertSafeName('cluster name', clusterName);
  return `${STATE_DIR}/cluster-${clusterName}-events.yaml`;
}

/** The cluster name of a `cluster-<name>-events.yaml` file name, or undefined for other names. */
export function clusterNameOfEventsFile(baseName: string): string | undefined {
  return /^cluster-(.+)-events\.yaml$/.exec(baseName)?.[1];
}

/** Private-key file of a WireGuard peer, e.g. `wireguard/mylaptop_privkey`. */
export function privateKeyFile(peer: string): string {
  assertSafeName('WireGuard peer name', peer);
  return `${WIREGUARD_DIR}/${peer}_privkey`;
}

/** `rel` resolved against the deployment folder; throws when it points outside that folder. */
export function resolveInside(workDir: string, rel: string): string {
  const root = path.resolve(workDir);
  const abs = path.resolve(root, rel);
  if (!abs.startsWith(root + path.sep)) throw new Error(`${rel} is outside the deployment folder ${root}`);
  return abs;
}
