/**
 * What one chaos run does, drawn from its seed alone: the same seed always gives the same plan, so a
 * failing run can be replayed with `npm run chaos -- --runs 1 --seed <seed>`.
 */
import type { FaultRule } from '../../emulator/src/arm';
import type { ToolFaultRule } from '../../emulator/src/hosts/types';
import type { PhaseName } from '../../src/workflows/phases';
import { PHASES } from '../../src/workflows/phases';

/** A small, fast, seedable generator (mulberry32). */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
}

/** When an action fires: once `phase` has started (plus `delayMs`, so mid-phase) or has completed. */
export interface Trigger {
  phase: PhaseName;
  when: 'started' | 'completed';
  delayMs: number;
}

/** A disruption during the run. */
export type Action =
  | { kind: 'kill-worker'; at: Trigger; downMs: number }
  | { kind: 'stop-worker'; at: Trigger }
  | { kind: 'restart-server'; at: Trigger; hard: boolean; downMs: number }
  | { kind: 'vpn-drop'; at: Trigger }
  | { kind: 'rollback'; at: Trigger; toPhase: PhaseName; resume: 'flag' | 'signal' | 'rest' };

/** How the run ends. */
export type Finish = 'complete' | 'rest' | 'reset';

/** Everything one run does. */
export interface RunPlan {
  seed: number;
  kof: boolean;
  workers: number;
  armFaults: FaultRule[];
  toolFaults: ToolFaultRule[];
  actions: Action[];
  finish: Finish;
}

const ARM_TYPES = [
  'Microsoft.Resources/resourceGroups',
  'Microsoft.Network/virtualNetworks',
  'Microsoft.Network/networkSecurityGroups',
  'Microsoft.Network/publicIPAddresses',
  'Microsoft.Network/networkInterfaces',
  'Microsoft.Compute/virtualMachines',
  'Microsoft.Compute/sshPublicKeys',
];

function armFault(rng: Rng): FaultRule {
  const type = rng.pick(ARM_TYPES);
  const method = rng.pick(['PUT', 'PUT', 'GET']);
  const times = rng.int(1, 2);
  switch (rng.int(0, 5)) {
    case 0:
      return { match: { method, type }, kind: 'throttle', retryAfterSeconds: 1, times };
    case 1:
      return { match: { method, type }, kind: 'throttle', times };
    case 2:
      return { match: { method, type }, kind: 'error', status: rng.pick([500, 502, 503]), times };
    case 3:
      return { match: { method: 'PUT', type }, kind: 'drop-before', times };
    case 4:
      return { match: { method: 'PUT', type }, kind: 'drop-after', times };
    default:
      return { match: { type }, kind: 'latency', latencyMs: rng.int(100, 800), times: rng.int(1, 4) };
  }
}

function toolFault(rng: Rng, kof: boolean, workers: number): ToolFaultRule {
  const machine = rng.chance(0.5) || workers === 0 ? 'k0s-controller-1' : 'k0s-worker-1';
  const options: ToolFaultRule[] = [
    { match: { tool: 'ssh', target: machine }, kind: 'refuse', times: rng.int(1, 2) },
    { match: { tool: 'k0sctl', command: 'apply' }, kind: 'fail', times: 1 },
    { match: { tool: 'k0sctl', command: 'apply' }, kind: 'crash', times: 1 },
    { match: { tool: 'helm', command: 'upgrade' }, kind: rng.pick(['fail', 'crash'] as const), times: 1 },
    { match: { tool: 'kubectl' }, kind: 'latency', latencyMs: rng.int(100, 600), times: rng.int(1, 5) },
    { match: { tool: 'wg-quick', command: 'up' }, kind: 'fail', times: 1 },
  ];
  if (kof) options.push({ match: { tool: 'az' }, kind: 'fail', times: 1 });
  return rng.pick(options);
}

