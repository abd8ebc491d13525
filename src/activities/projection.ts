/** Activities that write the state files: projection after every transition, archive, history. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { log } from '@temporalio/activity';
import { archiveDeployment, recordDeploymentHistory } from '../state/archive';
import { ThreadPool } from '../thread-pool';
import type { ArchiveInput, ProjectionInput } from '../workflows/messages';
import type { ProjectionOutcome } from './projection-thread';

/**
 * Renders and writes the projections on a thread: parsing, rendering and writing the files costs
 * milliseconds of CPU each. The thread takes every projection at once, as they mostly wait on the disk,
 * and runs those of one deployment folder one after another.
 */
const projections = new ThreadPool<ProjectionInput, ProjectionOutcome>({
  file: path.join(__dirname, 'projection-thread.js'),
  size: 1,
  what: 'state projection failed',
  jobsPerThread: Number.MAX_SAFE_INTEGER,
  // A state file is tens of kilobytes: a small heap, collected often, keeps the worker's memory down.
  resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 8 },
});

/** Durations-file problems already logged by this worker, so each is logged once. */
const warned = new Set<string>();

/** Writes the state, events and cluster-events files for a snapshot; a repeated snapshot changes nothing. */
export async function projectState(input: ProjectionInput): Promise<number> {
  const { changed, durationsProblem } = await projections.run(input);
  // A durations file that cannot be read costs the ETAs, never the deployment: warn once and go on.
  if (durationsProblem !== undefined && !warned.has(durationsProblem)) {
    log.warn(durationsProblem);
    warned.add(durationsProblem);
  }
  return changed;
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
