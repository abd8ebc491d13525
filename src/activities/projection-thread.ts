/** The thread of `projection.ts`: writes a snapshot's state files and records its phase durations. */
import { DurationsFileError, recordPhaseDurations } from '../state/durations';
import { projectState } from '../state/projection';
import { serveJobs } from '../thread-pool';
import type { ProjectionInput } from '../workflows/messages';

/** What a projection did: how many files changed, and why the durations file could not be read, if so. */
export interface ProjectionOutcome {
  changed: number;
  durationsProblem?: string;
}

/** The last projection of each deployment folder, which the next one waits for. */
const latest = new Map<string, Promise<unknown>>();

async function project(input: ProjectionInput): Promise<ProjectionOutcome> {
  const { changed } = await projectState(input.workDir, input.state, {
    writePrivateKeys: input.writePrivateKeys,
  });
  try {
    await recordPhaseDurations(input.workDir, input.state);
  } catch (err) {
    if (!(err instanceof DurationsFileError)) throw err;
    return { changed: changed.length, durationsProblem: err.message };
  }
  return { changed: changed.length };
}

serveJobs((input: ProjectionInput) => {
  const previous = latest.get(input.workDir) ?? Promise.resolve();
  const run = previous.then(() => project(input));
  const settled = run.catch(() => undefined);
  latest.set(input.workDir, settled);
  void settled.then(() => {
    if (latest.get(input.workDir) === settled) latest.delete(input.workDir);
  });
  return run;
});
