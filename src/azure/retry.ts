/**
 * Our retry policy for ARM requests, in place of the SDK's: 429 and 503 honour `Retry-After` (seconds or
 * an HTTP date, or the `retry-after-ms` headers), a 429 without it backs off exponentially (the SDK would
 * give up at once), 5xx answers and dropped connections are retried a bounded number of times, and every
 * delay is abortable.
 */
import type { PipelinePolicy, PipelineRequest, PipelineResponse } from '@azure/core-rest-pipeline';
import { isRestError } from '@azure/core-rest-pipeline';
import { sleep } from './progress';

/** Bounds of the retry policy. */
export interface RetryPolicyOptions {
  /** Retries of a 5xx answer or a dropped connection. */
  maxRetries: number;
  /** Retries of a 429 answer. */
  maxThrottleRetries: number;
  /** First backoff delay; it doubles per retry. */
  baseDelayMs: number;
  /** Largest backoff delay. */
  maxDelayMs: number;
  /** Largest wait a server's `Retry-After` may ask for; longer requests are cut to this. */
  maxRetryAfterMs: number;
}

/** Production defaults: ARM's throttling windows are tens of seconds. */
export const DEFAULT_RETRY: RetryPolicyOptions = {
  maxRetries: 4,
  maxThrottleRetries: 8,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 120_000,
};

/** Name of the policy in the client pipelines. */
export const ARM_RETRY_POLICY = 'k0rdentArmRetryPolicy';

const RETRYABLE_SYSTEM_ERRORS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'REQUEST_SEND_ERROR',
]);

/** The wait a response asks for, in ms, or undefined when it names none. */
export function retryAfterMs(response: PipelineResponse, now = Date.now()): number | undefined {
  for (const header of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const value = response.headers.get(header);
    if (value !== undefined && /^\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  }
  const value = response.headers.get('retry-after')?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Exponential backoff with jitter: between half and all of `base * 2^attempt`, at most `max`. */
export function backoffMs(attempt: number, options: RetryPolicyOptions): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || (status >= 500 && status !== 501 && status !== 505);
}

function isDroppedConnection(err: unknown): boolean {
  if (!isRestError(err) || err.statusCode !== undefined) return false;
  return err.code !== undefined && RETRYABLE_SYSTEM_ERRORS.has(err.code);
}

/** The pipeline policy that replaces the SDK's `defaultRetryPolicy`. */
export function armRetryPolicy(options: RetryPolicyOptions = DEFAULT_RETRY): PipelinePolicy {
  return {
    name: ARM_RETRY_POLICY,
    async sendRequest(request: PipelineRequest, next): Promise<PipelineResponse> {
      let serverRetries = 0;
      let throttleRetries = 0;
      for (;;) {
        let response: PipelineResponse;
        try {
          response = await next(request);
        } catch (err) {
          if (
            request.abortSignal?.aborted ||
            !isDroppedConnection(err) ||
            serverRetries >= options.maxRetries
          )
            throw err;
          await sleep(backoffMs(serverRetries, options), request.abortSignal);
          serverRetries++;
          continue;
        }
        const status = response.status;
        const asked = retryAfterMs(response);
        if (status === 429) {
          if (throttleRetries >= options.maxThrottleRetries) return response;
          const wait =
            asked === undefined
              ? backoffMs(throttleRetries, options)
              : Math.min(asked, options.maxRetryAfterMs);
          throttleRetries++;
          await sleep(wait, request.abortSignal);
          continue;
        }
        if (isRetryableStatus(status)) {
          if (serverRetries >= options.maxRetries) return response;
          const wait =
            asked === undefined
              ? backoffMs(serverRetries, options)
              : Math.min(asked, options.maxRetryAfterMs);
          serverRetries++;
          await sleep(wait, request.abortSignal);
          continue;
        }
        return response;
      }
    },
  };
}
