/** What the orchestration benchmark measures, section by section, and its top-level figures with their targets. */
import type { Anomalies } from './history';
import type { LoopStats } from './loop-monitor';
import type { LowerBound, Profile } from './profile';
import type { PhaseName } from '../src/workflows/phases';

/** ARM requests between two `counts()`. */
export interface ArmDelta {
  requests: Record<string, number>;
  polls: number;
  writesByType: Record<string, number>;
  writes: number;
  /** GET and HEAD requests that are not LRO polls. */
  reads: number;
  existingDelta: Record<string, number>;
}

/** Latency from a phase's apply completing (ActivityTaskCompleted) to the state file showing it. */
export interface ProjectionSummary {
  samples: number;
  /** Samples whose first version of the file showing them completed also held a later transition. */
  folded: number;
  missing: number;
  p50_ms?: number;
  p99_ms?: number;
  max_ms?: number;
  /** Of it, the part until the worker started the workflow task that projects the transition. */
  workflow_task_pickup_p50_ms?: number;
  workflow_task_pickup_p99_ms?: number;
  worst: { id: string; phase: PhaseName; ms: number; pickupMs?: number }[];
  /** p99 of each phase's completions: where the tail is. */
  p99_ms_by_phase: Partial<Record<PhaseName, number>>;
}

/** One phase of the full deployment against its share of the lower bound. */
export interface PhaseRow {
  phase: PhaseName | 'completion';
  /** From the previous phase's apply completing (or the start) to this one's. */
  wallMs: number;
  /** The apply activity's own run, started to completed. */
  applyMs: number;
  lowerMs: number;
  cumulativeWallMs: number;
  cumulativeLowerMs: number;
  attempts: number;
}

/** The full deployment (every phase): overhead, ARM requests, tools, worker. */
export interface FullRun {
  deploymentId: string;
  wallMs: number;
  bound: LowerBound;
  ratio: number;
  phases: PhaseRow[];
  /** Check activities run on the way (the tunnel re-checked before the phases that need it). */
  checks: { count: number; totalMs: number };
  projections: number;
  arm: ArmDelta & { created: number; writesPerResource: number };
  toolsStarted: Record<string, number>;
  workerPeakRssMb?: number;
  workerLoop?: LoopStats;
  projection: ProjectionSummary;
}

/** The check pass a `resume` of the completed deployment runs. */
export interface NoopRun {
  expectedChecks: number;
  checks: number;
  applies: number;
  projections: number;
  durationMs: number;
  arm: ArmDelta;
  resources: number;
  readsPerResource: number;
  toolsStarted: Record<string, number>;
  applied: Record<string, number>;
}

/** A phase interrupted by stopping its worker, and run again by a new one. */
export interface ResumeRun {
  mode: 'SIGKILL' | 'SIGTERM';
  phase: PhaseName;
  /** How far into `k0sctl apply` the worker was stopped. */
  stoppedAfterApplyStartMs: number;
  /** Age of the last heartbeat the server had when the worker was stopped. */
  heartbeatAgeAtStopMs?: number;
  /** SIGTERM: how long the old worker took to exit. */
  stopTookMs: number;
  /** From the new worker's spawn to its "worker polling" line. */
  workerStartupMs: number;
  /** From the new worker's spawn to the phase's apply activity started again (server time). */
  resumeMs: number;
  /** From the stop signal to the apply started again. */
  stopToResumeMs: number;
  attempt: number;
  /** From the new worker's spawn to its first SSH session to a VM (the apply's first act), polled. */
  firstSshAfterSpawnMs?: number;
}

/** Concurrent deployments on one worker process. */
export interface ScaleLevel {
  deployments: number;
  /** Deployments that failed (a phase failed after its retries); the level has no wall time then. */
  failed: number;
  failures: string[];
  /** The first few timed-out workflow tasks, described (`workflowTaskTimeoutTraces`). */
  taskTimeouts: string[];
  /** Why each retried activity was retried (`activityRetryCauses`), over all the level's histories. */
  retryCauses: string[];
  wallMs?: number;
  /** From the start to the last deployment settled, completed or failed. */
  settledMs: number;
  timeRatio?: number;
  workerPeakRssMb?: number;
  workerLoop?: LoopStats;
  /** Events per completed deployment's history. */
  historyEvents: { mean?: number; min?: number; max?: number };
  /** Bytes per completed deployment's history (protobuf, as the server stores it). */
  historyBytes: { mean?: number; min?: number; max?: number };
  anomalies: Anomalies;
  projection: ProjectionSummary;
  /**
   * CPU seconds during the run: the worker process; the tools it ran (its children); this process, which
   * is the emulator (ARM, machines, the tools' runs) plus the benchmark's client; the state-file watcher
   * process; the dev server; the whole machine.
   */
  cpuSeconds: {
    worker: number;
    tools: number;
    benchAndEmulator: number;
    watcher: number;
    temporal: number;
    machine: number;
  };
}

/** Everything one benchmark run measured. */
export interface BenchResults {
  full?: FullRun;
  noop?: NoopRun;
  resume: Partial<Record<ResumeRun['mode'], ResumeRun>>;
  levels: ScaleLevel[];
  errors: string[];
  heartbeatSeconds: number;
  resumeApplyMs: number;
  scaleBound: LowerBound;
  profiles: { full: Profile; scale: Profile; resume: Profile; latencyScale: number };
  machine: { cores: number; loadStart: number[]; loadEnd: number[]; benchWallS: number };
}

