/**
 * The cluster part of the host world: k0s, Kubernetes objects, Helm releases, service principals. The
 * emulated `k0sctl`, `kubectl`, `helm` and `az` reach it through `/world/{k0sctl,kube,helm,az}/*`.
 */
import type { ClusterPart, WorldResponse, WorldServices } from '../types';
import { WorldError, badRequest, ok } from './errors';
import { adminKubeconfig, beginRun, finishApply, finishReset, parseK0sctlRequest } from './k0s';
import { qualifiedKind, qualifiedPlural } from './kinds';
import type { ClusterState, ClusterWorldState } from './model';
import { emptyWorld, parseWorld } from './model';
import type { ApiContext } from './objects';
import {
  applyDocuments,
  createNamespace,
  deleteObjects,
  getObjects,
  labelObject,
  notFound,
  settle,
} from './objects';
import type { BeginRequest, HelmMode } from './releases';
import {
  beginRelease,
  finishRelease,
  listReleases,
  prefixed,
  releaseStatus,
  uninstallRelease,
} from './releases';
import {
  account,
  createForRbac,
  deletePrincipal,
  listPrincipals,
  resetCredential,
  showPrincipal,
} from './principals';

type Body = Record<string, unknown>;

function asBody(body: unknown): Body {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw badRequest('the request body must be a JSON object');
  return body as Body;
}

function str(b: Body, field: string): string {
  const v = b[field];
  if (typeof v !== 'string' || v === '') throw badRequest(`${field} must be a non-empty string`);
  return v;
}

function optStr(b: Body, field: string): string | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badRequest(`${field} must be a string`);
  return v;
}

function bool(b: Body, field: string): boolean {
  return b[field] === true;
}

function strings(b: Body, field: string): string[] {
  const v = b[field];
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw badRequest(`${field} must be a list of strings`);
  return v as string[];
}

type Family = 'kube' | 'helm';

function unreachableFor(family: Family, host: string, port: string): WorldError {
  const dial = `dial tcp ${host}:${port}: i/o timeout`;
  return new WorldError(
    503,
    'Unreachable',
    family === 'kube'
      ? `Unable to connect to the server: ${dial}`
      : `Kubernetes cluster unreachable: Get "https://${host}:${port}/version": ${dial}`,
    { address: host }
  );
}

function refusedFor(family: Family, host: string, port: string): WorldError {
  return new WorldError(
    503,
    'ConnectionRefused',
    family === 'kube'
      ? `The connection to the server ${host}:${port} was refused - did you specify the right host or port?`
      : `Kubernetes cluster unreachable: Get "https://${host}:${port}/version": dial tcp ${host}:${port}: connect: connection refused`,
    { address: host }
  );
}

function unauthorizedFor(family: Family): WorldError {
  return new WorldError(
    401,
    'Unauthorized',
    family === 'kube'
      ? 'error: You must be logged in to the server (Unauthorized)'
      : 'Kubernetes cluster unreachable: the server has asked for the client to provide credentials'
  );
}

