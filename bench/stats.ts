/** Small measuring helpers of the orchestration benchmark: percentiles, count diffs, /proc readings. */
import { readFileSync } from 'node:fs';

/** Nearest-rank percentile (`p` in 0..100) of `values`; undefined when empty. */
export function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** `after - before` per key, keys whose difference is zero left out. */
export function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) !== 0) out[k] = v - (before[k] ?? 0);
  return out;
}

/** Sum of a record's values. */
export const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);

/** A process's peak resident set (`VmHWM`), MB; undefined when the process is gone. */
export function peakRssMb(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds of a process: its own, and that of its children it has waited for (the tools it ran). */
export interface CpuTimes {
  self: number;
  children: number;
}

const TICKS_PER_SECOND = 100;

/** CPU times of a process from `/proc/<pid>/stat`; zeros when it is gone. */
export function cpuTimes(pid: number): CpuTimes {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const field = (n: number) => Number(fields[n - 3] ?? 0) / TICKS_PER_SECOND;
    return { self: field(14) + field(15), children: field(16) + field(17) };
  } catch {
    return { self: 0, children: 0 };
  }
}

/** CPU seconds the whole machine spent busy so far (all cores), from `/proc/stat`. */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) /
    TICKS_PER_SECOND
  );
}

/** Milliseconds to seconds with one decimal, for tables. */
export const s1 = (ms: number | undefined): string => (ms === undefined ? '–' : (ms / 1000).toFixed(1));
