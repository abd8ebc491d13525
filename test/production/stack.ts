/**
 * The production stack of docker-compose.yml without Docker: a private PostgreSQL cluster, the
 * schemas set up by compose's own script with the server's SQL tool, the pinned Temporal server with
 * the compose service's environment, and the namespace and search attributes set up by the project's
 * scripts. Every port is a free local one.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, promises as fs, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { portOpen } from '../../src/temporal/dev-server';
import { ROOT, freePort } from '../integration/harness';

const run = promisify(execFile);

/** Where the suite's PostgreSQL binaries live (Debian's postgresql package). */
const PG_BIN = process.env.K0RDENT_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** The compose services the suite mirrors. */
interface ComposeService {
  image?: string;
  environment?: Record<string, string>;
}

/** docker-compose.yml's services. */
export function composeServices(): Record<string, ComposeService> {
  const text = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
  return (parse(text) as { services: Record<string, ComposeService> }).services;
}

/**
 * A free TCP port on 127.0.0.1 below 32768: the SQL schema keeps cluster membership ports in a
 * smallint, so the system's ephemeral ports do not fit there.
 */
async function freeLowPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const server = net.createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (free) {
      await new Promise((resolve) => server.close(resolve));
      return port;
    }
  }
}

async function waitUntil(what: string, ok: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The running stack. */
export interface ProductionStack {
  /** host:port of the Temporal frontend. */
  address: string;
  namespace: string;
  serverVersion: string;
  postgresVersion: string;
  /** Output of the namespace and search-attribute setup scripts. */
  setupOutput: string;
  /** The server's environment, as docker-compose.yml's temporal service gives it plus local ports. */
  serverEnv: NodeJS.ProcessEnv;
  /** PATH with the temporal CLI, the SQL tool and the server first. */
  toolsPath: string;
  /** Stops the Temporal server (SIGTERM, or SIGKILL when `hard`) and starts it again on the same database. */
  restartServer(hard?: boolean): Promise<void>;
  stop(): Promise<void>;
}

/** Runs `argv` as the postgres user when root (initdb refuses root), else as this user. */
function asDatabaseOwner(argv: string[]): [string, string[]] {
  if (process.getuid?.() === 0) return ['runuser', ['-u', 'postgres', '--', ...argv]];
  return [argv[0] ?? '', argv.slice(1)];
}

async function startPostgres(dir: string, port: number, password: string): Promise<string> {
  const data = path.join(dir, 'pgdata');
  const sockets = path.join(dir, 'pgsock');
  const pwFile = path.join(dir, 'pgpass');
  await fs.mkdir(sockets);
  await fs.writeFile(pwFile, `${password}\n`, { mode: 0o600 });
  if (process.getuid?.() === 0) await run('chown', ['-R', 'postgres', dir]);
  const initdb = asDatabaseOwner([
    path.join(PG_BIN, 'initdb'),
    '-D',
    data,
    '-U',
    'temporal',
    '--auth=scram-sha-256',
    `--pwfile=${pwFile}`,
    '--encoding=UTF8',
  ]);
  await run(initdb[0], initdb[1]);
  const pgCtl = asDatabaseOwner([
    path.join(PG_BIN, 'pg_ctl'),
    '-D',
    data,
    '-l',
    path.join(dir, 'postgresql.log'),
    '-o',
    `-p ${port} -k ${sockets} -c listen_addresses=127.0.0.1`,
    '-w',
    'start',
  ]);
  await run(pgCtl[0], pgCtl[1]);
  return (await run(path.join(PG_BIN, 'postgres'), ['--version'])).stdout.trim();
}

async function stopPostgres(dir: string): Promise<void> {
  const pgCtl = asDatabaseOwner([
    path.join(PG_BIN, 'pg_ctl'),
    '-D',
    path.join(dir, 'pgdata'),
    '-m',
    'fast',
    'stop',
  ]);
  await run(pgCtl[0], pgCtl[1]).catch(() => undefined);
}

/** What the stack needs: `tools` holds temporal-server, temporal-sql-tool and schema/, `cli` is the temporal CLI. */
interface StackOptions {
  tools: string;
  cli: string;
  namespace: string;
}

/** Starts the whole stack in a new temporary folder; what started is stopped again when a step fails. */
export async function startProductionStack(opts: StackOptions): Promise<ProductionStack> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-production-'));
  await fs.chmod(dir, 0o755);
  const cleanups: (() => Promise<void>)[] = [async () => fs.rm(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    return { ...(await launch(dir, opts, cleanups)), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function launch(
  dir: string,
  opts: StackOptions,
  cleanups: (() => Promise<void>)[]
): Promise<Omit<ProductionStack, 'stop'>> {
  const password = randomBytes(18).toString('base64url');
  const pgPort = await freePort();
  cleanups.push(() => stopPostgres(dir));
  const postgresVersion = await startPostgres(dir, pgPort, password);
  const toolsPath = [path.dirname(opts.cli), opts.tools, process.env.PATH ?? ''].join(':');
  const services = composeServices();

  // compose's one-shot schema service, run here with the same script and environment.
  const adminEnv = services['temporal-admin-tools']?.environment ?? {};
  await run('sh', [path.join(ROOT, 'deploy', 'temporal', 'schema-setup.sh')], {
    env: {
      ...process.env,
      ...adminEnv,
      PATH: toolsPath,
      POSTGRES_SEEDS: '127.0.0.1',
      DB_PORT: String(pgPort),
      SQL_PASSWORD: password,
      SCHEMA_ROOT: path.join(opts.tools, 'schema', 'postgresql', 'v12'),
    },
  });

  const composeEnv = services.temporal?.environment ?? {};
  const frontendPort = await freePort();
  const ports: Record<string, string> = { FRONTEND_GRPC_PORT: String(frontendPort) };
  for (const name of [
    'FRONTEND_HTTP_PORT',
    'FRONTEND_MEMBERSHIP_PORT',
    'INTERNAL_FRONTEND_GRPC_PORT',
    'INTERNAL_FRONTEND_HTTP_PORT',
    'INTERNAL_FRONTEND_MEMBERSHIP_PORT',
    'HISTORY_GRPC_PORT',
    'HISTORY_MEMBERSHIP_PORT',
    'MATCHING_GRPC_PORT',
    'MATCHING_MEMBERSHIP_PORT',
    'WORKER_GRPC_PORT',
    'WORKER_MEMBERSHIP_PORT',
  ]) {
    ports[name] = String(name.endsWith('MEMBERSHIP_PORT') ? await freeLowPort() : await freePort());
  }
  const serverEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...composeEnv,
    // What differs from the compose service: this host, its free ports, the mounted config folder.
    POSTGRES_SEEDS: '127.0.0.1',
    DB_PORT: String(pgPort),
    POSTGRES_PWD: password,
    BIND_ON_IP: '127.0.0.1',
    DYNAMIC_CONFIG_FILE_PATH: path.join(
      ROOT,
      'deploy',
      'temporal',
      'dynamicconfig',
      path.basename(composeEnv.DYNAMIC_CONFIG_FILE_PATH ?? 'production-sql.yaml')
    ),
    LOG_LEVEL: 'warn',
    ...ports,
  };
  const address = `127.0.0.1:${frontendPort}`;
  const serverBinary = path.join(opts.tools, 'temporal-server');
  const serverVersion = (await run(serverBinary, ['--version'])).stdout.trim();
  const serverLog = path.join(dir, 'temporal-server.log');
  let server: ChildProcess | undefined;
  const startServer = async () => {
    const log = openSync(serverLog, 'a');
    server = spawn(serverBinary, ['start'], { env: serverEnv, stdio: ['ignore', log, log] });
    const started = server;
    await waitUntil(
      `Temporal server at ${address} (log ${serverLog})`,
      async () => {
        if (started.exitCode !== null) throw new Error(`the Temporal server exited; see ${serverLog}`);
        if (!(await portOpen('127.0.0.1', frontendPort))) return false;
        return run(opts.cli, ['operator', 'cluster', 'health', '--address', address]).then(
          () => true,
          () => false
        );
      },
      120_000
    );
  };
  const stopServer = async (signal: NodeJS.Signals) => {
    const running = server;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
  };
  cleanups.push(() => stopServer('SIGTERM'));
  await startServer();

  // compose's namespace service, then the project's script (which finds the attributes in place).
  const cliEnv = {
    ...process.env,
    PATH: toolsPath,
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: opts.namespace,
  };
  const nsSetup = await run('sh', [path.join(ROOT, 'deploy', 'temporal', 'namespace-setup.sh')], {
    env: { ...cliEnv, TEMPORAL_NAMESPACE_RETENTION: '1d' },
  });
  const register = await run(path.join(ROOT, 'scripts', 'register-search-attributes.sh'), [], {
    env: { ...cliEnv, TEMPORAL_CLI_PATH: opts.cli },
  });

  return {
    address,
    namespace: opts.namespace,
    serverVersion,
    postgresVersion,
    setupOutput: nsSetup.stdout + register.stdout,
    serverEnv,
    toolsPath,
    async restartServer(hard = false) {
      await stopServer(hard ? 'SIGKILL' : 'SIGTERM');
      await startServer();
    },
  };
}