/** A top-level figure of results.json. */
export interface Figure {
  key: string;
  value: number | undefined;
  digits: number;
  target?: { text: string; met: (v: number) => boolean };
  /** Why the value is missing or what it stands for. */
  note?: string;
}

/** CPU seconds per deployment of a level: the worker's own, and the emulated world's (emulator and tools). */
export function cpuPerDeployment(l: ScaleLevel): { worker: number; world: number } {
  return {
    worker: l.cpuSeconds.worker / l.deployments,
    world: (l.cpuSeconds.benchAndEmulator + l.cpuSeconds.tools) / l.deployments,
  };
}

/** The top-level figures: the full run, its no-op resume, the SIGKILL resume, the 1- and 100-deployment runs. */
export function figures(r: BenchResults): Figure[] {
  const top = r.levels.find((l) => l.deployments === 100);
  const one = r.levels.find((l) => l.deployments === 1);
  const failedNote =
    top && top.failed > 0
      ? `${top.failed} of ${top.deployments} deployments failed: ${top.failures[0] ?? ''}`
      : undefined;
  const topNote = top ? failedNote : 'no 100-deployment run';
  const topCpu = top ? cpuPerDeployment(top) : undefined;
  return [
    {
      key: 'overhead_ratio',
      value: r.full?.ratio,
      digits: 3,
      target: { text: '≤ 1.05', met: (v) => v <= 1.05 },
      note: r.full ? undefined : 'no full deployment',
    },
    { key: 'writes_per_resource', value: r.full?.arm.writesPerResource, digits: 2 },
    {
      key: 'noop_resume_writes',
      value: r.noop?.arm.writes,
      digits: 0,
      target: { text: '0', met: (v) => v === 0 },
    },
    {
      key: 'noop_resume_reads_per_resource',
      value: r.noop?.readsPerResource,
      digits: 2,
      target: { text: '≤ 1', met: (v) => v <= 1 },
    },
    {
      key: 'resume_after_kill_s',
      value: r.resume.SIGKILL && r.resume.SIGKILL.resumeMs / 1000,
      digits: 1,
      target: {
        text: `≤ ${r.heartbeatSeconds} (heartbeat timeout)`,
        met: (v) => v <= r.heartbeatSeconds,
      },
    },
    {
      key: 'scale_100_time_ratio',
      value: top?.timeRatio,
      digits: 2,
      target: { text: '≤ 1.5', met: (v) => v <= 1.5 },
      note: topNote,
    },
    {
      key: 'scale_100_peak_rss_mb',
      value: top?.workerPeakRssMb,
      digits: 0,
      target: { text: '< 500', met: (v) => v < 500 },
      note: topNote,
    },
    {
      key: 'scale_100_failed',
      value: top?.failed,
      digits: 0,
      target: { text: '0', met: (v) => v === 0 },
      note: top ? undefined : 'no 100-deployment run',
    },
    {
      key: 'scale_100_task_timeouts',
      value: top?.anomalies.workflowTaskTimeouts,
      digits: 0,
      target: { text: '0', met: (v) => v === 0 },
      note: top
        ? `WorkflowTaskTimedOut events in the 100 histories (${top.anomalies.stickyScheduleToStartTimeouts ?? 0} of them sticky schedule-to-start)`
        : 'no 100-deployment run',
    },
    {
      key: 'scale_100_heartbeat_timeouts',
      value: top?.anomalies.heartbeatTimeouts,
      digits: 0,
      target: { text: '0', met: (v) => v === 0 },
      note: top
        ? 'activity attempts ended by a heartbeat timeout in the 100 histories'
        : 'no 100-deployment run',
    },
    {
      key: 'history_events_per_deployment',
      value: top?.historyEvents.mean,
      digits: 1,
      note: top ? 'mean over the completed deployments of the 100-deployment run' : topNote,
    },
    {
      key: 'history_bytes_per_deployment',
      value: top?.historyBytes.mean,
      digits: 0,
      note: top
        ? 'protobuf bytes, mean over the completed deployments of the 100-deployment run'
        : 'no 100-deployment run',
    },
    {
      key: 'projection_p99_ms',
      value: one?.projection.p99_ms,
      digits: 0,
      target: { text: '≤ 200', met: (v) => v <= 200 },
      note: one ? 'one deployment (the 1-deployment scale run)' : 'no 1-deployment run',
    },
    {
      key: 'projection_p99_ms_at_100',
      value: top?.projection.p99_ms,
      digits: 0,
      target: { text: '≤ 200', met: (v) => v <= 200 },
      note: top ? '100-deployment run' : topNote,
    },
    {
      key: 'worker_cpu_s_per_deployment',
      value: topCpu?.worker,
      digits: 2,
      note: top ? 'worker process CPU over the 100-deployment run, per deployment' : 'no 100-deployment run',
    },
    {
      key: 'world_cpu_s_per_deployment',
      value: topCpu?.world,
      digits: 2,
      note: top
        ? 'emulator process (ARM, machines, tool runs) and tool processes, per deployment of the 100-deployment run'
        : 'no 100-deployment run',
    },
  ];
}
