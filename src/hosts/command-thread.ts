/**
 * The thread `run-command.ts` starts commands on. Starting a process blocks its caller until the child has
 * called exec, which on a busy machine waits for the child's first slice of CPU: tens of milliseconds
 * measured at 100 deployments on two cores. Here that wait holds up this thread, not the worker's event
 * loop that sends heartbeats and completes workflow tasks.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { parentPort } from 'node:worker_threads';

/** What the event loop asks of this thread. */
export type CommandRequest =
  | {
      kind: 'run';
      id: number;
      cmd: string;
      args: string[];
      env: Record<string, string | undefined>;
      cwd?: string;
      stdin: string;
    }
  | { kind: 'kill'; id: number; signal: NodeJS.Signals };

/** What this thread tells about a command: output as it comes, then how it failed to start or ended. */
export type CommandNews =
  | { kind: 'output'; id: number; stream: 'stdout' | 'stderr'; chunk: string }
  | { kind: 'error'; id: number; code?: string; message: string }
  | { kind: 'close'; id: number; code: number | null; signal: NodeJS.Signals | null };

const children = new Map<number, ChildProcessWithoutNullStreams>();
const tell = (news: CommandNews) => parentPort?.postMessage(news);

function run(req: Extract<CommandRequest, { kind: 'run' }>): void {
  const child = spawn(req.cmd, req.args, { cwd: req.cwd, env: req.env, stdio: ['pipe', 'pipe', 'pipe'] });
  children.set(req.id, child);
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream].setEncoding('utf8');
    child[stream].on('data', (chunk: string) => tell({ kind: 'output', id: req.id, stream, chunk }));
  }
  child.stdin.on('error', () => undefined);
  child.stdin.end(req.stdin);
  child.on('error', (err: NodeJS.ErrnoException) => {
    children.delete(req.id);
    tell({ kind: 'error', id: req.id, code: err.code, message: err.message });
  });
  child.on('close', (code, signal) => {
    children.delete(req.id);
    tell({ kind: 'close', id: req.id, code, signal });
  });
}

parentPort?.on('message', (req: CommandRequest) => {
  if (req.kind === 'run') run(req);
  else children.get(req.id)?.kill(req.signal);
});
