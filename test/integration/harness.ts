/** Shared integration harness: one real Temporal dev server per run, deployments in temp folders. */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Worker } from '@temporalio/worker';
import { stringify } from 'yaml';
import { DEFAULT_CONFIG } from '../../src/config/defaults';
import { activityPolicy } from '../../src/config/policy';
import type { K0rdentConfig, WorkerTuning } from '../../src/config/types';
import { emulatorTarget } from '../../src/azure/target';
import { startArmEmulator } from '../../emulator/src/arm';
import type { ArmEmulator, ArmEmulatorOptions } from '../../emulator/src/arm';
import { RunLedger } from '../../emulator/src/run-ledger';
import { localWorld } from '../../emulator/src/world';
import { ensureDevServer, findTemporalBinary } from '../../src/temporal/dev-server';
import { createWorker } from '../../src/worker';
import type { deploymentWorkflow } from '../../src/workflows/deployment';
import type { DeploymentInput, DeploymentState } from '../../src/workflows/messages';
import { DEPLOYMENT_WORKFLOW, stateQuery } from '../../src/workflows/messages';

/** Repository root. */
export const ROOT = path.resolve(__dirname, '..', '..', '..');

/** A port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))
      );
    });
  });
}

interface Server {
  address: string;
  port: number;
  uiPort: number;
  pid?: number;
  dir: string;
  client: Client;
  connection: NativeConnection;
  /** The local ARM emulator the Azure phases of every test deployment talk to. */
  arm: ArmEmulator;
  armCaFile: string;
}

let server: Server | undefined;

/** The ARM emulator of the integration tests: quick LROs, installs long enough to kill a worker mid-way. */
export const TEST_EMULATOR: ArmEmulatorOptions = {
  lro: { defaultMs: 30 },
  hosts: { timings: { k0sApplyMs: 1500, helmInstallMs: 600, clusterDeploymentReadyMs: 600 } },
};

/**
 * Starts (once) the dev server and ARM emulator the tests share; `emulator` applies to the first call
 * (the suites, chaos and benchmarks each run in their own process).
 */
export async function startServer(emulator: ArmEmulatorOptions = TEST_EMULATOR): Promise<Server> {
  if (server) return server;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-temporal-'));
  const port = await freePort();
  const uiPort = await freePort();
  const started = await ensureDevServer({ stateDir: dir, port, uiPort, startTimeoutMs: 90_000 });
  server = await attach({ address: started.address, port, uiPort, pid: started.pid, dir }, emulator);
  return server;
}

/** Clients of the server at `where.address` in `namespace`, and the ARM emulator of the tests. */
async function attach(
  where: Pick<Server, 'address' | 'port' | 'uiPort' | 'pid' | 'dir'>,
  emulator: ArmEmulatorOptions,
  namespace?: string
): Promise<Server> {
  const client = new Client({ connection: await Connection.connect({ address: where.address }), namespace });
  const connection = await NativeConnection.connect({ address: where.address });
  const arm = await startArmEmulator(emulator);
  const armCaFile = path.join(where.dir, 'arm-ca.pem');
  await fs.writeFile(armCaFile, arm.caPem);
  return { ...where, client, connection, arm, armCaFile };
}

/**
 * Makes the harness use a Temporal server started elsewhere (the production suite's server on
 * PostgreSQL) instead of a dev server; the harness neither restarts nor stops that server.
 */
export async function useExternalServer(
  address: string,
  namespace: string,
  emulator: ArmEmulatorOptions = TEST_EMULATOR
): Promise<Server> {
  if (server) throw new Error(`the harness uses ${server.address} already`);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-temporal-'));
  server = await attach(
    { address, port: Number(address.split(':').pop()), uiPort: 0, dir },
    emulator,
    namespace
  );
  return server;
}

/** Signals a process and waits (up to 10 s) until it is gone. */
export async function stopProcess(pid: number, signal: NodeJS.Signals): Promise<void> {
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && isAlive(pid)) await new Promise((r) => setTimeout(r, 100));
}

