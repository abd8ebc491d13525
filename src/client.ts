/** The `k0rdent-deploy` command line: deploy, plan, status, list, rollback, resume, reset, sweep, worker, demo. */
import { spawn } from 'node:child_process';
import { existsSync, openSync, statSync, promises as fs } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { defaultPayloadConverter, fromPayloadsAtIndex } from '@temporalio/common';
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { LogLevel } from '@temporalio/worker';
import {
  ConfigError,
  DEFAULT_CONFIG_FILE,
  USER_CONFIG_FILE,
  loadConfigFile,
  resolveConfigPath,
} from './config/load';
import { kofSettingsIssues } from './config/validate';
import {
  CLUSTER_ID_FILE,
  deployerIdentity,
  generateClusterId,
  readClusterId,
  readOrCreateClusterId,
} from './config/naming';
import { activityPolicy } from './config/policy';
import { DEFAULT_CONFIG } from './config/defaults';
import type { K0rdentConfig, WorkerTuning } from './config/types';
import { azureTarget, emulatorTarget } from './azure/target';
import { ensureArmEmulator } from './emulator/processes';
import { worldCounts, worldWrites } from './emulator/world-writes';
import { DurationsFileError, readDurationSamples, timesOf } from './state/durations';
import { importLegacyState, readStateFile } from './state/legacy';
import { SettingsError, connectChecked, connectionSettings } from './temporal/connection';
import { PACKAGE_ROOT, ensureDevServer } from './temporal/dev-server';
import { configuredWebUi, workflowListUrl, workflowPageUrl } from './temporal/web-ui';
import { renderPlan } from './plan-view';
import { runSweep } from './sweep';
import { createWorker } from './worker';
import type { deploymentWorkflow } from './workflows/deployment';
import type { Eta, EtaInput, PhaseEta, PhaseTimes } from './workflows/eta';
import { estimate, formatDuration, formatPhaseTime, remainingLine } from './workflows/eta';
import type { DeploymentFlags, DeploymentInput, DeploymentState } from './workflows/messages';
import type { PlanInput, PlanRequest, planWorkflow } from './workflows/plan';
import { planRefusal } from './workflows/plan';
import {
  DEPLOYMENT_WORKFLOW,
  SearchAttributeKeys,
  SearchAttributeNames,
  componentsSignal,
  isDeploymentId,
  resetSignal,
  resetUpdate,
  resumeSignal,
  rollbackSignal,
  rollbackUpdate,
  stateQuery,
  workflowIdFor,
} from './workflows/messages';
import { PHASES, isPhaseName } from './workflows/phases';
import { initialState } from './workflows/state';

/** A usage or input problem: printed without a stack, exit code 2. */
export class UsageError extends Error {}

/** `--help` / `-h` given to a command: the usage is printed and nothing else happens. */
class HelpRequested extends Error {}

const USAGE = `usage: k0rdent-deploy <command> [options]

commands:
  deploy   [--config FILE] [--cloud emulator|azure] [--with-kof] [--with-azure-children] [--detach] [--no-worker]
           start the deployment of this folder, or attach to it when it runs; shows progress
  plan     [deploy | rollback --to PHASE | reset] [--json] [--config FILE] [--cloud emulator|azure]
           [--with-kof] [--with-azure-children]
           what that command would do, per phase and per resource, from checks that change nothing
  status   [--json]             the deployment's phases with status, timestamps and durations
  list                          every deployment known to the Temporal server
  rollback --to PHASE [--resume] roll back to PHASE (and continue at once with --resume)
  resume                        continue after a failure or a rollback
  reset    [--yes]              undo everything, archive the state to old_deployments/, end the deployment
  sweep    [--delete] [--json]  tagged Azure resources no live deployment accounts for; --delete removes
           them (exit 3: strays found and left)
  worker   [--task-queue Q] [--config FILE] [--tuner fixed|resource] [--max-workflow-tasks N]
           [--max-activities N] [--max-local-activities N] [--keygen-threads N]
           run a worker (keeps deployments moving while nothing else runs); load limits from
           orchestrator.worker of the config, then the flags
  demo                          dev server + Web UI + worker + a full deployment in the local world

common options:
  --dir DIR      deployment folder (default: current directory); holds state/, .clusterid, keys
  --id ID        deployment id (default: the folder's .clusterid)
Temporal connection: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TLS_* ... (default: embedded dev server)
Web UI links: the embedded dev server's, else K0RDENT_WEB_UI (e.g. http://localhost:8080)`;

