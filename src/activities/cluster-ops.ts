/** Reading and changing the management cluster through kubectl and helm, and waiting on it. */
import { ApplicationFailure } from '@temporalio/common';
import { stringify } from 'yaml';
import { FailureTypes } from '../workflows/messages';
import type { Toolbox } from './toolbox';
import { beat, pause } from './work';

/** A Kubernetes object as `kubectl get -o json` prints it. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  status?: {
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    replicas?: number;
    availableReplicas?: number;
  } & Record<string, unknown>;
}

/** A Helm release as `helm status -o json` prints it. */
export interface HelmRelease {
  name: string;
  namespace: string;
  version: number;
  info: { status: string; description?: string };
  chart?: { metadata?: { name?: string; version?: string } };
}

/** An object, or undefined when the API says it does not exist. */
export async function kubeGet(
  tools: Toolbox,
  kind: string,
  name: string,
  namespace?: string
): Promise<KubeObject | undefined> {
  const args = ['get', kind, name, ...(namespace ? ['-n', namespace] : []), '-o', 'json'];
  const result = await tools.kubectl(args, { allowFailure: true });
  if (result.code === 0) return JSON.parse(result.stdout) as KubeObject;
  if (/NotFound|not found|the server doesn't have a resource type/.test(result.stderr)) return undefined;
  throw ApplicationFailure.create({
    type: FailureTypes.CommandFailed,
    message: `kubectl get ${kind} ${name}: ${result.stderr.trim() || `exit ${result.code}`}`,
  });
}

/** Whether an object's condition `type` is True. */
export function conditionTrue(obj: KubeObject | undefined, type = 'Ready'): boolean {
  return obj?.status?.conditions?.some((c) => c.type === type && c.status === 'True') === true;
}

/** The condition's message, for progress and errors. */
export function conditionText(obj: KubeObject | undefined, type = 'Ready'): string {
  const c = obj?.status?.conditions?.find((x) => x.type === type);
  if (!c) return obj ? `no ${type} condition yet` : 'not found';
  return `${type}=${c.status}${c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ''})` : ''}`;
}

/** Applies documents with `kubectl apply -f -`. */
export async function kubeApply(tools: Toolbox, docs: Record<string, unknown>[]): Promise<void> {
  const text = docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
  await tools.kubectl(['apply', '-f', '-'], { stdin: text });
}

/** Deletes an object; a missing one is fine. */
export async function kubeDelete(
  tools: Toolbox,
  kind: string,
  name: string,
  namespace?: string
): Promise<void> {
  await tools.kubectl(['delete', kind, name, ...(namespace ? ['-n', namespace] : []), '--ignore-not-found']);
}

/** A release, or undefined when Helm does not know it. */
export async function helmStatus(
  tools: Toolbox,
  release: string,
  namespace: string
): Promise<HelmRelease | undefined> {
  const result = await tools.helm(['status', release, '-n', namespace, '-o', 'json'], { allowFailure: true });
  if (result.code === 0) return JSON.parse(result.stdout) as HelmRelease;
  if (/not found/i.test(result.stderr)) return undefined;
  throw ApplicationFailure.create({
    type: FailureTypes.CommandFailed,
    message: `helm status ${release}: ${result.stderr.trim() || `exit ${result.code}`}`,
  });
}

/** Whether a release is deployed at `version`. */
export function releaseAt(release: HelmRelease | undefined, version: string): boolean {
  return (
    release?.info.status === 'deployed' && release.chart?.metadata?.version === version.replace(/^v/, '')
  );
}

/** How one wait goes: its bound and how often it looks. */
export interface WaitOptions {
  what: string;
  timeoutMs: number;
  /** Longest pause between looks. */
  intervalMs: number;
  /** First pause; each next one doubles, up to `intervalMs` (default: `intervalMs` from the start). */
  firstMs?: number;
}

/**
 * Looks with `probe` until it returns a value, heartbeating what it waits for; fails with the last
 * observation when the time is up. The pauses start at `firstMs` and double up to `intervalMs`, so a
 * short wait ends soon after its condition holds and a long one does not poll more than it must.
 */
export async function waitFor<T>(
  opts: WaitOptions,
  probe: () => Promise<{ done: true; value: T } | { done: false; observed: string }>
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let delay = Math.min(opts.firstMs ?? opts.intervalMs, opts.intervalMs);
  for (;;) {
    const seen = await probe();
    if (seen.done) return seen.value;
    if (Date.now() >= deadline) {
      throw ApplicationFailure.create({
        type: FailureTypes.CommandFailed,
        message: `${opts.what}: not done after ${Math.round(opts.timeoutMs / 1000)} s (${seen.observed})`,
      });
    }
    beat({ waiting: opts.what, observed: seen.observed });
    await pause(Math.min(delay, Math.max(0, deadline - Date.now())), {
      waiting: opts.what,
      observed: seen.observed,
    });
    delay = Math.min(delay * 2, opts.intervalMs);
  }
}

/**
 * Installs or upgrades a release unless it is already deployed at `version`. A release left pending by
 * an interrupted install is given `pendingGraceMs` to finish, then uninstalled and installed again.
 * Returns what it did.
 */
export async function helmEnsure(
  tools: Toolbox,
  opts: {
    release: string;
    namespace: string;
    chart: string;
    version: string;
    extraArgs?: string[];
    timeoutSeconds: number;
    pendingGraceMs: number;
  }
): Promise<'unchanged' | 'installed' | 'repaired'> {
  const { release, namespace } = opts;
  let current = await helmStatus(tools, release, namespace);
  if (releaseAt(current, opts.version)) return 'unchanged';
  let repaired = false;
  if (current?.info.status.startsWith('pending')) {
    current = await waitFor(
      {
        what: `release ${namespace}/${release} leaving ${current.info.status}`,
        timeoutMs: opts.pendingGraceMs,
        ...tools.poll,
      },
      async () => {
        const now = await helmStatus(tools, release, namespace);
        return now?.info.status.startsWith('pending')
          ? { done: false, observed: now.info.status }
          : { done: true, value: now };
      }
    ).catch(async () => {
      await tools.helm(['uninstall', release, '-n', namespace, '--wait']);
      repaired = true;
      return undefined;
    });
    if (releaseAt(current, opts.version)) return 'unchanged';
  }
  await tools.helm(
    [
      'upgrade',
      '--install',
      release,
      opts.chart,
      '--version',
      opts.version,
      '-n',
      namespace,
      '--create-namespace',
      '--timeout',
      `${opts.timeoutSeconds}s`,
      ...(opts.extraArgs ?? []),
    ],
    { timeoutMs: (opts.timeoutSeconds + 60) * 1000 }
  );
  return repaired ? 'repaired' : 'installed';
}

/** Uninstalls a release if Helm knows it. */
export async function helmRemove(tools: Toolbox, release: string, namespace: string): Promise<boolean> {
  if (!(await helmStatus(tools, release, namespace))) return false;
  await tools.helm(['uninstall', release, '-n', namespace, '--wait']);
  return true;
}
