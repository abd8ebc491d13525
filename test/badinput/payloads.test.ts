import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { DeploymentState } from '../../src/workflows/messages';
import { DEPLOYMENT_WORKFLOW, stateQuery } from '../../src/workflows/messages';
import { PHASES, PHASE_NAMES } from '../../src/workflows/phases';
import type { TestDeployment } from '../integration/harness';
import {
  inProcessWorker,
  prepareDeployment,
  startDeployment,
  startServer,
  waitFor,
} from '../integration/harness';
import { MAX_LINE, assertRefused, runCliWithin } from './sandbox';
import { tried } from './tally';

/** A bad payload of the rollback signal and update, and why it must be refused. */
interface Payload {
  label: string;
  args: unknown[];
  why: RegExp;
}

const REQUIRED = /^toPhase is required \(a phase name\)$/;
const UNKNOWN = /^unknown phase "[^"]{0,60}"; phases are: prepare_deployment, /;
const NOT_RUN = /^phase \w+ has not run \(status (pending|skipped)\); nothing to roll back$/;
const OPTIONAL: string[] = PHASES.filter((p) => 'component' in p).map((p) => p.name);

/** Rollback payloads of the wrong shape, naming unknown phases, or phases that have not run. */
function rollbackPayloads(): Payload[] {
  const shapes: [string, unknown[]][] = [
    ['no argument', []],
    ['null', [null]],
    ['a number', [42]],
    ['a phase name alone', ['install_k0s']],
    ['true', [true]],
    ['an empty list', [[]]],
    ['a list holding a phase', [['install_k0s']]],
    ['an empty map', [{}]],
    ['toPhase null', [{ toPhase: null }]],
    ['toPhase a number', [{ toPhase: 42 }]],
    ['toPhase true', [{ toPhase: true }]],
    ['toPhase a list', [{ toPhase: ['install_k0s'] }]],
    ['toPhase a map', [{ toPhase: { name: 'install_k0s' } }]],
    ['toPhase empty', [{ toPhase: '' }]],
    ['phase instead of toPhase', [{ phase: 'install_k0s' }]],
    ['ToPhase in the wrong case', [{ ToPhase: 'install_k0s' }]],
  ];
  const unknown = [
    ...PHASE_NAMES.map((name) => name.slice(0, -1)),
    'INSTALL_K0S',
    'install-k0s',
    ' install_k0s',
    'install_k0s\n',
    '__proto__',
    'constructor',
    '../../etc/passwd',
    '\u0000',
    'x'.repeat(100_000),
  ];
  return [
    ...shapes.map(([label, args]) => ({ label, args, why: REQUIRED })),
    ...unknown.map((toPhase) => ({
      label: `toPhase ${JSON.stringify(toPhase).slice(0, 30)}`,
      args: [{ toPhase, resume: true }],
      why: UNKNOWN,
    })),
    ...OPTIONAL.map((toPhase) => ({
      label: `toPhase ${toPhase}, not run`,
      args: [{ toPhase }],
      why: NOT_RUN,
    })),
  ];
}

/** setComponents payloads the workflow refuses: KOF without the Azure child-cluster setup. */
const COMPONENT_REFUSALS: unknown[][] = [[{ kof: true }], [{ kof: true, azureChildren: false }]];
/** setComponents payloads of the wrong shape, each recorded as request_rejected. */
const COMPONENT_MISSHAPES: unknown[][] = [
  [42],
  [null],
  ['kof'],
  [{ kof: 'yes' }],
  [{ azureChildren: 1 }],
  [[true]],
];
/** Signal names the workflow has no handler for. */
const UNKNOWN_SIGNALS = ['rollbak', 'Rollback', 'reset ', 'components'];
/** Update names the workflow has no handler for (signal and query names among them). */
const UNKNOWN_UPDATES = ['rollbak', 'Rollback', 'setComponents', 'resume', 'state'];

