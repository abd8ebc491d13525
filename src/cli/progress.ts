/** The phase tables and the live progress the commands print, with ETAs from the folder's earlier runs. */
import { DurationsFileError, readDurationSamples, timesOf } from '../state/durations';
import type { Eta, PhaseEta, PhaseTimes } from '../workflows/eta';
import { estimate, formatDuration, formatPhaseTime, remainingLine } from '../workflows/eta';
import type { DeploymentState } from '../workflows/messages';
import { stateQuery } from '../workflows/messages';
import { PHASES } from '../workflows/phases';
import type { Handle } from './session';
import { isRunning } from './session';

const SYMBOL: Record<string, string> = {
  completed: '✓',
  in_progress: '⏳',
  pending: '○',
  skipped: '⏭',
  failed: '✗',
  rolling_back: '↺',
};

/** The folder's phase times of deployments before `id`; a durations file that cannot be read costs the ETAs only. */
export async function folderTimes(workDir: string, id: string): Promise<PhaseTimes> {
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
export function phaseTable(
  header: string,
  rows: PhaseRow[],
  eta: Eta,
  status: string,
  error?: string
): string {
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
export async function watch(
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

export const settled = (s: DeploymentState) =>
  s.status === 'completed' || s.status === 'failed' || s.status === 'paused';
