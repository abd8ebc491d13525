/** The one way phases run a command: options in, exit code and output kept, killed when cancelled. */
import { spawn } from 'node:child_process';

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

/** Runs a command to its end; a non-zero exit is a result, not an exception. */
export function runCommand(opts: RunOptions): Promise<RunResult> {
  const line = commandLine(opts.cmd, opts.args);
  if (opts.signal?.aborted) return Promise.reject(new CommandError(`${line}: cancelled`, 'cancelled'));
  return new Promise((resolve, reject) => {
    const child = spawn(opts.cmd, opts.args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out = { stdout: '', stderr: '' };
    const pending = { stdout: '', stderr: '' };
    let stopped: 'timeout' | 'cancelled' | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (why: 'timeout' | 'cancelled') => {
      if (stopped || child.exitCode !== null) return;
      stopped = why;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), opts.killGraceMs ?? 2000);
    };
    const onAbort = () => stop('cancelled');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      opts.timeoutMs === undefined ? undefined : setTimeout(() => stop('timeout'), opts.timeoutMs);
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream].setEncoding('utf8');
      child[stream].on('data', (chunk: string) => {
        out[stream] += chunk;
        if (!opts.onOutput) return;
        const lines = (pending[stream] + chunk).split('\n');
        pending[stream] = lines.pop() ?? '';
        for (const l of lines) opts.onOutput(l, stream);
      });
    }
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.stdin ?? '');
    const cleanup = () => {
      opts.signal?.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      cleanup();
      if (err.code === 'ENOENT')
        reject(
          new CommandError(`${opts.cmd}: command not found (is it installed and on PATH?)`, 'not-found')
        );
      else reject(new CommandError(`${line}: ${err.message}`, 'spawn'));
    });
    child.on('close', (code, signal) => {
      cleanup();
      for (const stream of ['stdout', 'stderr'] as const)
        if (pending[stream] && opts.onOutput) opts.onOutput(pending[stream], stream);
      const result = { code: code ?? (signal ? 128 : 1), ...out };
      if (stopped === 'timeout')
        reject(new CommandError(`${line}: timed out after ${opts.timeoutMs} ms`, 'timeout', result));
      else if (stopped === 'cancelled') reject(new CommandError(`${line}: cancelled`, 'cancelled', result));
      else resolve(result);
    });
  });
}
