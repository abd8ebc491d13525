import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PHASE_NAMES } from '../../src/workflows/phases';
import { startServer } from '../integration/harness';
import type { CliRun, Refusal } from './sandbox';
import {
  CLI_LANES,
  assertRefused,
  cliHookTimeout,
  mapLimit,
  processesMentioning,
  runCliWithin,
  sandbox,
  tree,
  workflowIds,
} from './sandbox';
import { tried } from './tally';

/** Where a CLI input runs: its own empty folder (cwd and `--dir`), a good config and a plain file. */
interface Place {
  dir: string;
  config: string;
  file: string;
}

/** A generated bad command line. */
interface BadArgs {
  group: string;
  label: string;
  args: (at: Place) => string[];
  expect: (at: Place) => Refusal;
  /** Files the folder holds before the run (relative path → content); the run must leave them alone. */
  files?: Record<string, string>;
}

const COMMANDS = [
  'deploy',
  'status',
  'list',
  'plan',
  'rollback',
  'resume',
  'reset',
  'sweep',
  'worker',
  'demo',
];
/** Each command's own options (every command also takes --dir, --id and --help). */
const OPTIONS: Record<string, string[]> = {
  deploy: ['--config', '--cloud', '--with-kof', '--with-azure-children', '--detach', '--no-worker'],
  status: ['--json'],
  list: [],
  plan: ['--to', '--json', '--config', '--cloud', '--with-kof', '--with-azure-children'],
  rollback: ['--to', '--resume'],
  resume: ['--detach'],
  reset: ['--yes'],
  sweep: ['--delete', '--json'],
  worker: ['--task-queue'],
  demo: [],
};
const ID = 'k0rdent-badc1d00';
const usage =
  (names: (string | RegExp)[]): ((at: Place) => Refusal) =>
  () => ({ codes: [2], names });
/** A deploy that would start a deployment in `at.dir` if the bad part were accepted. */
const deployArgs = (at: Place) => ['deploy', '--config', at.config, '--cloud', 'emulator', '--detach'];
/** Each command with the arguments that make it act on the folder's deployment. */
const ACTING: Record<string, (at: Place) => string[]> = {
  status: () => ['status'],
  resume: () => ['resume', '--detach'],
  reset: () => ['reset', '--yes'],
  rollback: () => ['rollback', '--to', 'install_k0s'],
  deploy: deployArgs,
  sweep: () => ['sweep', '--delete'],
};

