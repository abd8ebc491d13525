/**
 * Orchestration benchmark on a real dev server, real worker processes and the local world: a full
 * deployment's wall time against the critical-path lower bound of its configured latencies, its ARM
 * requests and those of a no-op resume, how soon a new worker runs an interrupted phase again, and 1 to
 * 100 concurrent deployments on one worker (time, memory, history length, state projection latency).
 * Prints markdown tables and writes bench/results.json; targets are reported, never asserted.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mapLimit } from '../src/activities/work';
import { DEFAULT_CONFIG } from '../src/config/defaults';
import { activityPolicy } from '../src/config/policy';
import type { K0rdentConfig } from '../src/config/types';
import type { EmulatorCounts } from '../emulator/src/arm';
import type { HostCounts } from '../emulator/src/hosts/types';
import type { DeploymentFlags } from '../src/workflows/messages';
import { resumeSignal } from '../src/workflows/messages';
import type { PhaseName } from '../src/workflows/phases';
import { PHASES, activityNames, phaseEnabled } from '../src/workflows/phases';
import type { TestDeployment } from '../test/integration/harness';
import {
  ROOT,
  childWorker,
  prepareDeployment,
  startDeployment,
  startServer,
  stopServer,
} from '../test/integration/harness';
import type { Anomalies } from './history';
import {
  activityRuns,
  anomalies,
  historyBytes,
  eventMs,
  idleHistory,
  indexOfEvent,
  isIdle,
  lastWorkflowTaskMs,
  markerCount,
  pendingActivities,
  workflowTaskTimeoutTraces,
  activityRetryCauses,
} from './history';
import type { LoopStats } from './loop-monitor';
import { loopStatsFile } from './loop-monitor';
import type { Profile } from './profile';
import { FULL_PROFILE, longestPhaseMs, lowerBound, lroTimings, scaled } from './profile';
import { addSamples, newSamples, summarize } from './projection';
import { renderReport, resultsJson } from './report';
import type { ArmDelta, BenchResults, FullRun, NoopRun, PhaseRow, ResumeRun, ScaleLevel } from './results';
import { figures } from './results';
import type { StateWatcher, Watched } from './state-watcher';
import { watchStates } from './state-watcher';
import { cpuTimes, diff, machineBusySeconds, peakRssMb, s1, sum } from './stats';

/** Multiplies every latency (e.g. 0.25 for a quick look at the machinery; the figures need the default 1). */
const LATENCY_SCALE = Number(process.env.BENCH_LATENCY_SCALE ?? 1);
/** Concurrent deployments per scale run. */
const SCALE_LEVELS = (process.env.BENCH_SCALE_LEVELS ?? '1,10,50,100').split(',').map(Number);
/** Sections to run: `full` (overhead, ARM requests, no-op resume), `resume`, `scale`. */
const SECTIONS = new Set((process.env.BENCH_SECTIONS ?? 'full,resume,scale').split(','));
/** Latencies of the scale runs relative to the full deployment's: about 50 s of core phases each. */
const SCALE_FACTOR = Number(process.env.BENCH_SCALE_FACTOR ?? 0.3);
/** The resume runs reach install_k0s quickly; then `k0sctl apply` runs long enough to interrupt it. */
const RESUME_FACTOR = 0.05;
const RESUME_K0S_APPLY_MS = 20_000;
/** The quick preset's activity timeout is 120 s: a phase must stay well below it. */
const LONGEST_PHASE_MS = 100_000;

const FULL_FLAGS: DeploymentFlags = { azureChildren: true, kof: true };
const CORE_FLAGS: DeploymentFlags = { azureChildren: false, kof: false };

