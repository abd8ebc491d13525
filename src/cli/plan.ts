/** `k0rdent-deploy plan`: what deploy, rollback or reset would do, from a workflow that only reads. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { defaultPayloadConverter, fromPayloadsAtIndex } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { ConfigError } from '../config/load';
import { CLUSTER_ID_FILE, deployerIdentity, generateClusterId, readClusterId } from '../config/naming';
import { azureTarget, emulatorTarget } from '../azure/target';
import type { LocalWorld } from '../local-world';
import { importLegacyState } from '../state/legacy';
import { renderPlan } from './plan-view';
import type { DeploymentInput } from '../workflows/messages';
import type { PlanInput, PlanRequest, planWorkflow } from '../workflows/plan';
import { planRefusal } from '../workflows/plan';
import { workflowIdFor } from '../workflows/messages';
import { PHASES, isPhaseName } from '../workflows/phases';
import { initialState } from '../workflows/state';
import type { Values } from './args';
import { UsageError, parse, workDirOf } from './args';
import type { Handle } from './session';
import {
  connect,
  deploymentId,
  liveState,
  isRunning,
  startEmbeddedWorker,
  loadConfig,
  resolveFlags,
  requireLocalWorld,
} from './session';

/** The input a running deployment started with (its config, target and folder), from its start event. */
async function startedInput(client: Client, handle: Handle): Promise<DeploymentInput> {
  const response = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId: handle.workflowId },
    maximumPageSize: 1,
  });
  const started = response.history?.events?.[0]?.workflowExecutionStartedEventAttributes;
  const input = fromPayloadsAtIndex<DeploymentInput>(defaultPayloadConverter, 0, started?.input?.payloads);
  if (!input?.config || !input.cloud)
    throw new Error(`the start event of ${handle.workflowId} holds no input`);
  return input;
}

function planRequest(args: string[]): { request: PlanRequest; rest: string[] } {
  const [first, ...others] = args;
  if (first === undefined || first.startsWith('-')) return { request: { action: 'deploy' }, rest: args };
  if (first === 'deploy' || first === 'reset') return { request: { action: first }, rest: others };
  if (first === 'rollback') return { request: { action: 'rollback', toPhase: '' }, rest: others };
  throw new UsageError(`plan ${first}: plan deploy, plan rollback --to PHASE or plan reset`);
}

export async function plan(args: string[], world?: LocalWorld): Promise<number> {
  const { request, rest } = planRequest(args);
  const v = parse(rest, {
    to: { type: 'string' },
    json: { type: 'boolean' },
    config: { type: 'string' },
    cloud: { type: 'string' },
    'with-kof': { type: 'boolean' },
    'with-azure-children': { type: 'boolean' },
  });
  if (request.action === 'rollback') {
    if (typeof v.to !== 'string') throw new UsageError('plan rollback needs --to PHASE');
    if (!isPhaseName(v.to))
      throw new UsageError(`--to ${v.to}: unknown phase; phases are ${PHASES.map((p) => p.name).join(', ')}`);
    request.toPhase = v.to;
  } else if (v.to !== undefined)
    throw new UsageError(`--to belongs to plan rollback, not plan ${request.action}`);
  const workDir = workDirOf(v.dir);
  const known = typeof v.id === 'string' ? await deploymentId(workDir, v.id) : await readClusterId(workDir);
  // A folder never deployed gets its id at its first deploy; the plan names things with one drawn now.
  const id = known ?? generateClusterId();
  const { client } = await connect(workDir);
  const handle: Handle = client.workflow.getHandle(workflowIdFor(id));
  const running = await isRunning(handle);
  const input = running
    ? await runningPlanInput(client, handle)
    : await folderPlanInput(workDir, id, v, world);
  input.request = request;
  if (!known && !v.json)
    console.log(`no ${CLUSTER_ID_FILE} in ${workDir}: deploy would draw a new id; names below use ${id}`);
  if (running) {
    const queried = await liveState(client, handle);
    // A worker started here for a query would also move the deployment on: plan from its state file.
    if (!queried) console.error(`no worker is running for ${id}: planning from its state file`);
    const state = queried ?? (await importLegacyState(workDir, input.state)).state;
    Object.assign(input, { state, flags: state.flags });
  }
  // The plan runs on a task queue of its own, so its worker takes no task of any deployment.
  const taskQueue = `k0rdent-plan-${id}-${process.pid}`;
  const worker = await startEmbeddedWorker(workDir, taskQueue, input.config.orchestrator.worker, world);
  const run = () => {
    const refusal = planRefusal(input.state, request);
    if (refusal) throw new UsageError(`plan ${requestWords(request)}: ${refusal}`);
    return client.workflow.execute<typeof planWorkflow>('planWorkflow', {
      workflowId: `plan-${id}-${Date.now().toString(36)}`,
      taskQueue,
      args: [input],
    });
  };
  try {
    // On the stand-in cloud, the world counts what it was asked to change while the plan ran.
    const { result, writes } =
      input.cloud.cloud === 'emulator' && world
        ? await world.writesDuring(input.cloud, run)
        : { result: await run(), writes: undefined };
    if (v.json) console.log(JSON.stringify(writes ? { ...result, emulatorWrites: writes } : result, null, 2));
    else {
      console.log(renderPlan(result));
      if (writes)
        console.log(
          `the emulator saw ${writes.length ? writes.join(', ') : '0 writes'} while this plan ran (ARM writes and tool commands that change something)`
        );
    }
  } finally {
    await worker?.stop();
  }
  return 0;
}

function requestWords(r: PlanRequest): string {
  return r.action === 'rollback' ? `rollback --to ${r.toPhase}` : r.action;
}

/** A running deployment's plan input: its own config, target and folder; the state comes from its query. */
async function runningPlanInput(client: Client, handle: Handle): Promise<PlanInput> {
  const started = await startedInput(client, handle);
  const state = initialState(started, new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'));
  return { ...started, state, request: { action: 'deploy' } };
}

/** A folder's plan input when no workflow runs: its config, and the state file if there is one. */
async function folderPlanInput(
  workDir: string,
  id: string,
  v: Values,
  world: LocalWorld | undefined
): Promise<PlanInput> {
  const { config, file } = loadConfig(workDir, v.config);
  const cloud = v.cloud ?? config.orchestrator.cloud;
  if (cloud !== 'emulator' && cloud !== 'azure')
    throw new UsageError(`--cloud ${String(cloud)}: use emulator or azure`);
  const azure = cloud === 'azure' ? azureTarget(config.azure) : undefined;
  if (azure && azure.issues.length > 0) throw new ConfigError(file, azure.issues);
  const { flags } = resolveFlags(config, v['with-kof'] === true, v['with-azure-children'] === true);
  const base = { deploymentId: id, deployer: deployerIdentity(config), configFile: file, config, flags };
  let state = initialState(base, new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'));
  if (existsSync(path.join(workDir, 'state', 'deployment-state.yaml')))
    state = (await importLegacyState(workDir, state)).state;
  let target = azure?.target;
  if (!target) {
    const emulator = await requireLocalWorld(world).startCloud(path.join(workDir, 'state'));
    target = emulatorTarget(emulator.endpoint, emulator.caFile);
  }
  return { deploymentId: id, workDir, config, cloud: target, flags, state, request: { action: 'deploy' } };
}
