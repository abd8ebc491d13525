/** Fault injection: which rules hit a request, and the answers the status faults send. */
import type { ArmResponse } from './errors';
import type { FaultKind, FaultRule } from './types';

const KINDS: FaultKind[] = [
  'throttle',
  'error',
  'drop-before',
  'drop-after',
  'latency',
  'auth',
  'quota',
  'invalid',
];

/** A rule with the number of hits it has left (-1 = unlimited). */
export interface ArmedFault {
  rule: FaultRule;
  left: number;
}

/** What the faults do to one request. */
export interface FaultHit {
  /** Added delay from matching latency rules. */
  latencyMs: number;
  /** Every kind that hit, latency included, for counting. */
  kinds: FaultKind[];
  /** The first non-latency rule that hit, if any. */
  fault?: FaultRule;
}

/** Checks a rule and throws an Error naming what is wrong. */
export function validateFault(rule: FaultRule, index: number): void {
  const where = `fault ${index}`;
  if (typeof rule !== 'object' || rule === null) throw new Error(`${where} must be an object`);
  if (!KINDS.includes(rule.kind)) throw new Error(`${where}: kind must be one of ${KINDS.join(', ')}`);
  const times = rule.times ?? 1;
  if (!Number.isInteger(times) || times < -1 || times === 0) {
    throw new Error(`${where}: times must be a positive integer or -1 (always)`);
  }
  if (rule.kind === 'error' && rule.status !== undefined && (rule.status < 500 || rule.status > 599)) {
    throw new Error(`${where}: an error fault's status must be 5xx`);
  }
  if (rule.kind === 'auth' && rule.status !== undefined && rule.status !== 401 && rule.status !== 403) {
    throw new Error(`${where}: an auth fault's status must be 401 or 403`);
  }
  if (rule.kind === 'latency' && !(typeof rule.latencyMs === 'number' && rule.latencyMs >= 0)) {
    throw new Error(`${where}: a latency fault needs latencyMs >= 0`);
  }
  if (
    rule.retryAfterSeconds !== undefined &&
    !(Number.isInteger(rule.retryAfterSeconds) && rule.retryAfterSeconds >= 0)
  ) {
    throw new Error(`${where}: retryAfterSeconds must be a non-negative integer`);
  }
  for (const [key, value] of Object.entries(rule.match ?? {})) {
    if (!['method', 'type', 'name'].includes(key) || typeof value !== 'string') {
      throw new Error(`${where}: match.${key} is not a string filter (method, type, name)`);
    }
  }
}

function matches(
  rule: FaultRule,
  method: string,
  type: string | undefined,
  name: string | undefined
): boolean {
  const m = rule.match ?? {};
  const same = (want: string | undefined, have: string | undefined) =>
    want === undefined || (have !== undefined && want.toLowerCase() === have.toLowerCase());
  return same(m.method, method) && same(m.type, type) && same(m.name, name);
}

/** The fault rules of one emulator and their remaining hits. */
export class FaultInjector {
  private armed: ArmedFault[] = [];

  /** Replaces the rules (all are checked first; nothing changes when one is invalid). */
  set(rules: FaultRule[]): void {
    if (!Array.isArray(rules)) throw new Error('faults must be an array of rules');
    rules.forEach(validateFault);
    this.armed = rules.map((rule) => ({ rule: structuredClone(rule), left: rule.times ?? 1 }));
  }

  /** The rules with hits left. */
  list(): ArmedFault[] {
    return this.armed.map((a) => structuredClone(a));
  }

  /** Consumes the rules that hit a request: every matching latency rule and the first other one. */
  take(method: string, type: string | undefined, name: string | undefined): FaultHit {
    const hit: FaultHit = { latencyMs: 0, kinds: [] };
    for (const armed of this.armed) {
      if (armed.left === 0 || !matches(armed.rule, method, type, name)) continue;
      if (armed.rule.kind !== 'latency' && hit.fault) continue;
      if (armed.left > 0) armed.left--;
      hit.kinds.push(armed.rule.kind);
      if (armed.rule.kind === 'latency') hit.latencyMs += armed.rule.latencyMs ?? 0;
      else hit.fault = armed.rule;
    }
    this.armed = this.armed.filter((a) => a.left !== 0);
    return hit;
  }
}

function error(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {}
): ArmResponse {
  return { status, headers, body: { error: { code, message } } };
}

const SERVER_CODES: Record<number, string> = {
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

/** The answer a status fault sends (throttle, error, auth, quota, invalid). */
export function faultResponse(rule: FaultRule): ArmResponse {
  switch (rule.kind) {
    case 'throttle':
      return error(
        429,
        'TooManyRequests',
        'The request is being throttled as the limit has been reached for operation type. (injected fault)',
        rule.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(rule.retryAfterSeconds) }
      );
    case 'error': {
      const status = rule.status ?? 500;
      return error(
        status,
        SERVER_CODES[status] ?? 'InternalServerError',
        `The server had an error. (injected fault ${status})`
      );
    }
    case 'auth':
      return rule.status === 403
        ? error(
            403,
            'AuthorizationFailed',
            'The client does not have authorization to perform this action or the scope is invalid. (injected fault)'
          )
        : error(
            401,
            'AuthenticationFailed',
            'Authentication failed: the access token is invalid. (injected fault)'
          );
    case 'quota':
      return error(
        409,
        'OperationNotAllowed',
        'Operation could not be completed as it results in exceeding approved Total Regional Cores quota. Additional details - Deployment Model: Resource Manager, Location: emulator, Current Limit: 10, Current Usage: 10, Additional Required: 2. (injected fault)'
      );
    case 'invalid':
      return error(400, 'InvalidParameter', 'The value of a parameter is not valid. (injected fault)');
    default:
      return error(500, 'InternalServerError', `fault ${rule.kind} has no status answer`);
  }
}
