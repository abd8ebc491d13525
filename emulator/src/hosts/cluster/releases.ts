/**
 * Helm releases of one cluster: an install or upgrade is a begin (the release goes pending) and a finish
 * (the chart's objects are applied and the release is deployed); errors as Helm prints them after `Error: `.
 */
import type { ChartInfo, RenderedObject } from './charts';
import { chartAt, chartDigest } from './charts';
import { WorldError } from './errors';
import { servedTypes, typeForObject, typeOfCrd } from './kinds';
import type { ClusterState, HelmReleaseRecord, KubeObject } from './model';
import { groupOf, objectKey } from './model';
import type { ApiContext } from './objects';
import { canonical, putObject, removeObject } from './objects';

const RELEASE_NAME = 'meta.helm.sh/release-name';
const RELEASE_NAMESPACE = 'meta.helm.sh/release-namespace';
const MANAGED_BY = 'app.kubernetes.io/managed-by';

/** `helm install` refuses an existing release; `upgrade --install` installs or upgrades; `upgrade` only upgrades. */
export type HelmMode = 'install' | 'upgrade-install' | 'upgrade';

/** What `/helm/begin` asks. */
export interface BeginRequest {
  release: string;
  namespace: string;
  chart: string;
  version?: string;
  values: Record<string, unknown>;
  /** Whether `--set` or `--values` were given at all. */
  valuesGiven: boolean;
  resetValues: boolean;
  reuseValues: boolean;
  createNamespace: boolean;
  mode: HelmMode;
  holder: string;
}

/** `helm status -o json`. */
export interface ReleaseStatusJson {
  name: string;
  namespace: string;
  version: number;
  info: {
    first_deployed: string;
    last_deployed: string;
    deleted: string;
    description: string;
    status: string;
  };
  chart: {
    metadata: { apiVersion: string; name: string; version: string; appVersion: string; description: string };
  };
  config: Record<string, unknown>;
}

function releaseKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The release as `helm status -o json` prints it. */
export function statusJson(r: HelmReleaseRecord): ReleaseStatusJson {
  const chart = chartAt(r.chartRef);
  return {
    name: r.name,
    namespace: r.namespace,
    version: r.revision,
    info: {
      first_deployed: iso(r.firstDeployedMs),
      last_deployed: iso(r.updatedMs),
      deleted: '',
      description: r.description,
      status: r.status,
    },
    chart: {
      metadata: {
        apiVersion: 'v2',
        name: r.chart,
        version: r.chartVersion,
        appVersion: r.appVersion,
        description: chart?.description ?? '',
      },
    },
    config: r.values,
  };
}

function helmTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}000000 +0000 UTC`;
}

/** The release as a row of `helm list -o json`. */
export function listJson(r: HelmReleaseRecord): Record<string, string> {
  return {
    name: r.name,
    namespace: r.namespace,
    revision: String(r.revision),
    updated: helmTime(r.updatedMs),
    status: r.status,
    chart: `${r.chart}-${r.chartVersion}`,
    app_version: r.appVersion,
  };
}

/** The chart and version a reference and `--version` resolve to, or Helm's error. */
export function locateChart(ref: string, version: string | undefined): { chart: ChartInfo; version: string } {
  const wanted = version?.replace(/^v(?=\d)/, '');
  if (wanted !== undefined && !/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(wanted))
    throw new WorldError(400, 'BadVersion', `improper constraint: ${version ?? ''}`);
  const chart = chartAt(ref);
  if (!ref.startsWith('oci://')) {
    const repo = ref.includes('/') ? ref.split('/')[0] : undefined;
    throw new WorldError(
      404,
      'ChartNotFound',
      repo
        ? `repo ${repo} not found`
        : `non-absolute URLs should be in form of repo_name/path_to_chart, got: ${ref}`
    );
  }
  const tag = wanted ?? chart?.versions[chart.versions.length - 1];
  if (!chart || !tag || !chart.versions.includes(tag))
    throw new WorldError(
      404,
      'ChartNotFound',
      `failed to perform "FetchReference" on source: ${ref.replace(/^oci:\/\//, '')}:${tag ?? version ?? 'latest'}: not found`
    );
  return { chart, version: tag };
}

