/** `k0rdent-deploy worker`: a worker with its load limits from config and flags. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_CONFIG_FILE, USER_CONFIG_FILE } from '../config/load';
import { DEFAULT_CONFIG } from '../config/defaults';
import type { WorkerTuning } from '../config/types';
import type { LocalWorld } from '../local-world';
import type { Values } from './args';
import { UsageError, parse, workDirOf } from './args';
import { ensureServer, loadConfig } from './session';

const TUNING_FLAGS = {
  'max-workflow-tasks': 'max_workflow_tasks',
  'max-activities': 'max_activities',
  'max-local-activities': 'max_local_activities',
  'keygen-threads': 'keygen_threads',
} as const;

/** The worker's load limits: the config's `orchestrator.worker`, then the flags. */
function workerTuning(v: Values, workDir: string): WorkerTuning {
  // A worker serves every deployment on its queue: the folder's config only when there is one.
  const hasConfig =
    typeof v.config === 'string' ||
    [USER_CONFIG_FILE, DEFAULT_CONFIG_FILE].some((f) => existsSync(path.resolve(workDir, f)));
  const tuning = structuredClone(
    hasConfig ? loadConfig(workDir, v.config).config.orchestrator.worker : DEFAULT_CONFIG.orchestrator.worker
  );
  if (v.tuner !== undefined) {
    if (v.tuner !== 'fixed' && v.tuner !== 'resource')
      throw new UsageError(`--tuner ${String(v.tuner)}: use fixed or resource`);
    tuning.tuner = v.tuner;
  }
  for (const [flag, key] of Object.entries(TUNING_FLAGS)) {
    const raw = v[flag];
    if (raw === undefined) continue;
    const n = Number(raw);
    const min = key === 'max_workflow_tasks' ? 2 : 1;
    if (!Number.isInteger(n) || n < min || n > 2000)
      throw new UsageError(`--${flag} ${String(raw)}: a whole number from ${min} to 2000`);
    tuning[key] = n;
  }
  return tuning;
}

/** Runs a worker until it is stopped; `world` serves deployments on its stand-in cloud. */
export async function worker(args: string[], world?: LocalWorld): Promise<number> {
  const v = parse(args, {
    'task-queue': { type: 'string' },
    config: { type: 'string' },
    tuner: { type: 'string' },
    ...Object.fromEntries(Object.keys(TUNING_FLAGS).map((f) => [f, { type: 'string' as const }])),
  });
  const workDir = workDirOf(v.dir);
  const tuning = workerTuning(v, workDir);
  const { runWorker } = await import('../worker');
  await ensureServer(path.join(workDir, 'state'));
  await runWorker(typeof v['task-queue'] === 'string' ? v['task-queue'] : undefined, tuning, world);
  return 0;
}
