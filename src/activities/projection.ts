/** Activities that write the state files: projection after every transition, archive, history. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { archiveDeployment, recordDeploymentHistory } from '../state/archive';
import { projectState as writeProjection } from '../state/projection';
import type { ArchiveInput, ProjectionInput } from '../workflows/messages';

/** Writes the state, events and cluster-events files for a snapshot; a repeated snapshot changes nothing. */
export async function projectState(input: ProjectionInput): Promise<number> {
  const { changed } = await writeProjection(input.workDir, input.state, {
    writePrivateKeys: input.writePrivateKeys,
  });
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