function owned(obj: KubeObject, r: { name: string; namespace: string }): boolean {
  const a = obj.metadata.annotations ?? {};
  return a[RELEASE_NAME] === r.name && a[RELEASE_NAMESPACE] === r.namespace;
}

function withOwnership(
  rendered: RenderedObject,
  release: string,
  namespace: string
): Record<string, unknown> {
  const doc = structuredClone(rendered.doc);
  const meta = (doc.metadata ?? {}) as {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  meta.labels = { ...meta.labels, [MANAGED_BY]: 'Helm' };
  meta.annotations = { ...meta.annotations, [RELEASE_NAME]: release, [RELEASE_NAMESPACE]: namespace };
  doc.metadata = meta;
  return doc;
}

function docKey(doc: Record<string, unknown>): string {
  const meta = doc.metadata as { name: string; namespace?: string };
  return objectKey(groupOf(String(doc.apiVersion)), String(doc.kind), meta.namespace, meta.name);
}

/** Checks that every rendered object can be built and is not someone else's; Helm's errors otherwise. */
function checkManifest(
  cluster: ClusterState,
  rendered: RenderedObject[],
  release: string,
  namespace: string
): void {
  const types = servedTypes(cluster);
  for (const r of rendered) {
    const doc = r.doc;
    if (doc.kind === 'CustomResourceDefinition') {
      const t = typeOfCrd(doc as unknown as KubeObject);
      if (t) types.push(t);
    }
  }
  for (const r of rendered) {
    const doc = r.doc;
    const meta = doc.metadata as { name: string; namespace?: string };
    if (!typeForObject(types, String(doc.apiVersion), String(doc.kind)))
      throw new WorldError(
        400,
        'NoMatch',
        `unable to build kubernetes objects from release manifest: resource mapping not found for name: "${meta.name}" namespace: "${meta.namespace ?? ''}" from "": no matches for kind "${String(doc.kind)}" in version "${String(doc.apiVersion)}"\nensure CRDs are installed first`
      );
  }
  for (const r of rendered) {
    const live = cluster.objects[docKey(r.doc)]?.object;
    if (!live || owned(live, { name: release, namespace })) continue;
    const current = live.metadata.annotations?.[RELEASE_NAME];
    const where = live.metadata.namespace ?? '';
    throw new WorldError(
      409,
      'Conflict',
      `rendered manifests contain a resource that already exists. Unable to continue with install: ${live.kind} "${live.metadata.name}" in namespace "${where}" exists and cannot be imported into the current release: invalid ownership metadata; ${
        current === undefined
          ? `label validation error: missing key "${MANAGED_BY}": must be set to "Helm"; annotation validation error: missing key "${RELEASE_NAME}": must be set to "${release}"; annotation validation error: missing key "${RELEASE_NAMESPACE}": must be set to "${namespace}"`
          : `annotation validation error: key "${RELEASE_NAME}" must equal "${release}": current value is "${current}"`
      }`
    );
  }
}

/** The admission webhook that would refuse one of the rendered objects right now, as the API server says it. */
function webhookRefusal(
  cluster: ClusterState,
  ctx: ApiContext,
  rendered: RenderedObject[]
): string | undefined {
  const hooks = Object.values(cluster.objects).filter(
    (s) =>
      s.object.kind === 'ValidatingWebhookConfiguration' && s.readyAtMs !== undefined && ctx.now < s.readyAtMs
  );
  for (const r of rendered) {
    const group = groupOf(String(r.doc.apiVersion));
    const kind = String(r.doc.kind).toLowerCase();
    for (const h of hooks) {
      const webhooks = (h.object.webhooks ?? []) as {
        name: string;
        clientConfig?: { service?: { name: string; namespace: string; port?: number; path?: string } };
        rules?: { apiGroups?: string[]; resources?: string[] }[];
      }[];
      const w = webhooks.find((x) =>
        x.rules?.some(
          (rule) => rule.apiGroups?.includes(group) && rule.resources?.some((res) => res === `${kind}s`)
        )
      );
      if (!w) continue;
      const svc = w.clientConfig?.service;
      const url = svc
        ? `https://${svc.name}.${svc.namespace}.svc:${svc.port ?? 443}${svc.path ?? ''}?timeout=10s`
        : '';
      return `1 error occurred:\n\t* Internal error occurred: failed calling webhook "${w.name}": failed to call webhook: Post "${url}": dial tcp 10.96.141.27:${svc?.port ?? 443}: connect: connection refused`;
    }
  }
  return undefined;
}

/** Where a Helm error is raised decides its prefix, as in Helm's own commands. */
export function prefixed(
  err: WorldError,
  mode: HelmMode,
  installing: boolean,
  stage: 'connect' | 'locate' | 'run'
): WorldError {
  let prefix = '';
  if (mode === 'install') prefix = 'INSTALLATION FAILED: ';
  else if (!installing && stage === 'run') prefix = 'UPGRADE FAILED: ';
  if (!prefix) return err;
  return new WorldError(err.status, err.code, prefix + err.message, err.details);
}

/** What a begun install or upgrade answers. */
export interface BeginResult {
  action: 'install' | 'upgrade';
  revision: number;
  chart: { name: string; version: string; ref: string; digest: string };
}

/**
 * Starts an install or upgrade: checks everything Helm checks before it records the revision, then marks
 * the release pending. A webhook that refuses the chart's objects records the revision as failed.
 */
export function beginRelease(cluster: ClusterState, ctx: ApiContext, req: BeginRequest): BeginResult {
  const key = releaseKey(req.namespace, req.release);
  const existing = cluster.releases[key];
  const installing = !existing;
  let stage: 'locate' | 'run' = 'run';
  try {
    if (existing && req.mode === 'install')
      throw new WorldError(409, 'InUse', 'cannot re-use a name that is still in use');
    if (!existing && req.mode === 'upgrade')
      throw new WorldError(404, 'NotFound', `"${req.release}" has no deployed releases`);
    stage = 'locate';
    const { chart, version } = locateChart(req.chart, req.version);
    stage = 'run';
    if (existing?.status.startsWith('pending'))
      throw new WorldError(409, 'Pending', 'another operation (install/upgrade/rollback) is in progress');
    const nsKey = objectKey('', 'Namespace', undefined, req.namespace);
    if (!cluster.objects[nsKey]) {
      if (!req.createNamespace)
        throw new WorldError(
          404,
          'NotFound',
          `create: failed to create: namespaces "${req.namespace}" not found`
        );
      putObject(cluster, ctx, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: req.namespace } });
    }
    const rendered = chart.render(req.release, req.namespace, version);
    checkManifest(cluster, rendered, req.release, req.namespace);
    let values = req.values;
    if (existing && !req.resetValues && (req.reuseValues || !req.valuesGiven))
      values = req.reuseValues ? { ...existing.values, ...req.values } : existing.values;
    const record: HelmReleaseRecord = {
      name: req.release,
      namespace: req.namespace,
      chart: chart.name,
      chartRef: chart.ref,
      chartVersion: version,
      appVersion: version,
      revision: (existing?.revision ?? 0) + 1,
      status: installing ? 'pending-install' : 'pending-upgrade',
      description: installing ? 'Initial install underway' : 'Preparing upgrade',
      values,
      firstDeployedMs: existing?.firstDeployedMs ?? ctx.now,
      updatedMs: ctx.now,
      holder: req.holder,
      ...(existing?.deployed ? { deployed: existing.deployed } : {}),
    };
    cluster.releases[key] = record;
    const refusal = webhookRefusal(cluster, ctx, rendered);
    if (refusal) {
      record.status = 'failed';
      record.description = `Release "${req.release}" failed: ${refusal}`;
      delete record.holder;
      throw new WorldError(500, 'WebhookRefused', refusal);
    }
    return {
      action: installing ? 'install' : 'upgrade',
      revision: record.revision,
      chart: { name: chart.name, version, ref: chart.ref, digest: chartDigest(chart, version) },
    };
  } catch (err) {
    if (err instanceof WorldError) throw prefixed(err, req.mode, installing, stage);
    throw err;
  }
}

