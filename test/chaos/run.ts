/** One chaos run: a deployment in the local world, disrupted as its plan says, then checked. */
import type { ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parse, parseDocument } from 'yaml';
import { namesFor } from '../../src/config/naming';
import type { ArmEmulator } from '../../emulator/src/arm';
import { DEPLOYMENT_EVENTS_FILE, DEPLOYMENT_STATE_FILE, STATE_DIR } from '../../src/state/paths';
import type { DeploymentState } from '../../src/workflows/messages';
import { resetSignal, resumeSignal, rollbackSignal, stateQuery } from '../../src/workflows/messages';
import type { PhaseName } from '../../src/workflows/phases';
import {
  childWorker,
  prepareDeployment,
  restartServer,
  runCli,
  startDeployment,
  startServer,
} from '../integration/harness';
import type { TestDeployment } from '../integration/harness';
import type { Haystack, Invariant } from './invariants';
import {
  checkAppliedOnce,
  checkFinalFiles,
  checkNoSecrets,
  checkReached,
  checkSweep,
  checkWorld,
  foreignSnapshot,
} from './invariants';
import type { Action, RunPlan, Trigger } from './plan';
import { drawPlan, enabledPhases } from './plan';

/** What the run did and what the checks found. */
export interface RunOutcome {
  seed: number;
  plan: RunPlan;
  id: string;
  ms: number;
  problems: Record<Invariant, string[]>;
  /** How often each disruption really happened. */
  did: Record<string, number>;
  samples: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Longest a run may wait for one step before it counts as stuck. */
const STEP_TIMEOUT_MS = 240_000;

class Stuck extends Error {}

/** Reads the deployment's state files while the run goes on: every sample must parse. */
class Sampler {
  samples = 0;
  problems: string[] = [];
  readonly needles = new Map<string, string>();
  private events = 0;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly workDir: string,
    private readonly id: string
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      this.sample()
        .catch((err: unknown) => this.problems.push(`sampling failed: ${String(err)}`))
        .finally(() => (this.busy = false));
    }, 40);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    while (this.busy) await sleep(10);
    await this.sample();
  }

  private async read(rel: string): Promise<string | undefined> {
    return fs.readFile(path.join(this.workDir, rel), 'utf8').catch(() => undefined);
  }

  private parsed(rel: string, text: string): unknown {
    const doc = parseDocument(text);
    if (doc.errors.length > 0) {
      this.problems.push(`${rel} did not parse: ${doc.errors[0]?.message ?? ''}`);
      return undefined;
    }
    const value: unknown = doc.toJS();
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.problems.push(`${rel} is not a map`);
      return undefined;
    }
    return value;
  }

  private async sample(): Promise<void> {
    this.samples++;
    const state = await this.read(DEPLOYMENT_STATE_FILE);
    if (state !== undefined) {
      const doc = this.parsed(DEPLOYMENT_STATE_FILE, state) as Record<string, unknown> | undefined;
      if (doc && doc.deployment_id !== this.id)
        this.problems.push(`${DEPLOYMENT_STATE_FILE} names ${String(doc.deployment_id)}`);
    }
    const events = await this.read(DEPLOYMENT_EVENTS_FILE);
    if (events !== undefined) {
      const doc = this.parsed(DEPLOYMENT_EVENTS_FILE, events) as { events?: unknown } | undefined;
      if (doc) {
        if (!Array.isArray(doc.events)) this.problems.push(`${DEPLOYMENT_EVENTS_FILE} has no events list`);
        else if (doc.events.length < this.events)
          this.problems.push(`${DEPLOYMENT_EVENTS_FILE} lost events: ${this.events} → ${doc.events.length}`);
        else this.events = doc.events.length;
      }
    }
    const stateDir = await fs.readdir(path.join(this.workDir, STATE_DIR)).catch(() => [] as string[]);
    for (const f of stateDir.filter((n) => /^cluster-.*-events\.yaml$/.test(n))) {
      const text = await this.read(path.join(STATE_DIR, f));
      if (text !== undefined) this.parsed(path.join(STATE_DIR, f), text);
    }
    await this.collectSecrets();
  }

  /** Remembers the run's private keys and secrets as they appear, so the end can look for them. */
  private async collectSecrets(): Promise<void> {
    const ssh = await this.read(`azure-resources/${this.id}-ssh-key`);
    if (ssh) {
      const body = ssh
        .split('\n')
        .filter((l) => l && !l.startsWith('-----'))
        .join('');
      for (let i = 0; i + 40 <= body.length && i < 400; i += 100)
        this.needles.set(`the SSH private key (chars ${i}..${i + 40})`, body.slice(i, i + 40));
    }
    const wg = await fs.readdir(path.join(this.workDir, 'wireguard')).catch(() => [] as string[]);
    for (const f of wg.filter((n) => n.endsWith('_privkey'))) {
      const key = (await this.read(path.join('wireguard', f)))?.trim();
      if (key) this.needles.set(`the WireGuard private key of ${f.replace(/_privkey$/, '')}`, key);
    }
    const creds = await this.read('config/azure-credentials.yaml');
    if (creds) {
      const secret = JSON.stringify(parse(creds)).match(/"client_secret":"([^"]+)"/)?.[1];
      if (secret) this.needles.set('the service principal secret', secret);
    }
  }
}

