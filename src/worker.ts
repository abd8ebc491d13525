/** The worker: runs the deployment workflow and its activities on one task queue. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities';
import type { PhaseDeps } from './activities/phase';
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
  /** Overrides (tests pass a shared bundle and small cache sizes). */
  overrides?: Partial<WorkerOptions>;
}

/** Creates a worker for the deployment workflow. */
export async function createWorker(setup: WorkerSetup): Promise<Worker> {
  const workflowSource: Partial<WorkerOptions> = existsSync(WORKFLOW_BUNDLE)
    ? { workflowBundle: { codePath: WORKFLOW_BUNDLE } }
    : { workflowsPath: require.resolve('./workflows') };
  return Worker.create({
    connection: setup.connection,
    namespace: setup.namespace ?? 'default',
    taskQueue: setup.taskQueue ?? DEFAULT_TASK_QUEUE,
    activities: createActivities(setup.deps),
    ...workflowSource,
    maxCachedWorkflows: 200,
    shutdownGraceTime: '5s',
    ...setup.overrides,
  });
}

/** Connects with the TEMPORAL_* settings and runs a worker until SIGINT/SIGTERM. */
export async function runWorker(
  taskQueue = process.env.K0RDENT_TASK_QUEUE ?? DEFAULT_TASK_QUEUE
): Promise<void> {
  const settings = connectionSettings();
  const connection = await NativeConnection.connect(settings.options);
  try {
    const worker = await createWorker({ connection, namespace: settings.namespace, taskQueue });
    console.log(`worker polling task queue ${taskQueue} on ${settings.options.address}`);
    await worker.run();
  } finally {
    await connection.close();
  }
}