const rejected = (s: DeploymentState) => s.events.filter((e) => e.action === 'request_rejected');

/** Sends every payload as an update and asserts each is refused by the validator, saying why. */
async function assertUpdatesRefused(d: TestDeployment, payloads: Payload[]): Promise<void> {
  for (const payload of payloads) {
    const update =
      payload.args.length === 0
        ? d.handle.executeUpdate('rollback')
        : d.handle.executeUpdate('rollback', { args: payload.args as [unknown, ...unknown[]] });
    await assert.rejects(update, (err: unknown) => {
      assert.ok(err instanceof WorkflowUpdateFailedError, `${payload.label}: ${String(err)}`);
      const why = err.cause?.message ?? '';
      assert.match(why, payload.why, payload.label);
      assert.ok(why.length <= MAX_LINE, `${payload.label}: a refusal of ${why.length} characters`);
      return true;
    });
    tried('payloads');
  }
}

/** Sends every payload as a signal; returns the patterns the request_rejected events must match, in order. */
async function sendRollbackSignals(d: TestDeployment, payloads: Payload[]): Promise<RegExp[]> {
  for (const payload of payloads) await d.handle.signal('rollback', ...payload.args);
  return payloads.map((payload) => new RegExp(`^rollback refused: ${payload.why.source.slice(1)}`));
}

/** Waits until `expected.length` more request_rejected events than `before` are recorded; checks each. */
async function assertRejectedEvents(d: TestDeployment, before: number, expected: RegExp[]): Promise<void> {
  const state = await waitFor(d.handle, (s) => rejected(s).length >= before + expected.length, 90_000);
  const events = rejected(state).slice(before);
  assert.equal(events.length, expected.length, events.map((e) => e.message).join('\n'));
  events.forEach((event, index) => {
    assert.match(event.message, expected[index] as RegExp);
    assert.ok(event.message.length <= MAX_LINE, `an event message of ${event.message.length} characters`);
  });
  tried('payloads', expected.length);
}

/** The deployment as it must be after every bad payload: completed, each phase run once, nothing undone. */
function assertUntouched(state: DeploymentState): void {
  assert.equal(state.status, 'completed');
  assert.deepEqual(state.flags, { azureChildren: false, kof: false });
  for (const name of PHASE_NAMES) {
    const record = state.phases[name];
    if (OPTIONAL.includes(name)) assert.equal(record.status, 'skipped', name);
    else assert.deepEqual([record.status, record.runs], ['completed', 1], name);
  }
  const undone = state.events.filter((e) =>
    ['rollback_started', 'phase_rolled_back', 'phase_reset', 'reset_started', 'components_changed'].includes(
      e.action
    )
  );
  assert.deepEqual(undone, []);
}