/** Texts of every payload and attribute of a workflow's history, for the secret scan. */
async function historyText(d: TestDeployment): Promise<string> {
  const history = await d.handle.fetchHistory();
  const parts: string[] = [];
  const walk = (value: unknown) => {
    if (value instanceof Uint8Array) parts.push(Buffer.from(value).toString('utf8'));
    else if (typeof value === 'string') parts.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(history.events ?? []);
  return parts.join('\n');
}

async function textFiles(dir: string, where: string): Promise<Haystack[]> {
  const out: Haystack[] = [];
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await textFiles(full, `${where}/${e.name}`)));
    else if (
      e.isFile() &&
      !e.name.endsWith('.db') &&
      !e.name.endsWith('.db-wal') &&
      !e.name.endsWith('.db-shm')
    )
      out.push({ where: `${where}/${e.name}`, text: await fs.readFile(full, 'utf8') });
  }
  return out;
}

/** True for a `failed` state not seen before, so the operator acts once per failure. */
function failureTracker(): (st: DeploymentState) => boolean {
  let seen = '';
  return (st) => {
    const key = `${st.lastUpdated} ${st.lastError ?? ''}`;
    if (st.status !== 'failed' || key === seen) return false;
    seen = key;
    return true;
  };
}

/** Waits for a reset workflow to close and returns its final state; a failed reset is asked again. */
async function untilClosed(
  d: TestDeployment,
  log: (line: string) => void,
  again: () => void
): Promise<DeploymentState> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  const newFailure = failureTracker();
  while (Date.now() < deadline) {
    if ((await d.handle.describe()).status.name !== 'RUNNING') return d.handle.result();
    const st = await d.handle.query(stateQuery).catch(() => undefined);
    if (st && newFailure(st)) {
      log(`    reset failed (${st.lastError ?? ''}); operator asks again`);
      again();
      await d.handle.signal(resetSignal, { reason: 'chaos' });
    }
    await sleep(100);
  }
  throw new Stuck(`the reset did not finish in ${STEP_TIMEOUT_MS / 1000} s`);
}

