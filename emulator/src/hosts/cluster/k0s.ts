/**
 * k0s on a deployment's machines as k0sctl sees it: hosts reached over SSH by WireGuard address, the
 * k0sctl lock on each, install and upgrade at the end of an apply, everything gone after a reset.
 */
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import type { MachineView, WorldServices } from '../types';
import { WorldError, badRequest } from './errors';
import type { ClusterState, ClusterWorldState, K0sctlRun } from './model';
import { emptyCluster } from './model';
import type { ApiContext } from './objects';
import { installSystemObjects } from './objects';

/** A host of the k0sctl config, as the tool sends it: the public key derived from `ssh.keyPath`. */
export interface K0sctlHost {
  address: string;
  user: string;
  role: string;
  publicKey: string;
}

/** Body of `/k0sctl/apply-begin`, `/k0sctl/reset-begin` and `/k0sctl/kubeconfig`. */
export interface K0sctlRequest {
  name: string;
  version?: string;
  hosts: K0sctlHost[];
  holder?: string;
}

const ROLES = ['controller', 'worker', 'controller+worker', 'single'];

function isControllerRole(role: string): boolean {
  return role !== 'worker';
}

/** Reads and checks a k0sctl request body. */
export function parseK0sctlRequest(body: unknown, needVersion: boolean, needHolder: boolean): K0sctlRequest {
  const b = (body ?? {}) as Partial<K0sctlRequest>;
  if (typeof b.name !== 'string' || !b.name) throw badRequest('name (the config metadata.name) is required');
  if (!Array.isArray(b.hosts) || b.hosts.length === 0) throw badRequest('hosts must be a non-empty list');
  for (const [i, h] of b.hosts.entries()) {
    const host = h as Partial<K0sctlHost> | null;
    if (
      !host ||
      typeof host.address !== 'string' ||
      typeof host.user !== 'string' ||
      typeof host.publicKey !== 'string'
    )
      throw badRequest(`hosts[${i}] needs address, user and publicKey`);
    if (typeof host.role !== 'string' || !ROLES.includes(host.role))
      throw badRequest(`hosts[${i}].role must be one of ${ROLES.join(', ')}`);
  }
  if (!b.hosts.some((h) => isControllerRole(h.role))) throw badRequest('hosts has no controller');
  if (needVersion && (typeof b.version !== 'string' || !b.version)) throw badRequest('version is required');
  if (needHolder && (typeof b.holder !== 'string' || !b.holder)) throw badRequest('holder is required');
  return b as K0sctlRequest;
}

function keyBlob(line: string): string {
  const [type, blob] = line.trim().split(/\s+/);
  return `${type ?? ''} ${blob ?? ''}`;
}

function unreachable(address: string): WorldError {
  return new WorldError(503, 'Unreachable', `[ssh] ${address}:22: dial tcp ${address}:22: i/o timeout`, {
    address,
  });
}

/** Connects to each host as k0sctl does; the machines in host order, or the first host's SSH error. */
export function connectHosts(
  services: WorldServices,
  req: K0sctlRequest
): { host: K0sctlHost; machine: MachineView }[] {
  const machines = services.machines(req.name);
  return req.hosts.map((host) => {
    const machine = machines.find((m) => m.wireguardAddress === host.address);
    if (!machine || !services.reachable(req.name, host.address)) throw unreachable(host.address);
    if (!machine.booted)
      throw new WorldError(
        503,
        'Unreachable',
        `[ssh] ${host.address}:22: dial tcp ${host.address}:22: connect: connection refused`,
        {
          address: host.address,
        }
      );
    const authorized = machine.authorizedKeys.map(keyBlob);
    if (host.user !== machine.adminUsername || !authorized.includes(keyBlob(host.publicKey)))
      throw new WorldError(
        401,
        'AuthFailed',
        `[ssh] ${host.address}:22: ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain`,
        { address: host.address }
      );
    return { host, machine };
  });
}

function parseVersion(v: string): number[] {
  const m = v.match(/^v?(\d+)\.(\d+)\.(\d+)(?:\+k0s\.(\d+))?$/);
  return m ? m.slice(1).map((x) => Number(x ?? 0)) : [];
}