describe('bad signal and update payloads', function () {
  this.timeout(170_000);
  const payloads = rollbackPayloads();
  let d: TestDeployment;
  let worker: { stop: () => Promise<void> } | undefined;

  before(async function () {
    d = await startDeployment(await prepareDeployment());
    worker = await inProcessWorker(d.taskQueue);
    await waitFor(d.handle, (s) => s.phases.setup_network.status === 'completed', 90_000);
  });
  after(async () => {
    await worker?.stop();
    await d?.handle.terminate('bad-input suite done').catch(() => undefined);
    if (d) await fs.rm(d.workDir, { recursive: true, force: true });
  });

  describe('while the deployment runs', () => {
    it(`refuses ${payloads.length} malformed rollback updates in the validator, saying why`, async () => {
      assert.equal((await d.handle.query(stateQuery)).status, 'in_progress');
      await assertUpdatesRefused(d, payloads);
    });

    it('refuses updates by names the workflow does not handle', async () => {
      for (const name of UNKNOWN_UPDATES) {
        await assert.rejects(
          d.handle.executeUpdate(name, { args: [{ toPhase: 'install_k0s' }] }),
          (err: unknown) => {
            assert.ok(err instanceof WorkflowUpdateFailedError, `${name}: ${String(err)}`);
            assert.match(err.cause?.message ?? '', new RegExp(`No registered handler for update: ${name}`));
            return true;
          }
        );
        tried('payloads');
      }
    });

    it('records every malformed rollback and components signal as request_rejected', async () => {
      const before = rejected(await d.handle.query(stateQuery)).length;
      const expected = await sendRollbackSignals(d, payloads);
      for (const args of COMPONENT_REFUSALS) {
        await d.handle.signal('setComponents', ...args);
        expected.push(
          /^components refused: KOF needs the Azure child-cluster setup; enable azureChildren too$/
        );
      }
      await assertRejectedEvents(d, before, expected);
    });

    it('completes with every phase run once after all of them', async () => {
      assertUntouched(await waitFor(d.handle, (s) => s.status === 'completed', 120_000));
    });
  });

  describe('once the deployment completed', () => {
    it('still refuses every malformed update and signal, and stays open and completed', async () => {
      const before = rejected(await d.handle.query(stateQuery)).length;
      await assertUpdatesRefused(d, payloads);
      const expected = await sendRollbackSignals(d, payloads);
      await assertRejectedEvents(d, before, expected);
      const described = await d.handle.describe();
      assert.equal(described.status.name, 'RUNNING');
      assertUntouched(await d.handle.query(stateQuery));
    });

    it('refuses a CLI rollback to a phase that has not run, naming it', async () => {
      const { address } = await startServer();
      for (const phase of OPTIONAL.slice(0, 2)) {
        const run = await runCliWithin(address, ['rollback', '--to', phase, '--dir', d.workDir], d.workDir);
        assertRefused(
          run,
          { codes: [2], names: [`rollback refused: phase ${phase} has not run (status skipped)`] },
          `rollback --to ${phase}`
        );
        tried('cli');
      }
      assertUntouched(await d.handle.query(stateQuery));
    });
  });

  describe('payloads of the wrong shape for resume, components, reset and unknown signals', () => {
    it('refuses a rollback whose resume is not a boolean, as an update and as a signal', async () => {
      const before = rejected(await d.handle.query(stateQuery)).length;
      const bad: Payload[] = ['yes', 1, null, {}].map((resume) => ({
        label: `resume ${JSON.stringify(resume)}`,
        args: [{ toPhase: 'prepare_deployment', resume }],
        why: /^resume must be true or false$/,
      }));
      await assertUpdatesRefused(d, bad);
      const expected = await sendRollbackSignals(d, bad);
      await assertRejectedEvents(d, before, expected);
      assertUntouched(await d.handle.query(stateQuery));
    });

    it('records components payloads of the wrong shape and signals by unknown names as request_rejected', async () => {
      const before = rejected(await d.handle.query(stateQuery)).length;
      for (const args of COMPONENT_MISSHAPES) await d.handle.signal('setComponents', ...args);
      for (const name of UNKNOWN_SIGNALS) await d.handle.signal(name, { toPhase: 'prepare_deployment' });
      await assertRejectedEvents(d, before, [
        ...COMPONENT_MISSHAPES.map(
          () =>
            /^components refused: (the payload must be a map .*|(kof|azureChildren) must be true or false)$/
        ),
        ...UNKNOWN_SIGNALS.map(
          () => /^signal ".*" refused: no such signal; known: rollback, resume, reset, setComponents$/
        ),
      ]);
      assertUntouched(await d.handle.query(stateQuery));
    });

    it('refuses a reset payload that is not a map, as an update and as a signal, and resets nothing', async () => {
      const before = rejected(await d.handle.query(stateQuery)).length;
      const shapes: unknown[] = [42, 'yes', [], true];
      for (const payload of shapes) {
        await assert.rejects(d.handle.executeUpdate('reset', { args: [payload] }), (err: unknown) => {
          assert.ok(err instanceof WorkflowUpdateFailedError, String(err));
          assert.match(err.cause?.message ?? '', /^the payload must be a map \{ reason\?: string \}$/);
          return true;
        });
        await d.handle.signal('reset', payload);
      }
      await assertRejectedEvents(
        d,
        before,
        shapes.map(() => /^reset refused: the payload must be a map \{ reason\?: string \}$/)
      );
      tried('payloads', shapes.length);
      assert.equal((await d.handle.describe()).status.name, 'RUNNING');
      assertUntouched(await d.handle.query(stateQuery));
    });
  });
});

