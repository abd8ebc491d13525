/** What the cluster part keeps: per deployment its k0s, Kubernetes objects and Helm releases; the tenant's service principals. */

/** Object metadata as the API serves it. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp: string;
  resourceVersion: string;
  generation?: number;
}

/** A Kubernetes object in the API's shape. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** An object as the cluster stores it: the API object and the clocks its status is derived from. */
export interface StoredObject {
  object: KubeObject;
  createdMs: number;
  /** When the object's spec last changed: readiness of Deployments and Pods counts from here. */
  changedMs: number;
  /** Ready from this moment (Management after the kcm release, the webhook after kof-operators). */
  readyAtMs?: number;
  /** ClusterDeployment: since when its template and credential both exist. */
  validSinceMs?: number;
  /** Key of the object whose deletion takes this one along (a ClusterDeployment's kubeconfig secret). */
  ownerKey?: string;
}

/** A k0s node: one per k0sctl host. */
export interface K0sNode {
  machine: string;
  address: string;
  /** The host's k0sctl role: controller, worker, controller+worker or single. */
  role: string;
  installedMs: number;
}

/** k0s as installed on a deployment's machines. */
export interface K0sInstall {
  version: string;
  installedMs: number;
  nodes: K0sNode[];
  /** Address of the first controller: the kubeconfig's server. */
  controllerAddress: string;
  /** Bearer token of the admin kubeconfig. */
  token: string;
}

/** A `k0sctl apply` or `reset` between its begin and its finish. */
export interface K0sctlRun {
  operation: 'apply' | 'reset';
  holder: string;
  version: string;
  hosts: { machine: string; address: string; role: string }[];
  startedMs: number;
}

/** Helm release states the emulator produces. */
export type ReleaseStatus = 'pending-install' | 'pending-upgrade' | 'deployed' | 'failed';

/** A Helm release: its latest revision. */
export interface HelmReleaseRecord {
  name: string;
  namespace: string;
  /** Chart name, e.g. `kcm`. */
  chart: string;
  chartRef: string;
  chartVersion: string;
  appVersion: string;
  revision: number;
  status: ReleaseStatus;
  description: string;
  values: Record<string, unknown>;
  firstDeployedMs: number;
  updatedMs: number;
  /** The tool run that holds a pending revision. */
  holder?: string;
  /** What the last deployed revision had, to tell a real change from a repeat. */
  deployed?: { chartVersion: string; values: string; atMs: number };
}

/** A deployment's cluster. */
export interface ClusterState {
  k0s?: K0sInstall;
  run?: K0sctlRun;
  /** Keyed by `objectKey`. */
  objects: Record<string, StoredObject>;
  /** Keyed `<namespace>/<name>`. */
  releases: Record<string, HelmReleaseRecord>;
  /** Last resourceVersion handed out. */
  resourceVersion: number;
}

/** An Azure AD service principal of the emulator's tenant (its secrets are never kept). */
export interface ServicePrincipal {
  appId: string;
  /** Object id. */
  id: string;
  displayName: string;
  createdMs: number;
  roles: { role: string; scope: string }[];
  credentials: { keyId: string; startMs: number; endMs: number }[];
}

/** Everything the cluster part persists. */
export interface ClusterWorldState {
  version: 1;
  clusters: Record<string, ClusterState>;
  /** Tokens of clusters since reset, to their deployment: they reach the API server but no longer authenticate. */
  retiredTokens: Record<string, string>;
  servicePrincipals: ServicePrincipal[];
}

/** An empty world. */
export function emptyWorld(): ClusterWorldState {
  return { version: 1, clusters: {}, retiredTokens: {}, servicePrincipals: [] };
}

/** An empty cluster (no k0s). */
export function emptyCluster(): ClusterState {
  return { objects: {}, releases: {}, resourceVersion: 0 };
}

/** The API group of an `apiVersion` (`''` for the core group). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** Where an object is stored: `<Kind>.<group>/<namespace>/<name>`. */
export function objectKey(group: string, kind: string, namespace: string | undefined, name: string): string {
  return `${group ? `${kind}.${group}` : kind}/${namespace ?? ''}/${name}`;
}

/** The key of a stored API object. */
export function keyOf(obj: KubeObject): string {
  return objectKey(groupOf(obj.apiVersion), obj.kind, obj.metadata.namespace, obj.metadata.name);
}

/** RFC 3339 to the second, as the API writes timestamps. */
export function timestamp(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Reads persisted state, refusing anything that is not the shape `dump()` writes. */
export function parseWorld(data: unknown): ClusterWorldState {
  if (data === undefined || data === null) return emptyWorld();
  if (
    !isRecord(data) ||
    data.version !== 1 ||
    !isRecord(data.clusters) ||
    !Array.isArray(data.servicePrincipals)
  )
    throw new Error('cluster state: not a version 1 dump of the cluster part');
  const world = structuredClone(data) as unknown as ClusterWorldState;
  world.retiredTokens ??= {};
  for (const [id, cluster] of Object.entries(world.clusters)) {
    if (!isRecord(cluster) || !isRecord(cluster.objects) || !isRecord(cluster.releases))
      throw new Error(`cluster state: cluster ${id} has no objects or releases`);
    cluster.resourceVersion = typeof cluster.resourceVersion === 'number' ? cluster.resourceVersion : 0;
  }
  return world;
}
