/**
 * The Kubernetes API of one cluster: objects stored as applied, statuses derived from the clocks at read
 * time, Nodes and workload Pods synthesized from k0s and the workloads, errors as kubectl prints them.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { HostTimings } from '../types';
import { WorldError } from './errors';
import type { ResourceType } from './kinds';
import {
  apiVersionOf,
  isCrd,
  qualifiedKind,
  qualifiedPlural,
  servedTypes,
  typeForObject,
  typeForWord,
  typeOfCrd,
} from './kinds';
import type { ClusterState, K0sInstall, KubeObject, StoredObject } from './model';
import { groupOf, keyOf, objectKey, timestamp } from './model';

/** What derived statuses depend on besides the cluster itself. */
export interface ApiContext {
  now: number;
  timings: HostTimings;
  /** Machines of the deployment that exist and are booted. */
  liveMachines: ReadonlySet<string>;
  deploymentId: string;
}

/** The annotation `kubectl apply` keeps the applied configuration in. */
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
const CLUSTER_DEPLOYMENT = 'ClusterDeployment.k0rdent.mirantis.com';

/** k0s roles whose hosts run a kubelet and so are Nodes. */
export function runsKubelet(role: string): boolean {
  return role !== 'controller';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** JSON with sorted keys, for comparing contents. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isRecord(value))
    return `{${Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

function uidFrom(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\0')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function suffix(seed: string, length: number): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const bytes = createHash('sha256').update(seed).digest();
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[(bytes[i] as number) % alphabet.length];
  return out;
}

function nextVersion(cluster: ClusterState): string {
  cluster.resourceVersion += 1;
  return String(cluster.resourceVersion);
}

// ---------------------------------------------------------------------------------------------------
// Names and errors

const LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function invalid(kind: string, name: string, causes: string): WorldError {
  return new WorldError(422, 'Invalid', `The ${kind} "${name}" is invalid: ${causes}`);
}

function checkName(kind: string, name: string): void {
  if (kind === 'Namespace') {
    if (name.length > 63 || !LABEL_RE.test(name))
      throw invalid(
        kind,
        name,
        `metadata.name: Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`
      );
  } else if (name.length > 253 || !SUBDOMAIN_RE.test(name)) {
    throw invalid(
      kind,
      name,
      `metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`
    );
  }
}

/** `Error from server (NotFound): <plural.group> "<name>" not found`. */
export function notFound(t: ResourceType, name: string): WorldError {
  return new WorldError(
    404,
    'NotFound',
    `Error from server (NotFound): ${qualifiedPlural(t)} "${name}" not found`
  );
}

function unknownType(word: string): WorldError {
  return new WorldError(404, 'UnknownResource', `error: the server doesn't have a resource type "${word}"`);
}

// ---------------------------------------------------------------------------------------------------
// Storing

/** The object's own content: everything but status and the fields the server owns. */
function contentOf(obj: KubeObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj))
    if (!['apiVersion', 'kind', 'metadata', 'status'].includes(k)) out[k] = v;
  out.metadata = { labels: obj.metadata.labels ?? {}, annotations: obj.metadata.annotations ?? {} };
  return out;
}

/** A Secret's `stringData` folded into base64 `data`; malformed `data` refused as the API does. */
function normaliseSecret(doc: Record<string, unknown>, source: string, verb: string): void {
  const data = isRecord(doc.data) ? { ...doc.data } : {};
  for (const [k, v] of Object.entries(data)) {
    const text = typeof v === 'string' ? v : '';
    const bad = typeof v !== 'string' ? 0 : text.search(/[^A-Za-z0-9+/=]/);
    if (typeof v !== 'string' || bad >= 0 || text.length % 4 !== 0)
      throw new WorldError(
        400,
        'BadRequest',
        `Error from server (BadRequest): error when ${verb} "${source}": Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte ${Math.max(bad, 0)} (key ${k})`
      );
  }
  if (isRecord(doc.stringData))
    for (const [k, v] of Object.entries(doc.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
  delete doc.stringData;
  if (Object.keys(data).length) doc.data = data;
  doc.type ??= 'Opaque';
}

function stringMap(
  value: unknown,
  field: string,
  source: string,
  verb: string
): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value) || Object.values(value).some((v) => typeof v !== 'string'))
    throw new WorldError(
      400,
      'BadRequest',
      `Error from server (BadRequest): error when ${verb} "${source}": json: cannot unmarshal into Go struct field ObjectMeta.metadata.${field} of type string`
    );
  return value as Record<string, string>;
}