/** Runs one seed; never throws for a deployment problem (those are the outcome), only for a broken harness. */
export async function runOnce(seed: number, log: (line: string) => void): Promise<RunOutcome> {
  const s = await startServer();
  const plan = drawPlan(seed);
  const prepared = await prepareFor(plan);
  const started = Date.now();
  const names = namesFor(prepared.id, prepared.config);
  const problems: Record<Invariant, string[]> = {
    reached: [],
    world: [],
    'applied-once': [],
    'state-files': [],
    'no-secrets': [],
    sweep: [],
  };
  const did: Record<string, number> = {};
  const count = (what: string) => (did[what] = (did[what] ?? 0) + 1);
  const foreignBefore = foreignSnapshot(s.arm, prepared.id);
  s.arm.setFaults(plan.armFaults);
  s.arm.hosts.setFaults(plan.toolFaults);
  const faultsBefore = structuredClone(s.arm.counts().faults);

  let workerOutput = '';
  const onOutput = (text: string) => (workerOutput += text);
  let worker: ChildProcess = await childWorker(prepared.taskQueue, prepared.workDir, onOutput);
  const sampler = new Sampler(prepared.workDir, prepared.id);
  sampler.start();
  const d = await startDeployment(prepared);

  /** The state, or undefined while no worker answers queries. */
  const query = async (): Promise<DeploymentState | undefined> =>
    d.handle.query(stateQuery).catch(() => undefined);

  /** Polls until `predicate` holds; a failed deployment is resumed as an operator would. */
  const until = async (what: string, predicate: (st: DeploymentState) => boolean) => {
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    const newFailure = failureTracker();
    for (;;) {
      const st = await query();
      if (st && predicate(st)) return st;
      if (st && newFailure(st)) {
        log(`    failed (${st.lastError ?? ''}); operator resumes`);
        await resume();
      }
      if (Date.now() > deadline)
        throw new Stuck(
          `${what} not reached in ${STEP_TIMEOUT_MS / 1000} s; last status ${st?.status ?? 'unknown'}`
        );
      await sleep(100);
    }
  };
  async function resume() {
    count('operator resume');
    await d.handle.signal(resumeSignal);
  }
  const reached = (t: Trigger) => (st: DeploymentState) => {
    const status = st.phases[t.phase].status;
    return t.when === 'completed'
      ? status === 'completed'
      : status === 'in_progress' || status === 'completed';
  };
  const exited = (child: ChildProcess) =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((r) => child.once('exit', () => r()));

  const act = async (a: Action) => {
    switch (a.kind) {
      case 'kill-worker':
        worker.kill('SIGKILL');
        await exited(worker);
        await sleep(a.downMs);
        worker = await childWorker(d.taskQueue, d.workDir, onOutput);
        break;
      case 'stop-worker':
        worker.kill('SIGTERM');
        await exited(worker);
        worker = await childWorker(d.taskQueue, d.workDir, onOutput);
        break;
      case 'restart-server':
        await restartServer({ hard: a.hard, downMs: a.downMs });
        break;
      case 'vpn-drop':
        if (!s.arm.hosts.dropTunnel(names.wireguardInterface)) return;
        break;
      case 'rollback': {
        const before = (await until('a state to roll back', () => true)).events;
        const rejected = (st: DeploymentState) =>
          st.events.slice(before.length).find((e) => e.action === 'request_rejected');
        const rolled = (st: DeploymentState) =>
          st.events.slice(before.length).some((e) => e.action === 'rollback_started') &&
          st.status !== 'rolling_back';
        await d.handle.signal(rollbackSignal, { toPhase: a.toPhase, resume: a.resume === 'flag' });
        const st = await until(`the rollback to ${a.toPhase}`, (x) => rejected(x) !== undefined || rolled(x));
        const rejection = rejected(st);
        if (rejection) problems.reached.push(`rollback to ${a.toPhase} was refused: ${rejection.message}`);
        if (a.resume === 'signal') await d.handle.signal(resumeSignal);
        break;
      }
    }
    count(a.kind);
  };

  let closed = false;
  let final: DeploymentState | undefined;
  let restAt: PhaseName | undefined;
  try {
    for (const a of plan.actions) {
      await until(`${a.at.phase} ${a.at.when}`, reached(a.at));
      if (a.at.when === 'started') await sleep(a.at.delayMs);
      log(`    ${a.kind}${a.kind === 'rollback' ? ` to ${a.toPhase}` : ''} at ${a.at.phase}`);
      await act(a);
      if (a.kind === 'rollback' && a.resume === 'rest') restAt = a.toPhase;
    }
    if (restAt) await until(`rest at ${restAt}`, (x) => x.status === 'paused' && x.rollbackTarget === restAt);
    else await until('completion', (x) => x.status === 'completed');
    if (plan.finish === 'reset') {
      await d.handle.signal(resetSignal, { reason: 'chaos' });
      count('reset');
      final = await untilClosed(d, log, () => count('operator reset again'));
      closed = true;
    } else {
      final = await query();
      closed = (await d.handle.describe()).status.name !== 'RUNNING';
    }
  } catch (err) {
    problems.reached.push(err instanceof Stuck ? err.message : `driver: ${String(err)}`);
    // What a stuck run needs for a diagnosis: is the worker there, and what did it say last.
    const alive = worker.exitCode === null && worker.signalCode === null;
    const workflow = await d.handle.describe().then(
      (x) => x.status.name,
      (e: unknown) => `not described (${String(e)})`
    );
    problems.reached.push(
      `worker ${alive ? 'running' : `exited (${String(worker.exitCode ?? worker.signalCode)})`}, workflow ${workflow}; worker output ends: ${workerOutput.slice(-600).replace(/\s+/g, ' ')}`
    );
  }
  await sampler.stop();
  s.arm.setFaults([]);
  s.arm.hosts.setFaults([]);
  did['arm faults'] = Object.entries(s.arm.counts().faults).reduce(
    (n, [k, v]) => n + (v ?? 0) - (faultsBefore[k as keyof typeof faultsBefore] ?? 0),
    0
  );

  if (final) {
    const expectation = {
      finish: plan.finish === 'reset' ? 'reset' : restAt ? 'rest' : 'complete',
      restAt,
      enabled: enabledPhases(plan.kof),
    } as const;
    problems.reached.push(...(await checkReached(final, expectation, d.workDir, closed)));
    problems.world.push(...checkWorld(s.arm, final, d.config, foreignBefore, (did['vpn-drop'] ?? 0) > 0));
    problems['applied-once'].push(...checkAppliedOnce(s.arm, final, d.config));
    problems.sweep.push(...(await sweepAtTheEnd(s.arm, d)));
    problems['state-files'].push(...sampler.problems);
    // Reset moves the state files to the top of the archive folder.
    const stateDir = final.archivedTo
      ? path.join(d.workDir, final.archivedTo)
      : path.join(d.workDir, STATE_DIR);
    problems['state-files'].push(...(await checkFinalFiles(stateDir, final)));
    const haystacks: Haystack[] = [
      { where: 'workflow history', text: await historyText(d) },
      { where: 'worker output', text: workerOutput },
      ...(await textFiles(path.join(d.workDir, STATE_DIR), 'state')),
      ...(await textFiles(path.join(d.workDir, 'logs'), 'logs')),
      ...(await textFiles(path.join(d.workDir, 'old_deployments'), 'old_deployments')),
    ];
    problems['no-secrets'].push(...checkNoSecrets(sampler.needles, haystacks));
    if (sampler.needles.size === 0) problems['no-secrets'].push('no key material was found to look for');
  } else {
    problems.reached.push('no final state to check');
  }
  worker.kill('SIGTERM');
  await Promise.race([exited(worker), sleep(10_000)]);
  if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
  return { seed, plan, id: d.id, ms: Date.now() - started, problems, did, samples: sampler.samples };
}

/** `sweep --json` of the run's deployment (named: reset removes `.clusterid`), with the ARM writes it made. */
async function sweepAtTheEnd(arm: ArmEmulator, d: TestDeployment): Promise<string[]> {
  const writes = () => {
    const { requests } = arm.counts();
    return ['PUT', 'PATCH', 'POST', 'DELETE'].reduce((n, m) => n + (requests[m] ?? 0), 0);
  };
  const before = writes();
  const { code, output } = await runCli(['sweep', '--json', '--id', d.id, '--dir', d.workDir], d.workDir);
  return checkSweep({ code, output, writes: writes() - before });
}

async function prepareFor(plan: RunPlan) {
  return prepareDeployment({
    kof: plan.kof,
    configure: (c) => {
      c.cluster.workers.count = plan.workers;
      // A k0sctl lock left by a crashed apply is cleared after this long.
      c.timeouts.k0s_install_wait = 8;
    },
  });
}
