/** The API's resource types: the built-in ones and those the cluster's CRDs define, found as kubectl finds them. */
import type { ClusterState, KubeObject } from './model';

/** One resource type, as discovery describes it. */
export interface ResourceType {
  /** `''` for the core group. */
  group: string;
  /** Served versions, preferred first. */
  versions: string[];
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
}

function builtin(
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  shortNames: string[] = []
): ResourceType {
  return { group, versions: [version], kind, plural, singular: kind.toLowerCase(), shortNames, namespaced };
}

/** The kinds every cluster serves. */
export const BUILTIN_TYPES: readonly ResourceType[] = [
  builtin('', 'v1', 'Namespace', 'namespaces', false, ['ns']),
  builtin('', 'v1', 'Node', 'nodes', false, ['no']),
  builtin('', 'v1', 'Pod', 'pods', true, ['po']),
  builtin('', 'v1', 'Secret', 'secrets', true),
  builtin('', 'v1', 'ConfigMap', 'configmaps', true, ['cm']),
  builtin('', 'v1', 'ServiceAccount', 'serviceaccounts', true, ['sa']),
  builtin('apps', 'v1', 'Deployment', 'deployments', true, ['deploy']),
  builtin('apps', 'v1', 'DaemonSet', 'daemonsets', true, ['ds']),
  builtin('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false),
  builtin('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
  builtin('rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true),
  builtin('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true),
  builtin('storage.k8s.io', 'v1', 'StorageClass', 'storageclasses', false, ['sc']),
  builtin('storage.k8s.io', 'v1', 'CSIDriver', 'csidrivers', false),
  builtin('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, [
    'crd',
    'crds',
  ]),
  builtin(
    'admissionregistration.k8s.io',
    'v1',
    'ValidatingWebhookConfiguration',
    'validatingwebhookconfigurations',
    false
  ),
];

/** Whether an object is a CustomResourceDefinition. */
export function isCrd(obj: KubeObject): boolean {
  return obj.kind === 'CustomResourceDefinition' && obj.apiVersion.startsWith('apiextensions.k8s.io/');
}

interface CrdSpec {
  group?: unknown;
  scope?: unknown;
  names?: { kind?: unknown; plural?: unknown; singular?: unknown; shortNames?: unknown };
  versions?: { name?: unknown; served?: unknown; storage?: unknown }[];
}

/** The resource type a CRD defines, or undefined when its spec is incomplete. */
export function typeOfCrd(obj: KubeObject): ResourceType | undefined {
  const spec = obj.spec as CrdSpec | undefined;
  const names = spec?.names;
  if (typeof spec?.group !== 'string' || typeof names?.kind !== 'string' || typeof names.plural !== 'string')
    return undefined;
  const versions = (Array.isArray(spec.versions) ? spec.versions : [])
    .filter((v) => typeof v.name === 'string' && v.served !== false)
    .sort((a, b) => Number(b.storage === true) - Number(a.storage === true))
    .map((v) => v.name as string);
  if (versions.length === 0) return undefined;
  return {
    group: spec.group,
    versions,
    kind: names.kind,
    plural: names.plural,
    singular: typeof names.singular === 'string' ? names.singular : names.kind.toLowerCase(),
    shortNames: Array.isArray(names.shortNames) ? names.shortNames.filter((s) => typeof s === 'string') : [],
    namespaced: spec.scope !== 'Cluster',
  };
}

/** Every type the cluster serves: the built-in ones and one per CRD. */
export function servedTypes(cluster: ClusterState): ResourceType[] {
  const types = [...BUILTIN_TYPES];
  for (const stored of Object.values(cluster.objects)) {
    if (!isCrd(stored.object)) continue;
    const type = typeOfCrd(stored.object);
    if (type) types.push(type);
  }
  return types;
}

/**
 * The type a kubectl resource word names: kind, singular, plural or short name, optionally followed by
 * `.<group>` or `.<version>.<group>`, case-insensitive.
 */
export function typeForWord(types: readonly ResourceType[], word: string): ResourceType | undefined {
  const w = word.toLowerCase();
  const names = (t: ResourceType) => [t.plural, t.singular, t.kind.toLowerCase(), ...t.shortNames];
  const bare = types.find((t) => names(t).includes(w));
  if (bare) return bare;
  return types.find((t) =>
    names(t).some(
      (n) =>
        t.group !== '' && (w === `${n}.${t.group}` || t.versions.some((v) => w === `${n}.${v}.${t.group}`))
    )
  );
}

/** The type of an `apiVersion` and `kind`, when served. */
export function typeForObject(
  types: readonly ResourceType[],
  apiVersion: string,
  kind: string
): ResourceType | undefined {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  return types.find((t) => t.group === group && t.kind === kind && t.versions.includes(version));
}

/** `managements.k0rdent.mirantis.com`, `deployments.apps`, `namespaces`: how NotFound errors name a type. */
export function qualifiedPlural(t: ResourceType): string {
  return t.group ? `${t.plural}.${t.group}` : t.plural;
}

/** `management.k0rdent.mirantis.com`, `deployment.apps`, `namespace`: how apply and `-o name` name a type. */
export function qualifiedKind(t: ResourceType): string {
  const kind = t.kind.toLowerCase();
  return t.group ? `${kind}.${t.group}` : kind;
}

/** The `apiVersion` objects of this type are served with. */
export function apiVersionOf(t: ResourceType): string {
  const version = t.versions[0] ?? 'v1';
  return t.group ? `${t.group}/${version}` : version;
}

/** A CRD object for a custom type. */
export function crdObject(
  t: Omit<ResourceType, 'singular'> & { singular?: string }
): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${t.plural}.${t.group}` },
    spec: {
      group: t.group,
      scope: t.namespaced ? 'Namespaced' : 'Cluster',
      names: {
        kind: t.kind,
        listKind: `${t.kind}List`,
        plural: t.plural,
        singular: t.singular ?? t.kind.toLowerCase(),
        ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
      },
      versions: t.versions.map((name, i) => ({
        name,
        served: true,
        storage: i === 0,
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        subresources: { status: {} },
      })),
    },
  };
}
