/** The orchestration benchmark's markdown report and its results.json. */
import type { LoopStats } from './loop-monitor';
import type { BenchResults, Figure, ResumeRun } from './results';
import { cpuPerDeployment } from './results';
import { s1 } from './stats';

const fmt = (v: number | undefined, digits: number) =>
  v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);

function table(head: string[], rows: (string | number)[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

const byKey = (r: Record<string, number>) =>
  Object.entries(r)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || '–';

/** Each distinct value with how often it occurs, the most frequent first. */
function countBy(values: string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort(([, a], [, b]) => b - a);
}

const loopText = (l: LoopStats | undefined) =>
  l
    ? `${s1(l.longestMs)} s longest, ${l.over1s} over 1 s (${l.blockedOver1sSeconds.toFixed(0)} s), ${l.over10s} over 10 s`
    : '–';

function overview(figs: Figure[]): string[] {
  return [
    '## Orchestration benchmark',
    '',
    table(
      ['figure', 'value', 'target', 'met', 'note'],
      figs.map((f) => [
        f.key,
        fmt(f.value, f.digits),
        f.target?.text ?? '–',
        f.target && f.value !== undefined ? (f.target.met(f.value) ? 'yes' : 'no') : '–',
        f.note ?? '',
      ])
    ),
    '',
    'projection_p99_ms: state file ctime (the rename that put the version in place; kernel tick, 4 ms) minus the ' +
      "apply's ActivityTaskCompleted time, folded samples included.",
  ];
}

function fullSection(r: BenchResults): string[] {
  const f = r.full;
  if (!f) return [];
  return [
    '',
    `### Full deployment ${f.deploymentId} (Azure children and KOF on): critical-path lower bound`,
    '',
    table(
      ['phase', 'term', 's'],
      f.bound.terms.map((t) => [t.phase, t.what, s1(t.ms)])
    ),
    '',
    `lower bound ${s1(f.bound.totalMs)} s; wall ${s1(f.wallMs)} s (start request to the last workflow task); ratio ${f.ratio.toFixed(3)}`,
    '',
    table(
      [
        'phase',
        'wall s',
        'apply s',
        'between phases s',
        'lower bound s',
        'over s',
        'cumulative wall s',
        'cumulative bound s',
        'attempts',
      ],
      f.phases.map((p) => [
        p.phase,
        s1(p.wallMs),
        s1(p.applyMs),
        s1(p.wallMs - p.applyMs),
        s1(p.lowerMs),
        s1(p.wallMs - p.lowerMs),
        s1(p.cumulativeWallMs),
        s1(p.cumulativeLowerMs),
        p.attempts || '–',
      ])
    ),
    '',
    "wall per phase: from the previous phase's apply completing (or the start) to this one's, ActivityTaskCompleted " +
      'times; "between phases": outside the apply activity (the tunnel check before cluster phases, the state ' +
      `projection, workflow tasks). ${f.checks.count} tunnel checks took ${s1(f.checks.totalMs)} s in all; ` +
      `${f.projections} local activities (projections, history record). Worker event loop: ${loopText(f.workerLoop)}; ` +
      `peak RSS ${fmt(f.workerPeakRssMb, 0)} MB. Projection latency p50 ${fmt(f.projection.p50_ms, 0)} ms, ` +
      `p99 ${fmt(f.projection.p99_ms, 0)} ms.`,
  ];
}

function armSection(r: BenchResults): string[] {
  const f = r.full?.arm;
  const n = r.noop;
  if (!f && !n) return [];
  const out = [
    '',
    '### ARM requests',
    '',
    table(
      ['', 'full deployment', 'no-op resume'],
      [
        ['requests by method (polls included)', f ? byKey(f.requests) : '–', n ? byKey(n.arm.requests) : '–'],
        ['LRO polls', f?.polls ?? '–', n?.arm.polls ?? '–'],
        ['reads (GET/HEAD, polls excluded)', f?.reads ?? '–', n?.arm.reads ?? '–'],
        ['writes by type', f ? byKey(f.writesByType) : '–', n ? byKey(n.arm.writesByType) : '–'],
        ['writes', f?.writes ?? '–', n?.arm.writes ?? '–'],
        ['resources created / existing', f?.created ?? '–', n?.resources ?? '–'],
        [
          'writes per created resource / reads per existing resource',
          fmt(f?.writesPerResource, 2),
          fmt(n?.readsPerResource, 2),
        ],
      ]
    ),
  ];
  if (n)
    out.push(
      '',
      `no-op resume (the \`resume\` signal \`deploy\` sends to a completed deployment): ${n.checks} check activities ` +
        `(expected ${n.expectedChecks}), ${n.applies} applies, ${n.projections} projections, ${s1(n.durationMs)} s ` +
        `from the signal to the workflow idle again; tools run: ${byKey(n.toolsStarted)}; installs that changed the ` +
        `world: ${byKey(n.applied)}.`
    );
  if (r.full) out.push('', `full deployment tools run: ${byKey(r.full.toolsStarted)}.`);
  return out;
}

function resumeSection(r: BenchResults): string[] {
  const rs = [r.resume.SIGKILL, r.resume.SIGTERM];
  if (!rs.some(Boolean)) return [];
  const row = (label: string, pick: (x: ResumeRun) => number | undefined, seconds = true) => [
    label,
    ...rs.map((x) => (x ? fmt((pick(x) ?? NaN) / (seconds ? 1000 : 1), seconds ? 1 : 0) : '–')),
  ];
  return [
    '',
    `### Resume of install_k0s (k0sctl apply ${s1(r.resumeApplyMs)} s, heartbeat timeout ${r.heartbeatSeconds} s)`,
    '',
    table(
      ['', 'after SIGKILL', 'after SIGTERM'],
      [
        row('stopped, s into k0sctl apply', (x) => x.stoppedAfterApplyStartMs),
        row('age of the last heartbeat the server had, s', (x) => x.heartbeatAgeAtStopMs),
        row('old worker took to exit, s', (x) => x.stopTookMs),
        row('new worker start-up (spawn to polling), s', (x) => x.workerStartupMs),
        row('**new worker spawn to apply started again, s**', (x) => x.resumeMs),
        row('stop signal to apply started again, s', (x) => x.stopToResumeMs),
        row('new worker spawn to its first SSH session, s', (x) => x.firstSshAfterSpawnMs),
        row('attempt', (x) => x.attempt, false),
      ]
    ),
    '',
    "started again: describe()'s pending install_k0s apply activity in state STARTED with a lastStartedTime " +
      'after the stop (server time); the new worker is spawned as soon as the old one is gone.',
  ];
}

function scaleSection(r: BenchResults): string[] {
  if (!r.levels.length) return [];
  return [
    '',
    `### Scale: concurrent deployments on one worker process (core phases only: Azure children and KOF off; ` +
      `lower bound ${s1(r.scaleBound.totalMs)} s each)`,
    '',
    table(
      [
        'deployments',
        'failed',
        'wall s',
        'vs 1',
        'worker peak RSS MB',
        'history events / deployment',
        'projection p50 ms',
        'p99 ms',
        'p99 until its workflow task started, ms',
        'samples',
        'history KB / deployment',
        'workflow task timeouts (sticky) / failures, heartbeat timeouts, activity retries',
        'worker event loop blocked',
        'CPU s: worker / tools / emulator+bench / watcher / Temporal / machine',
        'CPU s per deployment: worker / world',
      ],
      r.levels.map((l) => [
        l.deployments,
        l.failed,
        l.wallMs === undefined ? `– (settled ${s1(l.settledMs)})` : s1(l.wallMs),
        fmt(l.timeRatio, 2),
        fmt(l.workerPeakRssMb, 0),
        fmt(l.historyEvents.mean, 1),
        fmt(l.projection.p50_ms, 0),
        fmt(l.projection.p99_ms, 0),
        fmt(l.projection.workflow_task_pickup_p99_ms, 0),
        `${l.projection.samples}${l.projection.folded ? ` (${l.projection.folded} folded)` : ''}`,
        fmt(l.historyBytes.mean === undefined ? undefined : l.historyBytes.mean / 1024, 1),
        `${l.anomalies.workflowTaskTimeouts} (${l.anomalies.stickyScheduleToStartTimeouts ?? 0}) / ` +
          `${l.anomalies.workflowTaskFailures}, ` +
          `${l.anomalies.heartbeatTimeouts}, ${l.anomalies.activityRetries}`,
        loopText(l.workerLoop),
        [
          l.cpuSeconds.worker,
          l.cpuSeconds.tools,
          l.cpuSeconds.benchAndEmulator,
          l.cpuSeconds.watcher,
          l.cpuSeconds.temporal,
          l.cpuSeconds.machine,
        ]
          .map((v) => v.toFixed(0))
          .join(' / '),
        `${cpuPerDeployment(l).worker.toFixed(2)} / ${cpuPerDeployment(l).world.toFixed(2)}`,
      ])
    ),
    '',
    'wall: from starting the first workflow to the last state file showing its deployment completed (none when ' +
      'one failed); "folded": samples whose first version of the state file also held the next transition ' +
      '(written in one projection), counted; CPU "machine": every core, other users included; "world": the emulator (this process: ARM, ' +
      "machines, the emulated tools' runs) and the tool processes, against the worker process alone.",
    ...r.levels.flatMap((l) => l.failures.map((f) => `- failed at ${l.deployments}: ${f}`)),
    ...r.levels.flatMap((l) =>
      l.taskTimeouts.map((t) => `- workflow task timed out at ${l.deployments}: ${t}`)
    ),
    ...r.levels.flatMap((l) =>
      countBy(l.retryCauses).map(([cause, n]) => `- activity retried at ${l.deployments} (${n}×): ${cause}`)
    ),
    ...r.levels
      .filter((l) => l.deployments > 1)
      .map(
        (l) =>
          `- projection p99 at ${l.deployments} by the phase that completed: ` +
          Object.entries(l.projection.p99_ms_by_phase)
            .map(([phase, ms]) => `${phase} ${ms} ms`)
            .join(', ')
      ),
  ];
}

/** The markdown report. */
export function renderReport(r: BenchResults, figs: Figure[]): string {
  const m = r.machine;
  return [
    '',
    ...overview(figs),
    ...fullSection(r),
    ...armSection(r),
    ...resumeSection(r),
    ...scaleSection(r),
    '',
    `${m.cores} cores; load average ${m.loadStart.map((l) => l.toFixed(2)).join(' ')} at start, ` +
      `${m.loadEnd.map((l) => l.toFixed(2)).join(' ')} at end; benchmark wall time ${m.benchWallS.toFixed(0)} s`,
    ...(r.errors.length ? ['', '**errors**', '', ...r.errors.map((e) => `- ${e}`)] : []),
  ].join('\n');
}

/** results.json: the top-level figures, whether each met its target, and every detail. */
export function resultsJson(r: BenchResults, figs: Figure[]): unknown {
  return {
    ...Object.fromEntries(figs.map((f) => [f.key, f.value ?? null])),
    targets: Object.fromEntries(
      figs
        .filter((f) => f.target)
        .map((f) => [
          f.key,
          {
            target: f.target?.text,
            met: f.value === undefined ? null : f.target?.met(f.value),
            note: f.note,
          },
        ])
    ),
    detail: {
      machine: r.machine,
      profiles: r.profiles,
      full: r.full ?? null,
      noop_resume: r.noop ?? null,
      resume: { heartbeat_seconds: r.heartbeatSeconds, k0sctl_apply_ms: r.resumeApplyMs, ...r.resume },
      scale: {
        phases: 'core only (Azure children and KOF off)',
        lower_bound: r.scaleBound,
        levels: r.levels,
      },
      projection: {
        top_level_from: 'the 100-deployment scale run, exact samples',
        full_deployment: r.full?.projection ?? null,
        by_level: Object.fromEntries(r.levels.map((l) => [l.deployments, l.projection])),
      },
      notes: Object.fromEntries(figs.filter((f) => f.note).map((f) => [f.key, f.note])),
      errors: r.errors,
    },
  };
}