/** A document ready to store: type resolved, namespace settled, names checked. */
interface Prepared {
  type: ResourceType;
  doc: Record<string, unknown>;
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function prepare(
  cluster: ClusterState,
  type: ResourceType,
  raw: Record<string, unknown>,
  namespace: string,
  source: string
): Prepared {
  const doc = structuredClone(raw);
  const meta = isRecord(doc.metadata) ? doc.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '';
  const ns = type.namespaced
    ? (typeof meta.namespace === 'string' && meta.namespace) || namespace
    : undefined;
  if (!name)
    throw new WorldError(
      400,
      'BadRequest',
      `error: error when retrieving current configuration of:\nResource: "${qualifiedPlural(type)}", Name: "", Namespace: "${ns ?? ''}"\nfrom server for: "${source}": resource name may not be empty`
    );
  checkName(type.kind, name);
  const verb = cluster.objects[objectKey(type.group, type.kind, ns, name)] ? 'applying patch to' : 'creating';
  if (ns !== undefined && !cluster.objects[objectKey('', 'Namespace', undefined, ns)])
    throw new WorldError(
      404,
      'NotFound',
      `Error from server (NotFound): error when ${verb} "${source}": namespaces "${ns}" not found`
    );
  const labels = stringMap(meta.labels, 'labels', source, verb);
  const annotations = stringMap(meta.annotations, 'annotations', source, verb);
  if (type.kind === 'Secret' && type.group === '') normaliseSecret(doc, source, verb);
  if (type.kind === 'ClusterDeployment' && type.group === 'k0rdent.mirantis.com') {
    const spec = isRecord(doc.spec) ? doc.spec : {};
    if (typeof spec.template !== 'string' || !spec.template)
      throw invalid(type.kind, name, 'spec.template: Required value');
  }
  delete doc.status;
  return { type, doc, name, namespace: ns, labels, annotations };
}

function build(p: Prepared, live: KubeObject | undefined, now: number): KubeObject {
  const metadata: KubeObject['metadata'] = {
    name: p.name,
    ...(p.namespace !== undefined ? { namespace: p.namespace } : {}),
    uid: live?.metadata.uid ?? randomUUID(),
    ...(p.labels && Object.keys(p.labels).length ? { labels: p.labels } : {}),
    ...(p.annotations && Object.keys(p.annotations).length ? { annotations: p.annotations } : {}),
    creationTimestamp: live?.metadata.creationTimestamp ?? timestamp(now),
    resourceVersion: live?.metadata.resourceVersion ?? '',
  };
  const obj: KubeObject = { ...p.doc, apiVersion: apiVersionOf(p.type), kind: p.type.kind, metadata };
  if (p.type.kind === 'Namespace' && p.type.group === '')
    metadata.labels = { ...metadata.labels, 'kubernetes.io/metadata.name': p.name };
  if ('spec' in obj) metadata.generation = live?.metadata.generation ?? 1;
  return obj;
}

/** What a write did. */
export type WriteAction = 'created' | 'configured' | 'unchanged';

/** Creates or replaces an object, keeping uid and creation time; bumps resourceVersion only on a change. */
function store(cluster: ClusterState, ctx: ApiContext, obj: KubeObject): WriteAction {
  const key = keyOf(obj);
  const live = cluster.objects[key];
  if (live && canonical(contentOf(live.object)) === canonical(contentOf(obj))) return 'unchanged';
  const specChanged = !live || canonical(live.object.spec) !== canonical(obj.spec);
  if (live && specChanged && obj.metadata.generation !== undefined) obj.metadata.generation += 1;
  obj.metadata.resourceVersion = nextVersion(cluster);
  if (live) {
    live.object = obj;
    if (specChanged) {
      live.changedMs = ctx.now;
      if (obj.kind === 'ClusterDeployment') live.validSinceMs = undefined;
    }
    return 'configured';
  }
  cluster.objects[key] = { object: obj, createdMs: ctx.now, changedMs: ctx.now };
  return 'created';
}

/** Creates or replaces an object whole (what Helm and the cluster itself do); returns the stored entry. */
export function putObject(
  cluster: ClusterState,
  ctx: ApiContext,
  raw: Record<string, unknown>,
  extras: { readyAtMs?: number; ownerKey?: string } = {}
): StoredObject {
  const types = servedTypes(cluster);
  const apiVersion = String(raw.apiVersion);
  const kind = String(raw.kind);
  const type = typeForObject(types, apiVersion, kind);
  if (!type) throw new Error(`cluster: no type for ${apiVersion} ${kind}`);
  const meta = raw.metadata as { namespace?: string } | undefined;
  const p = prepare(cluster, type, raw, meta?.namespace ?? 'default', 'chart');
  const key = objectKey(type.group, type.kind, p.namespace, p.name);
  store(cluster, ctx, build(p, cluster.objects[key]?.object, ctx.now));
  const stored = cluster.objects[key] as StoredObject;
  if (extras.readyAtMs !== undefined) stored.readyAtMs = extras.readyAtMs;
  if (extras.ownerKey !== undefined) stored.ownerKey = extras.ownerKey;
  return stored;
}

/** Removes an object and what goes with it: a namespace's objects, a CRD's objects, owned objects. */
export function removeObject(cluster: ClusterState, key: string): void {
  const stored = cluster.objects[key];
  if (!stored) return;
  delete cluster.objects[key];
  const obj = stored.object;
  const doomed: string[] = [];
  if (obj.kind === 'Namespace' && groupOf(obj.apiVersion) === '') {
    for (const [k, s] of Object.entries(cluster.objects))
      if (s.object.metadata.namespace === obj.metadata.name) doomed.push(k);
    for (const [k, r] of Object.entries(cluster.releases))
      if (r.namespace === obj.metadata.name) delete cluster.releases[k];
  }
  if (isCrd(obj)) {
    const t = typeOfCrd(obj);
    if (t)
      for (const [k, s] of Object.entries(cluster.objects))
        if (groupOf(s.object.apiVersion) === t.group && s.object.kind === t.kind) doomed.push(k);
  }
  for (const [k, s] of Object.entries(cluster.objects)) if (s.ownerKey === key) doomed.push(k);
  for (const k of doomed) removeObject(cluster, k);
}

/** The objects k0s itself runs: system namespaces, DNS, metrics, networking. */
export function installSystemObjects(cluster: ClusterState, ctx: ApiContext): void {
  for (const name of SYSTEM_NAMESPACES)
    putObject(cluster, ctx, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  const workload = (kind: string, name: string, image: string, replicas?: number) =>
    putObject(cluster, ctx, {
      apiVersion: 'apps/v1',
      kind,
      metadata: { name, namespace: 'kube-system', labels: { 'k8s-app': name } },
      spec: {
        ...(replicas !== undefined ? { replicas } : {}),
        selector: { matchLabels: { 'k8s-app': name } },
        template: {
          metadata: { labels: { 'k8s-app': name } },
          spec: { containers: [{ name, image }] },
        },
      },
    });
  workload('Deployment', 'coredns', 'quay.io/k0sproject/coredns:1.12.2', 1);
  workload('Deployment', 'metrics-server', 'registry.k8s.io/metrics-server/metrics-server:v0.7.2', 1);
  workload('DaemonSet', 'kube-proxy', 'quay.io/k0sproject/kube-proxy:v1.33.2');
  workload('DaemonSet', 'calico-node', 'quay.io/k0sproject/calico-node:v3.29.4-0');
  workload('DaemonSet', 'konnectivity-agent', 'quay.io/k0sproject/apiserver-network-proxy-agent:v0.32.0');
}

// ---------------------------------------------------------------------------------------------------
// Reading

function kubeletNodes(cluster: ClusterState): NonNullable<ClusterState['k0s']>['nodes'] {
  return cluster.k0s?.nodes.filter((n) => runsKubelet(n.role)) ?? [];
}

function nodeReady(node: K0sInstall['nodes'][number], ctx: ApiContext): boolean {
  return ctx.liveMachines.has(node.machine) && ctx.now >= node.installedMs + ctx.timings.nodeReadyMs;
}

function anyNodeReady(cluster: ClusterState, ctx: ApiContext): boolean {
  return kubeletNodes(cluster).some((n) => nodeReady(n, ctx));
}

function condition(type: string, status: boolean, reason: string, message: string, since: number) {
  return { type, status: status ? 'True' : 'False', reason, message, lastTransitionTime: timestamp(since) };
}

function nodeObjects(cluster: ClusterState, ctx: ApiContext): KubeObject[] {
  const k0s = cluster.k0s;
  if (!k0s) return [];
  const kubelet = `v${k0s.version.replace(/^v/, '').replace(/\+k0s\.\d+$/, '')}+k0s`;
  return kubeletNodes(cluster).map((n) => {
    const ready = nodeReady(n, ctx);
    const controlPlane = n.role !== 'worker';
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: n.machine,
        uid: uidFrom(ctx.deploymentId, 'node', n.machine, String(n.installedMs)),
        labels: {
          'beta.kubernetes.io/arch': 'amd64',
          'beta.kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'kubernetes.io/hostname': n.machine,
          'kubernetes.io/os': 'linux',
          ...(controlPlane ? { 'node-role.kubernetes.io/control-plane': 'true' } : {}),
        },
        creationTimestamp: timestamp(n.installedMs),
        resourceVersion: String(cluster.resourceVersion),
      },
      spec: {},
      status: {
        addresses: [
          { type: 'InternalIP', address: n.address },
          { type: 'Hostname', address: n.machine },
        ],
        conditions: [
          ready
            ? condition(
                'Ready',
                true,
                'KubeletReady',
                'kubelet is posting ready status',
                n.installedMs + ctx.timings.nodeReadyMs
              )
            : ctx.liveMachines.has(n.machine)
              ? condition(
                  'Ready',
                  false,
                  'KubeletNotReady',
                  'container runtime network not ready',
                  n.installedMs
                )
              : {
                  ...condition(
                    'Ready',
                    false,
                    'NodeStatusUnknown',
                    'Kubelet stopped posting node status.',
                    n.installedMs
                  ),
                  status: 'Unknown',
                },
        ],
        nodeInfo: {
          kubeletVersion: kubelet,
          kubeProxyVersion: kubelet,
          containerRuntimeVersion: 'containerd://1.7.27',
          operatingSystem: 'linux',
          architecture: 'amd64',
          osImage: 'Debian GNU/Linux 12 (bookworm)',
        },
      },
    } satisfies KubeObject;
  });
}

interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec?: { containers?: { name?: string; image?: string }[] };
}

function workloadReady(cluster: ClusterState, ctx: ApiContext, stored: StoredObject): boolean {
  return anyNodeReady(cluster, ctx) && ctx.now >= stored.changedMs + ctx.timings.nodeReadyMs;
}

function podObject(
  cluster: ClusterState,
  ctx: ApiContext,
  owner: StoredObject,
  name: string,
  nodeName: string | undefined,
  extraLabels: Record<string, string>
): KubeObject {
  const o = owner.object;
  const spec = (o.spec ?? {}) as {
    template?: PodTemplate;
    selector?: { matchLabels?: Record<string, string> };
  };
  const labels = spec.template?.metadata?.labels ?? spec.selector?.matchLabels ?? { app: o.metadata.name };
  const containers = (
    spec.template?.spec?.containers ?? [{ name: o.metadata.name, image: 'registry.k8s.io/pause:3.10' }]
  ).map((c, i) => ({ name: c.name ?? `c${i}`, image: c.image ?? 'registry.k8s.io/pause:3.10' }));
  const ready = workloadReady(cluster, ctx, owner);
  const since = owner.changedMs + (ready ? ctx.timings.nodeReadyMs : 0);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.metadata.namespace,
      uid: uidFrom(o.metadata.uid, name),
      labels: { ...labels, ...extraLabels },
      creationTimestamp: timestamp(owner.changedMs),
      resourceVersion: o.metadata.resourceVersion,
    },
    spec: { containers, ...(nodeName ? { nodeName } : {}) },
    status: {
      phase: ready ? 'Running' : 'Pending',
      conditions: [
        {
          type: 'Ready',
          status: ready ? 'True' : 'False',
          ...(ready ? {} : { reason: 'ContainersNotReady' }),
          lastTransitionTime: timestamp(since),
        },
      ],
      containerStatuses: containers.map((c) => ({
        name: c.name,
        image: c.image,
        ready,
        restartCount: 0,
        started: ready,
        state: ready
          ? { running: { startedAt: timestamp(since) } }
          : { waiting: { reason: 'ContainerCreating' } },
      })),
    },
  };
}

