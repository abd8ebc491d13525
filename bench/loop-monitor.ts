/**
 * Preloaded into the benchmark's worker processes (`NODE_OPTIONS=--require`): measures how long the
 * worker's event loop is blocked, during which no activity heartbeats and no workflow task runs, and
 * writes it to `$K0RDENT_BENCH_LOOP_DIR/loop-<pid>.json` every 5 s (without waiting: a synchronous write
 * would block the loop it measures) and at exit. Any other Node process is left alone.
 */
import { promises as fs, writeFileSync } from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

/** What the monitor writes. */
export interface LoopStats {
  /** Longest single block of the event loop, ms. */
  longestMs: number;
  p99Ms: number;
  /** Blocks longer than 1 s and 10 s (the quick preset's heartbeat timeout). */
  over1s: number;
  over10s: number;
  /** Seconds the loop spent in blocks longer than 1 s. */
  blockedOver1sSeconds: number;
}

/** The stats file of a worker process. */
export const loopStatsFile = (dir: string, pid: number): string => path.join(dir, `loop-${pid}.json`);

const TICK_MS = 50;

function monitor(dir: string): void {
  // The tools this worker runs must not load the monitor.
  delete process.env.NODE_OPTIONS;
  delete process.env.K0RDENT_BENCH_LOOP_DIR;
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const stats: LoopStats = { longestMs: 0, p99Ms: 0, over1s: 0, over10s: 0, blockedOver1sSeconds: 0 };
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    const late = now - last - TICK_MS;
    last = now;
    stats.longestMs = Math.max(stats.longestMs, late);
    if (late > 1000) {
      stats.over1s++;
      stats.blockedOver1sSeconds += late / 1000;
    }
    if (late > 10_000) stats.over10s++;
  }, TICK_MS).unref();
  const text = () => {
    stats.p99Ms = histogram.percentile(99) / 1e6;
    return JSON.stringify(stats);
  };
  setInterval(() => {
    fs.writeFile(loopStatsFile(dir, process.pid), text()).catch(() => undefined);
  }, 5000).unref();
  process.on('exit', () => writeFileSync(loopStatsFile(dir, process.pid), text()));
}

const dir = process.env.K0RDENT_BENCH_LOOP_DIR;
if (dir && process.argv[2] === 'worker') monitor(dir);