function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  for (let i = 0; i < 4; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** What a begun apply will do. */
export type ApplyPlan = 'install' | 'upgrade' | 'noop';

function clusterOf(world: ClusterWorldState, id: string): ClusterState {
  world.clusters[id] ??= emptyCluster();
  return world.clusters[id];
}

/** Takes the k0sctl lock on every host, or refuses naming the host that has one. */
function lockHosts(
  services: WorldServices,
  id: string,
  hosts: { host: K0sctlHost; machine: MachineView }[],
  holder: string
): void {
  for (const { host, machine } of hosts) {
    const current = services.lockOf(id, machine.name);
    if (current !== undefined && current !== holder)
      throw new WorldError(
        409,
        'Locked',
        `[ssh] ${host.address}:22: failed to acquire lock: another instance of k0sctl (${current}) is currently operating on the host ${machine.name}; delete /run/lock/k0sctl or wait for it to finish`,
        { address: host.address, machine: machine.name, holder: current }
      );
  }
  for (const { machine } of hosts) services.setLock(id, machine.name, holder);
}

function releaseLocks(services: WorldServices, id: string, run: K0sctlRun): void {
  for (const h of run.hosts)
    if (services.lockOf(id, h.machine) === run.holder) services.setLock(id, h.machine, undefined);
}

/** `/k0sctl/apply-begin` and `/k0sctl/reset-begin`: connect, check, lock. */
export function beginRun(
  world: ClusterWorldState,
  services: WorldServices,
  req: K0sctlRequest,
  operation: 'apply' | 'reset'
): { k0sApplyMs: number; plan: ApplyPlan | 'reset'; hosts: { address: string; machine: string }[] } {
  const hosts = connectHosts(services, req);
  const cluster = clusterOf(world, req.name);
  const version = req.version ?? cluster.k0s?.version ?? '';
  let plan: ApplyPlan | 'reset' = 'reset';
  if (operation === 'apply') {
    const installed = cluster.k0s;
    if (installed && compareVersions(version, installed.version) < 0)
      throw new WorldError(
        400,
        'Downgrade',
        `can't perform a downgrade: the cluster runs k0s ${installed.version}, the config asks for ${version}`
      );
    const known = new Set(installed?.nodes.map((n) => `${n.machine}/${n.role}`));
    plan = !installed
      ? 'install'
      : installed.version !== version ||
          hosts.some(({ host, machine }) => !known.has(`${machine.name}/${host.role}`))
        ? 'upgrade'
        : 'noop';
  }
  const holder = req.holder as string;
  lockHosts(services, req.name, hosts, holder);
  cluster.run = {
    operation,
    holder,
    version,
    hosts: hosts.map(({ host, machine }) => ({
      machine: machine.name,
      address: host.address,
      role: host.role,
    })),
    startedMs: services.now(),
  };
  return {
    k0sApplyMs: services.timings().k0sApplyMs,
    plan,
    hosts: hosts.map(({ host, machine }) => ({ address: host.address, machine: machine.name })),
  };
}

function runOf(
  world: ClusterWorldState,
  name: string,
  holder: string,
  operation: 'apply' | 'reset'
): { cluster: ClusterState; run: K0sctlRun } {
  const cluster = world.clusters[name];
  const run = cluster?.run;
  if (!cluster || !run || run.holder !== holder || run.operation !== operation)
    throw new WorldError(409, 'NoRun', `no k0sctl ${operation} by ${holder} is in progress on ${name}`);
  return { cluster, run };
}

function checkStillReachable(services: WorldServices, name: string, run: K0sctlRun): void {
  for (const h of run.hosts) if (!services.reachable(name, h.address)) throw unreachable(h.address);
}

/** `/k0sctl/apply-finish`: installs or upgrades k0s and frees the locks; counts only a real change. */
export function finishApply(
  world: ClusterWorldState,
  services: WorldServices,
  ctx: ApiContext,
  name: string,
  holder: string
): { changed: boolean; version: string } {
  const { cluster, run } = runOf(world, name, holder, 'apply');
  checkStillReachable(services, name, run);
  const now = services.now();
  let changed = false;
  if (!cluster.k0s) {
    const controller = run.hosts.find((h) => isControllerRole(h.role)) ?? run.hosts[0];
    cluster.k0s = {
      version: run.version,
      installedMs: now,
      nodes: run.hosts.map((h) => ({ ...h, installedMs: now })),
      controllerAddress: controller?.address ?? '',
      token: randomBytes(32).toString('base64url'),
    };
    installSystemObjects(cluster, ctx);
    changed = true;
  } else {
    const k0s = cluster.k0s;
    if (k0s.version !== run.version) {
      k0s.version = run.version;
      for (const n of k0s.nodes) n.installedMs = now;
      changed = true;
    }
    for (const h of run.hosts) {
      const node = k0s.nodes.find((n) => n.machine === h.machine);
      if (!node) {
        k0s.nodes.push({ ...h, installedMs: now });
        changed = true;
      } else if (node.role !== h.role || node.address !== h.address) {
        node.role = h.role;
        node.address = h.address;
        changed = true;
      }
    }
  }
  releaseLocks(services, name, run);
  delete cluster.run;
  if (changed) services.countApplied(`k0s:${name}`);
  return { changed, version: cluster.k0s.version };
}

/** `/k0sctl/reset-finish`: k0s and everything in the cluster removed, the admin token retired. */
export function finishReset(
  world: ClusterWorldState,
  services: WorldServices,
  name: string,
  holder: string
): { changed: boolean } {
  const { cluster, run } = runOf(world, name, holder, 'reset');
  checkStillReachable(services, name, run);
  const changed = cluster.k0s !== undefined || Object.keys(cluster.objects).length > 0;
  if (cluster.k0s) world.retiredTokens[cluster.k0s.token] = name;
  releaseLocks(services, name, run);
  world.clusters[name] = emptyCluster();
  return { changed };
}

/** `/k0sctl/kubeconfig`: the admin kubeconfig, read from the first controller of the config. */
export function adminKubeconfig(
  world: ClusterWorldState,
  services: WorldServices,
  req: K0sctlRequest
): string {
  const first = req.hosts.find((h) => isControllerRole(h.role));
  if (!first) throw badRequest('hosts has no controller');
  connectHosts(services, { ...req, hosts: [first] });
  const k0s = world.clusters[req.name]?.k0s;
  const machine = services.machines(req.name).find((m) => m.wireguardAddress === first.address);
  const node = k0s?.nodes.find((n) => n.machine === machine?.name && isControllerRole(n.role));
  if (!k0s || !node)
    throw new WorldError(
      404,
      'NoK0s',
      `[ssh] ${first.address}:22: read /var/lib/k0s/pki/admin.conf: sudo: cat: /var/lib/k0s/pki/admin.conf: No such file or directory`
    );
  return stringify(
    {
      apiVersion: 'v1',
      clusters: [{ cluster: { server: `https://${first.address}:6443` }, name: req.name }],
      contexts: [{ context: { cluster: req.name, user: 'admin' }, name: req.name }],
      'current-context': req.name,
      kind: 'Config',
      preferences: {},
      users: [{ name: 'admin', user: { token: k0s.token } }],
    },
    { lineWidth: 0 }
  );
}