/** The phases a run with these components goes through, in order. */
export function enabledPhases(kof: boolean): PhaseName[] {
  return PHASES.filter((p) => !('component' in p) || kof).map((p) => p.name);
}

/** Draws the plan of one run from its seed. */
export function drawPlan(seed: number): RunPlan {
  const rng = new Rng(seed);
  const kof = rng.chance(0.35);
  const workers = rng.pick([0, 1, 1, 2]);
  const phases = enabledPhases(kof);
  const armFaults = rng.chance(0.6) ? Array.from({ length: rng.int(1, 3) }, () => armFault(rng)) : [];
  const toolFaults = rng.chance(0.6)
    ? Array.from({ length: rng.int(1, 2) }, () => toolFault(rng, kof, workers))
    : [];
  const actions: Action[] = [];
  const count = rng.int(1, 4);
  // Actions fire in order of their trigger phase; each phase index only moves forward.
  const at = Array.from({ length: count }, () => rng.int(1, phases.length - 1)).sort((a, b) => a - b);
  const vpnFrom = phases.indexOf('install_k0s');
  let rollbacks = 0;
  for (const index of at) {
    const phase = phases[index] as PhaseName;
    const trigger: Trigger = {
      phase,
      when: rng.chance(0.7) ? 'started' : 'completed',
      delayMs: rng.int(0, 1500),
    };
    const roll = rng.next();
    if (roll < 0.3) actions.push({ kind: 'kill-worker', at: trigger, downMs: rng.int(0, 2000) });
    else if (roll < 0.42) actions.push({ kind: 'stop-worker', at: trigger });
    else if (roll < 0.57) {
      actions.push({ kind: 'restart-server', at: trigger, hard: rng.chance(0.5), downMs: rng.int(0, 1500) });
    } else if (roll < 0.7 && index >= vpnFrom) actions.push({ kind: 'vpn-drop', at: trigger });
    else if (rollbacks < 2) {
      rollbacks++;
      const last = trigger.when === 'completed' ? index : index - 1;
      actions.push({
        kind: 'rollback',
        at: trigger,
        toPhase: phases[rng.int(0, Math.max(0, last))] as PhaseName,
        resume: rng.pick(['flag', 'signal', 'signal'] as const),
      });
    } else actions.push({ kind: 'kill-worker', at: trigger, downMs: rng.int(0, 2000) });
  }
  const lastRollback = [...actions].reverse().find((a) => a.kind === 'rollback');
  let finish: Finish = rng.chance(0.2) ? 'reset' : 'complete';
  if (lastRollback && lastRollback.kind === 'rollback' && rng.chance(0.3)) {
    // Rest at the last rollback's target; actions after it would wait for phases that never come.
    lastRollback.resume = 'rest';
    actions.splice(actions.indexOf(lastRollback) + 1);
    if (finish !== 'reset') finish = 'rest';
  }
  return { seed, kof, workers, armFaults, toolFaults, actions, finish };
}

/** One line describing a plan, for the run's log. */
export function describePlan(plan: RunPlan): string {
  const parts = [
    `${plan.kof ? 'kof' : 'core'} 1+${plan.workers} VMs`,
    ...plan.armFaults.map(
      (f) =>
        `arm ${f.kind}${f.status ? ` ${f.status}` : ''} ${f.match?.method ?? '*'} ${f.match?.type?.split('/')[1] ?? '*'}×${f.times ?? 1}`
    ),
    ...plan.toolFaults.map(
      (f) => `${f.match.tool}${f.match.command ? ` ${f.match.command}` : ''} ${f.kind}×${f.times ?? 1}`
    ),
    ...plan.actions.map((a) => {
      const at = `${a.at.phase}${a.at.when === 'started' ? `+${a.at.delayMs}ms` : ' done'}`;
      return a.kind === 'rollback' ? `rollback→${a.toPhase} (${a.resume}) @${at}` : `${a.kind} @${at}`;
    }),
    `then ${plan.finish}`,
  ];
  return parts.join(', ');
}
