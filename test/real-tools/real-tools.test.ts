/**
 * The real tools' verdict on what the phases hand them: every helm, kubectl and az command line of whole
 * deployments (1 to 3 controllers, 0 to 2 workers, every optional phase, then a reset) goes through the
 * pinned real tool; broken variants of those command lines are refused by the real tool and by the
 * emulated one alike.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { emulatorTarget } from '../../src/azure/target';
import { EMULATED_TOOLS_BIN, emulatorAccess } from '../../emulator/src/access';
import { commandLine } from '../../src/hosts/run-command';
import { startServer } from '../integration/harness';
import type { RecordedTool, ToolCommand, Topology } from './capture';
import { recordDeployments, topologyLabel } from './capture';
import type { Judge, Verdict } from './judges';
import { flagValue, judgeAz, judgeHelm, judgeKubectl, localArgs } from './judges';
import type { RealTool, StandIns, ToolRun } from './tools';
import { STAND_IN_CHARTS, installRealTools, makeStandIns, run } from './tools';

/** Every controller count and every worker count at least once. */
const TOPOLOGIES: Topology[] = [
  { controllers: 1, workers: 0 },
  { controllers: 2, workers: 1 },
  { controllers: 3, workers: 2 },
];

type JudgedTool = Exclude<RecordedTool, 'k0sctl'>;

const JUDGES: Record<JudgedTool, (judge: Judge, cmd: ToolCommand) => Promise<Verdict>> = {
  helm: judgeHelm,
  kubectl: judgeKubectl,
  az: judgeAz,
};

/** A command line without what differs between deployments: folder, id, id suffix. */
function shape(cmd: ToolCommand): string {
  const suffix = cmd.deploymentId.slice('k0rdent-'.length);
  const plain = (s: string) =>
    s.split(cmd.cwd).join('<dir>').split(cmd.deploymentId).join('<id>').split(suffix).join('<suffix>');
  return `${plain(commandLine(cmd.tool, cmd.args))}\n${plain(cmd.stdin)}`;
}

/** One command of each shape, in the order the phases first ran them. */
function distinct(commands: ToolCommand[]): ToolCommand[] {
  const seen = new Map<string, ToolCommand>();
  for (const c of commands) if (!seen.has(shape(c))) seen.set(shape(c), c);
  return [...seen.values()];
}

/** One way to break a command a phase ran, and how both tools must answer it. */
interface Breakage {
  tool: JudgedTool;
  what: string;
  pick: (cmd: ToolCommand) => boolean;
  change: (args: string[], stdin: string) => { args: string[]; stdin: string };
  /** `refused`: both exit with the same code, saying `says`; `accepted`: the real tool takes it too. */
  expect: 'refused' | 'accepted';
  says?: RegExp;
}

function swap(args: string[], from: string, to: string[]): string[] {
  const i = args.indexOf(from);
  assert.ok(i >= 0, `${from} in ${args.join(' ')}`);
  return [...args.slice(0, i), ...to, ...args.slice(i + 1)];
}

function swapValue(args: string[], flag: string, value: string): string[] {
  const i = args.indexOf(flag);
  assert.ok(i >= 0, `${flag} in ${args.join(' ')}`);
  return [...args.slice(0, i + 1), value, ...args.slice(i + 2)];
}

const sub =
  (tool: JudgedTool, ...words: string[]) =>
  (c: ToolCommand) =>
    c.tool === tool && words.every((w, i) => c.args[i] === w);

