/**
 * How each real tool judges a command a phase ran, with nothing real behind it: the tool must take the
 * command line and its input, and fail, if at all, only where it would reach a cluster or Azure.
 */
import path from 'node:path';
import { commandLine } from '../../src/hosts/run-command';
import type { ToolCommand } from './capture';
import type { StandIns, ToolRun } from './tools';
import { run } from './tools';

/** A real tool's verdict on one command. */
export interface Verdict {
  accepted: boolean;
  /** The command lines the tool ran, each with how it ended. */
  runs: { line: string; result: ToolRun }[];
  /** Why it was refused. */
  problem?: string;
  /** Value sets helm rendered for this command. */
  rendered: number;
  /** Objects of built-in kinds Kubernetes' own types decoded strictly, and objects of other kinds. */
  builtIn: number;
  custom: number;
}

/** A judge: the real tool's binary and the stand-ins it runs against. */
export interface Judge {
  binary: string;
  standIns: StandIns;
  /** kube-types, which decodes manifests with Kubernetes' own API types (kubectl's judge only). */
  types?: string;
}

const OCI_PREFIX = 'oci://ghcr.io/k0rdent/';

/** The value after `flag`, or undefined. */
export function flagValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

/**
 * The command's arguments with the deployment's kubeconfig swapped for the stand-in's, and each
 * `oci://ghcr.io/k0rdent/...` chart for the local stand-in of that name.
 */
export function localArgs(cmd: ToolCommand, standIns: StandIns): { args: string[]; problem?: string } {
  const args = [...cmd.args];
  const k = args.indexOf('--kubeconfig');
  if (k >= 0) {
    const given = path.resolve(cmd.cwd, args[k + 1] ?? '');
    if (!given.startsWith(`${cmd.cwd}${path.sep}`))
      return { args, problem: `--kubeconfig ${args[k + 1] ?? ''} is not in the deployment folder` };
    args[k + 1] = standIns.kubeconfig;
  }
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!a.startsWith(OCI_PREFIX)) continue;
    const name = a.slice(a.lastIndexOf('/') + 1);
    const chart = standIns.charts.get(name);
    if (!chart) return { args, problem: `no stand-in for chart ${a}` };
    args[i] = chart;
  }
  return { args };
}

async function ran(judge: Judge, args: string[], stdin?: string) {
  const result = await run(judge.binary, args, { stdin, env: judge.standIns.env, cwd: judge.standIns.dir });
  return { line: commandLine(path.basename(judge.binary), args), result };
}

function verdict(
  runs: Verdict['runs'],
  problem: string | undefined,
  counts: Partial<Pick<Verdict, 'rendered' | 'builtIn' | 'custom'>> = {}
): Verdict {
  return { accepted: problem === undefined, runs, problem, rendered: 0, builtIn: 0, custom: 0, ...counts };
}

function output(r: ToolRun): string {
  return `exit ${r.code}: ${(r.stderr || r.stdout).trim()}`;
}

// What helm says when it gets as far as the cluster or the release store.
const HELM_UNREACHABLE = /could not get server version from Kubernetes: .*connection refused/;
const HELM_NO_RELEASE = /^Error: (uninstall: Release not loaded: [^:]+: )?release: not found$/;

// `helm upgrade` flags that `helm template` does not take.
const UPGRADE_ONLY = new Set([
  '--install',
  '-i',
  '--reset-values',
  '--reuse-values',
  '--reset-then-reuse-values',
]);

/**
 * helm: the command as the phase ran it (`upgrade` with `--dry-run=client` and releases in memory, which
 * parses every flag, merges the values and loads the chart before it asks the cluster for its version);
 * for an install, also `helm template` with the same arguments, which checks the values against the
 * chart's schema and renders them.
 */
export async function judgeHelm(judge: Judge, cmd: ToolCommand): Promise<Verdict> {
  const local = localArgs(cmd, judge.standIns);
  if (local.problem) return verdict([], local.problem);
  const [command, ...rest] = local.args;
  if (command === 'upgrade' || command === 'install') {
    const first = await ran(judge, [...local.args, '--dry-run=client']);
    if (first.result.code !== 0 && !HELM_UNREACHABLE.test(first.result.stderr))
      return verdict([first], output(first.result));
    const template = await ran(judge, ['template', ...rest.filter((a) => !UPGRADE_ONLY.has(a))]);
    if (template.result.code !== 0) return verdict([first, template], output(template.result));
    return verdict([first, template], undefined, { rendered: 1 });
  }
  const only = await ran(judge, local.args);
  const ok = only.result.code === 0 || HELM_NO_RELEASE.test(only.result.stderr.trim());
  return verdict([only], ok ? undefined : output(only.result));
}

/** kube-types on a manifest stream: every object of a built-in kind must decode strictly. */
async function decodeTypes(judge: Judge, stdin: string): Promise<Verdict> {
  if (!judge.types) return verdict([], 'kube-types is not installed');
  const result = await run(judge.types, [], { stdin, env: judge.standIns.env });
  const lines = result.stdout.trim().split('\n');
  const counts = {
    builtIn: lines.filter((l) => l.endsWith(': ok')).length,
    custom: lines.filter((l) => l.endsWith(': not built in')).length,
  };
  const problems = lines.filter((l) => !l.endsWith(': ok') && !l.endsWith(': not built in'));
  const ok = result.code === 0 && problems.length === 0;
  return verdict(
    [{ line: 'kube-types', result }],
    ok ? undefined : problems.join('; ') || output(result),
    counts
  );
}

/** kubectl's answer: success, or nothing but the refused connection to the stand-in server. */
function kubectlVerdict(judge: Judge, one: Verdict['runs'][number]): Verdict {
  if (one.result.code === 0) return verdict([one], undefined);
  // client-go's own log lines (`E1204 12:00:00.000000 ... memcache.go:...`) aside, every line must be the
  // refused connection.
  const lines = one.result.stderr.split('\n').filter((l) => l.trim() && !/^[EWI]\d{4} /.test(l));
  const refused = (l: string) =>
    l.includes(judge.standIns.server) && /connection refused|was refused/.test(l);
  const ok = lines.length > 0 && lines.every(refused);
  return verdict([one], ok ? undefined : output(one.result));
}

/**
 * kubectl: the command as the phase ran it (`apply` also with `--dry-run=client --validate=false`),
 * against a server that refuses connections: it must decode every document it is given and fail only
 * when it reaches for the server. The manifests of an `apply` also go through kube-types, in place of
 * the API server's strict field validation.
 */
export async function judgeKubectl(judge: Judge, cmd: ToolCommand): Promise<Verdict> {
  const local = localArgs(cmd, judge.standIns);
  if (local.problem) return verdict([], local.problem);
  const apply = local.args[0] === 'apply';
  const args = apply ? [...local.args, '--dry-run=client', '--validate=false'] : local.args;
  const real = kubectlVerdict(judge, await ran(judge, args, cmd.stdin));
  if (!apply || !real.accepted) return real;
  const types = await decodeTypes(judge, cmd.stdin);
  return { ...types, runs: [...real.runs, ...types.runs] };
}

const AZ_NO_LOGIN = "ERROR: Please run 'az login' to setup account.";

/** az: the command as the phase ran it, with no login: argparse must take it, so only the login is missing. */
export async function judgeAz(judge: Judge, cmd: ToolCommand): Promise<Verdict> {
  const one = await ran(judge, cmd.args);
  const ok = one.result.code === 1 && one.result.stderr.trim() === AZ_NO_LOGIN;
  return verdict([one], ok ? undefined : output(one.result));
}