const benchStart = Date.now();
const log = (line: string) =>
  console.log(`[${((Date.now() - benchStart) / 1000).toFixed(1).padStart(6)} s] ${line}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const suffix = () => randomBytes(3).toString('hex');

type Server = Awaited<ReturnType<typeof startServer>>;

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 50
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not seen in ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

// ---- workers and deployments this process started ----------------------------------------------

/** Where the workers' event-loop monitor (loop-monitor.ts, preloaded) writes. */
const LOOP_DIR = path.join(os.tmpdir(), `k0rdent-bench-loop-${process.pid}`);

function loopStats(pid: number): LoopStats | undefined {
  try {
    return JSON.parse(readFileSync(loopStatsFile(LOOP_DIR, pid), 'utf8')) as LoopStats;
  } catch {
    return undefined;
  }
}

const workers = new Set<ChildProcess>();
const workDirs: string[] = [];
const watchers = new Set<StateWatcher>();

async function watch(
  deployments: Watched[],
  onPhase?: Parameters<typeof watchStates>[1]
): Promise<StateWatcher> {
  const watcher = await watchStates(deployments, onPhase);
  watchers.add(watcher);
  return watcher;
}

/** Ends the watcher threads and workers still running (a failed section's). */
async function stopLeftovers(): Promise<void> {
  for (const watcher of watchers) await watcher.close();
  watchers.clear();
  for (const child of [...workers]) await stopWorker(child, 'SIGKILL');
}

/** Ends everything this process started: watcher threads, workers, dev server and emulator, folders. */
async function cleanup(): Promise<void> {
  await stopLeftovers();
  await stopServer();
  if (!process.env.BENCH_KEEP)
    for (const dir of [...workDirs.splice(0), LOOP_DIR]) await fs.rm(dir, { recursive: true, force: true });
}

interface SpawnedWorker {
  child: ChildProcess;
  pid: number;
  spawnedMs: number;
  readyMs: number;
}

async function spawnWorker(taskQueue: string, workDir: string): Promise<SpawnedWorker> {
  const spawnedMs = Date.now();
  const child = await childWorker(taskQueue, workDir);
  workers.add(child);
  return { child, pid: child.pid ?? 0, spawnedMs, readyMs: Date.now() };
}

/** Signals a worker and waits until it exits (SIGKILL after 30 s); returns how long that took. */
async function stopWorker(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
  const start = Date.now();
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    if ((await Promise.race([exited, sleep(30_000).then(() => 'late')])) === 'late') {
      child.kill('SIGKILL');
      await exited;
    }
  }
  workers.delete(child);
  return Date.now() - start;
}

/** Every deployment gets the short intervals the issue asks for and waits far above the profile's. */
function configure(config: K0rdentConfig): void {
  config.timeouts.cloud_init_check_interval = 1;
  config.timeouts.verification_retry_delay = 1;
  config.kof.mothership.retry_delay_seconds = 1;
  config.timeouts.cloud_init_timeout = 600;
  config.timeouts.k0s_install_wait = 120;
  config.timeouts.k0rdent_install_wait = 600;
}

async function prepare(opts: { kof?: boolean; taskQueue: string }) {
  const d = await prepareDeployment({ ...opts, configure });
  workDirs.push(d.workDir);
  // The watcher needs the folder the projection renames the state file into.
  await fs.mkdir(path.join(d.workDir, 'state'), { recursive: true });
  return d;
}

function setProfile(server: Server, p: Profile): void {
  server.arm.setLro(lroTimings(p));
  server.arm.hosts.setTimings(p.hosts);
}

const toolStarts = (c: HostCounts): Record<string, number> =>
  Object.fromEntries(Object.entries(c.tools).map(([cmd, n]) => [cmd, n.started]));

// ---- ARM requests ---------------------------------------------------------------------------------

function armDelta(after: EmulatorCounts, before: EmulatorCounts): ArmDelta {
  const requests = diff(after.requests, before.requests);
  const polls = after.polls - before.polls;
  const writesByType = diff(after.writesByType, before.writesByType);
  return {
    requests,
    polls,
    writesByType,
    writes: sum(writesByType),
    reads: (requests.GET ?? 0) + (requests.HEAD ?? 0) - polls,
    existingDelta: diff(after.existing, before.existing),
  };
}

// ---- the full deployment: overhead and ARM requests ---------------------------------------------

async function runFull(
  server: Server,
  profile: Profile
): Promise<{ run: FullRun; deployment: TestDeployment; worker: SpawnedWorker }> {
  const bound = lowerBound(profile, FULL_FLAGS);
  const d = await prepare({ kof: true, taskQueue: `bench-full-${suffix()}` });
  const worker = await spawnWorker(d.taskQueue, d.workDir);
  let t0 = 0;
  const watcher = await watch([d], (_id, phase, ctimeMs) =>
    log(`full: ${phase} completed (state file at +${s1(ctimeMs - t0)} s)`)
  );
  const armBefore = structuredClone(server.arm.counts());
  const hostsBefore = structuredClone(server.arm.hosts.counts());
  t0 = Date.now();
  const deployment = await startDeployment(d);
  log(`full: ${d.id} started on worker pid ${worker.pid}; lower bound ${s1(bound.totalMs)} s`);
  const settled = await watcher.allSettled(bound.totalMs * 3 + 180_000);
  for (const [id, message] of settled.failed) throw new Error(`${id} failed: ${message}`);
  const history = await idleHistory(deployment.handle);
  const workerLoop = loopStats(worker.pid);
  const endMs = lastWorkflowTaskMs(history);
  const seen = await watcher.stop();
  const armAfter = server.arm.counts();
  const delta = armDelta(armAfter, armBefore);
  const created = sum(delta.existingDelta);

  const runs = activityRuns(history);
  const phases: PhaseRow[] = [];
  let previous = t0;
  let cumulativeLowerMs = 0;
  for (const def of PHASES) {
    if (!phaseEnabled(def, FULL_FLAGS)) continue;
    const applies = runs.filter((r) => r.name === activityNames(def.name).apply);
    const done = applies.find((r) => r.outcome === 'completed');
    if (!done?.endedMs) throw new Error(`full: ${def.name} has no completed apply in the history`);
    const lowerMs = bound.byPhase[def.name] ?? 0;
    cumulativeLowerMs += lowerMs;
    phases.push({
      phase: def.name,
      wallMs: done.endedMs - previous,
      applyMs: done.endedMs - (done.startedMs ?? done.scheduledMs),
      lowerMs,
      cumulativeWallMs: done.endedMs - t0,
      cumulativeLowerMs,
      attempts: applies.length - 1 + (done.attempt ?? 1),
    });
    previous = done.endedMs;
  }
  phases.push({
    phase: 'completion',
    wallMs: endMs - previous,
    applyMs: 0,
    lowerMs: 0,
    cumulativeWallMs: endMs - t0,
    cumulativeLowerMs,
    attempts: 0,
  });
  const checks = runs.filter((r) => r.name.startsWith('check'));
  const projection = newSamples();
  if (seen[0]) addSamples(history, seen[0], projection);
  const wallMs = endMs - t0;
  return {
    deployment,
    worker,
    run: {
      deploymentId: d.id,
      wallMs,
      bound,
      ratio: wallMs / bound.totalMs,
      phases,
      checks: {
        count: checks.length,
        totalMs: checks.reduce((a, r) => a + ((r.endedMs ?? r.scheduledMs) - r.scheduledMs), 0),
      },
      projections: markerCount(history),
      arm: { ...delta, created, writesPerResource: delta.writes / created },
      toolsStarted: diff(toolStarts(server.arm.hosts.counts()), toolStarts(hostsBefore)),
      workerPeakRssMb: peakRssMb(worker.pid),
      workerLoop,
      projection: summarize(projection),
    },
  };
}

// ---- no-op resume of the completed deployment ------------------------------------------------------

/** Checks a resume of a completed deployment runs: every enabled phase's, plus the tunnel's before each phase that needs it. */
function expectedChecks(flags: DeploymentFlags): number {
  return PHASES.filter((def) => phaseEnabled(def, flags)).reduce(
    (n, def) => n + 1 + ('requires' in def ? def.requires.length : 0),
    0
  );
}

async function runNoopResume(server: Server, deployment: TestDeployment): Promise<NoopRun> {
  const before = await idleHistory(deployment.handle);
  const from = (before.events ?? []).length;
  const armBefore = structuredClone(server.arm.counts());
  const hostsBefore = structuredClone(server.arm.hosts.counts());
  // What `deploy` of a completed deployment does.
  await deployment.handle.signal(resumeSignal);
  const history = await until(
    'the check pass after resume',
    async () => {
      const h = await deployment.handle.fetchHistory();
      const after = { events: (h.events ?? []).slice(from) };
      const started = indexOfEvent(
        after,
        (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'resume'
      );
      return started >= 0 && activityRuns(after).length > 0 && isIdle(h) ? h : undefined;
    },
    120_000,
    100
  );
  const after = { events: (history.events ?? []).slice(from) };
  const signalled = after.events.find((e) => e.workflowExecutionSignaledEventAttributes);
  const runs = activityRuns(after);
  const armAfter = server.arm.counts();
  const arm = armDelta(armAfter, armBefore);
  const resources = sum(armAfter.existing);
  const hostsAfter = server.arm.hosts.counts();
  return {
    expectedChecks: expectedChecks(FULL_FLAGS),
    checks: runs.filter((r) => r.name.startsWith('check')).length,
    applies: runs.filter((r) => !r.name.startsWith('check')).length,
    projections: markerCount(after),
    durationMs: lastWorkflowTaskMs(after) - (signalled ? eventMs(signalled) : 0),
    arm,
    resources,
    readsPerResource: arm.reads / resources,
    toolsStarted: diff(toolStarts(hostsAfter), toolStarts(hostsBefore)),
    applied: diff(hostsAfter.applied, hostsBefore.applied),
  };
}

// ---- resume after a killed or stopped worker ---------------------------------------------------------

async function runResume(server: Server, mode: ResumeRun['mode']): Promise<ResumeRun> {
  const phase: PhaseName = 'install_k0s';
  const apply = activityNames(phase).apply;
  const d = await prepare({ taskQueue: `bench-resume-${suffix()}` });
  const first = await spawnWorker(d.taskQueue, d.workDir);
  const k0sctlStarts = () => server.arm.hosts.counts().tools['k0sctl apply']?.started ?? 0;
  const startsBefore = k0sctlStarts();
  const deployment = await startDeployment(d);
  log(`resume (${mode}): ${d.id} started; waiting for k0sctl apply`);
  await until('k0sctl apply', () => (k0sctlStarts() > startsBefore ? true : undefined), 180_000);
  const applyStartMs = Date.now();
  await sleep(RESUME_K0S_APPLY_MS / 2);
  const running = (await pendingActivities(deployment.handle)).find((a) => a.name === apply);
  if (running?.state !== 'started') throw new Error(`resume: ${apply} is not running (${running?.state})`);
  const stopMs = Date.now();
  const stopTookMs = await stopWorker(first.child, mode);
  log(`resume (${mode}): worker ${first.pid} stopped ${s1(stopMs - applyStartMs)} s into k0sctl apply`);
  const sessions = () => sum(server.arm.hosts.counts().sshSessions);
  const sessionsBefore = sessions();
  const second = await spawnWorker(d.taskQueue, d.workDir);
  let firstSshMs: number | undefined;
  const restarted = await until(
    `${apply} started again`,
    async () => {
      if (firstSshMs === undefined && sessions() > sessionsBefore) firstSshMs = Date.now();
      const again = (await pendingActivities(deployment.handle)).find(
        (a) => a.name === apply && a.state === 'started' && (a.lastStartedMs ?? 0) > stopMs
      );
      return again;
    },
    120_000
  );
  const restartedMs = restarted.lastStartedMs ?? 0;
  await until(
    'the first SSH session',
    () => firstSshMs ?? (sessions() > sessionsBefore ? Date.now() : undefined),
    30_000
  ).then(
    (ms) => (firstSshMs ??= ms),
    () => undefined
  );
  log(
    `resume (${mode}): ${apply} attempt ${restarted.attempt} started ${s1(restartedMs - second.spawnedMs)} s after the new worker`
  );
  await deployment.handle.terminate('benchmark: resume measured');
  await stopWorker(second.child);
  return {
    mode,
    phase,
    stoppedAfterApplyStartMs: stopMs - applyStartMs,
    heartbeatAgeAtStopMs:
      running.lastHeartbeatMs === undefined ? undefined : stopMs - running.lastHeartbeatMs,
    stopTookMs: mode === 'SIGTERM' ? stopTookMs : 0,
    workerStartupMs: second.readyMs - second.spawnedMs,
    resumeMs: restartedMs - second.spawnedMs,
    stopToResumeMs: restartedMs - stopMs,
    attempt: restarted.attempt,
    firstSshAfterSpawnMs: firstSshMs === undefined ? undefined : firstSshMs - second.spawnedMs,
  };
}

// ---- concurrent deployments on one worker -------------------------------------------------------------

/** Mean, least and most of some values; empty when there are none. */
function spread(values: number[]): { mean?: number; min?: number; max?: number } {
  if (values.length === 0) return {};
  return {
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

async function runScale(server: Server, n: number): Promise<ScaleLevel> {
  server.arm.reset();
  const taskQueue = `bench-scale-${n}-${suffix()}`;
  const ds: Awaited<ReturnType<typeof prepare>>[] = [];
  for (let i = 0; i < n; i++) ds.push(await prepare({ taskQueue }));
  const worker = await spawnWorker(taskQueue, ds[0]?.workDir ?? os.tmpdir());
  const watcher = await watch(ds);
  const cpu0 = {
    worker: cpuTimes(worker.pid),
    temporal: server.pid ? cpuTimes(server.pid).self : 0,
    watcher: cpuTimes(watcher.pid).self,
    self: process.cpuUsage(),
    machine: machineBusySeconds(),
  };
  const t0 = Date.now();
  const deployments = await Promise.all(ds.map((d) => startDeployment(d)));
  log(`scale ${n}: ${n} deployments started on worker pid ${worker.pid}`);
  let lastLog = Date.now();
  const settled = await watcher.allSettled(20 * 60_000, ({ completed, failed }) => {
    if (completed.size + failed.size === n || Date.now() - lastLog > 15_000) {
      lastLog = Date.now();
      log(`scale ${n}: ${completed.size}/${n} completed${failed.size ? `, ${failed.size} failed` : ''}`);
    }
  });
  const settledMs = Date.now() - t0;
  const { completed, failed } = settled;
  const workerPeakRssMb = peakRssMb(worker.pid);
  const cpu1 = {
    worker: cpuTimes(worker.pid),
    temporal: server.pid ? cpuTimes(server.pid).self : 0,
    watcher: cpuTimes(watcher.pid).self,
    self: process.cpuUsage(cpu0.self),
    machine: machineBusySeconds(),
  };
  const seen = await watcher.stop();
  const histories = await mapLimit(deployments, 8, (d) => idleHistory(d.handle));
  const done = histories.filter((_h, i) => completed.has(deployments[i]?.id ?? ''));
  const lengths = done.map((h) => (h.events ?? []).length);
  const sizes = done.map(historyBytes);
  const found = histories.map(anomalies);
  const total = (k: keyof Anomalies) => found.reduce((n, a) => n + a[k], 0);
  const projection = newSamples();
  histories.forEach((h, i) => {
    const s = seen.find((x) => x.id === deployments[i]?.id);
    if (s) addSamples(h, s, projection);
  });
  await mapLimit(deployments, 16, (d) => d.handle.terminate('benchmark: scale level measured'));
  await stopWorker(worker.child);
  const failures = [...failed].map(([id, message]) => `${id}: ${message}`);
  return {
    deployments: n,
    failed: failed.size,
    failures: failures.slice(0, 5),
    taskTimeouts: histories
      .flatMap((h, i) => workflowTaskTimeoutTraces(h, deployments[i]?.id ?? '?'))
      .slice(0, 5),
    retryCauses: histories.flatMap((h) => activityRetryCauses(h)),
    wallMs: failed.size === 0 ? Math.max(...completed.values()) - t0 : undefined,
    settledMs,
    workerPeakRssMb,
    workerLoop: loopStats(worker.pid),
    historyEvents: spread(lengths),
    historyBytes: spread(sizes),
    anomalies: {
      workflowTaskTimeouts: total('workflowTaskTimeouts'),
      stickyScheduleToStartTimeouts: total('stickyScheduleToStartTimeouts'),
      workflowTaskFailures: total('workflowTaskFailures'),
      heartbeatTimeouts: total('heartbeatTimeouts'),
      activityRetries: total('activityRetries'),
    },
    projection: summarize(projection),
    cpuSeconds: {
      worker: cpu1.worker.self - cpu0.worker.self,
      tools: cpu1.worker.children - cpu0.worker.children,
      benchAndEmulator: (cpu1.self.user + cpu1.self.system) / 1e6,
      watcher: cpu1.watcher - cpu0.watcher,
      temporal: cpu1.temporal - cpu0.temporal,
      machine: cpu1.machine - cpu0.machine,
    },
  };
}

// ---- main -----------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const full = scaled(FULL_PROFILE, LATENCY_SCALE);
  const scaleProfile = scaled(FULL_PROFILE, LATENCY_SCALE * SCALE_FACTOR);
  const resumeProfile = scaled(FULL_PROFILE, LATENCY_SCALE * RESUME_FACTOR);
  resumeProfile.hosts.k0sApplyMs = RESUME_K0S_APPLY_MS;
  const fullBound = lowerBound(full, FULL_FLAGS);
  if (longestPhaseMs(fullBound) > LONGEST_PHASE_MS)
    throw new Error(
      `BENCH_LATENCY_SCALE=${LATENCY_SCALE} makes a phase last ${s1(longestPhaseMs(fullBound))} s; the quick preset allows 120 s`
    );
  const heartbeatSeconds = activityPolicy(benchConfig()).heartbeatSeconds;
  log(
    `orchestration benchmark on ${os.cpus().length} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; sections ${[...SECTIONS].join(', ')}`
  );
  await fs.mkdir(LOOP_DIR, { recursive: true });
  process.env.K0RDENT_BENCH_LOOP_DIR = LOOP_DIR;
  process.env.NODE_OPTIONS = [
    process.env.NODE_OPTIONS,
    `--require ${path.join(__dirname, 'loop-monitor.js')}`,
  ]
    .filter(Boolean)
    .join(' ');
  log('starting the Temporal dev server and the ARM emulator');
  const server = await startServer({ lro: lroTimings(full), hosts: { timings: full.hosts } });
  log(`dev server ${server.address}, ARM emulator ${server.arm.endpoint}`);

  const errors: string[] = [];
  const section = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      const message = `${name}: ${err instanceof Error ? err.message : String(err)}`;
      errors.push(message);
      log(`FAILED ${message}`);
      await stopLeftovers();
      return undefined;
    }
  };

  let fullRun: FullRun | undefined;
  let noop: NoopRun | undefined;
  const resume: Partial<Record<ResumeRun['mode'], ResumeRun>> = {};
  const levels: ScaleLevel[] = [];
  const loadStart = os.loadavg();
  try {
    if (SECTIONS.has('full')) {
      log('full: one deployment with Azure children and KOF, every phase');
      const done = await section('full deployment', () => runFull(server, full));
      if (done) {
        fullRun = done.run;
        log(`full: completed in ${s1(done.run.wallMs)} s, lower bound ${s1(done.run.bound.totalMs)} s`);
        log('no-op resume: signalling resume to the completed deployment');
        noop = await section('no-op resume', () => runNoopResume(server, done.deployment));
        if (noop)
          log(
            `no-op resume: ${noop.checks} checks in ${s1(noop.durationMs)} s, ${noop.arm.writes} ARM writes`
          );
        await stopWorker(done.worker.child);
      }
    }
    if (SECTIONS.has('resume')) {
      setProfile(server, resumeProfile);
      for (const mode of ['SIGKILL', 'SIGTERM'] as const) {
        const r = await section(`resume after ${mode}`, () => runResume(server, mode));
        if (r) resume[mode] = r;
      }
    }
    if (SECTIONS.has('scale')) {
      setProfile(server, scaleProfile);
      log(
        `scale: core phases only (Azure children and KOF off), lower bound ${s1(lowerBound(scaleProfile, CORE_FLAGS).totalMs)} s each`
      );
      for (const n of SCALE_LEVELS) {
        const level = await section(`scale ${n}`, () => runScale(server, n));
        if (!level) continue;
        levels.push(level);
        log(
          level.wallMs === undefined
            ? `scale ${n}: ${level.failed} of ${n} failed; the rest settled in ${s1(level.settledMs)} s`
            : `scale ${n}: all completed in ${s1(level.wallMs)} s, worker peak RSS ${level.workerPeakRssMb?.toFixed(0) ?? '–'} MB`
        );
      }
    }
  } finally {
    await cleanup();
  }
  const one = levels.find((l) => l.deployments === 1);
  for (const l of levels)
    if (one?.wallMs !== undefined && l.wallMs !== undefined) l.timeRatio = l.wallMs / one.wallMs;
  const results: BenchResults = {
    full: fullRun,
    noop,
    resume,
    levels,
    errors,
    heartbeatSeconds,
    resumeApplyMs: RESUME_K0S_APPLY_MS,
    scaleBound: lowerBound(scaleProfile, CORE_FLAGS),
    profiles: { full, scale: scaleProfile, resume: resumeProfile, latencyScale: LATENCY_SCALE },
    machine: {
      cores: os.cpus().length,
      loadStart,
      loadEnd: os.loadavg(),
      benchWallS: (Date.now() - benchStart) / 1000,
    },
  };
  const figs = figures(results);
  console.log(renderReport(results, figs));
  await fs.writeFile(
    path.join(ROOT, 'bench', 'results.json'),
    `${JSON.stringify(resultsJson(results, figs), null, 2)}\n`
  );
  log('results written to bench/results.json');
  if (errors.length) process.exitCode = 1;
}

/** The config of the benchmark's deployments as far as their activity policy goes (the harness's preset). */
function benchConfig(): K0rdentConfig {
  const config = structuredClone(DEFAULT_CONFIG);
  config.orchestrator.activity_preset = 'quick';
  configure(config);
  return config;
}

process.once('SIGINT', () => {
  log('interrupted: stopping what the benchmark started');
  void cleanup().finally(() => process.exit(130));
});

main().then(
  // Everything is closed by now; exit even if a library keeps a handle open.
  () => process.exit(),
  async (err) => {
    console.error(err);
    await cleanup();
    process.exit(1);
  }
);