/** Every generated bad command line, grouped by what is wrong with it. */
function badArgs(): BadArgs[] {
  const inputs: BadArgs[] = [];
  const add = (group: string, label: string, rest: Omit<BadArgs, 'group' | 'label'>) =>
    inputs.push({ group, label, ...rest });
  const acting = Object.entries(ACTING);

  for (const wrong of [
    ...COMMANDS.slice(0, 2).map((command) => command.slice(0, -1)),
    'Deploy',
    '--deploy',
  ]) {
    add('unknown commands', wrong, { args: () => [wrong], expect: usage([`unknown command "${wrong}"`]) });
  }

  // Misspelt options of the commands that act or run for long, where a parse that let them through hurts.
  for (const command of ['deploy', 'status', 'rollback', 'reset', 'sweep', 'worker', 'list', 'demo']) {
    const own = OPTIONS[command]?.[0];
    const wrong = own ? own.slice(0, -1) : '--bogus';
    add('unknown options', `${command} ${wrong}`, {
      args: () => [command, wrong],
      expect: usage([`Unknown option '${wrong}'`]),
    });
  }

  const missing: [string, string][] = [
    ['deploy', '--config'],
    ['status', '--dir'],
    ['rollback', '--to'],
    ['worker', '--task-queue'],
  ];
  for (const [command, option] of missing) {
    add('missing option values', `${command} ${option}`, {
      args: () => [command, option],
      expect: usage([`Option '${option} <value>' argument missing`]),
    });
  }
  add('missing option values', 'status --dir --json', {
    args: () => ['status', '--dir', '--json'],
    expect: usage([/Option '--dir' argument is ambiguous/]),
  });
  add('missing option values', 'rollback --to=', {
    args: () => ['rollback', '--to='],
    expect: usage(['--to: needs a value']),
  });

  const ids = ['cluster-1', 'k0rdent-ABCDEFGH', `../${ID}`, `${ID}0`];
  ids.forEach((id, index) => {
    const [command, args] = acting[index % acting.length] as [string, (at: Place) => string[]];
    add('ids of the wrong shape', `${command} --id ${JSON.stringify(id)}`, {
      args: (at) => [...args(at), '--id', id],
      expect: usage([`--id ${id}: not a deployment id`]),
    });
  });

  add('ids of the wrong shape', 'sweep --id "k0rdent-1234"', {
    args: () => ['sweep', '--delete', '--id', 'k0rdent-1234'],
    expect: usage(['--id k0rdent-1234: not a deployment id']),
  });

  add('rollback targets', 'rollback', {
    args: () => ['rollback'],
    expect: usage(['rollback needs --to PHASE']),
  });
  for (const target of [
    ...PHASE_NAMES.filter((_, i) => i % 5 === 1).map((name) => name.slice(0, -1)),
    'all',
  ]) {
    add('rollback targets', `rollback --to ${target}`, {
      args: () => ['rollback', '--to', target],
      expect: usage([`--to ${target}: unknown phase; phases are ${PHASE_NAMES.join(', ')}`]),
    });
  }

  // plan only reads, but a request it cannot serve must be refused before it connects anywhere.
  const plans: [string, string[], string][] = [
    ['plan bogus', ['plan', 'bogus'], 'plan bogus: plan deploy, plan rollback --to PHASE or plan reset'],
    ['plan rollback', ['plan', 'rollback'], 'plan rollback needs --to PHASE'],
    [
      'plan rollback --to all',
      ['plan', 'rollback', '--to', 'all'],
      `--to all: unknown phase; phases are ${PHASE_NAMES.join(', ')}`,
    ],
    [
      'plan reset --to install_k0s',
      ['plan', 'reset', '--to', 'install_k0s'],
      '--to belongs to plan rollback, not plan reset',
    ],
    ['plan --jso', ['plan', '--jso'], "Unknown option '--jso'"],
    ['plan --id "k0rdent-1234"', ['plan', '--id', 'k0rdent-1234'], '--id k0rdent-1234: not a deployment id'],
  ];
  for (const [label, args, message] of plans)
    add('plan requests', label, { args: () => args, expect: usage([message]) });
  add('plan requests', 'plan --dir a file', {
    args: (at) => ['plan', '--dir', at.file],
    expect: (at) => ({ codes: [2], names: [`--dir ${at.file}: not a directory`] }),
  });

  for (const cloud of ['bogus', 'AZURE']) {
    add('clouds', `deploy --cloud ${cloud}`, {
      args: (at) => ['deploy', '--config', at.config, '--cloud', cloud, '--detach'],
      expect: usage([`--cloud ${cloud}: use emulator or azure`]),
    });
  }

  const onFolder: [string, (at: Place) => string[]][] = [
    ...acting.filter(([command]) => ['status', 'reset', 'deploy', 'sweep'].includes(command)),
    ['worker', () => ['worker']],
    ['demo', () => ['demo']],
  ];
  for (const [command, args] of onFolder) {
    add('--dir that is a file', command, {
      args: (at) => [...args(at), '--dir', at.file],
      expect: (at) => ({ codes: [2], names: [`--dir ${at.file}: not a directory`] }),
    });
  }

  for (const [command, args] of acting.filter(([command]) =>
    ['status', 'resume', 'reset', 'sweep'].includes(command)
  )) {
    add('folders without a deployment', command, {
      args,
      expect: (at) => ({ codes: [2], names: [`no deployment in ${at.dir} (no .clusterid)`] }),
    });
  }

  for (const [command, args] of acting.filter(([command]) => ['resume', 'rollback'].includes(command))) {
    add('deployments the server does not know', command, {
      files: { '.clusterid': `${ID}\n` },
      args,
      expect: () => ({ codes: [1], names: [`workflow not found for ID: ${ID}`] }),
    });
  }
  add('deployments the server does not know', 'sweep', {
    files: { '.clusterid': `${ID}\n` },
    args: () => ['sweep', '--delete'],
    expect: () => ({ codes: [1], names: [`deployment ${ID} is unknown to the Temporal server`] }),
  });
  add('deployments the server does not know', 'reset without --yes and no terminal', {
    files: { '.clusterid': `${ID}\n` },
    args: () => ['reset'],
    expect: usage(['pass --yes to confirm']),
  });

  for (const [command, extra] of [
    ['status', 'extra'],
    ['rollback', 'install_k0s'],
    ['sweep', 'all'],
  ] as const) {
    add('positional arguments', `${command} ${extra}`, {
      args: () => [command, extra],
      expect: usage([`Unexpected argument '${extra}'`]),
    });
  }

  // A help flag must print the usage and do nothing else, also on commands that would act or run on.
  for (const [command, flag] of [
    ['deploy', '--help'],
    ['reset', '-h'],
    ['worker', '--help'],
    ['sweep', '--help'],
    ['demo', '-h'],
  ] as const) {
    add('help flags', `${command} ${flag}`, {
      args: (at) => [...(ACTING[command]?.(at) ?? [command]), flag],
      expect: () => ({ codes: [0], names: [/^usage: k0rdent-deploy <command> \[options\]$/m] }),
    });
  }

  add('config files', 'deploy --config missing', {
    args: (at) => ['deploy', '--config', path.join(at.dir, 'nope.yaml'), '--cloud', 'emulator', '--detach'],
    expect: (at) => ({ codes: [2], names: [`${path.join(at.dir, 'nope.yaml')}: no such file`] }),
  });
  add('config files', 'deploy --config a directory', {
    files: { 'conf.d/.keep': '' },
    args: (at) => ['deploy', '--config', path.join(at.dir, 'conf.d'), '--cloud', 'emulator', '--detach'],
    expect: (at) => ({ codes: [2], names: [`${path.join(at.dir, 'conf.d')}: is not a file`] }),
  });
  add('config files', 'deploy --cloud azure without a subscription', {
    args: (at) => ['deploy', '--config', at.config, '--cloud', 'azure', '--detach'],
    expect: (at) => ({
      codes: [2],
      names: [`${at.config}: azure.subscription_id: required with --cloud azure`],
    }),
  });
  add('config files', 'deploy --with-kof with a KOF domain that is no DNS name', {
    files: { 'kof.yaml': 'kof:\n  regional:\n    domain: not a domain\n' },
    args: (at) => [
      'deploy',
      '--config',
      path.join(at.dir, 'kof.yaml'),
      '--cloud',
      'emulator',
      '--with-kof',
      '--detach',
    ],
    expect: (at) => ({
      codes: [2],
      names: [`${path.join(at.dir, 'kof.yaml')}: kof.regional.domain: must be a DNS name`],
    }),
  });
  return inputs;
}

