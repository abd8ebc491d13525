/**
 * Abortable sleeps for ARM work that re-send the phase's resume cursor while the adapter waits (throttle
 * delays, provisioning polls). Works outside a worker too (then it only sleeps).
 */
import type { AbortSignalLike } from '@azure/abort-controller';
import { AbortError } from '@azure/abort-controller';
import { keepAlive } from '../activities/work';

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
