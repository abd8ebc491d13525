/** Reading a deployment workflow's history and pending activities: activity runs, idleness, the check pass. */
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/** A workflow history as the client fetches it. */
export type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
/** One event of a history. */
export type HistoryEvent = NonNullable<History['events']>[number];

type Long = { toString(): string } | number | string | null | undefined;

const num = (v: Long): number => (v === null || v === undefined ? 0 : Number(v.toString()));

/** Server time of an event, epoch milliseconds (sub-millisecond part kept). */
export function eventMs(e: HistoryEvent): number {
  const t = e.eventTime;
  return t ? num(t.seconds) * 1000 + (t.nanos ?? 0) / 1e6 : 0;
}

/** Epoch milliseconds of a protobuf timestamp, or undefined. */
export function timestampMs(
  t: { seconds?: Long; nanos?: number | null } | null | undefined
): number | undefined {
  return t ? num(t.seconds) * 1000 + (t.nanos ?? 0) / 1e6 : undefined;
}

/** One activity of the history, from its schedule to its end. */
export interface ActivityRun {
  name: string;
  scheduledEventId: number;
  scheduledMs: number;
  /** When the attempt that ended it started (the server writes that event at the end). */
  startedMs?: number;
  attempt?: number;
  /** Why the attempt before the last one failed, when the last is not the first. */
  lastFailure?: string;
  endedMs?: number;
  /** Index in `events` of the event that ended it. */
  endedIndex?: number;
  outcome?: 'completed' | 'failed' | 'timed_out' | 'canceled';
}

/** Every activity the workflow scheduled, in order, with how and when it ended. */
export function activityRuns(history: History): ActivityRun[] {
  const runs = new Map<number, ActivityRun>();
  (history.events ?? []).forEach((e, index) => {
    const id = num(e.eventId);
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) {
      runs.set(id, {
        name: scheduled.activityType?.name ?? '',
        scheduledEventId: id,
        scheduledMs: eventMs(e),
      });
      return;
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const run = runs.get(num(started.scheduledEventId));
      if (run) {
        run.startedMs = eventMs(e);
        run.attempt = started.attempt ?? undefined;
        const failure = started.lastFailure;
        if (failure) run.lastFailure = failure.cause?.message ?? failure.message ?? undefined;
      }
      return;
    }
    const ends: [ActivityRun['outcome'], { scheduledEventId?: Long } | null | undefined][] = [
      ['completed', e.activityTaskCompletedEventAttributes],
      ['failed', e.activityTaskFailedEventAttributes],
      ['timed_out', e.activityTaskTimedOutEventAttributes],
      ['canceled', e.activityTaskCanceledEventAttributes],
    ];
    for (const [outcome, attrs] of ends) {
      if (!attrs) continue;
      const run = runs.get(num(attrs.scheduledEventId));
      if (run) {
        run.endedMs = eventMs(e);
        run.endedIndex = index;
        run.outcome = outcome;
      }
    }
  });
  return [...runs.values()];
}

/** Position (index in `events`) of the first event matching `pick`, or -1. */
export function indexOfEvent(history: History, pick: (e: HistoryEvent) => boolean): number {
  return (history.events ?? []).findIndex(pick);
}

/**
 * True when the workflow has nothing under way: its last workflow task completed after the last one
 * was scheduled, and every activity it scheduled has ended.
 */
export function isIdle(history: History): boolean {
  const events = history.events ?? [];
  let lastScheduled = -1;
  let lastCompleted = -1;
  events.forEach((e, i) => {
    if (e.workflowTaskScheduledEventAttributes) lastScheduled = i;
    if (e.workflowTaskCompletedEventAttributes) lastCompleted = i;
  });
  return lastCompleted > lastScheduled && activityRuns(history).every((r) => r.outcome !== undefined);
}

/** Server time of the first workflow task started after event `index`, if any. */
export function workflowTaskStartedAfter(history: History, index: number): number | undefined {
  const e = (history.events ?? []).slice(index + 1).find((x) => x.workflowTaskStartedEventAttributes);
  return e ? eventMs(e) : undefined;
}

/** Things that went wrong on the way: workflow tasks timed out or failed, activity attempts that failed. */
export interface Anomalies {
  /** Workflow tasks that timed out, start-to-close or (sticky) schedule-to-start. */
  workflowTaskTimeouts: number;
  /** Of those, the ones that waited too long on the worker's sticky queue (schedule-to-start). */
  stickyScheduleToStartTimeouts: number;
  workflowTaskFailures: number;
  /** Activity attempts that ended by a heartbeat timeout: retried ones (their next attempt's last failure) and final ones. */
  heartbeatTimeouts: number;
  /** Activity attempts beyond the first, over all activities. */
  activityRetries: number;
}

type FailureLike = { timeoutFailureInfo?: { timeoutType?: unknown } | null; cause?: FailureLike | null };

function heartbeatTimedOut(failure: FailureLike | null | undefined): boolean {
  for (let f = failure; f; f = f.cause) {
    const type = f.timeoutFailureInfo?.timeoutType;
    if (
      type === temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT ||
      type === 'TIMEOUT_TYPE_HEARTBEAT'
    )
      return true;
  }
  return false;
}