function workloadPods(cluster: ClusterState, ctx: ApiContext): KubeObject[] {
  const pods: KubeObject[] = [];
  const nodes = kubeletNodes(cluster);
  for (const stored of Object.values(cluster.objects)) {
    const o = stored.object;
    if (groupOf(o.apiVersion) !== 'apps') continue;
    if (o.kind === 'Deployment') {
      const replicas = deploymentReplicas(o);
      const hash = suffix(`${o.metadata.uid}/${canonical(o.spec)}`, 10);
      for (let i = 0; i < replicas; i++) {
        const name = `${o.metadata.name}-${hash}-${suffix(`${o.metadata.uid}/${i}`, 5)}`;
        pods.push(
          podObject(cluster, ctx, stored, name, nodes[i % Math.max(nodes.length, 1)]?.machine, {
            'pod-template-hash': hash,
          })
        );
      }
    } else if (o.kind === 'DaemonSet') {
      for (const n of nodes)
        pods.push(
          podObject(
            cluster,
            ctx,
            stored,
            `${o.metadata.name}-${suffix(`${o.metadata.uid}/${n.machine}`, 5)}`,
            n.machine,
            {}
          )
        );
    }
  }
  return pods;
}

function deploymentReplicas(o: KubeObject): number {
  const r = (o.spec as { replicas?: unknown } | undefined)?.replicas;
  return typeof r === 'number' && r >= 0 ? r : 1;
}

function exists(
  cluster: ClusterState,
  group: string,
  kind: string,
  namespace: string | undefined,
  name: unknown
): boolean {
  return typeof name === 'string' && !!cluster.objects[objectKey(group, kind, namespace, name)];
}