/** What a finished install or upgrade answers. */
export interface FinishResult {
  release: ReleaseStatusJson;
  /** How long `--wait` still has to wait for the release's Deployments. */
  waitMs: number;
  changed: boolean;
}

/** Finishes a pending install or upgrade: the chart's objects are applied and the release is deployed. */
export function finishRelease(
  cluster: ClusterState,
  ctx: ApiContext,
  req: { release: string; namespace: string; holder: string },
  countApplied: (key: string) => void
): FinishResult {
  const r = cluster.releases[releaseKey(req.namespace, req.release)];
  if (!r) throw new WorldError(404, 'NotFound', 'release: not found');
  if (!r.status.startsWith('pending') || r.holder !== req.holder)
    throw new WorldError(
      409,
      'NotPending',
      `release ${req.release} has no pending operation of this run (status ${r.status})`
    );
  const chart = chartAt(r.chartRef);
  if (!chart) throw new Error(`cluster: release ${req.release} names an unknown chart ${r.chartRef}`);
  const changed =
    !r.deployed || r.deployed.chartVersion !== r.chartVersion || r.deployed.values !== canonical(r.values);
  const rendered = chart.render(r.name, r.namespace, r.chartVersion);
  const keep = new Set<string>();
  for (const item of rendered) {
    const doc = withOwnership(item, r.name, r.namespace);
    const key = docKey(doc);
    keep.add(key);
    const before = cluster.objects[key]?.object.metadata.resourceVersion;
    const stored = putObject(cluster, ctx, doc);
    const touched = before !== stored.object.metadata.resourceVersion;
    if (item.readyAfter && (touched || changed || stored.readyAtMs === undefined))
      stored.readyAtMs = ctx.now + ctx.timings[item.readyAfter];
  }
  for (const [key, stored] of Object.entries(cluster.objects))
    if (!keep.has(key) && owned(stored.object, r)) removeObject(cluster, key);
  const installing = r.status === 'pending-install';
  r.status = 'deployed';
  r.description = installing ? 'Install complete' : 'Upgrade complete';
  r.updatedMs = ctx.now;
  r.deployed = { chartVersion: r.chartVersion, values: canonical(r.values), atMs: ctx.now };
  delete r.holder;
  if (changed) countApplied(`helm:${ctx.deploymentId}:${r.namespace}/${r.name}`);
  let waitMs = 0;
  for (const key of keep) {
    const s = cluster.objects[key];
    if (s?.object.kind === 'Deployment')
      waitMs = Math.max(waitMs, s.changedMs + ctx.timings.nodeReadyMs - ctx.now);
  }
  return { release: statusJson(r), waitMs, changed };
}

