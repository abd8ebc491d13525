/** `k0rdent-deploy deploy`: start the folder's deployment, or attach to it, and follow it. */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { ConfigError } from '../config/load';
import { kofSettingsIssues } from '../config/validate';
import { deployerIdentity, readClusterId, readOrCreateClusterId } from '../config/naming';
import { activityPolicy } from '../config/policy';
import { azureTarget, emulatorTarget } from '../azure/target';
import type { LocalWorld } from '../local-world';
import { importLegacyState } from '../state/legacy';
import type { DeploymentInput, DeploymentState } from '../workflows/messages';
import {
  DEPLOYMENT_WORKFLOW,
  SearchAttributeKeys,
  componentsSignal,
  resumeSignal,
  stateQuery,
  workflowIdFor,
} from '../workflows/messages';
import { initialState } from '../workflows/state';
import { UsageError, parse, workDirOf } from './args';
import type { Handle } from './session';
import {
  connect,
  pageLink,
  deploymentId,
  workerPolls,
  isRunning,
  startEmbeddedWorker,
  loadConfig,
  resolveFlags,
  requireLocalWorld,
} from './session';
import { folderTimes, renderTable, watch, settled } from './progress';

/** Starts or attaches to a deployment and follows it; `world` serves `--cloud emulator`. */
export async function deploy(args: string[], world?: LocalWorld): Promise<number> {
  const v = parse(args, {
    config: { type: 'string' },
    'with-kof': { type: 'boolean' },
    'with-azure-children': { type: 'boolean' },
    detach: { type: 'boolean' },
    'no-worker': { type: 'boolean' },
    cloud: { type: 'string' },
  });
  const workDir = workDirOf(v.dir);
  const { config, file } = loadConfig(workDir, v.config);
  const cloud = v.cloud ?? config.orchestrator.cloud;
  if (cloud !== 'emulator' && cloud !== 'azure')
    throw new UsageError(`--cloud ${String(cloud)}: use emulator or azure`);
  if (cloud === 'emulator') requireLocalWorld(world);
  const azure = cloud === 'azure' ? azureTarget(config.azure) : undefined;
  const { flags, notices } = resolveFlags(config, v['with-kof'] === true, v['with-azure-children'] === true);
  // kof.enabled turns the KOF checks on while loading; --with-kof alone must not skip them.
  const issues = [
    ...(azure?.issues ?? []),
    ...(flags.kof && !config.kof.enabled ? kofSettingsIssues(config) : []),
  ];
  if (issues.length > 0) throw new ConfigError(file, issues);
  for (const n of notices) console.log(`notice: ${n}`);
  if (typeof v.id === 'string') await deploymentId(workDir, v.id);
  // Bad connection settings are refused before the folder gets anything.
  const { client, uiUrl } = await connect(workDir);
  await fs.mkdir(workDir, { recursive: true });
  const stateFile = path.join(workDir, 'state', 'deployment-state.yaml');
  const id = typeof v.id === 'string' ? v.id : await folderClusterId(workDir);
  const taskQueue = config.orchestrator.task_queue;
  const handle: Handle = client.workflow.getHandle(workflowIdFor(id));
  // The folder's earlier runs time this one: the workflow shows them in the Web UI, the CLI as it follows.
  const times = await folderTimes(workDir, id);
  let attached = await isRunning(handle);
  if (!attached) {
    const base = {
      deploymentId: id,
      workDir,
      configFile: file,
      config,
      flags,
      deployer: deployerIdentity(config),
      policy: activityPolicy(config),
    };
    // A state file is checked before anything starts, so a refused one leaves no emulator behind.
    let adopted: DeploymentState | undefined;
    if (existsSync(stateFile)) {
      const imported = await importLegacyState(
        workDir,
        initialState(base, new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'))
      );
      adopted = imported.state;
      for (const note of imported.notes) console.log(`adopting ${stateFile}: ${note}`);
    }
    let target = azure?.target;
    if (!target) {
      const emulator = await requireLocalWorld(world).startCloud(path.join(workDir, 'state'));
      console.log(
        `ARM emulator: ${emulator.endpoint} (resources and request counts: ${emulator.adminUrl}/resources, /counts)`
      );
      target = emulatorTarget(emulator.endpoint, emulator.caFile);
    }
    const input: DeploymentInput = {
      ...base,
      cloud: target,
      ...(adopted ? { adopted } : {}),
      ...(Object.keys(times).length > 0 ? { phaseTimes: times } : {}),
    };
    try {
      await client.workflow.start(DEPLOYMENT_WORKFLOW, {
        workflowId: id,
        taskQueue,
        args: [input],
        staticSummary: `k0rdent ${id}: ${config.cluster.controllers.count} controller(s) + ${config.cluster.workers.count} worker(s) in ${config.azure.location}`,
        typedSearchAttributes: [
          { key: SearchAttributeKeys.deploymentId, value: id },
          { key: SearchAttributeKeys.status, value: 'in_progress' },
        ],
      });
      console.log(`started deployment ${id} (task queue ${taskQueue})`);
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      attached = true;
    }
  }
  if (attached) {
    console.log(`deployment ${id} is already running: attaching`);
    const current = (await workerPolls(client, handle)) ? await handle.query(stateQuery) : undefined;
    if (current && (current.flags.kof !== flags.kof || current.flags.azureChildren !== flags.azureChildren)) {
      await handle.signal(componentsSignal, flags);
    }
    if (current && current.status === 'completed') await handle.signal(resumeSignal);
  }
  const link = await pageLink(client, uiUrl, handle);
  if (link) console.log(`Web UI: ${link}`);
  console.log(`state file: ${path.join(workDir, 'state', 'deployment-state.yaml')}`);
  if (v.detach) return 0;
  const worker = v['no-worker']
    ? undefined
    : await startEmbeddedWorker(workDir, taskQueue, config.orchestrator.worker, world);
  const interrupted = new Promise<'interrupted'>((resolve) =>
    process.once('SIGINT', () => resolve('interrupted'))
  );
  try {
    const outcome = await Promise.race([watch(handle, settled, { times }), interrupted]);
    if (outcome === 'interrupted') {
      console.log(
        `\ninterrupted: deployment ${id} is kept and continues when a worker runs (k0rdent-deploy worker, or deploy again)`
      );
      return 130;
    }
    console.log(renderTable(outcome, times));
    return outcome.status === 'completed' ? 0 : 1;
  } finally {
    await worker?.stop();
  }
}

/**
 * The folder's cluster id, written to `.clusterid` when there is none yet. A state file without a
 * `.clusterid` is refused: a new id would never match it, and the file says which id to restore.
 */
async function folderClusterId(workDir: string): Promise<string> {
  const known = await readClusterId(workDir);
  if (known !== undefined) return known;
  const stateFile = path.join(workDir, 'state', 'deployment-state.yaml');
  if (existsSync(stateFile)) {
    throw new UsageError(
      `${stateFile}: found, but ${path.join(workDir, '.clusterid')} is missing; put the deployment id of ` +
        'that state file (its deployment_id) into .clusterid, or move the state file away'
    );
  }
  return (await readOrCreateClusterId(workDir)).id;
}