/** Why a ClusterDeployment cannot start, or undefined when its template and credential exist. */
function clusterDeploymentBlocker(
  cluster: ClusterState,
  o: KubeObject
): { reason: string; message: string } | undefined {
  const spec = (o.spec ?? {}) as { template?: unknown; credential?: unknown };
  const ns = o.metadata.namespace;
  if (!exists(cluster, 'k0rdent.mirantis.com', 'ClusterTemplate', ns, spec.template))
    return {
      reason: 'TemplateNotFound',
      message: `ClusterTemplate ${ns}/${String(spec.template)} not found`,
    };
  if (typeof spec.credential !== 'string' || !spec.credential)
    return { reason: 'CredentialNotSet', message: 'spec.credential is not set' };
  if (!exists(cluster, 'k0rdent.mirantis.com', 'Credential', ns, spec.credential))
    return { reason: 'CredentialNotFound', message: `Credential ${ns}/${spec.credential} not found` };
  return undefined;
}

function derivedStatus(
  cluster: ClusterState,
  ctx: ApiContext,
  stored: StoredObject
): Record<string, unknown> | undefined {
  const o = stored.object;
  const group = groupOf(o.apiVersion);
  const key = group ? `${o.kind}.${group}` : o.kind;
  switch (key) {
    case 'Namespace':
      return { phase: 'Active' };
    case 'Deployment.apps': {
      const replicas = deploymentReplicas(o);
      const ready = workloadReady(cluster, ctx, stored);
      const n = ready ? replicas : 0;
      return {
        observedGeneration: o.metadata.generation,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: n,
        availableReplicas: n,
        ...(ready ? {} : { unavailableReplicas: replicas }),
        conditions: [
          condition(
            'Available',
            ready,
            ready ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
            ready ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.',
            stored.changedMs
          ),
        ],
      };
    }
    case 'DaemonSet.apps': {
      const desired = kubeletNodes(cluster).length;
      const n = workloadReady(cluster, ctx, stored) ? desired : 0;
      return {
        desiredNumberScheduled: desired,
        currentNumberScheduled: desired,
        updatedNumberScheduled: desired,
        numberReady: n,
        numberAvailable: n,
        numberMisscheduled: 0,
        observedGeneration: o.metadata.generation,
      };
    }
    case 'Pod': {
      const ready = workloadReady(cluster, ctx, stored);
      return {
        phase: ready ? 'Running' : 'Pending',
        conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      };
    }
    case 'CustomResourceDefinition.apiextensions.k8s.io': {
      const names = (o.spec as { names?: unknown } | undefined)?.names;
      return {
        acceptedNames: names,
        conditions: [
          condition('NamesAccepted', true, 'NoConflicts', 'no conflicts found', stored.createdMs),
          condition(
            'Established',
            true,
            'InitialNamesAccepted',
            'the initial names have been accepted',
            stored.createdMs
          ),
        ],
        storedVersions: ((o.spec as { versions?: { name: string }[] } | undefined)?.versions ?? []).map(
          (v) => v.name
        ),
      };
    }
    case 'Management.k0rdent.mirantis.com': {
      const ready = stored.readyAtMs !== undefined && ctx.now >= stored.readyAtMs;
      return {
        observedGeneration: o.metadata.generation,
        release: (o.spec as { release?: unknown } | undefined)?.release,
        conditions: [
          ready
            ? condition(
                'Ready',
                true,
                'AllComponentsHealthy',
                'All components are successfully installed',
                stored.readyAtMs ?? 0
              )
            : condition(
                'Ready',
                false,
                'NotAllComponentsHealthy',
                'Components are not ready yet: capi, cluster-api-provider-azure, projectsveltos',
                stored.changedMs
              ),
        ],
      };
    }
    case 'ClusterTemplate.k0rdent.mirantis.com':
      return { valid: true, observedGeneration: o.metadata.generation };
    case 'Credential.k0rdent.mirantis.com': {
      const ref = (
        o.spec as { identityRef?: { kind?: unknown; name?: unknown; namespace?: unknown } } | undefined
      )?.identityRef;
      const found =
        ref?.kind === 'AzureClusterIdentity' &&
        exists(
          cluster,
          'infrastructure.cluster.x-k8s.io',
          'AzureClusterIdentity',
          typeof ref.namespace === 'string' ? ref.namespace : o.metadata.namespace,
          ref.name
        );
      return {
        ready: found,
        conditions: [
          condition(
            'CredentialReady',
            found,
            found ? 'Succeeded' : 'IdentityNotFound',
            found ? 'Credential is ready' : 'the identity the credential references was not found',
            stored.changedMs
          ),
        ],
      };
    }
    case CLUSTER_DEPLOYMENT: {
      const blocker = clusterDeploymentBlocker(cluster, o);
      const since = stored.validSinceMs;
      const ready =
        !blocker && since !== undefined && ctx.now >= since + ctx.timings.clusterDeploymentReadyMs;
      const c = blocker
        ? condition('Ready', false, blocker.reason, blocker.message, stored.changedMs)
        : ready
          ? condition(
              'Ready',
              true,
              'Succeeded',
              'Cluster is ready',
              (since ?? 0) + ctx.timings.clusterDeploymentReadyMs
            )
          : condition(
              'Ready',
              false,
              'Provisioning',
              'Waiting for the control plane and the workers',
              since ?? stored.changedMs
            );
      return { observedGeneration: o.metadata.generation, conditions: [c] };
    }
    default:
      return undefined;
  }
}