/**
 * Stops the shared dev server (SIGTERM, or SIGKILL when `hard`) and starts it again on the same SQLite
 * file and port; clients and workers reconnect on their own.
 */
export async function restartServer(opts: { hard?: boolean; downMs?: number } = {}): Promise<void> {
  const s = await startServer();
  if (s.pid) await stopProcess(s.pid, opts.hard ? 'SIGKILL' : 'SIGTERM');
  if (opts.downMs) await new Promise((r) => setTimeout(r, opts.downMs));
  const started = await ensureDevServer({
    stateDir: s.dir,
    port: s.port,
    uiPort: s.uiPort,
    startTimeoutMs: 90_000,
  });
  s.pid = started.pid;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops the shared dev server. */
export async function stopServer(): Promise<void> {
  if (!server) return;
  await server.connection.close();
  await server.client.connection.close();
  await server.arm.close();
  if (server.pid) await stopProcess(server.pid, 'SIGTERM');
  await fs.rm(server.dir, { recursive: true, force: true });
  server = undefined;
}

/** A deployment under test: its folder, config, input and handle. */
export interface TestDeployment {
  id: string;
  workDir: string;
  taskQueue: string;
  config: K0rdentConfig;
  configFile: string;
  input: DeploymentInput;
  ledger: RunLedger;
  handle: WorkflowHandle<typeof deploymentWorkflow>;
}

// Distinct tunnel networks for every deployment of this process, from a random start.
let nextWireguardNet = randomBytes(2).readUInt16BE(0);

/** A deployment folder with a quick config; not started. */
export async function prepareDeployment(
  opts: {
    kof?: boolean;
    maxAttempts?: number;
    /** Task queue shared with other deployments (default: one of its own). */
    taskQueue?: string;
    /** Last changes to the config before it is written. */
    configure?: (config: K0rdentConfig) => void;
  } = {}
): Promise<Omit<TestDeployment, 'handle'>> {
  const s = await startServer();
  const id = `k0rdent-${randomBytes(6).toString('hex').slice(0, 8)}`;
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-deploy-'));
  const taskQueue = opts.taskQueue ?? `test-${id}`;
  const config: K0rdentConfig = structuredClone(DEFAULT_CONFIG);
  config.orchestrator.activity_preset = 'quick';
  config.orchestrator.task_queue = taskQueue;
  config.orchestrator.cloud = 'emulator';
  // Tunnels of concurrent deployments cannot share addresses, on a laptop as in the emulator.
  const net = nextWireguardNet++ % 65536;
  config.network.wireguard_network = `10.${net >> 8}.${net & 255}.0/24`;
  config.timeouts.cloud_init_check_interval = 1;
  config.timeouts.cloud_init_timeout = 60;
  config.timeouts.verification_retry_delay = 1;
  config.timeouts.k0rdent_install_wait = 60;
  config.kof.mothership.retry_delay_seconds = 1;
  if (opts.maxAttempts) config.orchestrator.max_attempts = opts.maxAttempts;
  config.kof.enabled = opts.kof === true;
  opts.configure?.(config);
  const configFile = path.join(workDir, 'config', 'k0rdent.yaml');
  await fs.mkdir(path.dirname(configFile), { recursive: true });
  await fs.writeFile(configFile, stringify(config));
  await fs.writeFile(path.join(workDir, '.clusterid'), `${id}\n`);
  const input: DeploymentInput = {
    deploymentId: id,
    workDir,
    configFile,
    config,
    flags: { azureChildren: opts.kof === true, kof: opts.kof === true },
    deployer: 'test@example.com',
    policy: activityPolicy(config),
    cloud: emulatorTarget(s.arm.endpoint, s.armCaFile),
  };
  return { id, workDir, taskQueue, config, configFile, input, ledger: new RunLedger(workDir) };
}

/** Starts the workflow of a prepared deployment. */
export async function startDeployment(d: Omit<TestDeployment, 'handle'>): Promise<TestDeployment> {
  const s = await startServer();
  const handle = await s.client.workflow.start<typeof deploymentWorkflow>(DEPLOYMENT_WORKFLOW, {
    workflowId: d.id,
    taskQueue: d.taskQueue,
    args: [d.input],
  });
  return { ...d, handle };
}

/** A worker in this process on the deployment's task queue; stop it with `stop()`. */
export async function inProcessWorker(
  taskQueue: string,
  tuning?: WorkerTuning
): Promise<{ worker: Worker; stop: () => Promise<void> }> {
  const s = await startServer();
  const worker = await createWorker({
    connection: s.connection,
    taskQueue,
    tuning,
    world: localWorld(),
    overrides: { shutdownGraceTime: '1s' },
  });
  const running = worker.run();
  return {
    worker,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}

/**
 * A worker in a child process (`k0rdent-deploy worker`), so a test can SIGKILL it; `onOutput` gets
 * everything it prints.
 */
export async function childWorker(
  taskQueue: string,
  workDir: string,
  onOutput?: (text: string) => void
): Promise<ChildProcess> {
  const s = await startServer();
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bin', 'k0rdent-deploy'), 'worker', '--task-queue', taskQueue, '--dir', workDir],
    {
      env: { ...process.env, TEMPORAL_ADDRESS: s.address },
      stdio: ['ignore', 'pipe', 'pipe'],
    }
  );
  let output = '';
  const collect = (b: Buffer) => {
    output += b.toString();
    onOutput?.(b.toString());
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const deadline = Date.now() + 30_000;
  while (!output.includes('worker polling')) {
    if (child.exitCode !== null) throw new Error(`worker exited: ${output}`);
    if (Date.now() > deadline) throw new Error(`worker did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return child;
}

/** Stops the standalone ARM emulator a CLI run started in `workDir`, if any, and waits until it is gone. */
export async function stopFolderEmulator(workDir: string): Promise<void> {
  const info = await fs
    .readFile(path.join(workDir, 'state', 'arm-emulator.json'), 'utf8')
    .catch(() => undefined);
  if (!info) return;
  const { pid } = JSON.parse(info) as { pid: number };
  await stopProcess(pid, 'SIGTERM');
}

/** Runs the CLI in a child process against the shared server; `env` adds or overrides variables. */
export async function runCli(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {}
): Promise<{ code: number; output: string }> {
  const s = await startServer();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'k0rdent-deploy'), ...args], {
      cwd,
      env: { ...process.env, TEMPORAL_ADDRESS: s.address, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

/** Polls the state query until `predicate` holds. */
export async function waitFor(
  handle: WorkflowHandle<typeof deploymentWorkflow>,
  predicate: (s: DeploymentState) => boolean,
  timeoutMs = 60_000
): Promise<DeploymentState> {
  const deadline = Date.now() + timeoutMs;
  let last: DeploymentState | undefined;
  for (;;) {
    try {
      last = await handle.query(stateQuery);
      if (predicate(last)) return last;
    } catch {
      // A query fails while no worker is polling; keep waiting.
    }
    if (Date.now() > deadline) {
      throw new Error(
        `condition not reached in ${timeoutMs} ms; last state: ${JSON.stringify(last?.phases ?? null)} status ${last?.status}`
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Writes a workflow's history (as `temporal workflow show -o json` prints it) next to the replay tests when RECORD_HISTORIES is set. */
export async function maybeRecordHistory(
  handle: WorkflowHandle<typeof deploymentWorkflow>,
  name: string
): Promise<void> {
  if (!process.env.RECORD_HISTORIES) return;
  const s = await startServer();
  const binary = findTemporalBinary();
  if (!binary) throw new Error('recording histories needs the temporal CLI');
  const json = execFileSync(
    binary,
    ['workflow', 'show', '--workflow-id', handle.workflowId, '--address', s.address, '-o', 'json'],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    }
  );
  await fs.writeFile(path.join(ROOT, 'test', 'replay', 'histories', `${name}.json`), json);
}
