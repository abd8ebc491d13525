/**
 * The one place ARM errors become typed failures: SDK `RestError`s (HTTP status + ARM code), failed
 * long-running operations (a plain `Error` whose message carries the code), credential errors and
 * dropped connections, each mapped to an `ApplicationFailure` with an explicit type and message
 * `"<verb> <type> <name>: <ARM code>: <message>"`.
 */
import { ApplicationFailure } from '@temporalio/common';
import { FailureTypes } from '../workflows/messages';

/** Failure types of the ARM adapter: the shared ones plus the retryable ARM-only kinds. */
export const ArmFailureTypes = {
  Auth: FailureTypes.Auth,
  Quota: FailureTypes.Quota,
  InvalidRequest: FailureTypes.InvalidRequest,
  InvalidConfig: FailureTypes.InvalidConfig,
  NotFound: FailureTypes.NotFound,
  Conflict: FailureTypes.Conflict,
  Foreign: FailureTypes.Foreign,
  /** 429 still answered after our own retries. */
  Throttled: 'Throttled',
  /** 5xx or a dropped connection still seen after our own retries. */
  Unavailable: 'ArmUnavailable',
  /** A long-running operation or a provisioning state ended `Failed`. */
  OperationFailed: 'ArmOperationFailed',
  /** A resource did not reach the awaited state in time. */
  Timeout: 'ArmTimeout',
  /** Anything else the SDK threw. */
  Unknown: 'ArmError',
} as const;

const NON_RETRYABLE = new Set<string>([
  ArmFailureTypes.Auth,
  ArmFailureTypes.Quota,
  ArmFailureTypes.InvalidRequest,
  ArmFailureTypes.InvalidConfig,
  ArmFailureTypes.Foreign,
]);

const QUOTA_CODES = new Set(
  [
    'QuotaExceeded',
    'ResourceQuotaExceeded',
    'SubscriptionQuotaExceeded',
    'SkuNotAvailable',
    'PublicIPCountLimitReached',
    'NetworkQuotaExceeded',
    'OperationNotAllowedQuota',
  ].map((c) => c.toLowerCase())
);

const AUTH_CODES = new Set(
  [
    'AuthorizationFailed',
    'AuthenticationFailed',
    'InvalidAuthenticationToken',
    'InvalidAuthenticationTokenTenant',
    'ExpiredAuthenticationToken',
    'LinkedAuthorizationFailed',
    'Unauthorized',
    'Forbidden',
  ].map((c) => c.toLowerCase())
);

const INVALID_CODES = new Set(
  [
    'InvalidParameter',
    'InvalidResourceReference',
    'InvalidRequestContent',
    'InvalidRequestFormat',
    'InvalidResourceName',
    'InvalidResourceType',
    'InvalidTemplate',
    'LinkedInvalidPropertyId',
    'BadRequest',
    'PropertyChangeNotAllowed',
    'InvalidRequest',
    'SecurityRuleConflict',
    'InvalidResourceGroupLocation',
    'LocationNotAvailableForResourceType',
  ].map((c) => c.toLowerCase())
);

/** 400s that mean "busy or still referenced": waiting helps, so they are conflicts. */
const BUSY_CODES = new Set(
  [
    'PublicIPAddressInUse',
    'NicInUse',
    'InUseSubnetCannotBeDeleted',
    'InUseNetworkSecurityGroupCannotBeDeleted',
    'AnotherOperationInProgress',
    'RetryableErrorDueToAnotherOperation',
    'ResourceGroupBeingDeleted',
    'OperationNotAllowed',
  ].map((c) => c.toLowerCase())
);

const CREDENTIAL_ERRORS = new Set([
  'CredentialUnavailableError',
  'AuthenticationError',
  'AggregateAuthenticationError',
  'AuthenticationRequiredError',
]);

const LRO_FAILURE = /^The long-running operation has failed(?:\. ([^.\s]+)\. ([\s\S]*))?$/;

/** What the adapter knows about an ARM error before it is typed. */
export interface ArmErrorInfo {
  status?: number;
  code?: string;
  message: string;
}

/** The failure type of an ARM status/code pair. */
export function classify(info: ArmErrorInfo): string {
  const code = (info.code ?? '').toLowerCase();
  const { status } = info;
  if (
    QUOTA_CODES.has(code) ||
    (/quota/i.test(info.message) && (code === 'operationnotallowed' || status === 409))
  )
    return ArmFailureTypes.Quota;
  if (status === 401 || status === 403 || AUTH_CODES.has(code)) return ArmFailureTypes.Auth;
  if (BUSY_CODES.has(code)) return ArmFailureTypes.Conflict;
  if (INVALID_CODES.has(code) || status === 400) return ArmFailureTypes.InvalidRequest;
  if (status === 404 || code.endsWith('notfound')) return ArmFailureTypes.NotFound;
  if (status === 409) return ArmFailureTypes.Conflict;
  if (status === 429) return ArmFailureTypes.Throttled;
  if (status !== undefined && status >= 500) return ArmFailureTypes.Unavailable;
  return status === undefined && code !== '' ? ArmFailureTypes.OperationFailed : ArmFailureTypes.Unknown;
}

/** A typed failure; non-retryable for the types retrying cannot fix. */
export function armFailure(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: NON_RETRYABLE.has(type) });
}

function describe(err: unknown): { info: ArmErrorInfo; type?: string } {
  if (!(err instanceof Error)) return { info: { message: String(err) } };
  if (CREDENTIAL_ERRORS.has(err.name)) {
    return { info: { code: err.name, message: err.message }, type: ArmFailureTypes.Auth };
  }
  const lro = LRO_FAILURE.exec(err.message);
  if (lro) {
    return { info: { code: lro[1] ?? 'OperationFailed', message: lro[2] ?? err.message } };
  }
  const fields = err as Error & { statusCode?: unknown; code?: unknown };
  const status = typeof fields.statusCode === 'number' ? fields.statusCode : undefined;
  const code = typeof fields.code === 'string' ? fields.code : undefined;
  if (status === undefined && code !== undefined && /^E[A-Z]+$|^REQUEST_SEND_ERROR$/.test(code)) {
    return { info: { code, message: err.message }, type: ArmFailureTypes.Unavailable };
  }
  return { info: { status, code, message: err.message } };
}

/**
 * Maps anything an SDK call threw to a typed failure named after what was being done
 * (`action` = `"<verb> <type> <name>"`). A cancelled activity's abort is passed through as the
 * cancellation, and failures already typed are kept.
 */
export function toArmFailure(action: string, err: unknown, signal?: AbortSignal): Error {
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    return reason instanceof Error ? reason : err instanceof Error ? err : new Error(String(err));
  }
  if (err instanceof ApplicationFailure) return err;
  const { info, type } = describe(err);
  const failureType = type ?? classify(info);
  const code = info.code ?? (info.status !== undefined ? `HTTP ${info.status}` : 'Error');
  // The SDK error is not kept as the cause: it carries the whole request (TLS settings, CA bundle) into logs.
  return armFailure(failureType, `${action}: ${code}: ${info.message}`);
}

/** True when `err` is a not-found answer (HTTP 404 or a `…NotFound` code). */
export function isNotFound(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const fields = err as Error & { statusCode?: unknown; code?: unknown };
  if (fields.statusCode === 404) return true;
  return typeof fields.code === 'string' && /NotFound$/i.test(fields.code) && fields.statusCode === undefined;
}