const COMMON = {
  dir: { type: 'string' },
  id: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Handle = WorkflowHandle<typeof deploymentWorkflow>;

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;
type Values = Record<string, string | boolean | undefined>;

function parse(args: string[], options: OptionSpec): Values {
  let values: Values;
  try {
    ({ values } = parseArgs({
      args,
      options: { ...COMMON, ...options },
      allowPositionals: false,
      strict: true,
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${USAGE}`);
  }
  if (values.help) throw new HelpRequested();
  const empty = Object.keys(values).find((name) => values[name] === '');
  if (empty !== undefined) throw new UsageError(`--${empty}: needs a value`);
  return values;
}

/** The deployment folder of `--dir` (default: the current directory); refuses a path that is no folder. */
function workDirOf(dir: unknown): string {
  const workDir = path.resolve(typeof dir === 'string' ? dir : process.cwd());
  let isDirectory = true;
  try {
    isDirectory = statSync(workDir).isDirectory();
  } catch {
    // A folder that does not exist yet: deploy creates it, the other commands find no deployment there.
  }
  if (!isDirectory) throw new UsageError(`--dir ${String(dir)}: not a directory`);
  return workDir;
}

/** A client of the configured server (the embedded one is started when needed) and its Web UI, if known. */
async function connect(workDir: string): Promise<{ client: Client; embedded: boolean; uiUrl?: string }> {
  const settings = connectionSettings();
  if (!settings.embedded) {
    return { client: await connectChecked(settings), embedded: false, uiUrl: configuredWebUi() };
  }
  const { uiUrl } = await ensureDevServer({ stateDir: path.join(workDir, 'state') });
  const connection = await Connection.connect(settings.options);
  return { client: new Client({ connection, namespace: settings.namespace }), embedded: true, uiUrl };
}

/** Starts the embedded dev server when it is the one configured, else checks the named server and namespace. */
async function ensureServer(stateDir: string): Promise<void> {
  const settings = connectionSettings();
  if (settings.embedded) await ensureDevServer({ stateDir });
  else await (await connectChecked(settings)).connection.close();
}

/** The Web UI page of the deployment's current run, when the UI's address is known. */
async function pageLink(
  client: Client,
  uiUrl: string | undefined,
  handle: Handle
): Promise<string | undefined> {
  if (!uiUrl) return undefined;
  const { runId } = await handle.describe();
  return workflowPageUrl(uiUrl, client.options.namespace, handle.workflowId, runId);
}

async function deploymentId(workDir: string, id: unknown): Promise<string> {
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
async function workerPolls(client: Client, handle: Handle): Promise<boolean> {
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
async function liveState(client: Client, handle: Handle): Promise<DeploymentState | undefined> {
  if (!(await workerPolls(client, handle))) return undefined;
  return client.withDeadline(Date.now() + 5000, () => handle.query(stateQuery)).catch(() => undefined);
}

async function isRunning(handle: Handle): Promise<boolean> {
  try {
    return (await handle.describe()).status.name === 'RUNNING';
  } catch (err) {
    if ((err as Error).name === 'WorkflowNotFoundError') return false;
    throw err;
  }
}

const SYMBOL: Record<string, string> = {
  completed: '✓',
  in_progress: '⏳',
  pending: '○',
  skipped: '⏭',
  failed: '✗',
  rolling_back: '↺',
};

/** The folder's phase times of deployments before `id`; a durations file that cannot be read costs the ETAs only. */
async function folderTimes(workDir: string, id: string): Promise<PhaseTimes> {
  try {
    return timesOf(await readDurationSamples(workDir), id);
  } catch (err) {
    if (!(err instanceof DurationsFileError)) throw err;
    console.error(`warning: ${err.message}`);
    return {};
  }
}

/** One phase row of a table. */
interface PhaseRow {
  status: string;
  durationSeconds?: number;
  note: string;
}

/** The header line, one line per phase, then the error or the time left. */
function phaseTable(header: string, rows: PhaseRow[], eta: Eta, status: string, error?: string): string {
  const withTimes = eta.phases.some((p) => p.runs > 0);
  const lines = [header];
  PHASES.forEach((p, i) => {
    const r = rows[i] as PhaseRow;
    const e = eta.phases[i] as PhaseEta;
    const past = withTimes
      ? `${formatPhaseTime(e).padEnd(15)} ${e.pastP90 ? '⚠ past p90' : ''}`.padEnd(27)
      : '';
    lines.push(
      `  ${SYMBOL[r.status] ?? '?'} ${p.name.padEnd(23)} ${r.status.padEnd(12)} ${formatDuration(r.durationSeconds).padEnd(8)} ${past} ${r.note}`.trimEnd()
    );
  });
  if (error) lines.push(`  error: ${error}`);
  if (withTimes && status !== 'completed' && status !== 'reset') lines.push(`  ${remainingLine(eta)}`);
  return lines.join('\n');
}

/** The phase table the CLI prints; with past run times, each phase's median / p90 and the time left. */
export function renderTable(state: DeploymentState, times: PhaseTimes = {}, nowMs = Date.now()): string {
  const rows = PHASES.map((p) => {
    const r = state.phases[p.name];
    const note = r.status === 'skipped' ? (r.skippedReason ?? '') : (r.error ?? '');
    return { status: r.status, durationSeconds: r.durationSeconds, note };
  });
  return phaseTable(
    `${state.deploymentId}  ${state.status}${state.waitingFor ? ` (waiting for ${state.waitingFor})` : ''}`,
    rows,
    estimate(state, times, nowMs),
    state.status,
    state.status === 'failed' ? state.lastError : undefined
  );
}

/**
 * Prints each phase transition as it happens until `done(state)` says stop; with past run times, what a
 * starting phase usually takes and what is left in all, and a phase that runs past its p90.
 */
async function watch(
  handle: Handle,
  done: (s: DeploymentState) => boolean,
  opts: { quiet?: boolean; times?: PhaseTimes } = {}
): Promise<DeploymentState> {
  const seen = new Map<string, string>();
  const flagged = new Set<string>();
  const times = opts.times ?? {};
  let lastEvents = -1;
  for (;;) {
    let state: DeploymentState;
    try {
      state = await handle.query(stateQuery);
    } catch (err) {
      if (!(await isRunning(handle))) {
        const result = await handle.result();
        return result;
      }
      throw err;
    }
    if (!opts.quiet) {
      const eta = estimate(state, times, Date.now());
      PHASES.forEach((p, i) => {
        const r = state.phases[p.name];
        const e = eta.phases[i] as PhaseEta;
        const key = `${r.status}/${r.runs}`;
        if (r.status === 'in_progress' && e.pastP90 && !flagged.has(key + p.name)) {
          flagged.add(key + p.name);
          console.log(
            `⚠ ${p.title} has run ${formatDuration(e.elapsedSeconds)}, past its p90 of ${formatDuration(e.p90Seconds)}`
          );
        }
        if (seen.get(p.name) === key) return;
        const first = !seen.has(p.name);
        seen.set(p.name, key);
        if (first && (r.status === 'pending' || r.status === 'completed' || r.status === 'skipped')) return;
        const detail =
          r.status === 'completed'
            ? `in ${formatDuration(r.durationSeconds)}${e.pastP90 ? ` ⚠ past its p90 of ${formatDuration(e.p90Seconds)}` : ''}`
            : r.status === 'failed'
              ? (r.error ?? '')
              : r.status === 'skipped'
                ? (r.skippedReason ?? '')
                : r.status === 'in_progress' && e.medianSeconds !== undefined
                  ? `usually ${formatDuration(e.medianSeconds)} (p90 ${formatDuration(e.p90Seconds)}); ${remainingLine(eta)}`
                  : '';
        console.log(
          `${SYMBOL[r.status] ?? '?'} ${p.title.padEnd(28)} ${r.status.padEnd(12)} ${detail}`.trimEnd()
        );
      });
      const rejected = state.events
        .slice(Math.max(0, lastEvents))
        .filter((e) => e.action === 'request_rejected');
      if (lastEvents >= 0) for (const e of rejected) console.log(`! ${e.message}`);
      lastEvents = state.events.length;
    }
    if (done(state)) return state;
    await new Promise((r) => setTimeout(r, 500));
  }
}

const settled = (s: DeploymentState) =>
  s.status === 'completed' || s.status === 'failed' || s.status === 'paused';

async function startEmbeddedWorker(workDir: string, taskQueue: string, tuning: WorkerTuning) {
  const settings = connectionSettings();
  const connection = await NativeConnection.connect(settings.options);
  const worker = await createWorker({ connection, namespace: settings.namespace, taskQueue, tuning });
  const running = worker.run().finally(() => connection.close());
  return {
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
    workDir,
  };
}

function loadConfig(workDir: string, explicit: unknown): { config: K0rdentConfig; file: string } {
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

async function deploy(args: string[]): Promise<number> {
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
      const emulator = await ensureArmEmulator(path.join(workDir, 'state'));
      console.log(
        `ARM emulator: ${emulator.endpoint} (resources and request counts: ${emulator.adminUrl}/resources, /counts)`
      );
      target = emulatorTarget(emulator.endpoint, emulator.caFile);
    }
    const input: DeploymentInput = { ...base, cloud: target, ...(adopted ? { adopted } : {}) };
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
    : await startEmbeddedWorker(workDir, taskQueue, config.orchestrator.worker);
  const interrupted = new Promise<'interrupted'>((resolve) =>
    process.once('SIGINT', () => resolve('interrupted'))
  );
  try {
    const times = await folderTimes(workDir, id);
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

/** The deployment named by --dir / --id, with a client connected to its server. */
async function openDeployment(
  v: Values
): Promise<{ workDir: string; id: string; client: Client; handle: Handle; uiUrl?: string }> {
  const workDir = workDirOf(v.dir);
  const id = await deploymentId(workDir, v.id);
  const { client, uiUrl } = await connect(workDir);
  return { workDir, id, client, handle: client.workflow.getHandle(id), uiUrl };
}

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

async function plan(args: string[]): Promise<number> {
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
  const input = running ? await runningPlanInput(client, handle) : await folderPlanInput(workDir, id, v);
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
  const worker = await startEmbeddedWorker(workDir, taskQueue, input.config.orchestrator.worker);
  const emulated = input.cloud.cloud === 'emulator';
  try {
    const before = emulated ? await worldCounts(input.cloud) : undefined;
    const refusal = planRefusal(input.state, request);
    if (refusal) throw new UsageError(`plan ${requestWords(request)}: ${refusal}`);
    const result = await client.workflow.execute<typeof planWorkflow>('planWorkflow', {
      workflowId: `plan-${id}-${Date.now().toString(36)}`,
      taskQueue,
      args: [input],
    });
    const writes = before ? worldWrites(before, await worldCounts(input.cloud)) : undefined;
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
async function folderPlanInput(workDir: string, id: string, v: Values): Promise<PlanInput> {
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
    const emulator = await ensureArmEmulator(path.join(workDir, 'state'));
    target = emulatorTarget(emulator.endpoint, emulator.caFile);
  }
  return { deploymentId: id, workDir, config, cloud: target, flags, state, request: { action: 'deploy' } };
}

async function status(args: string[]): Promise<number> {
  const v = parse(args, { json: { type: 'boolean' } });
  const { workDir, id, client, handle, uiUrl } = await openDeployment(v);
  const running = await isRunning(handle);
  // The link goes to stderr with --json, so stdout stays one JSON document.
  const link = running ? await pageLink(client, uiUrl, handle) : undefined;
  const printLink = () => link && (v.json ? console.error : console.log)(`Web UI: ${link}`);
  const times = await folderTimes(workDir, id);
  const state = running ? await liveState(client, handle) : undefined;
  if (state) {
    const eta = estimate(state, times, Date.now());
    console.log(v.json ? JSON.stringify({ ...state, eta }, null, 2) : renderTable(state, times));
    printLink();
    return 0;
  }
  // Without a worker nothing can answer a query; the projection is the last known truth.
  const file = path.join(workDir, 'state', 'deployment-state.yaml');
  const projected = await readStateFile(workDir, id);
  console.error(`no worker is running for ${id}: showing ${file}`);
  const eta = estimate(projectedEtaInput(projected), times, Date.now());
  console.log(v.json ? JSON.stringify({ ...projected, eta }, null, 2) : renderProjectedTable(projected, eta));
  printLink();
  return 0;
}

type ProjectedPhase = {
  status?: string;
  started_at?: string;
  duration_seconds?: number;
  skipped_reason?: string;
  error?: string;
};

function projectedPhases(doc: Record<string, unknown>): Record<string, ProjectedPhase> {
  return (doc.phases ?? {}) as Record<string, ProjectedPhase>;
}

/** What an estimate reads, from a state file. */
function projectedEtaInput(doc: Record<string, unknown>): EtaInput {
  const phases = projectedPhases(doc);
  const flags = (doc.deployment_flags ?? {}) as Record<string, unknown>;
  return {
    phases: Object.fromEntries(
      PHASES.map((p) => {
        const r = phases[p.name] ?? {};
        return [
          p.name,
          {
            status: r.status ?? 'pending',
            ...(r.started_at ? { startedAt: r.started_at } : {}),
            ...(r.duration_seconds !== undefined ? { durationSeconds: r.duration_seconds } : {}),
          },
        ];
      })
    ) as EtaInput['phases'],
    flags: { azureChildren: flags.azure_children === true, kof: flags.kof === true },
  };
}

/** The phase table from a state file, when no worker can answer a query. */
function renderProjectedTable(doc: Record<string, unknown>, eta: Eta): string {
  const phases = projectedPhases(doc);
  const status = String(doc.orchestrator_status ?? doc.status);
  const rows = PHASES.map((p) => {
    const r = phases[p.name] ?? {};
    return {
      status: r.status ?? 'pending',
      durationSeconds: r.duration_seconds,
      note: r.skipped_reason ?? r.error ?? '',
    };
  });
  return phaseTable(`${String(doc.deployment_id)}  ${status}`, rows, eta, status);
}

async function list(args: string[]): Promise<number> {
  const v = parse(args, {});
  const { client, uiUrl } = await connect(workDirOf(v.dir));
  const query = `WorkflowType = '${DEPLOYMENT_WORKFLOW}'`;
  console.log(`${'deployment'.padEnd(18)} ${'workflow'.padEnd(11)} ${'status'.padEnd(13)} phase`);
  for await (const wf of client.workflow.list({ query })) {
    const attr = (name: string) => {
      const value = (wf.searchAttributes?.[name] as unknown[] | undefined)?.[0];
      return typeof value === 'string' ? value : '';
    };
    console.log(
      `${wf.workflowId.padEnd(18)} ${wf.status.name.padEnd(11)} ${attr(SearchAttributeNames.status).padEnd(13)} ${attr(SearchAttributeNames.phase)}`
    );
  }
  if (uiUrl) console.log(`Web UI: ${workflowListUrl(uiUrl, client.options.namespace, query)}`);
  return 0;
}

async function rollback(args: string[]): Promise<number> {
  const v = parse(args, { to: { type: 'string' }, resume: { type: 'boolean' } });
  if (typeof v.to !== 'string') throw new UsageError('rollback needs --to PHASE');
  if (!isPhaseName(v.to))
    throw new UsageError(`--to ${v.to}: unknown phase; phases are ${PHASES.map((p) => p.name).join(', ')}`);
  const { id, client, handle } = await openDeployment(v);
  const request = { toPhase: v.to, resume: v.resume === true };
  if (!(await workerPolls(client, handle))) {
    await handle.signal(rollbackSignal, request);
    console.log(
      `no worker is running: rollback to ${v.to} queued; it runs when a worker starts (k0rdent-deploy worker)`
    );
    return 0;
  }
  try {
    await handle.executeUpdate(rollbackUpdate, { args: [request] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      console.error(`rollback refused: ${err.cause?.message ?? err.message}`);
      return 2;
    }
    throw err;
  }
  console.log(`rolling back ${id} to ${v.to}`);
  const state = await watch(
    handle,
    (s) =>
      s.status !== 'rolling_back' &&
      s.rollbackTarget === v.to &&
      s.phases[v.to as 'install_k0s'].status !== 'rolling_back' &&
      (settled(s) || s.status === 'in_progress')
  );
  console.log(renderTable(state));
  return state.status === 'failed' ? 1 : 0;
}

async function resume(args: string[]): Promise<number> {
  const v = parse(args, { detach: { type: 'boolean' } });
  const { workDir, id, handle } = await openDeployment(v);
  await handle.signal(resumeSignal);
  console.log(`resume sent to ${id}`);
  if (v.detach) return 0;
  await new Promise((r) => setTimeout(r, 1000));
  const times = await folderTimes(workDir, id);
  const state = await watch(handle, settled, { times });
  console.log(renderTable(state, times));
  return state.status === 'completed' ? 0 : 1;
}

async function reset(args: string[]): Promise<number> {
  const v = parse(args, { yes: { type: 'boolean', short: 'y' } });
  const workDir = workDirOf(v.dir);
  const id = await deploymentId(workDir, v.id);
  if (!v.yes) {
    if (!process.stdin.isTTY)
      throw new UsageError('reset deletes everything the deployment made; pass --yes to confirm');
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question(
      `Reset ${id}: every resource it made is deleted. Type "yes" to continue: `
    );
    rl.close();
    if (answer.trim() !== 'yes') {
      console.log('reset cancelled');
      return 1;
    }
  }
  const { client } = await connect(workDir);
  const handle: Handle = client.workflow.getHandle(id);
  if (!(await workerPolls(client, handle))) {
    await handle.signal(resetSignal, { reason: 'full-reset' });
    console.log(
      `no worker is running: reset of ${id} queued; it runs when a worker starts (k0rdent-deploy worker)`
    );
    return 0;
  }
  try {
    await handle.executeUpdate(resetUpdate, { args: [{ reason: 'full-reset' }] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      console.error(`reset refused: ${err.cause?.message ?? err.message}`);
      return 2;
    }
    throw err;
  }
  const state = await watch(handle, (s) => s.status === 'reset' || s.status === 'failed');
  if (state.status === 'failed') {
    console.log(renderTable(state));
    return 1;
  }
  const final = await handle.result();
  console.log(`deployment ${id} reset; state archived to ${final.archivedTo ?? 'old_deployments/'}`);
  return 0;
}

async function sweep(args: string[]): Promise<number> {
  const v = parse(args, { delete: { type: 'boolean' }, json: { type: 'boolean' } });
  const { workDir, id, client } = await openDeployment(v);
  return runSweep({ client, deploymentId: id, workDir, delete: v.delete === true, json: v.json === true });
}

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

async function worker(args: string[]): Promise<number> {
  const v = parse(args, {
    'task-queue': { type: 'string' },
    config: { type: 'string' },
    tuner: { type: 'string' },
    ...Object.fromEntries(Object.keys(TUNING_FLAGS).map((f) => [f, { type: 'string' as const }])),
  });
  const workDir = workDirOf(v.dir);
  const tuning = workerTuning(v, workDir);
  const { runWorker } = await import('./worker');
  await ensureServer(path.join(workDir, 'state'));
  await runWorker(typeof v['task-queue'] === 'string' ? v['task-queue'] : undefined, tuning);
  return 0;
}

/** Duration of each long-running operation of the demo's ARM emulator, milliseconds. */
const DEMO_LRO_MS = 1500;
/** How long the demo's emulated machines and cluster take: visible, yet far shorter than Azure. */
const DEMO_HOST_TIMINGS = {
  bootMs: 1000,
  wireguardStartMs: 500,
  cloudInitMs: 1500,
  k0sApplyMs: 4000,
  nodeReadyMs: 1000,
  helmInstallMs: 1500,
  managementReadyMs: 2000,
  webhookReadyMs: 1000,
  clusterDeploymentReadyMs: 4000,
};

async function demo(args: string[]): Promise<number> {
  const v = parse(args, {});
  const workDir = typeof v.dir === 'string' ? workDirOf(v.dir) : path.join(process.cwd(), '.demo');
  const stateDir = path.join(workDir, 'state');
  const configFile = path.join(PACKAGE_ROOT, 'config', 'examples', 'demo.yaml');
  // Bad connection settings are refused before the demo folder is made.
  await ensureServer(stateDir);
  await fs.mkdir(stateDir, { recursive: true });
  // Long-running operations and installs take a visible while, as Azure's do (much shorter, though).
  await ensureArmEmulator(stateDir, { lroMs: DEMO_LRO_MS, hostTimings: DEMO_HOST_TIMINGS });
  const pidFile = path.join(stateDir, 'worker.pid');
  const oldPid = Number((await fs.readFile(pidFile, 'utf8').catch(() => '')).trim());
  const alive =
    oldPid > 0 &&
    (() => {
      try {
        process.kill(oldPid, 0);
        return true;
      } catch {
        return false;
      }
    })();
  if (!alive) {
    const log = openSync(path.join(stateDir, 'worker.log'), 'a');
    const child = spawn(
      process.execPath,
      [path.join(PACKAGE_ROOT, 'bin', 'k0rdent-deploy'), 'worker', '--dir', workDir],
      {
        detached: true,
        stdio: ['ignore', log, log],
        env: process.env,
      }
    );
    child.unref();
    await fs.writeFile(pidFile, `${child.pid}\n`);
    console.log(`worker started (pid ${child.pid}, log ${path.join(stateDir, 'worker.log')})`);
  }
  const code = await deploy([
    '--dir',
    workDir,
    '--config',
    configFile,
    '--with-kof',
    '--with-azure-children',
    '--cloud',
    'emulator',
    '--no-worker',
  ]);
  const id = await deploymentId(workDir, undefined);
  const { client, uiUrl } = await connect(workDir);
  const link = await pageLink(client, uiUrl, client.workflow.getHandle(id));
  console.log(`
Web UI:      ${link ?? `(set K0RDENT_WEB_UI to the Web UI of ${process.env.TEMPORAL_ADDRESS} for a link)`}
state file:  ${path.join(stateDir, 'deployment-state.yaml')}
The deployment stays open. Try:
  node bin/k0rdent-deploy rollback --dir ${workDir} --to install_k0s
  temporal workflow signal --workflow-id ${id} --name rollback --input '{"toPhase":"install_k0s"}'
  node bin/k0rdent-deploy resume --dir ${workDir}
  node bin/k0rdent-deploy reset --dir ${workDir} --yes`);
  return code;
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  deploy,
  plan,
  status,
  list,
  rollback,
  resume,
  reset,
  sweep,
  worker,
  demo,
};

function logLevel(value: string | undefined): LogLevel {
  const levels: LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];
  return levels.find((l) => l === value?.toUpperCase()) ?? 'WARN';
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  Runtime.install({ logger: new DefaultLogger(logLevel(process.env.K0RDENT_LOG_LEVEL)) });
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const run = COMMANDS[command];
  if (!run) {
    console.error(`unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await run(rest);
  } catch (err) {
    if (err instanceof HelpRequested) {
      console.log(USAGE);
      return 0;
    }
    if (err instanceof UsageError || err instanceof ConfigError || err instanceof SettingsError) {
      console.error(err.message);
      return 2;
    }
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
