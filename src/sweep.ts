/**
 * The sweep: every resource of the subscription tagged for a k0rdent deployment that no live deployment
 * accounts for (its deployment's workflow is not running, or it is this folder's deployment's beyond what
 * its completed phases imply), listed and, when asked, deleted through the ARM adapter.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Payload } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { ArmAdapter, TAG_DEPLOYMENT } from './azure/adapter';
import type { ListedResource } from './azure/adapter';
import { armClientsFor } from './azure/clients';
import { ArmFailureTypes } from './azure/errors';
import type { ArmKind } from './azure/ownership';
import { DELETE_ORDER, kindOfType, phaseResources } from './azure/ownership';
import type { AzureTarget } from './azure/target';
import { namesFor } from './config/naming';
import type { K0rdentConfig } from './config/types';
import { readStateFile } from './state/legacy';
import type { DeploymentInput, PhaseStatus } from './workflows/messages';
import { DEPLOYMENT_WORKFLOW, stateQuery } from './workflows/messages';
import type { PhaseName } from './workflows/phases';
import { PHASE_NAMES } from './workflows/phases';

/** Tag the Bash tool put on its resource groups instead of `k0rdent-deployment`. */
export const LEGACY_TAG = 'cluster-id';

/** Exit code of a sweep that leaves strays behind (found without `--delete`, or refused or failed). */
export const STRAYS_LEFT_EXIT = 3;

/** A resource the sweep judged. */
export interface SweptResource {
  id: string;
  type: string;
  name: string;
  resourceGroup: string;
  /** The deployment its tags name (a group's untagged OS disk: the group's). */
  owner: string;
  /** The phase that makes it, when it is one of the folder's deployment's planned resources. */
  phase?: PhaseName;
  /** Why it is a stray, or why it is left alone. */
  why: string;
}

/** What happened to one stray under `--delete`. */
export interface Deletion {
  id: string;
  result: 'deleted' | 'refused' | 'failed';
  detail: string;
}

/** The sweep's report; `--json` prints it as is. */
export interface SweepReport {
  deploymentId: string;
  subscriptionId: string;
  /** Deployments whose workflow runs on the Temporal server. */
  liveDeployments: string[];
  /** How many tagged resources (and untagged OS disks in tagged groups) were looked at. */
  checked: number;
  strays: SweptResource[];
  /** Resources of a phase that is running or will resume: its workflow adopts or removes them. */
  inFlight: SweptResource[];
  /** Present with `--delete`, in the order the deletes ran. */
  deletions?: Deletion[];
}

const LABELS: Record<ArmKind, string> = {
  resourceGroup: 'resource group',
  nsg: 'nsg',
  vnet: 'vnet',
  sshKey: 'ssh key',
  publicIp: 'public ip',
  nic: 'nic',
  vm: 'vm',
  disk: 'disk',
};

/** Short type label for the table: the adapter's words for what phases make, the ARM type otherwise. */
function label(type: string): string {
  const kind = kindOfType(type);
  return kind ? LABELS[kind] : type;
}

const isGroup = (r: { type: string }) => kindOfType(r.type) === 'resourceGroup';
const lower = (s: string) => s.toLowerCase();

/** The deployment a resource's tags name: `k0rdent-deployment`, or `cluster-id` on the Bash tool's groups. */
function ownerOf(r: ListedResource): string | undefined {
  return r.tags[TAG_DEPLOYMENT] ?? (isGroup(r) ? r.tags[LEGACY_TAG] : undefined);
}

/** The input of the deployment's latest workflow run (its config and ARM target), or undefined if unknown. */
async function deploymentInput(client: Client, id: string): Promise<DeploymentInput | undefined> {
  let payload: Payload | undefined;
  try {
    const { history } = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId: id },
      maximumPageSize: 1,
    });
    payload =
      history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0] ?? undefined;
  } catch (err) {
    // gRPC NOT_FOUND: the server has no workflow of that id.
    if ((err as { code?: number }).code === 5) return undefined;
    throw err;
  }
  if (!payload) return undefined;
  const converter = client.options.loadedDataConverter;
  for (const codec of [...converter.payloadCodecs].reverse()) {
    const [decoded] = await codec.decode([payload]);
    if (!decoded) return undefined;
    payload = decoded;
  }
  return converter.payloadConverter.fromPayload<DeploymentInput>(payload);
}