/** Counts the anomalies of a history. */
export function anomalies(history: History): Anomalies {
  const events = history.events ?? [];
  const retriedAfterHeartbeat = events.filter((e) =>
    heartbeatTimedOut(e.activityTaskStartedEventAttributes?.lastFailure as FailureLike | undefined)
  ).length;
  const finalHeartbeat = events.filter((e) =>
    heartbeatTimedOut(e.activityTaskTimedOutEventAttributes?.failure as FailureLike | undefined)
  ).length;
  return {
    workflowTaskTimeouts: events.filter((e) => e.workflowTaskTimedOutEventAttributes).length,
    stickyScheduleToStartTimeouts: events.filter((e) => {
      const type = e.workflowTaskTimedOutEventAttributes?.timeoutType as unknown;
      return (
        type === temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START ||
        type === 'TIMEOUT_TYPE_SCHEDULE_TO_START'
      );
    }).length,
    workflowTaskFailures: events.filter((e) => e.workflowTaskFailedEventAttributes).length,
    heartbeatTimeouts: retriedAfterHeartbeat + finalHeartbeat,
    activityRetries: activityRuns(history).reduce((n, r) => n + Math.max(0, (r.attempt ?? 1) - 1), 0),
  };
}

/**
 * Each timed-out workflow task of a history, in words: what it followed, how long it waited to be picked
 * up and how long it ran before the server gave up on it.
 */
export function workflowTaskTimeoutTraces(history: History, id: string): string[] {
  const events = history.events ?? [];
  const names = new Map<number, string>();
  for (const e of events) {
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name) names.set(num(e.eventId), name);
  }
  const traces: string[] = [];
  events.forEach((e, i) => {
    const timedOut = e.workflowTaskTimedOutEventAttributes;
    if (!timedOut) return;
    const byId = (eventId: Long) => events.find((x) => num(x.eventId) === num(eventId));
    const started = byId(timedOut.startedEventId);
    const scheduled = byId(timedOut.scheduledEventId);
    const cause = scheduled ? events[events.indexOf(scheduled) - 1] : undefined;
    const ended = cause?.activityTaskCompletedEventAttributes?.scheduledEventId;
    const after = cause
      ? `${String(cause.eventType)
          .replace(/^EVENT_TYPE_/, '')
          .toLowerCase()}${ended ? ` (${names.get(num(ended)) ?? '?'})` : ''}`
      : 'the start';
    const s1 = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    traces.push(
      `${id}: the workflow task after ${after} waited ${scheduled && started ? s1(eventMs(started) - eventMs(scheduled)) : '?'} to be picked up, then ${started ? s1(eventMs(e) - eventMs(started)) : '?'} until it timed out (event ${i + 1} of ${events.length})`
    );
  });
  return traces;
}

/**
 * Why each retried activity was retried: `<activity>: <the failure before its last attempt>`, which the
 * server hands the last attempt (it writes no event for a failed attempt it retries).
 */
export function activityRetryCauses(history: History): string[] {
  return activityRuns(history)
    .filter((r) => (r.attempt ?? 1) > 1)
    .map((r) => `${r.name}: ${r.lastFailure ?? 'no failure recorded'}`);
}

/** Bytes of a history as the server stores and sends it (its protobuf encoding). */
export function historyBytes(history: History): number {
  return temporal.api.history.v1.History.encode(history).finish().length;
}

/** Server time of the last completed workflow task. */
export function lastWorkflowTaskMs(history: History): number {
  const events = history.events ?? [];
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i] as HistoryEvent;
    if (e.workflowTaskCompletedEventAttributes) return eventMs(e);
  }
  return 0;
}

/** Local activities (the state projection, the history record) the workflow ran, as markers. */
export function markerCount(history: History, fromIndex = 0): number {
  return (history.events ?? []).slice(fromIndex).filter((e) => e.markerRecordedEventAttributes).length;
}

/** Fetches the history until the workflow is idle (or `timeoutMs` passes), polling every `everyMs`. */
export async function idleHistory(
  handle: WorkflowHandle,
  timeoutMs = 60_000,
  everyMs = 100
): Promise<History> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const history = await handle.fetchHistory();
    if (isIdle(history)) return history;
    if (Date.now() > deadline) throw new Error(`${handle.workflowId} is still busy after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const PENDING_STATES = [
  'unspecified',
  'scheduled',
  'started',
  'cancel_requested',
  'paused',
  'pause_requested',
];

/** A pending activity as `describe()` reports it. */
export interface PendingActivity {
  name: string;
  /** `scheduled`, `started`, ... */
  state: string;
  attempt: number;
  lastStartedMs?: number;
  lastHeartbeatMs?: number;
}

/** The workflow's pending activities. */
export async function pendingActivities(handle: WorkflowHandle): Promise<PendingActivity[]> {
  const described = await handle.describe();
  return (described.raw.pendingActivities ?? []).map((a) => ({
    name: a.activityType?.name ?? '',
    state: PENDING_STATES[Number(a.state ?? 0)] ?? String(a.state),
    attempt: a.attempt ?? 0,
    lastStartedMs: timestampMs(a.lastStartedTime),
    lastHeartbeatMs: timestampMs(a.lastHeartbeatTime),
  }));
}