/** Builds the cluster part on top of the machines and tunnels. */
export function createClusterPart(services: WorldServices): ClusterPart {
  let world: ClusterWorldState = emptyWorld();

  const contextFor = (deploymentId: string): ApiContext => ({
    now: services.now(),
    timings: services.timings(),
    liveMachines: new Set(
      services
        .machines(deploymentId)
        .filter((m) => m.booted)
        .map((m) => m.name)
    ),
    deploymentId,
  });

  /**
   * The cluster a kubeconfig's server and token reach, as the API server sees the request: the tunnel
   * first, then a listening API server at that address, then the token.
   */
  const clusterFor = (b: Body, family: Family): { id: string; cluster: ClusterState; ctx: ApiContext } => {
    const auth = (b.auth ?? {}) as { server?: unknown; token?: unknown };
    if (typeof auth.server !== 'string' || typeof auth.token !== 'string')
      throw badRequest('auth.server and auth.token are required');
    let url: URL;
    try {
      url = new URL(auth.server);
    } catch {
      throw badRequest(`auth.server ${auth.server} is not a URL`);
    }
    const host = url.hostname;
    const port = url.port || '443';
    const token = auth.token;
    const live = Object.entries(world.clusters).find(([, c]) => c.k0s?.token === token)?.[0];
    const id = live ?? world.retiredTokens[token];
    if (id === undefined) throw unauthorizedFor(family);
    if (!services.reachable(id, host)) throw unreachableFor(family, host, port);
    const cluster = world.clusters[id];
    const k0s = cluster?.k0s;
    if (
      !cluster ||
      !k0s ||
      port !== '6443' ||
      !k0s.nodes.some((n) => n.address === host && n.role !== 'worker')
    )
      throw refusedFor(family, host, port);
    if (k0s.token !== token) throw unauthorizedFor(family);
    const ctx = contextFor(id);
    settle(cluster, ctx);
    return { id, cluster, ctx };
  };

  const k0sctl = (op: string, b: Body): WorldResponse => {
    switch (op) {
      case 'apply-begin':
        return ok(beginRun(world, services, parseK0sctlRequest(b, true, true), 'apply'));
      case 'reset-begin':
        return ok(beginRun(world, services, parseK0sctlRequest(b, false, true), 'reset'));
      case 'apply-finish': {
        const name = str(b, 'name');
        return ok(finishApply(world, services, contextFor(name), name, str(b, 'holder')));
      }
      case 'reset-finish':
        return ok(finishReset(world, services, str(b, 'name'), str(b, 'holder')));
      case 'kubeconfig':
        return ok({ kubeconfig: adminKubeconfig(world, services, parseK0sctlRequest(b, false, false)) });
      default:
        throw new WorldError(404, 'NoRoute', `no route /k0sctl/${op}`);
    }
  };

  const kube = (op: string, b: Body): WorldResponse => {
    const { id, cluster, ctx } = clusterFor(b, 'kube');
    const namespace = optStr(b, 'namespace') ?? 'default';
    switch (op) {
      case 'get': {
        const {
          type,
          items,
          notFound: missing,
        } = getObjects(cluster, ctx, {
          resource: str(b, 'resource'),
          names: strings(b, 'names'),
          namespace,
          allNamespaces: bool(b, 'allNamespaces'),
          labelSelector: optStr(b, 'labelSelector'),
        });
        return ok({
          resource: {
            kind: type.kind,
            group: type.group,
            version: type.versions[0],
            namespaced: type.namespaced,
            plural: qualifiedPlural(type),
            name: qualifiedKind(type),
          },
          items,
          notFound: missing.map((n) => notFound(type, n).message),
        });
      }
      case 'apply': {
        const docs = b.documents;
        if (!Array.isArray(docs)) throw badRequest('documents must be a list');
        const results = applyDocuments(cluster, ctx, docs, namespace, optStr(b, 'source') ?? 'STDIN');
        for (const r of results)
          if ('action' in r && r.action !== 'unchanged')
            services.countApplied(`object:${id}:${r.kind}:${r.namespace ?? ''}/${r.name}`);
        return ok({ results });
      }
      case 'delete':
        return ok({
          results: deleteObjects(cluster, {
            resource: str(b, 'resource'),
            names: strings(b, 'names'),
            namespace,
            ignoreNotFound: bool(b, 'ignoreNotFound'),
          }),
        });
      case 'create-namespace':
        return ok({ message: createNamespace(cluster, ctx, str(b, 'name')) });
      case 'label': {
        const labels = b.labels as Record<string, unknown> | undefined;
        if (
          !labels ||
          typeof labels !== 'object' ||
          Object.values(labels).some((v) => v !== null && typeof v !== 'string')
        )
          throw badRequest('labels must map keys to strings or null');
        return ok({
          message: labelObject(cluster, {
            resource: str(b, 'resource'),
            name: str(b, 'name'),
            namespace,
            labels: labels as Record<string, string | null>,
            overwrite: bool(b, 'overwrite'),
          }),
        });
      }
      default:
        throw new WorldError(404, 'NoRoute', `no route /kube/${op}`);
    }
  };

  const helm = (op: string, b: Body): WorldResponse => {
    if (op === 'begin') {
      const mode = str(b, 'mode') as HelmMode;
      if (!['install', 'upgrade-install', 'upgrade'].includes(mode))
        throw badRequest('mode must be install, upgrade-install or upgrade');
      const values = b.values ?? {};
      if (typeof values !== 'object' || values === null || Array.isArray(values))
        throw badRequest('values must be an object');
      const req: BeginRequest = {
        release: str(b, 'release'),
        namespace: str(b, 'namespace'),
        chart: str(b, 'chart'),
        version: optStr(b, 'version'),
        values: values as Record<string, unknown>,
        valuesGiven: bool(b, 'valuesGiven'),
        resetValues: bool(b, 'resetValues'),
        reuseValues: bool(b, 'reuseValues'),
        createNamespace: bool(b, 'createNamespace'),
        mode,
        holder: str(b, 'holder'),
      };
      let target: ReturnType<typeof clusterFor>;
      try {
        target = clusterFor(b, 'helm');
      } catch (err) {
        throw err instanceof WorldError ? prefixed(err, mode, false, 'connect') : err;
      }
      return ok({
        ...beginRelease(target.cluster, target.ctx, req),
        helmInstallMs: target.ctx.timings.helmInstallMs,
      });
    }
    const { cluster, ctx } = clusterFor(b, 'helm');
    switch (op) {
      case 'finish':
        return ok(
          finishRelease(
            cluster,
            ctx,
            { release: str(b, 'release'), namespace: str(b, 'namespace'), holder: str(b, 'holder') },
            (key) => services.countApplied(key)
          )
        );
      case 'status':
        return ok(releaseStatus(cluster, str(b, 'namespace'), str(b, 'release')));
      case 'list':
        return ok(
          listReleases(cluster, {
            namespace: optStr(b, 'namespace'),
            all: bool(b, 'all'),
            statuses: strings(b, 'statuses'),
          })
        );
      case 'uninstall':
        return ok({ message: uninstallRelease(cluster, str(b, 'namespace'), str(b, 'release')) });
      default:
        throw new WorldError(404, 'NoRoute', `no route /helm/${op}`);
    }
  };

  const az = (method: string, op: string, query: URLSearchParams, body: unknown): WorldResponse => {
    const route = `${method} ${op}`;
    switch (route) {
      case 'GET account':
        return ok(account());
      case 'POST sp/create-for-rbac':
        return ok(createForRbac(world, services.now(), body, (key) => services.countApplied(key)));
      case 'GET sp/list':
        return ok(listPrincipals(world, query.get('displayName')));
      case 'GET sp/show':
        return ok(showPrincipal(world, query.get('id')));
      case 'POST sp/delete':
        deletePrincipal(world, body);
        return ok({});
      case 'POST sp/credential-reset':
        return ok(resetCredential(world, services.now(), body));
      default:
        throw new WorldError(404, 'NoRoute', `no route ${method} /az/${op}`);
    }
  };

  const route = (method: string, path: string, query: URLSearchParams, body: unknown): WorldResponse => {
    const m = path.replace(/^\/world(?=\/)/, '').match(/^\/(k0sctl|kube|helm|az)\/(.+)$/);
    if (!m) throw new WorldError(404, 'NoRoute', `no route ${path}`);
    const [, family, op] = m as unknown as [string, string, string];
    if (family === 'az') return az(method, op, query, body);
    if (method !== 'POST') throw new WorldError(405, 'MethodNotAllowed', `/${family}/${op} takes POST`);
    const b = asBody(body);
    if (family === 'k0sctl') return k0sctl(op, b);
    if (family === 'kube') return kube(op, b);
    return helm(op, b);
  };

  return {
    handle(method, path, query, body) {
      const before = JSON.stringify(world);
      let response: WorldResponse;
      try {
        response = route(method.toUpperCase(), path, query, body);
      } catch (err) {
        response =
          err instanceof WorldError
            ? err.toResponse()
            : {
                status: 500,
                body: {
                  error: { code: 'InternalError', message: err instanceof Error ? err.message : String(err) },
                },
              };
      }
      if (JSON.stringify(world) !== before) services.changed();
      return Promise.resolve(response);
    },
    k0sOn(deploymentId, machine) {
      const node = world.clusters[deploymentId]?.k0s?.nodes.find((n) => n.machine === machine);
      return node
        ? { version: world.clusters[deploymentId]?.k0s?.version ?? '', role: node.role }
        : undefined;
    },
    dump: () => structuredClone(world),
    load(data) {
      world = parseWorld(data);
    },
    reset() {
      world = emptyWorld();
    },
  };
}