async function running(client: Client, id: string): Promise<boolean> {
  try {
    return (await client.workflow.getHandle(id).describe()).status.name === 'RUNNING';
  } catch (err) {
    if ((err as Error).name === 'WorkflowNotFoundError') return false;
    throw err;
  }
}

/** Running deployment workflows, listed the way `list` lists them. */
async function liveDeployments(client: Client): Promise<Set<string>> {
  const live = new Set<string>();
  const query = `WorkflowType = '${DEPLOYMENT_WORKFLOW}' AND ExecutionStatus = 'Running'`;
  for await (const wf of client.workflow.list({ query })) live.add(wf.workflowId);
  return live;
}

/** How long a state query may wait for a worker before the state file is read instead. */
const QUERY_DEADLINE_MS = 5_000;

/**
 * Phase statuses of a running deployment: from its workflow when a worker answers, else from the state
 * file its projection last wrote.
 */
async function phaseStatuses(
  client: Client,
  id: string,
  workDir: string
): Promise<Record<PhaseName, PhaseStatus>> {
  try {
    // A worker SIGKILLed a moment ago still counts as a poller: the query gets a deadline.
    const state = await client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () =>
      client.workflow.getHandle(id).query(stateQuery)
    );
    return Object.fromEntries(PHASE_NAMES.map((p) => [p, state.phases[p].status])) as Record<
      PhaseName,
      PhaseStatus
    >;
  } catch {
    // No worker polls: the projection is the last known truth.
  }
  const doc = await readStateFile(workDir, id);
  const phases = (doc.phases ?? {}) as Record<string, { status?: string } | undefined>;
  return Object.fromEntries(PHASE_NAMES.map((p) => [p, phases[p]?.status ?? 'pending'])) as Record<
    PhaseName,
    PhaseStatus
  >;
}

/** How the resources of the folder's running deployment are judged. */
interface FolderPlan {
  id: string;
  resourceGroup: string;
  /** Planned resources by `kind/name` (lower case), with the phase that makes each. */
  planned: Map<string, PhaseName>;
  statuses: Record<PhaseName, PhaseStatus>;
}

function folderPlan(id: string, config: K0rdentConfig, statuses: Record<PhaseName, PhaseStatus>): FolderPlan {
  const names = namesFor(id, config);
  return {
    id,
    resourceGroup: lower(names.resourceGroup),
    planned: new Map(phaseResources(names).map((r) => [lower(`${r.kind}/${r.name}`), r.phase])),
    statuses,
  };
}

/** Phase statuses whose resources belong to a workflow activity that runs or will resume from its cursor. */
const IN_FLIGHT = new Set<PhaseStatus>(['in_progress', 'rolling_back']);

type Verdict =
  | { stray: true; why: string; phase?: PhaseName }
  | { stray: false; why?: string; phase?: PhaseName };

function judge(r: ListedResource, owner: string, live: Set<string>, folder?: FolderPlan): Verdict {
  if (folder && owner === folder.id) {
    const kind = kindOfType(r.type);
    const phase =
      kind && lower(r.resourceGroup) === folder.resourceGroup
        ? folder.planned.get(lower(`${kind}/${r.name}`))
        : undefined;
    if (!phase) return { stray: true, why: `no phase of ${owner} makes a ${label(r.type)} ${r.name} here` };
    const status = folder.statuses[phase];
    if (status === 'completed') return { stray: false, phase };
    if (IN_FLIGHT.has(status))
      return { stray: false, phase, why: `${phase} is ${status}: its workflow adopts or removes it` };
    return { stray: true, phase, why: `${phase} is ${status}, not completed` };
  }
  if (live.has(owner)) return { stray: false };
  return { stray: true, why: `deployment ${owner} is not running` };
}

