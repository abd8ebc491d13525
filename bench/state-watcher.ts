/**
 * Watches deployments' `state/deployment-state.yaml` from a child process, so the load of the emulator
 * in the benchmark's process does not delay it and its own CPU is counted apart, and records for every phase the first version of the file that
 * shows it `completed`: that version's ctime (set by the rename that put it in place, so it does not
 * depend on when the watcher looked) and whether it is the projection written right after the
 * transition (the next phase still `pending`) rather than a later one.
 */
import { fork } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync, statSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { PhaseName } from '../src/workflows/phases';
import { PHASE_NAMES } from '../src/workflows/phases';

/** When the state file first showed a phase completed. */
export interface PhaseSeen {
  /** ctime of that version of the file (its rename), epoch ms. */
  ctimeMs: number;
  /** When the watcher read it, epoch ms. */
  readMs: number;
  /** True when it is the projection of the transition itself (no later transition folded in). */
  exact: boolean;
}

/** What the watcher saw of one deployment's state file. */
export interface StateSeen {
  id: string;
  phases: Partial<Record<PhaseName, PhaseSeen>>;
  /** ctime of the first version with the deployment `completed`. */
  completedMs?: number;
  /** Versions of the file read. */
  versions: number;
}

/** A deployment to watch. */
export interface Watched {
  id: string;
  workDir: string;
}

/** The argument that makes this file's process the watcher. */
const WATCHER_ARG = 'watch-states';

type FromThread =
  | { kind: 'ready' }
  | { kind: 'phase'; id: string; phase: PhaseName; ctimeMs: number }
  | { kind: 'completed'; id: string; ctimeMs: number }
  | { kind: 'failed'; id: string; message: string }
  | { kind: 'result'; seen: StateSeen[] };

const STATE_FILE = path.join('state', 'deployment-state.yaml');

/** How the watched deployments ended: completion ctime by id, failure message by id. */
export interface Settled {
  completed: Map<string, number>;
  failed: Map<string, string>;
}

/** A running watcher: completions and failures as they happen, everything seen when stopped. */
export interface StateWatcher {
  /** The watcher process, whose CPU the benchmark counts apart. */
  pid: number;
  /**
   * Resolves when every watched deployment has completed or failed (a failed deployment waits for an
   * operator); rejects when `timeoutMs` passes first.
   */
  allSettled(timeoutMs: number, progress?: (settled: Settled) => void): Promise<Settled>;
  /** Stops watching and answers what was seen. */
  stop(): Promise<StateSeen[]>;
  /** Ends the thread without an answer (cleanup after a failure). */
  close(): Promise<void>;
}

/** Starts watching (the `state/` folders must exist); `onPhase` hears of every phase first seen completed. */
export async function watchStates(
  deployments: Watched[],
  onPhase?: (id: string, phase: PhaseName, ctimeMs: number) => void
): Promise<StateWatcher> {
  const child = fork(__filename, [WATCHER_ARG], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const settled: Settled = { completed: new Map(), failed: new Map() };
  const waiters: (() => void)[] = [];
  let result: ((seen: StateSeen[]) => void) | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the state watcher exited (${String(code)})`)));
    child.on('message', (m: FromThread) => {
      if (m.kind === 'ready') resolve();
      else if (m.kind === 'phase') onPhase?.(m.id, m.phase, m.ctimeMs);
      else if (m.kind === 'completed') settled.completed.set(m.id, m.ctimeMs);
      else if (m.kind === 'failed') settled.failed.set(m.id, m.message);
      else result?.(m.seen);
      for (const w of waiters.splice(0)) w();
    });
  });
  child.send(deployments);
  await ready;
  const end = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  return {
    pid: child.pid ?? 0,
    async allSettled(timeoutMs, progress) {
      const deadline = Date.now() + timeoutMs;
      let reported = -1;
      for (;;) {
        const count = settled.completed.size + settled.failed.size;
        if (count !== reported) {
          reported = count;
          progress?.(settled);
        }
        if (count >= deployments.length) return settled;
        if (Date.now() > deadline)
          throw new Error(`${deployments.length - count} deployments still running after ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 1000);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    async stop() {
      const seen = await new Promise<StateSeen[]>((resolve) => {
        result = resolve;
        child.send('stop');
      });
      await end();
      return seen;
    },
    close: end,
  };
}

/** The watcher process: inotify on each `state/` folder, plus a slow stat sweep in case an event is missed. */
function runWatcher(deployments: Watched[]): void {
  const post = (m: FromThread) => process.send?.(m);
  const states = deployments.map((d) => {
    const seen: StateSeen = { id: d.id, phases: {}, versions: 0 };
    return { file: path.join(d.workDir, STATE_FILE), lastIno: -1, failed: false, seen };
  });

  const read = (w: (typeof states)[number]) => {
    let fd: number;
    try {
      fd = openSync(w.file, 'r');
    } catch {
      return;
    }
    try {
      const stat = fstatSync(fd);
      // Every projection renames a new file into place: a new inode is a new version.
      if (stat.ino === w.lastIno) return;
      w.lastIno = stat.ino;
      const doc = parse(readFileSync(fd, 'utf8')) as {
        orchestrator_status?: string;
        phases?: Record<string, { status?: string; error?: string }>;
      };
      const readMs = Date.now();
      w.seen.versions++;
      const statuses = PHASE_NAMES.map((name) => doc.phases?.[name]?.status ?? 'pending');
      PHASE_NAMES.forEach((name, i) => {
        if (statuses[i] !== 'completed' || w.seen.phases[name]) return;
        const next = statuses[i + 1];
        const exact = next !== undefined ? next === 'pending' : doc.orchestrator_status !== 'completed';
        w.seen.phases[name] = { ctimeMs: stat.ctimeMs, readMs, exact };
        post({ kind: 'phase', id: w.seen.id, phase: name, ctimeMs: stat.ctimeMs });
      });
      if (doc.orchestrator_status === 'completed' && w.seen.completedMs === undefined) {
        w.seen.completedMs = stat.ctimeMs;
        post({ kind: 'completed', id: w.seen.id, ctimeMs: stat.ctimeMs });
      }
      if (doc.orchestrator_status === 'failed' && !w.failed) {
        w.failed = true;
        const error = Object.values(doc.phases ?? {}).find((p) => p.status === 'failed')?.error;
        post({ kind: 'failed', id: w.seen.id, message: error ?? 'a phase failed' });
      }
    } catch {
      // A file that cannot be parsed is not a version the workflow wrote; wait for the next one.
    } finally {
      closeSync(fd);
    }
  };

  const watchers: FSWatcher[] = states.map((w) =>
    watch(path.dirname(w.file), (_event, name) => {
      if (name === path.basename(w.file)) read(w);
    })
  );
  const sweep = setInterval(() => {
    for (const w of states) {
      try {
        if (statSync(w.file).ino !== w.lastIno) read(w);
      } catch {
        // Not written yet.
      }
    }
  }, 250);
  process.on('message', () => {
    clearInterval(sweep);
    for (const w of watchers) w.close();
    for (const w of states) read(w);
    post({ kind: 'result', seen: states.map((w) => w.seen) });
  });
  for (const w of states) read(w);
  post({ kind: 'ready' });
}

if (process.argv[2] === WATCHER_ARG)
  process.once('message', (deployments) => runWatcher(deployments as Watched[]));
