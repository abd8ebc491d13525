/** Activities that write the state files: projection after every transition, archive, history. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { log } from '@temporalio/activity';
import { archiveDeployment, recordDeploymentHistory } from '../state/archive';
import { DurationsFileError, recordPhaseDurations } from '../state/durations';
import { projectState as writeProjection } from '../state/projection';
import type { ArchiveInput, ProjectionInput } from '../workflows/messages';

/** Durations-file problems already logged by this worker, so each is logged once. */
const warned = new Set<string>();

/** Writes the state, events and cluster-events files for a snapshot; a repeated snapshot changes nothing. */
export async function projectState(input: ProjectionInput): Promise<number> {
  const { changed } = await writeProjection(input.workDir, input.state, {
    writePrivateKeys: input.writePrivateKeys,
  });
  try {
    await recordPhaseDurations(input.workDir, input.state);
  } catch (err) {
    // A durations file that cannot be read costs the ETAs, never the deployment: warn once and go on.
    if (!(err instanceof DurationsFileError)) throw err;
    if (!warned.has(err.message)) log.warn(err.message);
    warned.add(err.message);
  }
  return changed.length;
}

/** Copies or moves the state files into `old_deployments/<id>_<timestamp>_<reason>/`; returns that folder. */
export async function archiveState(input: ArchiveInput): Promise<string> {
  const dir = await archiveDeployment(
    input.workDir,
    input.deploymentId,
    input.reason,
    new Date(input.at),
    input.mode
  );
  if (input.forgetClusterId) await fs.rm(path.join(input.workDir, '.clusterid'), { force: true });
  return dir;
}

/** Appends the run to `old_deployments/deployment-history.yaml` (once). */
export async function recordHistory(input: {
  workDir: string;
  entry: { cluster_id: string; deployed_at: string; config_file: string; deployer: string };
}): Promise<void> {
  await recordDeploymentHistory(input.workDir, input.entry);
}
