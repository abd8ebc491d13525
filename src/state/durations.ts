/**
 * `state/phase-durations.yaml`: how long each phase took in this folder's runs (the last 20 per phase),
 * kept across resets (an archive takes only the Bash tool's files), so later runs can show ETAs.
 */
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import type { DeploymentState } from '../workflows/messages';
import type { PhaseTimes } from '../workflows/eta';
import { phaseTime } from '../workflows/eta';
import { isPhaseName } from '../workflows/phases';
import { readTextIfExists, writeFileAtomic } from './atomic';

/** The durations file, relative to the deployment folder. */
export const PHASE_DURATIONS_FILE = 'state/phase-durations.yaml';
/** Runs kept per phase; older ones drop off. */
export const KEPT_RUNS = 20;

/** One completed run of a phase. */
export interface DurationSample {
  deployment: string;
  /** ISO-8601 UTC to the second. */
  finished_at: string;
  seconds: number;
}

/** Phase name → its samples, oldest first. */
export type DurationSamples = Record<string, DurationSample[]>;

/** A durations file that cannot be read as one; it is left as it is. */
export class DurationsFileError extends Error {
  constructor(file: string, why: string) {
    super(`${file}: ${why}; leaving it as it is (delete it to start the phase timings afresh)`);
    this.name = 'DurationsFileError';
  }
}

function isSample(v: unknown): v is DurationSample {
  const s = v as Partial<DurationSample> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.deployment === 'string' &&
    typeof s.finished_at === 'string' &&
    typeof s.seconds === 'number' &&
    Number.isFinite(s.seconds) &&
    s.seconds >= 0
  );
}

/** The samples of `<workDir>/state/phase-durations.yaml`; none when it does not exist. */
export async function readDurationSamples(workDir: string): Promise<DurationSamples> {
  const file = path.join(workDir, PHASE_DURATIONS_FILE);
  const text = await readTextIfExists(file);
  if (text === undefined || text.trim() === '') return {};
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new DurationsFileError(file, `not YAML (${(err as Error).message.split('\n')[0]})`);
  }
  const phases = (doc as { phases?: unknown } | null)?.phases;
  if (typeof phases !== 'object' || phases === null || Array.isArray(phases))
    throw new DurationsFileError(file, 'no `phases` map');
  const samples: DurationSamples = {};
  for (const [name, list] of Object.entries(phases as Record<string, unknown>)) {
    if (!isPhaseName(name)) throw new DurationsFileError(file, `phases.${name}: not a phase`);
    if (!Array.isArray(list)) throw new DurationsFileError(file, `phases.${name}: not a list`);
    list.forEach((s, i) => {
      if (!isSample(s))
        throw new DurationsFileError(
          file,
          `phases.${name}[${i}]: needs deployment, finished_at and seconds (a number ≥ 0)`
        );
    });
    samples[name] = list as DurationSample[];
  }
  return samples;
}

/** Median and p90 per phase of the samples of other deployments than `except` (the one being timed). */
export function timesOf(samples: DurationSamples, except?: string): PhaseTimes {
  const times: PhaseTimes = {};
  for (const [name, list] of Object.entries(samples)) {
    const t = phaseTime(list.filter((s) => s.deployment !== except).map((s) => s.seconds));
    if (t && isPhaseName(name)) times[name] = t;
  }
  return times;
}

/** Per durations file, the runs this process has seen on it, so a projection that adds none reads nothing. */
const onFile = new Map<string, Set<string>>();

const sampleKey = (phase: string, s: DurationSample) => `${phase}|${s.deployment}|${s.finished_at}`;

/**
 * Adds each completed phase of `state` that the file does not hold yet (by deployment and finish time),
 * keeping the last KEPT_RUNS per phase; true when it wrote the file. Recording a state twice adds nothing,
 * and reads the file only when the state holds a run this process has not seen on it.
 */
export async function recordPhaseDurations(workDir: string, state: DeploymentState): Promise<boolean> {
  const file = path.join(workDir, PHASE_DURATIONS_FILE);
  const seen = onFile.get(file) ?? new Set<string>();
  const fresh: [string, DurationSample][] = [];
  for (const [name, rec] of Object.entries(state.phases)) {
    if (rec.status !== 'completed' || rec.durationSeconds === undefined || !rec.finishedAt) continue;
    const sample = {
      deployment: state.deploymentId,
      finished_at: rec.finishedAt,
      seconds: rec.durationSeconds,
    };
    if (!seen.has(sampleKey(name, sample))) fresh.push([name, sample]);
  }
  if (fresh.length === 0) return false;
  const samples = await readDurationSamples(workDir);
  for (const [name, list] of Object.entries(samples)) for (const s of list) seen.add(sampleKey(name, s));
  onFile.set(file, seen);
  const added = fresh.filter(([name, sample]) => !seen.has(sampleKey(name, sample)));
  if (added.length === 0) return false;
  for (const [name, sample] of added) {
    samples[name] = [...(samples[name] ?? []), sample].slice(-KEPT_RUNS);
    seen.add(sampleKey(name, sample));
  }
  const text =
    `# k0rdent-deploy: how long each phase took in this folder, newest last (last ${KEPT_RUNS} runs per phase)\n` +
    stringify({ phases: samples });
  await writeFileAtomic(file, text);
  return true;
}