/** What the sweep needs to know about the folder's deployment and the server. */
export interface SweepContext {
  client: Client;
  deploymentId: string;
  workDir: string;
}

/** The adapter and report of a sweep that found what it found; nothing is written. */
export async function findStrays(ctx: SweepContext): Promise<{ report: SweepReport; arm: ArmAdapter }> {
  const { client, deploymentId: id } = ctx;
  const input = await deploymentInput(client, id);
  if (!input) {
    throw new Error(
      `deployment ${id} is unknown to the Temporal server (${client.options.namespace}): its workflow names the subscription to sweep`
    );
  }
  const target: AzureTarget = input.cloud;
  const arm = new ArmAdapter(armClientsFor(target));
  const live = await liveDeployments(client);
  // Visibility can lag behind a workflow that just started or ended: the folder's own is asked directly.
  if (await running(client, id)) live.add(id);
  else live.delete(id);
  const folder = live.has(id)
    ? folderPlan(id, input.config, await phaseStatuses(client, id, ctx.workDir))
    : undefined;

  const seen = new Map<string, ListedResource>();
  for (const r of await arm.listTagged(TAG_DEPLOYMENT)) seen.set(lower(r.id), r);
  for (const r of await arm.listTagged(LEGACY_TAG, { groupsOnly: true })) seen.set(lower(r.id), r);
  // Azure makes a VM's OS disk without tags: in a tagged group it is the group owner's, as the adapter has it.
  for (const group of [...seen.values()].filter(isGroup)) {
    const groupOwner = ownerOf(group);
    for (const r of await arm.listGroupResources(group.name)) {
      if (kindOfType(r.type) === 'disk' && ownerOf(r) === undefined && r.name.endsWith('-osdisk'))
        seen.set(lower(r.id), { ...r, tags: { [TAG_DEPLOYMENT]: groupOwner ?? '' } });
    }
  }

  const strays: SweptResource[] = [];
  const inFlight: SweptResource[] = [];
  const notLive = new Map<string, boolean>();
  for (const r of seen.values()) {
    const owner = ownerOf(r);
    if (owner === undefined || owner === '') continue;
    if (!live.has(owner) && owner !== id && !notLive.has(owner)) {
      // A deployment visibility does not list yet is asked directly before its resources count as strays.
      notLive.set(owner, !(await running(client, owner)));
      if (notLive.get(owner) === false) live.add(owner);
    }
    const verdict = judge(r, owner, live, folder);
    const swept = { id: r.id, type: r.type, name: r.name, resourceGroup: r.resourceGroup, owner };
    if (verdict.stray) strays.push({ ...swept, phase: verdict.phase, why: verdict.why });
    else if (verdict.why) inFlight.push({ ...swept, phase: verdict.phase, why: verdict.why });
  }
  strays.sort(byDeleteOrder);
  return {
    arm,
    report: {
      deploymentId: id,
      subscriptionId: target.subscriptionId,
      liveDeployments: [...live].sort(),
      checked: seen.size,
      strays,
      inFlight,
    },
  };
}

function rank(r: SweptResource): number {
  const kind = kindOfType(r.type);
  return kind ? DELETE_ORDER.indexOf(kind) : -1;
}

/** Newest first: dependents before what they depend on, resource groups last. */
function byDeleteOrder(a: SweptResource, b: SweptResource): number {
  return rank(a) - rank(b) || a.resourceGroup.localeCompare(b.resourceGroup) || a.name.localeCompare(b.name);
}

/**
 * Deletes the strays in order through the adapter. Each delete re-reads the resource and refuses it
 * unless its tags still name the stray's owner; a resource group goes only when nothing but what this
 * sweep deletes was in it (Azure would take everything in it along).
 */
