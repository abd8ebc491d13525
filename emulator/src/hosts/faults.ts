/** Tool fault rules of the host world, their validation, and the host timings' validation. */
import type { HostTimings, ToolFaultKind, ToolFaultRule, ToolName } from './types';
import { DEFAULT_HOST_TIMINGS } from './types';

/** Every tool a fault rule can name. */
export const TOOL_NAMES: readonly ToolName[] = [
  'wg',
  'wg-quick',
  'k0sctl',
  'helm',
  'kubectl',
  'az',
  'ssh',
  'machine',
];

/** Every kind of tool fault. */
export const TOOL_FAULT_KINDS: readonly ToolFaultKind[] = [
  'fail',
  'crash',
  'latency',
  'refuse',
  'cloud-init-error',
  'wireguard-failed',
];

/** Kinds a tool run (`/world/tool/start`) or an SSH command can get. */
export const RUN_FAULT_KINDS: readonly ToolFaultKind[] = ['fail', 'crash', 'latency'];

/** Kinds a machine takes for its life. */
export const MACHINE_FAULT_KINDS: readonly ToolFaultKind[] = ['cloud-init-error', 'wireguard-failed'];

const RULE_FIELDS = new Set(['match', 'kind', 'exitCode', 'message', 'latencyMs', 'times']);
const MATCH_FIELDS = new Set(['tool', 'command', 'target']);

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function checkRule(value: unknown, at: string): ToolFaultRule {
  if (!isObject(value)) throw new Error(`${at} must be an object { match, kind, ... }`);
  const unknown = Object.keys(value).find((k) => !RULE_FIELDS.has(k));
  if (unknown)
    throw new Error(`${at} has an unknown field ${unknown}; fields: ${[...RULE_FIELDS].join(', ')}`);
  const match = value.match;
  if (!isObject(match)) throw new Error(`${at}.match must be an object { tool, command?, target? }`);
  const unknownMatch = Object.keys(match).find((k) => !MATCH_FIELDS.has(k));
  if (unknownMatch)
    throw new Error(`${at}.match has an unknown field ${unknownMatch}; fields: tool, command, target`);
  const tool = match.tool as ToolName;
  if (!TOOL_NAMES.includes(tool)) throw new Error(`${at}.match.tool must be one of ${TOOL_NAMES.join(', ')}`);
  for (const field of ['command', 'target'] as const) {
    const v = match[field];
    if (v !== undefined && (typeof v !== 'string' || v === ''))
      throw new Error(`${at}.match.${field} must be a non-empty string when given`);
  }
  const kind = value.kind as ToolFaultKind;
  if (!TOOL_FAULT_KINDS.includes(kind))
    throw new Error(`${at}.kind must be one of ${TOOL_FAULT_KINDS.join(', ')}`);
  if (kind === 'refuse' && tool !== 'ssh') throw new Error(`${at}: kind refuse is for tool ssh only`);
  if (MACHINE_FAULT_KINDS.includes(kind) && tool !== 'machine')
    throw new Error(`${at}: kind ${kind} is for tool machine only (target: the VM name)`);
  if (tool === 'machine' && !MACHINE_FAULT_KINDS.includes(kind))
    throw new Error(`${at}: tool machine takes kind ${MACHINE_FAULT_KINDS.join(' or ')}`);
  if (tool === 'machine' && match.command !== undefined)
    throw new Error(`${at}: a machine fault matches a target (the VM name), not a command`);
  if (value.exitCode !== undefined) {
    const code = value.exitCode;
    if (typeof code !== 'number' || !Number.isInteger(code) || code < 0 || code > 255)
      throw new Error(`${at}.exitCode must be an integer 0..255`);
  }
  if (value.message !== undefined && typeof value.message !== 'string')
    throw new Error(`${at}.message must be a string`);
  if (value.latencyMs !== undefined) {
    const ms = value.latencyMs;
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > 3_600_000)
      throw new Error(`${at}.latencyMs must be a number of milliseconds 0..3600000`);
  }
  if (kind === 'latency' && value.latencyMs === undefined)
    throw new Error(`${at}: kind latency needs latencyMs`);
  if (value.times !== undefined) {
    const times = value.times;
    if (typeof times !== 'number' || !Number.isInteger(times) || (times < 1 && times !== -1))
      throw new Error(`${at}.times must be a positive integer, or -1 for always`);
  }
  return structuredClone(value) as unknown as ToolFaultRule;
}

/** Checks a list of fault rules; throws naming the first wrong field. */
export function validateToolFaults(value: unknown): ToolFaultRule[] {
  if (!Array.isArray(value))
    throw new Error('faults must be an array of rules { match: { tool, command?, target? }, kind, ... }');
  return value.map((rule, i) => checkRule(rule, `faults[${i}]`));
}

/** The armed fault rules: the first matching rule is taken, `times` counting down. */
export class ToolFaults {
  private rules: ToolFaultRule[] = [];

  /** Replaces the rules (validated). */
  set(rules: unknown): void {
    this.rules = validateToolFaults(rules).map((r) => ({ ...r, times: r.times ?? 1 }));
  }

  /** The armed rules with the times they have left. */
  list(): ToolFaultRule[] {
    return structuredClone(this.rules);
  }

  /** Takes the first rule of one of `kinds` matching a call, using one of its times. */
  take(
    tool: ToolName,
    command: string | undefined,
    target: string | undefined,
    kinds: readonly ToolFaultKind[]
  ): ToolFaultRule | undefined {
    const i = this.rules.findIndex(
      (r) =>
        r.match.tool === tool &&
        kinds.includes(r.kind) &&
        (r.match.command === undefined || r.match.command === command) &&
        (r.match.target === undefined || r.match.target === target)
    );
    const rule = this.rules[i];
    if (!rule) return undefined;
    const taken = structuredClone(rule);
    delete taken.times;
    if (rule.times !== -1) {
      rule.times = (rule.times ?? 1) - 1;
      if (rule.times <= 0) this.rules.splice(i, 1);
    }
    return taken;
  }
}

const TIMING_KEYS = Object.keys(DEFAULT_HOST_TIMINGS) as (keyof HostTimings)[];

/** Checks partial host timings; throws naming the first wrong key. */
export function validateTimings(value: unknown): Partial<HostTimings> {
  if (!isObject(value)) throw new Error(`timings must be an object with some of ${TIMING_KEYS.join(', ')}`);
  const out: Partial<HostTimings> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!TIMING_KEYS.includes(key as keyof HostTimings))
      throw new Error(`unknown timing ${key}; timings: ${TIMING_KEYS.join(', ')}`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 86_400_000)
      throw new Error(`timing ${key} must be a number of milliseconds 0..86400000`);
    out[key as keyof HostTimings] = v;
  }
  return out;
}
