/** What the commands share to reach a deployment: the server connection, the deployment's id and handle, an embedded worker, the folder's config. */
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfigFile, resolveConfigPath } from '../config/load';
import { readClusterId } from '../config/naming';
import type { K0rdentConfig, WorkerTuning } from '../config/types';
import { connectChecked, connectionSettings } from '../temporal/connection';
import { ensureDevServer } from '../temporal/dev-server';
import { configuredWebUi, workflowPageUrl } from '../temporal/web-ui';
import type { LocalWorld } from '../local-world';
import { NO_LOCAL_WORLD } from '../local-world';
import { createWorker } from '../worker';
import type { deploymentWorkflow } from '../workflows/deployment';
import type { DeploymentFlags, DeploymentState } from '../workflows/messages';
import { isDeploymentId, stateQuery } from '../workflows/messages';
import type { Values } from './args';
import { UsageError, workDirOf } from './args';

export type Handle = WorkflowHandle<typeof deploymentWorkflow>;

/** The local world that serves `--cloud emulator`; refused in one line when this installation has none. */
export function requireLocalWorld(world: LocalWorld | undefined): LocalWorld {
  if (!world) throw new UsageError(`--cloud emulator: ${NO_LOCAL_WORLD}`);
  return world;
}

/** A client of the configured server (the embedded one is started when needed) and its Web UI, if known. */
export async function connect(
  workDir: string
): Promise<{ client: Client; embedded: boolean; uiUrl?: string }> {
  const settings = connectionSettings();
  if (!settings.embedded) {
    return { client: await connectChecked(settings), embedded: false, uiUrl: configuredWebUi() };
  }
  const { uiUrl } = await ensureDevServer({ stateDir: path.join(workDir, 'state') });
  const connection = await Connection.connect(settings.options);
  return { client: new Client({ connection, namespace: settings.namespace }), embedded: true, uiUrl };
}

/** Starts the embedded dev server when it is the one configured, else checks the named server and namespace. */
export async function ensureServer(stateDir: string): Promise<void> {
  const settings = connectionSettings();
  if (settings.embedded) await ensureDevServer({ stateDir });
  else await (await connectChecked(settings)).connection.close();
}

/** The Web UI page of the deployment's current run, when the UI's address is known. */
export async function pageLink(
  client: Client,
  uiUrl: string | undefined,
  handle: Handle
): Promise<string | undefined> {
  if (!uiUrl) return undefined;
  const { runId } = await handle.describe();
  return workflowPageUrl(uiUrl, client.options.namespace, handle.workflowId, runId);
}

export async function deploymentId(workDir: string, id: unknown): Promise<string> {
  if (typeof id === 'string') {
    if (!isDeploymentId(id))
      throw new UsageError(`--id ${id}: not a deployment id (k0rdent-<8 lowercase letters or digits>)`);
    return id;
  }
  const found = await readClusterId(workDir);
  if (found === undefined)
    throw new UsageError(`no deployment in ${workDir} (no .clusterid); run deploy first or pass --id`);
  return found;
}

/** True when a worker polls the deployment's task queue (queries and updates need one). */
export async function workerPolls(client: Client, handle: Handle): Promise<boolean> {
  const { taskQueue } = await handle.describe();
  const res = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: 1,
  });
  return (res.pollers ?? []).length > 0;
}

/**
 * The state a worker answers for a running deployment, or undefined when none does. The server goes on
 * listing a worker that stopped as a poller for minutes, so a query that fails or takes 5 s says it is gone.
 */
export async function liveState(client: Client, handle: Handle): Promise<DeploymentState | undefined> {
  if (!(await workerPolls(client, handle))) return undefined;
  return client.withDeadline(Date.now() + 5000, () => handle.query(stateQuery)).catch(() => undefined);
}

export async function isRunning(handle: Handle): Promise<boolean> {
  try {
    return (await handle.describe()).status.name === 'RUNNING';
  } catch (err) {
    if ((err as Error).name === 'WorkflowNotFoundError') return false;
    throw err;
  }
}

export async function startEmbeddedWorker(
  workDir: string,
  taskQueue: string,
  tuning: WorkerTuning,
  world: LocalWorld | undefined
) {
  const settings = connectionSettings();
  const connection = await NativeConnection.connect(settings.options);
  const worker = await createWorker({ connection, namespace: settings.namespace, taskQueue, tuning, world });
  const running = worker.run().finally(() => connection.close());
  return {
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
    workDir,
  };
}

export function loadConfig(workDir: string, explicit: unknown): { config: K0rdentConfig; file: string } {
  const file = resolveConfigPath(workDir, typeof explicit === 'string' ? explicit : undefined);
  const { config, warnings } = loadConfigFile(file);
  for (const w of warnings) console.warn(`warning: ${w}`);
  return { config, file };
}

/** Works out the flags of this run: `--with-kof` or `kof.enabled` turn KOF on, and KOF needs the children. */
export function resolveFlags(
  config: K0rdentConfig,
  withKof: boolean,
  withChildren: boolean
): { flags: DeploymentFlags; notices: string[] } {
  const kof = withKof || config.kof.enabled;
  const notices: string[] = [];
  let azureChildren = withChildren;
  if (kof && !azureChildren) {
    azureChildren = true;
    notices.push('KOF needs the Azure child-cluster setup: setup_azure_children is enabled too');
  }
  return { flags: { kof, azureChildren }, notices };
}

/** The deployment named by --dir / --id, with a client connected to its server. */
export async function openDeployment(
  v: Values
): Promise<{ workDir: string; id: string; client: Client; handle: Handle; uiUrl?: string }> {
  const workDir = workDirOf(v.dir);
  const id = await deploymentId(workDir, v.id);
  const { client, uiUrl } = await connect(workDir);
  return { workDir, id, client, handle: client.workflow.getHandle(id), uiUrl };
}
