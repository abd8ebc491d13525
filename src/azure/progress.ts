/**
 * Heartbeats for ARM work: the resume cursor a phase reports, re-sent while the adapter waits (throttle
 * delays, provisioning polls), and abortable sleeps. Works outside a worker too (then it only sleeps).
 */
import type { AbortSignalLike } from '@azure/abort-controller';
import { AbortError } from '@azure/abort-controller';
import { Context } from '@temporalio/activity';

const lastReported = new WeakMap<Context, unknown>();

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Heartbeats `details` as the activity's resume cursor and remembers it for `keepAlive`. */
export function report(details: Record<string, unknown>): void {
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

/** How often a long sleep heartbeats. */
const KEEP_ALIVE_MS = 5_000;

/** Sleeps `ms`, heartbeating every few seconds; rejects with an `AbortError` as soon as `signal` aborts. */
export async function sleep(ms: number, signal?: AbortSignalLike): Promise<void> {
  let left = Math.max(0, ms);
  do {
    if (signal?.aborted) throw new AbortError('The wait was aborted');
    const chunk = Math.min(left, KEEP_ALIVE_MS);
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(new AbortError('The wait was aborted'));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, chunk);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    left -= chunk;
    keepAlive();
  } while (left > 0);
}