/** Reset reasons with odd characters, each cleaned to one safe folder name. */
const REASONS: unknown[] = [
  'a b\nc',
  'release 1.2 / hotfix #7',
  'rm -rf ~; echo $HOME',
  'a/../../b',
  `x${'\u0000'.repeat(3)}y`,
  'after-Ünïcode',
  'x'.repeat(10_000),
  '../../etc/passwd',
  ' x',
  '日本語',
  '',
  '   ',
  42,
  null,
  { nested: true },
];

describe('reset reasons with odd characters', function () {
  this.timeout(170_000);
  const resets: {
    reason: unknown;
    d: Awaited<ReturnType<typeof prepareDeployment>>;
    result?: DeploymentState;
  }[] = [];
  let queued: Promise<unknown>;
  let worker: { stop: () => Promise<void> } | undefined;

  before(async function () {
    const s = await startServer();
    const taskQueue = `badinput-reset-${Date.now()}`;
    for (const reason of REASONS) {
      const d = await prepareDeployment({ taskQueue });
      // Queued before any worker runs: the reset is the first thing each deployment does.
      await s.client.workflow.signalWithStart(DEPLOYMENT_WORKFLOW, {
        workflowId: d.id,
        taskQueue,
        args: [d.input],
        signal: 'reset',
        signalArgs: [{ reason }],
      });
      resets.push({ reason, d });
    }
    const first = s.client.workflow.getHandle((resets[0] as (typeof resets)[0]).d.id);
    await first.signal('rollback', { toPhase: 'prepare_deployment' });
    queued = first.executeUpdate('reset', { args: [{ reason: 'again' }] }).catch((err: unknown) => err);
    worker = await inProcessWorker(taskQueue);
    for (const entry of resets) {
      entry.result = (await s.client.workflow.getHandle(entry.d.id).result()) as DeploymentState;
    }
  });
  after(async () => {
    await worker?.stop();
    for (const { d } of resets) await fs.rm(d.workDir, { recursive: true, force: true });
  });

  for (const [index, reason] of REASONS.entries()) {
    it(`archives the state inside old_deployments/ for the reason ${String(JSON.stringify(reason)).slice(0, 40)}`, async () => {
      const { d, result } = resets[index] as (typeof resets)[0];
      assert.ok(result, 'no result');
      assert.equal(result.status, 'reset');
      const archived = result.archivedTo ?? '';
      assert.match(archived, new RegExp(`^old_deployments/${d.id}_[0-9_-]+_[A-Za-z0-9][A-Za-z0-9-]{0,39}$`));
      const folder = path.resolve(d.workDir, archived);
      assert.ok(folder.startsWith(path.join(d.workDir, 'old_deployments') + path.sep), folder);
      await fs.access(path.join(folder, 'deployment-state.yaml'));
      tried('payloads');
    });
  }

  it('refuses a second reset and records a rollback sent while a reset is queued', async () => {
    const refusal = await queued;
    assert.ok(refusal instanceof WorkflowUpdateFailedError, String(refusal));
    assert.match(refusal.cause?.message ?? '', /^a reset is already under way$/);
    const events = rejected((resets[0] as (typeof resets)[0]).result as DeploymentState);
    assert.deepEqual(
      events.map((e) => e.message),
      ['rollback refused: phase prepare_deployment has not run (status pending); nothing to roll back']
    );
    tried('payloads', 2);
  });
});