const BREAKAGES: Breakage[] = [
  {
    tool: 'helm',
    what: 'a --timeout without a unit',
    pick: sub('helm', 'upgrade'),
    change: (args, stdin) => ({ args: swapValue(args, '--timeout', '60'), stdin }),
    expect: 'refused',
    says: /invalid argument "60" for "--timeout" flag: time: missing unit in duration "60"/,
  },
  {
    tool: 'helm',
    what: 'a misspelt --create-namespace',
    pick: sub('helm', 'upgrade'),
    change: (args, stdin) => ({ args: swap(args, '--create-namespace', ['--create-namespaces']), stdin }),
    expect: 'refused',
    says: /unknown flag: --create-namespaces/,
  },
  {
    tool: 'helm',
    what: 'a --set without a value',
    pick: (c) => sub('helm', 'upgrade')(c) && c.args.includes('--set'),
    change: (args, stdin) => ({ args: swapValue(args, '--set', 'global.storageClass'), stdin }),
    expect: 'refused',
    says: /failed parsing --set data: key "storageClass" has no value$/m,
  },
  {
    tool: 'helm',
    what: 'status in an unknown output format',
    pick: sub('helm', 'status'),
    change: (args, stdin) => ({ args: swapValue(args, '-o', 'jsn'), stdin }),
    expect: 'refused',
    says: /invalid argument "jsn" for "-o, --output" flag: invalid format type/,
  },
  {
    tool: 'helm',
    what: 'status without a release',
    pick: sub('helm', 'status'),
    change: (args, stdin) => ({ args: args.filter((_, i) => i !== 1), stdin }),
    expect: 'refused',
    says: /"helm status" requires 1 argument/,
  },
  {
    tool: 'helm',
    what: 'uninstall with a non-boolean --wait',
    pick: sub('helm', 'uninstall'),
    change: (args, stdin) => ({ args: swap(args, '--wait', ['--wait=yes']), stdin }),
    expect: 'refused',
    says: /invalid argument "yes" for "--wait" flag: strconv.ParseBool: parsing "yes": invalid syntax/,
  },
  {
    tool: 'kubectl',
    what: 'a misspelt --ignore-not-found',
    pick: (c) => sub('kubectl', 'delete')(c) && c.args.includes('--ignore-not-found'),
    change: (args, stdin) => ({ args: swap(args, '--ignore-not-found', ['--ignore-notfound']), stdin }),
    expect: 'refused',
    says: /unknown flag: --ignore-notfound/,
  },
  {
    tool: 'kubectl',
    what: 'a -n without its namespace',
    pick: (c) => sub('kubectl', 'get')(c) && c.args.includes('-n'),
    change: (args, stdin) => ({
      args: [...args.filter((a) => a !== '-n' && a !== flagValue(args, '-n')), '-n'],
      stdin,
    }),
    expect: 'refused',
    says: /flag needs an argument: 'n' in -n/,
  },
  {
    tool: 'kubectl',
    what: 'a manifest without its kind',
    pick: sub('kubectl', 'apply'),
    change: (args, stdin) => ({ args, stdin: stdin.replace(/^kind: .*\n/m, '') }),
    expect: 'refused',
    says: /Object 'Kind' is missing in/,
  },
  {
    tool: 'az',
    what: 'a misspelt command',
    pick: sub('az', 'ad', 'sp', 'list'),
    change: (args, stdin) => ({ args: swap(args, 'list', ['lst']), stdin }),
    expect: 'refused',
    says: /'lst' is misspelled or not recognized by the system/,
  },
  {
    tool: 'az',
    what: 'a misspelt --display-name',
    pick: sub('az', 'ad', 'sp', 'list'),
    change: (args, stdin) => ({ args: swap(args, '--display-name', ['--display-nme']), stdin }),
    expect: 'refused',
    says: /unrecognized arguments: --display-nme/,
  },
  {
    tool: 'az',
    what: 'delete without --id',
    pick: sub('az', 'ad', 'sp', 'delete'),
    change: (args, stdin) => ({ args: args.slice(0, 3), stdin }),
    expect: 'refused',
    says: /the following arguments are required: --id/,
  },
  {
    tool: 'az',
    what: 'an unknown output format',
    pick: sub('az', 'ad', 'sp', 'list'),
    change: (args, stdin) => ({ args: swapValue(args, '-o', 'jsn'), stdin }),
    expect: 'refused',
    says: /'jsn' is not a valid value for '--output'/,
  },
  {
    tool: 'az',
    what: '--id without its value',
    pick: sub('az', 'ad', 'sp', 'delete'),
    change: (args, stdin) => ({ args: args.slice(0, 4), stdin }),
    expect: 'refused',
    says: /argument --id: expected one argument/,
  },
  {
    tool: 'az',
    what: 'an ambiguous --d',
    pick: sub('az', 'ad', 'sp', 'list'),
    change: (args, stdin) => ({ args: swap(args, '--display-name', ['--d']), stdin }),
    expect: 'refused',
    says: /ambiguous option: --d could match --debug, --display-name/,
  },
  {
    tool: 'az',
    what: 'a --years that is not a number',
    pick: sub('az', 'ad', 'sp', 'create-for-rbac'),
    change: (args, stdin) => ({ args: [...args, '--years', 'abc'], stdin }),
    expect: 'refused',
    says: /argument --years: invalid int value: 'abc'/,
  },
  {
    tool: 'az',
    what: '--role without --scopes',
    pick: sub('az', 'ad', 'sp', 'create-for-rbac'),
    change: (args, stdin) => ({
      args: args.filter((a, i) => a !== '--scopes' && args[i - 1] !== '--scopes'),
      stdin,
    }),
    expect: 'refused',
    says: /Usage error: To create role assignments, specify both --role and --scopes\./,
  },
  {
    tool: 'az',
    what: '--scopes shortened to --scope (argparse takes an unambiguous prefix)',
    pick: sub('az', 'ad', 'sp', 'create-for-rbac'),
    change: (args, stdin) => ({ args: swap(args, '--scopes', ['--scope']), stdin }),
    expect: 'accepted',
  },
];

