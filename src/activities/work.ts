/** Heartbeats, resume cursors and cancellation for phase activities, usable outside a worker too. */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

const lastReported = new WeakMap<Context, unknown>();

/** Reports progress; `details` is the resume cursor a retried attempt reads back. */
export function beat(details: Record<string, unknown>): void {
  const ctx = currentContext();
  if (!ctx) return;
  lastReported.set(ctx, details);
  ctx.heartbeat(details);
}

/**
 * Heartbeats again with the cursor last reported (or, before the first report, the one the previous
 * attempt left), so a long wait never wipes the resume cursor.
 */
export function keepAlive(): void {
  const ctx = currentContext();
  if (!ctx) return;
  ctx.heartbeat(lastReported.has(ctx) ? lastReported.get(ctx) : ctx.info.heartbeatDetails);
}

/**
 * Awaits `work` while heartbeating every `everyMs` with the last cursor: for a wait that reports no
 * progress of its own (a command, an SSH session, a key generation queued behind others), so the
 * heartbeat timeout never fires on it.
 */
export async function keepingAlive<T>(work: Promise<T>, everyMs = 1000): Promise<T> {
  const ticker = setInterval(keepAlive, everyMs);
  try {
    return await work;
  } finally {
    clearInterval(ticker);
  }
}

/** The cursor the previous attempt of this activity heartbeated, if any. */
export function resumeCursor<T extends object>(): Partial<T> {
  const details: unknown = currentContext()?.info.heartbeatDetails;
  if (details && typeof details === 'object') return details;
  return {};
}

/** The activity's cancellation signal (a never-aborted one outside a worker). */
export function cancelSignal(): AbortSignal {
  return currentContext()?.cancellationSignal ?? new AbortController().signal;
}

/** Sleeps, heartbeating, and throws as soon as the activity is cancelled. */
export async function pause(ms: number, details: Record<string, unknown>): Promise<void> {
  const ctx = currentContext();
  beat(details);
  if (ms <= 0) return;
  if (ctx) await ctx.sleep(ms);
  else await new Promise((resolve) => setTimeout(resolve, ms));
  beat(details);
}

/** Runs `fn` over `items` with at most `limit` at once; the first failure rejects after the others settle. */
export async function mapLimit<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: Error | undefined;
  const lane = async () => {
    while (next < items.length && failure === undefined) {
      const index = next++;
      try {
        results[index] = await fn(items[index] as T, index);
      } catch (err) {
        failure ??= err instanceof Error ? err : new Error(String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failure !== undefined) throw failure;
  return results;
}

/** Wraps an error once, with what was being done, as a typed failure the workflow can decide on. */
export function wrapFailure(
  what: string,
  err: unknown,
  type = 'CommandFailed',
  nonRetryable = false
): ApplicationFailure {
  if (err instanceof ApplicationFailure) {
    return ApplicationFailure.create({
      message: `${what}: ${err.message}`,
      type: err.type ?? type,
      nonRetryable: err.nonRetryable === true,
      cause: err,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return ApplicationFailure.create({ message: `${what}: ${message}`, type, nonRetryable });
}