/** An object as the API serves it, with its status. */
export function viewOf(cluster: ClusterState, ctx: ApiContext, stored: StoredObject): KubeObject {
  const obj = structuredClone(stored.object);
  const status = derivedStatus(cluster, ctx, stored);
  if (status) obj.status = status;
  return obj;
}

/** Every object of a type, in a namespace or in all, as served. */
export function listOf(
  cluster: ClusterState,
  ctx: ApiContext,
  t: ResourceType,
  namespace?: string
): KubeObject[] {
  let items: KubeObject[];
  if (t.group === '' && t.kind === 'Node') items = nodeObjects(cluster, ctx);
  else {
    items = Object.values(cluster.objects)
      .filter((s) => groupOf(s.object.apiVersion) === t.group && s.object.kind === t.kind)
      .map((s) => viewOf(cluster, ctx, s));
    if (t.group === '' && t.kind === 'Pod') items.push(...workloadPods(cluster, ctx));
  }
  return items
    .filter((o) => !t.namespaced || namespace === undefined || o.metadata.namespace === namespace)
    .sort(
      (a, b) =>
        (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') ||
        a.metadata.name.localeCompare(b.metadata.name)
    );
}

/** Whether labels match a selector like `a=b,c!=d,e,!f`. */
export function selectorMatches(selector: string, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return selector
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .every((term) => {
      const ne = term.match(/^([^!=]+)!=(.*)$/);
      if (ne) return l[(ne[1] as string).trim()] !== (ne[2] as string).trim();
      const eq = term.match(/^([^!=]+)==?(.*)$/);
      if (eq) return l[(eq[1] as string).trim()] === (eq[2] as string).trim();
      if (term.startsWith('!')) return !(term.slice(1) in l);
      return term in l;
    });
}

/** Checks a label selector's syntax the way kubectl does before sending it. */
export function checkSelector(selector: string): void {
  for (const term of selector.split(',').map((s) => s.trim())) {
    if (!/^(!?[A-Za-z0-9./_-]+|[A-Za-z0-9./_-]+\s*(==|=|!=)\s*[A-Za-z0-9._-]*)$/.test(term))
      throw new WorldError(
        400,
        'BadRequest',
        `error: unable to parse requirement: found '${term}', expected: identifier`
      );
  }
}

/** The type a kubectl word names, or the kubectl error. */
export function resolveWord(cluster: ClusterState, word: string): ResourceType {
  const t = typeForWord(servedTypes(cluster), word);
  if (!t) throw unknownType(word);
  return t;
}

/** What `kubectl get` asks. */
export interface GetQuery {
  resource: string;
  names: string[];
  namespace: string;
  allNamespaces: boolean;
  labelSelector?: string;
}

/** Answers `kubectl get`: the type, the objects found, and the names that were not. */
export function getObjects(
  cluster: ClusterState,
  ctx: ApiContext,
  q: GetQuery
): { type: ResourceType; items: KubeObject[]; notFound: string[] } {
  const t = resolveWord(cluster, q.resource);
  if (q.labelSelector) checkSelector(q.labelSelector);
  const ns = !t.namespaced || q.allNamespaces ? undefined : q.namespace;
  let all = listOf(cluster, ctx, t, ns);
  if (q.labelSelector) {
    const sel = q.labelSelector;
    all = all.filter((o) => selectorMatches(sel, o.metadata.labels));
  }
  if (q.names.length === 0) return { type: t, items: all, notFound: [] };
  const items: KubeObject[] = [];
  const missing: string[] = [];
  for (const name of q.names) {
    const found = all.find((o) => o.metadata.name === name);
    if (found) items.push(found);
    else missing.push(name);
  }
  return { type: t, items, notFound: missing };
}

// ---------------------------------------------------------------------------------------------------
// Writing

/** One document's outcome in `kubectl apply`. */
export type ApplyResult =
  | { ref: string; action: WriteAction; kind: string; namespace?: string; name: string }
  | { error: string };

function mergeLevel(
  live: Record<string, unknown>,
  last: Record<string, unknown>,
  next: Record<string, unknown>
): Record<string, unknown> {
  const out = { ...live };
  for (const k of Object.keys(last)) if (!(k in next)) delete out[k];
  for (const [k, v] of Object.entries(next)) out[k] = v;
  return out;
}

/**
 * Applies documents as `kubectl apply` does: types resolved for every document first (a CRD and its
 * objects in one file fail as they do with kubectl), then each document in order, merged with the live
 * object by what the previous apply set.
 */
export function applyDocuments(
  cluster: ClusterState,
  ctx: ApiContext,
  docs: unknown[],
  namespace: string,
  source: string
): ApplyResult[] {
  const types = servedTypes(cluster);
  const mapped = docs.map((raw) => {
    if (!isRecord(raw))
      return {
        error: `error: error validating "${source}": error validating data: invalid object to validate`,
      };
    const apiVersion = typeof raw.apiVersion === 'string' ? raw.apiVersion : '';
    const kind = typeof raw.kind === 'string' ? raw.kind : '';
    const t = apiVersion && kind ? typeForObject(types, apiVersion, kind) : undefined;
    if (t) return { raw, type: t };
    if (!apiVersion || !kind) {
      const missing = [...(apiVersion ? [] : ['apiVersion not set']), ...(kind ? [] : ['kind not set'])];
      return {
        error: `error: error validating "${source}": error validating data: [${missing.join(', ')}]; if you choose to ignore these errors, turn validation off with --validate=false`,
      };
    }
    const meta = isRecord(raw.metadata) ? raw.metadata : {};
    return {
      error: `error: resource mapping not found for name: "${typeof meta.name === 'string' ? meta.name : ''}" namespace: "${typeof meta.namespace === 'string' ? meta.namespace : ''}" from "${source}": no matches for kind "${kind}" in version "${apiVersion}"\nensure CRDs are installed first`,
    };
  });
  return mapped.map((m): ApplyResult => {
    if ('error' in m) return { error: m.error ?? '' };
    try {
      const p = prepare(cluster, m.type, m.raw, namespace, source);
      const key = objectKey(m.type.group, m.type.kind, p.namespace, p.name);
      const live = cluster.objects[key]?.object;
      const appliedConfig = JSON.stringify(m.raw);
      const prevAnnotation = live?.metadata.annotations?.[LAST_APPLIED];
      let last: Record<string, unknown> = {};
      try {
        last = prevAnnotation ? (JSON.parse(prevAnnotation) as Record<string, unknown>) : {};
      } catch {
        last = {};
      }
      const lastMeta = isRecord(last.metadata) ? last.metadata : {};
      const merged: Prepared = {
        ...p,
        doc: live ? mergeLevel(contentOf(live), last, p.doc) : p.doc,
        labels: mergeLevel(
          live?.metadata.labels ?? {},
          isRecord(lastMeta.labels) ? lastMeta.labels : {},
          p.labels ?? {}
        ) as Record<string, string>,
        annotations: {
          ...(mergeLevel(
            live?.metadata.annotations ?? {},
            isRecord(lastMeta.annotations) ? lastMeta.annotations : {},
            p.annotations ?? {}
          ) as Record<string, string>),
          [LAST_APPLIED]: appliedConfig,
        },
      };
      delete merged.doc.metadata;
      const obj = build(merged, live, ctx.now);
      const action = store(cluster, ctx, obj);
      const stored = cluster.objects[key] as StoredObject;
      if (
        m.type.kind === 'ClusterDeployment' &&
        m.type.group === 'k0rdent.mirantis.com' &&
        stored.validSinceMs === undefined &&
        !clusterDeploymentBlocker(cluster, stored.object)
      )
        stored.validSinceMs = ctx.now;
      return {
        ref: `${qualifiedKind(m.type)}/${p.name}`,
        action,
        kind: m.type.kind,
        name: p.name,
        ...(p.namespace !== undefined ? { namespace: p.namespace } : {}),
      };
    } catch (err) {
      if (err instanceof WorldError) return { error: err.message };
      throw err;
    }
  });
}

/** One name's outcome in `kubectl delete`. */
export type DeleteResult = { deleted: string } | { error: string } | { ignored: string };

/** Deletes objects by type and name, with what goes with them. */
export function deleteObjects(
  cluster: ClusterState,
  q: { resource: string; names: string[]; namespace: string; ignoreNotFound: boolean }
): DeleteResult[] {
  const t = resolveWord(cluster, q.resource);
  if (t.group === '' && t.kind === 'Node')
    return q.names.map((n) => ({
      error: `Error from server (Forbidden): nodes "${n}" is forbidden: the emulated cluster keeps its k0s nodes; use k0sctl`,
    }));
  const ns = t.namespaced ? q.namespace : undefined;
  return q.names.map((name) => {
    const key = objectKey(t.group, t.kind, ns, name);
    if (!cluster.objects[key])
      return q.ignoreNotFound ? { ignored: name } : { error: notFound(t, name).message };
    removeObject(cluster, key);
    nextVersion(cluster);
    return { deleted: `${qualifiedKind(t)} "${name}" deleted` };
  });
}

/** `kubectl create namespace`. */
export function createNamespace(cluster: ClusterState, ctx: ApiContext, name: string): string {
  if (cluster.objects[objectKey('', 'Namespace', undefined, name)])
    throw new WorldError(
      409,
      'AlreadyExists',
      `Error from server (AlreadyExists): namespaces "${name}" already exists`
    );
  putObject(cluster, ctx, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return `namespace/${name} created`;
}

/** `kubectl label`: `value` null removes the label. */
export function labelObject(
  cluster: ClusterState,
  q: {
    resource: string;
    name: string;
    namespace: string;
    labels: Record<string, string | null>;
    overwrite: boolean;
  }
): string {
  const t = resolveWord(cluster, q.resource);
  if (
    t.group === '' &&
    (t.kind === 'Node' || t.kind === 'Pod') &&
    !cluster.objects[objectKey(t.group, t.kind, t.namespaced ? q.namespace : undefined, q.name)]
  )
    throw new WorldError(
      403,
      'Forbidden',
      `Error from server (Forbidden): ${t.plural} "${q.name}" is forbidden: the emulated cluster does not label ${t.plural} it synthesizes`
    );
  const key = objectKey(t.group, t.kind, t.namespaced ? q.namespace : undefined, q.name);
  const stored = cluster.objects[key];
  if (!stored) throw notFound(t, q.name);
  const labels = { ...(stored.object.metadata.labels ?? {}) };
  for (const [k, v] of Object.entries(q.labels)) {
    if (v === null) {
      delete labels[k];
      continue;
    }
    const current = labels[k];
    if (current !== undefined && current !== v && !q.overwrite)
      throw new WorldError(
        409,
        'Conflict',
        `error: '${k}' already has a value (${current}), and --overwrite is false`
      );
    labels[k] = v;
  }
  const ref = `${qualifiedKind(t)}/${q.name}`;
  if (canonical(labels) === canonical(stored.object.metadata.labels ?? {})) return `${ref} not labeled`;
  stored.object.metadata.labels = labels;
  stored.object.metadata.resourceVersion = nextVersion(cluster);
  return `${ref} labeled`;
}

/**
 * Brings time-driven effects into the store: a ClusterDeployment's provisioning clock starts when its
 * template and credential exist, and once Ready it gets its `<name>-kubeconfig` secret. Returns whether
 * anything changed.
 */
export function settle(cluster: ClusterState, ctx: ApiContext): boolean {
  let changed = false;
  for (const [key, stored] of Object.entries(cluster.objects)) {
    const o = stored.object;
    if (o.kind !== 'ClusterDeployment' || groupOf(o.apiVersion) !== 'k0rdent.mirantis.com') continue;
    const blocked = clusterDeploymentBlocker(cluster, o) !== undefined;
    if (blocked) {
      if (stored.validSinceMs !== undefined) {
        stored.validSinceMs = undefined;
        changed = true;
      }
      continue;
    }
    if (stored.validSinceMs === undefined) {
      stored.validSinceMs = ctx.now;
      changed = true;
    }
    if (ctx.now < stored.validSinceMs + ctx.timings.clusterDeploymentReadyMs) continue;
    const ns = o.metadata.namespace as string;
    const secretName = `${o.metadata.name}-kubeconfig`;
    if (cluster.objects[objectKey('', 'Secret', ns, secretName)]) continue;
    putObject(
      cluster,
      ctx,
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: secretName,
          namespace: ns,
          labels: { 'cluster.x-k8s.io/cluster-name': o.metadata.name },
        },
        type: 'cluster.x-k8s.io/secret',
        data: { value: Buffer.from(childKubeconfig(o)).toString('base64') },
      },
      { ownerKey: key }
    );
    changed = true;
  }
  return changed;
}

function childKubeconfig(o: KubeObject): string {
  const name = o.metadata.name;
  const location = (o.spec as { config?: { location?: unknown } } | undefined)?.config?.location;
  const host = `${name}.${typeof location === 'string' ? location : 'westus2'}.cloudapp.azure.com`;
  const token = createHash('sha256').update(`${o.metadata.uid}/kubeconfig`).digest('base64url');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `  - name: ${name}`,
    '    cluster:',
    `      server: https://${host}:6443`,
    'contexts:',
    `  - name: ${name}-admin@${name}`,
    '    context:',
    `      cluster: ${name}`,
    `      user: ${name}-admin`,
    `current-context: ${name}-admin@${name}`,
    'preferences: {}',
    'users:',
    `  - name: ${name}-admin`,
    '    user:',
    `      token: ${token}`,
    '',
  ].join('\n');
}