export async function deleteStrays(arm: ArmAdapter, report: SweepReport): Promise<Deletion[]> {
  const done: Deletion[] = [];
  const deleted = new Set<string>();
  for (const r of report.strays) {
    const kind = kindOfType(r.type);
    const what = `${label(r.type)} ${r.name}`;
    if (!kind) {
      done.push({
        id: r.id,
        result: 'refused',
        detail: `${what}: no phase makes a ${r.type}; delete it by hand`,
      });
      continue;
    }
    if (kind === 'resourceGroup') {
      const others = (await arm.listGroupResources(r.name)).filter((x) => !deleted.has(lower(x.id)));
      if (others.length > 0) {
        const held = others.map((x) => `${label(x.type)} ${x.name} (${holder(x, report)})`).join(', ');
        done.push({ id: r.id, result: 'refused', detail: `${what}: it still holds ${held}` });
        continue;
      }
    }
    const scope = {
      deploymentId: r.owner,
      owner: '',
      resourceGroup: r.resourceGroup || r.name,
      location: '',
    };
    try {
      await arm.deleteResource(scope, kind, r.name);
      deleted.add(lower(r.id));
      done.push({ id: r.id, result: 'deleted', detail: `${what} in ${scope.resourceGroup}` });
    } catch (err) {
      const foreign = err instanceof ApplicationFailure && err.type === ArmFailureTypes.Foreign;
      done.push({
        id: r.id,
        result: foreign ? 'refused' : 'failed',
        detail: `${what}: ${(err as Error).message}`,
      });
    }
  }
  return done;
}

/** Who a resource left in a group belongs to, for a refusal line. */
function holder(r: ListedResource, report: SweepReport): string {
  const owner = ownerOf(r);
  if (owner === undefined) return 'untagged';
  return report.liveDeployments.includes(owner) ? `deployment ${owner}, running` : `deployment ${owner}`;
}

/** The exit code of a sweep: 0 when nothing is (left) stray, `STRAYS_LEFT_EXIT` otherwise. */
export function sweepExitCode(report: SweepReport): number {
  if (report.strays.length === 0) return 0;
  if (report.deletions && report.deletions.every((d) => d.result === 'deleted')) return 0;
  return STRAYS_LEFT_EXIT;
}

const pad = (cells: string[], widths: number[]) =>
  cells
    .map((c, i) => c.padEnd(widths[i] ?? 0))
    .join('  ')
    .trimEnd();

/** The sweep's table, deletion lines and final line. */
export function renderSweep(report: SweepReport): string {
  const lines: string[] = [];
  const rows = report.strays.map((r) => [label(r.type), r.name, r.resourceGroup, r.owner, r.why]);
  if (rows.length > 0) {
    const head = ['TYPE', 'NAME', 'RESOURCE GROUP', 'OWNER', 'WHY STRAY'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
    lines.push(pad(head, widths), ...rows.map((row) => pad(row, widths)));
  }
  for (const r of report.inFlight) lines.push(`left alone: ${label(r.type)} ${r.name} (${r.why})`);
  for (const d of report.deletions ?? []) lines.push(`${d.result}: ${d.detail}`);
  const where = `subscription ${report.subscriptionId}`;
  const counted = `${report.checked} k0rdent resource(s) checked, ${report.liveDeployments.length} live deployment(s)`;
  if (report.strays.length === 0) {
    lines.push(`sweep: no stray resources in ${where} (${counted})`);
  } else if (!report.deletions) {
    lines.push(
      `sweep: ${report.strays.length} stray resource(s) in ${where} (${counted}); k0rdent-deploy sweep --delete removes them`
    );
  } else {
    const n = (result: Deletion['result']) =>
      report.deletions?.filter((d) => d.result === result).length ?? 0;
    lines.push(
      `sweep: ${report.strays.length} stray resource(s) in ${where}: ${n('deleted')} deleted, ${n('refused')} refused, ${n('failed')} failed`
    );
  }
  return lines.join('\n');
}

/** Runs a sweep, prints its report (as JSON with `json`) and returns the exit code. */
export async function runSweep(ctx: SweepContext & { delete: boolean; json: boolean }): Promise<number> {
  const { report, arm } = await findStrays(ctx);
  if (ctx.delete && report.strays.length > 0) report.deletions = await deleteStrays(arm, report);
  console.log(ctx.json ? JSON.stringify(report, null, 2) : renderSweep(report));
  return sweepExitCode(report);
}
