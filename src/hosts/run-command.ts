/** The one way phases run a command: options in, exit code and output kept, killed when cancelled. */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CommandNews, CommandRequest } from './command-thread';

/** What to run and how. */
export interface RunOptions {
  cmd: string;
  args: string[];
  /** Added to (and overriding) the worker's environment. */
  env?: Record<string, string>;
  cwd?: string;
  /** Written to the command's stdin, which is then closed. */
  stdin?: string;
  /** Kills the command (SIGTERM, then SIGKILL after `killGraceMs`). */
  signal?: AbortSignal;
  /** Kills the command after this long. */
  timeoutMs?: number;
  /** Called with each line of stdout and stderr as it comes. */
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
  killGraceMs?: number;
}

/** How a command ended. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Why a command could not run to its end: not found, timed out or cancelled. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly kind: 'not-found' | 'spawn' | 'timeout' | 'cancelled',
    readonly partial?: RunResult
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/** The command line as a person would type it, for messages. */
export function commandLine(cmd: string, args: string[]): string {
  return [cmd, ...args]
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

/** The last lines of an output, for error messages. */
export function tail(text: string, lines = 5): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** A command the thread runs, seen from the event loop. */
interface Running {
  onNews(news: CommandNews): void;
}

let thread: Worker | undefined;
const running = new Map<number, Running>();
let nextId = 1;

/** The command thread, started on first use; it keeps the process alive only while a command runs. */
function commandThread(): Worker {
  if (thread) return thread;
  const started = new Worker(path.join(__dirname, 'command-thread.js'));
  started.on('message', (news: CommandNews) => running.get(news.id)?.onNews(news));
  started.on('error', (err) => {
    // Its commands are lost with it: each fails, and the next command starts a new thread.
    thread = undefined;
    for (const [id, r] of running)
      r.onNews({ kind: 'error', id, message: `command thread died: ${err.message}` });
  });
  started.on('exit', () => {
    if (thread === started) thread = undefined;
  });
  started.unref();
  thread = started;
  return started;
}

function track(id: number, r: Running, t: Worker): void {
  if (running.size === 0) t.ref();
  running.set(id, r);
}

function untrack(id: number, t: Worker): void {
  running.delete(id);
  if (running.size === 0) t.unref();
}

/**
 * Runs a command to its end; a non-zero exit is a result, not an exception. The process is started and
 * watched on a thread of its own (`command-thread.ts`), so its start never blocks the event loop.
 */
export function runCommand(opts: RunOptions): Promise<RunResult> {
  const line = commandLine(opts.cmd, opts.args);
  if (opts.signal?.aborted) return Promise.reject(new CommandError(`${line}: cancelled`, 'cancelled'));
  return new Promise((resolve, reject) => {
    const t = commandThread();
    const id = nextId++;
    const out = { stdout: '', stderr: '' };
    const pending = { stdout: '', stderr: '' };
    let stopped: 'timeout' | 'cancelled' | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const kill = (signal: NodeJS.Signals) =>
      t.postMessage({ kind: 'kill', id, signal } satisfies CommandRequest);
    const stop = (why: 'timeout' | 'cancelled') => {
      if (stopped) return;
      stopped = why;
      kill('SIGTERM');
      killTimer = setTimeout(() => kill('SIGKILL'), opts.killGraceMs ?? 2000);
    };
    const onAbort = () => stop('cancelled');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      opts.timeoutMs === undefined ? undefined : setTimeout(() => stop('timeout'), opts.timeoutMs);
    const cleanup = () => {
      untrack(id, t);
      opts.signal?.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
    };
    const output = (stream: 'stdout' | 'stderr', chunk: string) => {
      out[stream] += chunk;
      if (!opts.onOutput) return;
      const lines = (pending[stream] + chunk).split('\n');
      pending[stream] = lines.pop() ?? '';
      for (const l of lines) opts.onOutput(l, stream);
    };
    const failed = (code: string | undefined, message: string) => {
      cleanup();
      if (code === 'ENOENT')
        reject(
          new CommandError(`${opts.cmd}: command not found (is it installed and on PATH?)`, 'not-found')
        );
      else reject(new CommandError(`${line}: ${message}`, 'spawn'));
    };
    const closed = (code: number | null, signal: NodeJS.Signals | null) => {
      cleanup();
      for (const stream of ['stdout', 'stderr'] as const)
        if (pending[stream] && opts.onOutput) opts.onOutput(pending[stream], stream);
      const result = { code: code ?? (signal ? 128 : 1), ...out };
      if (stopped === 'timeout')
        reject(new CommandError(`${line}: timed out after ${opts.timeoutMs} ms`, 'timeout', result));
      else if (stopped === 'cancelled') reject(new CommandError(`${line}: cancelled`, 'cancelled', result));
      else resolve(result);
    };
    track(
      id,
      {
        onNews: (news) => {
          if (news.kind === 'output') output(news.stream, news.chunk);
          else if (news.kind === 'error') failed(news.code, news.message);
          else closed(news.code, news.signal);
        },
      },
      t
    );
    const request: CommandRequest = {
      kind: 'run',
      id,
      cmd: opts.cmd,
      args: opts.args,
      env: { ...process.env, ...opts.env },
      cwd: opts.cwd,
      stdin: opts.stdin ?? '',
    };
    t.postMessage(request);
  });
}