describe('bad command lines', function () {
  this.timeout(150_000);
  const inputs = badArgs();
  const runs = new Map<BadArgs, { run: CliRun; at: Place; before: string[] }>();
  let root: string;
  let cleanup = async (): Promise<void> => {};
  let workflowsBefore: string[];

  before(async function () {
    this.timeout(cliHookTimeout(inputs.length));
    ({ root, cleanup } = await sandbox('cli'));
    const config = path.join(root, 'good.yaml');
    await fs.writeFile(config, 'orchestrator:\n  activity_preset: quick\n');
    const { address } = await startServer();
    workflowsBefore = await workflowIds();
    await mapLimit(
      inputs.map((input, index) => ({ input, index })),
      CLI_LANES,
      async ({ input, index }) => {
        const dir = path.join(root, `run-${index}`);
        const at: Place = { dir, config, file: path.join(dir, 'a-file') };
        await fs.mkdir(dir);
        await fs.writeFile(at.file, 'not a folder\n');
        for (const [rel, content] of Object.entries(input.files ?? {})) {
          await fs.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
          await fs.writeFile(path.join(dir, rel), content);
        }
        const before = await tree(dir);
        runs.set(input, { run: await runCliWithin(address, input.args(at), dir), at, before });
      }
    );
  });
  after(async () => {
    await cleanup();
  });

  for (const group of [...new Set(inputs.map((input) => input.group))]) {
    describe(group, () => {
      for (const input of inputs.filter((candidate) => candidate.group === group)) {
        it(`k0rdent-deploy ${input.label}: a clear message, nothing created`, async () => {
          const found = runs.get(input);
          assert.ok(found, 'not run');
          assertRefused(found.run, input.expect(found.at), input.label);
          assert.deepEqual(await tree(found.at.dir), found.before, 'the folder is left as it was');
          tried('cli');
        });
      }
    });
  }

  describe('all of them together', () => {
    it('started no workflow and no process', async () => {
      assert.deepEqual(await workflowIds(), workflowsBefore);
      assert.deepEqual(processesMentioning(root), []);
    });
  });
});