/** `helm status`. */
export function releaseStatus(cluster: ClusterState, namespace: string, name: string): ReleaseStatusJson {
  const r = cluster.releases[releaseKey(namespace, name)];
  if (!r) throw new WorldError(404, 'NotFound', 'release: not found');
  return statusJson(r);
}

/** Which releases `helm list` shows. */
export interface ListFilter {
  namespace?: string;
  all: boolean;
  statuses: string[];
}

/** `helm list`: by default deployed and failed releases, as Helm does. */
export function listReleases(cluster: ClusterState, f: ListFilter): Record<string, string>[] {
  const statuses = f.all
    ? undefined
    : f.statuses.length
      ? f.statuses.flatMap((s) => (s === 'pending' ? ['pending-install', 'pending-upgrade'] : [s]))
      : ['deployed', 'failed'];
  return Object.values(cluster.releases)
    .filter((r) => f.namespace === undefined || r.namespace === f.namespace)
    .filter((r) => !statuses || statuses.includes(r.status))
    .sort((a, b) => a.name.localeCompare(b.name) || a.namespace.localeCompare(b.namespace))
    .map(listJson);
}

/** `helm uninstall`: the release and every object it owns, whatever the release's state. */
export function uninstallRelease(cluster: ClusterState, namespace: string, name: string): string {
  const key = releaseKey(namespace, name);
  const r = cluster.releases[key];
  if (!r) throw new WorldError(404, 'NotFound', `uninstall: Release not loaded: ${name}: release: not found`);
  for (const [k, stored] of Object.entries(cluster.objects))
    if (owned(stored.object, r)) removeObject(cluster, k);
  delete cluster.releases[key];
  cluster.resourceVersion += 1;
  return `release "${name}" uninstalled`;
}
