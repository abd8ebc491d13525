/** The worker: runs the deployment workflow and its activities on one task queue. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { WorkerOptions, WorkerTuner } from '@temporalio/worker';
import type { PhaseDeps } from './activities/phase';
import { createActivities, defaultDeps } from './activities';
import type { LocalWorld } from './local-world';
import { DEFAULT_CONFIG } from './config/defaults';
import type { WorkerTuning } from './config/types';
import { setKeygenThreads } from './hosts/keygen';
import { connectionSettings } from './temporal/connection';
import { DEFAULT_TASK_QUEUE } from './workflows/messages';

/** The prebuilt workflow bundle written by `npm run build`. */
export const WORKFLOW_BUNDLE = path.resolve(__dirname, '..', 'workflow-bundle.js');

/** Options of `createWorker`. */
export interface WorkerSetup {
  connection: NativeConnection;
  namespace?: string;
  taskQueue?: string;
  deps?: PhaseDeps;
  /** The local world whose stand-in cloud some deployments may use (none in production). */
  world?: LocalWorld;
  /** Load limits (default: the config defaults, `orchestrator.worker`). */
  tuning?: WorkerTuning;
  /** Overrides (tests pass a shared bundle and small cache sizes). */
  overrides?: Partial<WorkerOptions>;
}

/** Creates a worker for the deployment workflow. */
export async function createWorker(setup: WorkerSetup): Promise<Worker> {
  const workflowSource: Partial<WorkerOptions> = existsSync(WORKFLOW_BUNDLE)
    ? { workflowBundle: { codePath: WORKFLOW_BUNDLE } }
    : { workflowsPath: require.resolve('./workflows') };
  const tuning = setup.tuning ?? DEFAULT_CONFIG.orchestrator.worker;
  setKeygenThreads(tuning.keygen_threads);
  return Worker.create({
    connection: setup.connection,
    namespace: setup.namespace ?? 'default',
    taskQueue: setup.taskQueue ?? DEFAULT_TASK_QUEUE,
    activities: createActivities(setup.deps ?? defaultDeps({}, setup.world)),
    ...workflowSource,
    tuner: tunerFor(tuning),
    // Every open deployment stays cached: a cache miss replays its whole history.
    maxCachedWorkflows: 500,
    // A busy worker leaves a cached workflow's next task on its sticky queue for a while; past this the
    // server times the task out and hands it to any worker, which replays the whole history. Waiting
    // longer costs nothing: the task is picked up once a workflow task slot frees.
    stickyQueueScheduleToStartTimeout: '60s',
    shutdownGraceTime: '5s',
    ...setup.overrides,
  });
}

/**
 * The slot suppliers of a tuning. A worker whose slots are taken polls no more tasks of that kind: the
 * server keeps them queued (their schedule-to-start time has no limit), so a new deployment waits instead
 * of crowding the ones under way into heartbeat and workflow task timeouts.
 */
export function tunerFor(t: WorkerTuning): WorkerTuner {
  if (t.tuner === 'resource') {
    const tunerOptions = {
      targetCpuUsage: t.target_cpu_percent / 100,
      targetMemoryUsage: t.target_memory_percent / 100,
    };
    return {
      tunerOptions,
      workflowTaskSlotOptions: { minimumSlots: 2, maximumSlots: t.max_workflow_tasks },
      activityTaskSlotOptions: { minimumSlots: 1, maximumSlots: t.max_activities },
      localActivityTaskSlotOptions: { minimumSlots: 1, maximumSlots: t.max_local_activities },
    };
  }
  return {
    workflowTaskSlotSupplier: { type: 'fixed-size', numSlots: t.max_workflow_tasks },
    activityTaskSlotSupplier: { type: 'fixed-size', numSlots: t.max_activities },
    localActivityTaskSlotSupplier: { type: 'fixed-size', numSlots: t.max_local_activities },
    nexusTaskSlotSupplier: { type: 'fixed-size', numSlots: 1 },
  };
}

/** Connects with the TEMPORAL_* settings and runs a worker until SIGINT/SIGTERM. */
export async function runWorker(
  taskQueue = process.env.K0RDENT_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
  tuning: WorkerTuning = DEFAULT_CONFIG.orchestrator.worker,
  world?: LocalWorld
): Promise<void> {
  const settings = connectionSettings();
  const connection = await NativeConnection.connect(settings.options);
  try {
    const worker = await createWorker({
      connection,
      namespace: settings.namespace,
      taskQueue,
      tuning,
      world,
    });
    console.log(
      `worker polling task queue ${taskQueue} on ${settings.options.address} (${tuningLine(tuning)})`
    );
    await worker.run();
  } finally {
    await connection.close();
  }
}

/** One line naming a tuning's limits, for the worker's start-up message. */
export function tuningLine(t: WorkerTuning): string {
  const slots = `workflow tasks ${t.max_workflow_tasks}, activities ${t.max_activities}, local activities ${t.max_local_activities}`;
  const how =
    t.tuner === 'resource'
      ? `resource tuner at ${t.target_cpu_percent}% CPU, ${t.target_memory_percent}% memory, at most ${slots}`
      : `fixed slots: ${slots}`;
  return `${how}; key generation threads ${t.keygen_threads}`;
}