function shown(r: ToolRun): string {
  return `exit ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(0, 4).join(' | ')}`;
}

describe('the real tools judge what the phases hand them', function () {
  this.timeout(1_800_000);
  let tools = new Map<string, RealTool>();
  let commands: ToolCommand[] = [];
  let standIns: StandIns | undefined;
  const figures: string[] = [];

  const judgeOf = (tool: JudgedTool): Judge => {
    const real = tools.get(tool);
    assert.ok(real?.path, `${tool} ${real?.version ?? ''} is not installed: ${real?.missing ?? 'unknown'}`);
    assert.ok(standIns, 'stand-ins made');
    return { binary: real.path, standIns, types: tools.get('kube-types')?.path };
  };

  before(async () => {
    tools = await installRealTools();
    commands = await recordDeployments(TOPOLOGIES);
    const versions = new Map<string, string>();
    for (const c of commands)
      if (c.tool === 'helm' && c.args[0] === 'upgrade') {
        const chart = c.args.find((a) => a.startsWith('oci://'));
        const version = flagValue(c.args, '--version');
        if (chart && version)
          versions.set(chart.slice(chart.lastIndexOf('/') + 1), version.replace(/^v/, ''));
      }
    standIns = await makeStandIns(versions);
  });

  after(async () => {
    const k0sctl = tools.get('k0sctl');
    const k0sctlRuns = commands.filter((c) => c.tool === 'k0sctl');
    const configs = new Set(k0sctlRuns.flatMap((c) => [...c.files.values()]));
    if (k0sctl?.missing)
      figures.push(
        `k0sctl ${k0sctl.version}: not installable (${k0sctl.missing}); ${distinct(k0sctlRuns).length} command lines and ${configs.size} k0sctl.yaml files left to the emulated k0sctl`
      );
    for (const line of figures) console.log(`  ${line}`);
    if (standIns) await fs.rm(standIns.dir, { recursive: true, force: true });
  });

  it('records every tool in every topology, with a k0sctl.yaml of each shape', () => {
    for (const t of TOPOLOGIES) {
      const label = topologyLabel(t);
      const mine = commands.filter((c) => c.topology === label);
      for (const tool of ['helm', 'kubectl', 'az', 'k0sctl'])
        assert.ok(
          mine.some((c) => c.tool === tool),
          `${label}: ${tool} ran`
        );
      const apply = mine.find((c) => c.tool === 'k0sctl' && c.args[0] === 'apply');
      const config = apply?.files.get(apply.args.indexOf('--config') + 1) ?? '';
      assert.equal((config.match(/role: controller/g) ?? []).length, t.controllers, `${label}: controllers`);
      assert.equal((config.match(/role: worker$/gm) ?? []).length, t.workers, `${label}: workers`);
    }
  });

  for (const tool of Object.keys(JUDGES) as JudgedTool[])
    it(`real ${tool} takes every ${tool} command line the phases run`, async () => {
      const judge = judgeOf(tool);
      const mine = distinct(commands.filter((c) => c.tool === tool));
      assert.ok(mine.length > 0, `the phases ran ${tool}`);
      const refused: string[] = [];
      let rendered = 0;
      let builtIn = 0;
      let custom = 0;
      for (const cmd of mine) {
        const v = await JUDGES[tool](judge, cmd);
        rendered += v.rendered;
        builtIn += v.builtIn;
        custom += v.custom;
        if (!v.accepted)
          refused.push(`${cmd.topology}: ${commandLine(tool, cmd.args)}\n    ${v.problem ?? 'refused'}`);
      }
      const real = tools.get(tool) as RealTool;
      const stdin = mine.filter((c) => c.stdin.trim()).length;
      const extra =
        tool === 'helm'
          ? `, ${rendered} value sets rendered into ${STAND_IN_CHARTS.length} stand-in charts`
          : tool === 'kubectl'
            ? `, ${stdin} manifest streams; kube-types ${tools.get('kube-types')?.version ?? '?'}: ${builtIn} objects of built-in kinds decoded strictly, ${custom} custom resources not checked (their CRDs are not served here)`
            : '';
      figures.push(`${tool} ${real.version}: ${mine.length} command lines${extra}`);
      assert.deepEqual(refused, [], `real ${tool} ${real.version} refused:\n${refused.join('\n')}`);
    });

  it("refuses a manifest whose built-in object has a field Kubernetes' own types do not have", async () => {
    const judge = judgeOf('kubectl');
    const cmd = commands.find((c) => sub('kubectl', 'apply')(c) && /^kind: Deployment$/m.test(c.stdin));
    assert.ok(cmd, 'an apply with a Deployment');
    const broken = { ...cmd, stdin: cmd.stdin.replace(/^( +)replicas:/m, '$1replica:') };
    assert.notEqual(broken.stdin, cmd.stdin, 'the change changes something');
    const v = await judgeKubectl(judge, broken);
    assert.ok(!v.accepted, 'refused');
    assert.match(v.problem ?? '', /Deployment .*: strict decoding error: unknown field "spec.replica"/);
  });

  describe('a command line a phase broke', () => {
    for (const b of BREAKAGES)
      it(`${b.tool}: ${b.what} is ${b.expect} by real ${b.tool} and by the emulated one`, async () => {
        const judge = judgeOf(b.tool);
        const local = judge.standIns;
        const cmd = commands.find(b.pick);
        assert.ok(cmd, `a ${b.tool} command to break`);
        const broken = b.change(cmd.args, cmd.stdin);
        assert.notDeepEqual(broken, { args: cmd.args, stdin: cmd.stdin }, 'the change changes something');
        const brokenCmd: ToolCommand = { ...cmd, args: broken.args, stdin: broken.stdin };
        const real = await JUDGES[b.tool](judge, brokenCmd);
        const s = await startServer();
        const access = emulatorAccess(emulatorTarget(s.arm.endpoint, s.armCaFile));
        const emulated = await run(path.join(EMULATED_TOOLS_BIN, b.tool), localArgs(brokenCmd, local).args, {
          stdin: broken.stdin,
          cwd: local.dir,
          env: { ...process.env, ...access.env, KUBECONFIG: local.kubeconfig },
        });
        const last = real.runs[real.runs.length - 1]?.result;
        if (b.expect === 'accepted') {
          assert.ok(real.accepted, `real ${b.tool} takes it: ${real.problem ?? ''}`);
          assert.equal(emulated.code, 0, `the emulated ${b.tool} takes it: ${shown(emulated)}`);
          return;
        }
        assert.ok(!real.accepted && last, `real ${b.tool} refuses it`);
        assert.match(last.stderr, b.says ?? /./, `real ${b.tool}: ${shown(last)}`);
        assert.match(emulated.stderr, b.says ?? /./, `emulated ${b.tool}: ${shown(emulated)}`);
        assert.equal(
          emulated.code,
          last.code,
          `exit codes: emulated ${shown(emulated)}; real ${shown(last)}`
        );
      });
  });
});
