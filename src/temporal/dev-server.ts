/** The embedded Temporal server: the `temporal` CLI's dev server on an SQLite file, with its Web UI. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync, promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SearchAttributeNames } from '../workflows/messages';

/** Root of this package (holds `.tools/` where the install script puts the pinned binary). */
export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..', '..');

/** Finds the `temporal` binary: TEMPORAL_CLI_PATH, PATH, then the repo's `.tools/bin`. */
export function findTemporalBinary(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.TEMPORAL_CLI_PATH && existsSync(env.TEMPORAL_CLI_PATH)) return env.TEMPORAL_CLI_PATH;
  const which = spawnSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  const local = path.join(PACKAGE_ROOT, '.tools', 'bin', 'temporal');
  return existsSync(local) ? local : undefined;
}

/** True when something accepts TCP connections on host:port. */
export function portOpen(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Options of the embedded dev server. */
export interface DevServerOptions {
  /** Folder of the SQLite file, the log and the pid file (the deployment's `state/`). */
  stateDir: string;
  host?: string;
  port?: number;
  uiPort?: number;
  /** Milliseconds to wait for the server to accept connections. */
  startTimeoutMs?: number;
}

/** What is running after `ensureDevServer`. */
export interface DevServer {
  address: string;
  uiUrl: string;
  started: boolean;
  pid?: number;
}

/** Arguments of `temporal server start-dev` for these options. */
export function devServerArgs(opts: Required<Omit<DevServerOptions, 'startTimeoutMs'>>): string[] {
  return [
    'server',
    'start-dev',
    '--db-filename',
    path.join(opts.stateDir, 'temporal.db'),
    // A write-ahead log synced at its checkpoints instead of a rollback journal synced several times per
    // write: a killed server loses nothing, a power cut at most the last writes, which the phases, all
    // idempotent, redo. With the default, each history write waited for the disk behind the deployments'
    // own file writes, and at 100 deployments a phase's completion took seconds to reach the worker.
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
    '--ip',
    opts.host,
    '--port',
    String(opts.port),
    '--ui-port',
    String(opts.uiPort),
    '--log-level',
    'error',
    ...Object.values(SearchAttributeNames).flatMap((name) => ['--search-attribute', `${name}=Keyword`]),
  ];
}

/** Starts the dev server in the background unless one already listens; it outlives this process. */
export async function ensureDevServer(options: DevServerOptions): Promise<DevServer> {
  const opts = { host: '127.0.0.1', port: 7233, uiPort: 8233, ...options };
  const address = `${opts.host}:${opts.port}`;
  const uiUrl = `http://${opts.host === '127.0.0.1' ? 'localhost' : opts.host}:${opts.uiPort}`;
  if (await portOpen(opts.host, opts.port)) return { address, uiUrl, started: false };
  const binary = findTemporalBinary();
  if (!binary) {
    throw new Error(
      'no Temporal server at ' +
        address +
        ' and no `temporal` binary found; run scripts/install-temporal.sh ' +
        'or set TEMPORAL_CLI_PATH (or TEMPORAL_ADDRESS to use another server)'
    );
  }
  await fs.mkdir(opts.stateDir, { recursive: true });
  const log = openSync(path.join(opts.stateDir, 'temporal-server.log'), 'a');
  const child = spawn(binary, devServerArgs(opts), { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  await fs.writeFile(path.join(opts.stateDir, 'temporal-server.pid'), `${child.pid}\n`);
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(
        `temporal dev server exited with code ${child.exitCode}; see ${path.join(opts.stateDir, 'temporal-server.log')}`
      );
    }
    if (await portOpen(opts.host, opts.port)) return { address, uiUrl, started: true, pid: child.pid };
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`temporal dev server did not listen on ${address} in time`);
}
