/** The kubeconfig `kubectl` and `helm` use: found as they find it, checked as they check it. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { ToolIO } from './client';

/** Where the API server is and who the client is. */
export interface KubeAccess {
  server: string;
  token: string;
  /** The context's namespace, or `default`. */
  namespace: string;
}

/** Why there is no usable kubeconfig; `kind` decides how each tool words it. */
export class KubeconfigError extends Error {
  constructor(
    readonly kind: 'none' | 'unreadable' | 'invalid',
    message: string
  ) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

interface Named<T> {
  name?: unknown;
  cluster?: T;
  context?: T;
  user?: T;
}

function resolve(io: ToolIO, file: string): string {
  const home = io.env.HOME ?? '';
  const expanded = file.startsWith('~/') ? path.join(home, file.slice(2)) : file;
  return path.resolve(io.cwd, expanded);
}

/** The kubeconfig file: `--kubeconfig`, else the first existing file of `KUBECONFIG`, else `~/.kube/config`. */
function kubeconfigFile(io: ToolIO, flag: string | undefined): string | undefined {
  if (flag !== undefined) {
    const file = resolve(io, flag);
    if (!existsSync(file)) throw new KubeconfigError('unreadable', `stat ${flag}: no such file or directory`);
    return file;
  }
  const candidates = (io.env.KUBECONFIG ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((f) => resolve(io, f));
  if (io.env.HOME) candidates.push(path.join(io.env.HOME, '.kube', 'config'));
  return candidates.find((f) => existsSync(f));
}

/** Loads and checks the kubeconfig for `--context` (or its current context). */
export function loadKubeconfig(io: ToolIO, flag: string | undefined, contextName?: string): KubeAccess {
  const file = kubeconfigFile(io, flag);
  if (!file)
    throw new KubeconfigError('none', 'no kubeconfig: --kubeconfig, KUBECONFIG and ~/.kube/config give none');
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new KubeconfigError(
      'unreadable',
      `error loading config file "${file}": ${(err as Error).message.split('\n')[0] ?? ''}`
    );
  }
  const cfg = (doc ?? {}) as {
    'current-context'?: unknown;
    contexts?: Named<{ cluster?: unknown; user?: unknown; namespace?: unknown }>[];
    clusters?: Named<{ server?: unknown }>[];
    users?: Named<{ token?: unknown }>[];
  };
  const wanted = contextName ?? cfg['current-context'];
  if (typeof wanted !== 'string' || !wanted)
    throw new KubeconfigError(
      'invalid',
      'invalid configuration: no configuration has been provided, try setting KUBERNETES_MASTER environment variable'
    );
  const context = (Array.isArray(cfg.contexts) ? cfg.contexts : []).find((c) => c?.name === wanted)?.context;
  if (!context)
    throw new KubeconfigError('invalid', `context was not found for specified context: ${wanted}`);
  const problems: string[] = [];
  const clusterName = typeof context.cluster === 'string' ? context.cluster : '';
  const userName = typeof context.user === 'string' ? context.user : '';
  const cluster = (Array.isArray(cfg.clusters) ? cfg.clusters : []).find(
    (c) => c?.name === clusterName
  )?.cluster;
  const user = (Array.isArray(cfg.users) ? cfg.users : []).find((u) => u?.name === userName)?.user;
  let server = '';
  if (!cluster) problems.push(`cluster "${clusterName}" of context "${wanted}" not found in clusters`);
  else if (typeof cluster.server !== 'string' || !cluster.server)
    problems.push(`clusters[${clusterName}].cluster.server: no server defined`);
  else {
    server = cluster.server;
    let url: URL | undefined;
    try {
      url = new URL(server);
    } catch {
      url = undefined;
    }
    if (!url || url.protocol !== 'https:' || !url.hostname)
      problems.push(`clusters[${clusterName}].cluster.server: "${server}" is not an https:// URL`);
  }
  let token = '';
  if (!user) problems.push(`user "${userName}" of context "${wanted}" not found in users`);
  else if (typeof user.token !== 'string' || !user.token)
    problems.push(
      `users[${userName}].user.token: no bearer token (the emulated cluster authenticates by token)`
    );
  else token = user.token;
  if (problems.length)
    throw new KubeconfigError('invalid', `invalid configuration: [${problems.join(', ')}]`);
  const namespace =
    typeof context.namespace === 'string' && context.namespace ? context.namespace : 'default';
  return { server, token, namespace };
}
