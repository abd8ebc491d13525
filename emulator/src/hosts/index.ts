/**
 * The local host world behind the ARM emulator: a machine with its own SSH server for every VM, the
 * laptop's WireGuard tunnels, the tool plumbing of the emulated commands, and the cluster part on top.
 * It reads the VMs from the ARM store whenever it is asked something, so it never runs ahead of ARM.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ArmStore } from '../arm/state';
import type { CloudInitFacts } from './cloud-init';
import { readCloudInit } from './cloud-init';
import { createClusterPart } from './cluster';
import type { ExecResult, MachineShell } from './commands';
import { runCommandLine } from './commands';
import { MACHINE_FAULT_KINDS, RUN_FAULT_KINDS, TOOL_NAMES, ToolFaults, validateTimings } from './faults';
import type { MachineNow, VmFacts } from './machine';
import { machineNow, readVms } from './machine';
import { MachineSshServer, generateHostKey, hostKeyFingerprint } from './ssh-server';
import type {
  ClusterPart,
  HostCounts,
  HostTimings,
  HostWorldHandle,
  HostWorldState,
  MachineState,
  MachineView,
  ToolCallCounts,
  ToolFaultKind,
  ToolFaultRule,
  ToolName,
  TunnelState,
  WireguardInterfaceShow,
  WorldResponse,
  WorldServices,
} from './types';
import { DEFAULT_HOST_TIMINGS } from './types';
import type { WireguardConfig, WireguardPeerConfig } from './wireguard';
import {
  checkParsedConfig,
  configPublicKey,
  endpointText,
  formatProblems,
  parseWireguardConfig,
  routedBy,
  validInterfaceName,
} from './wireguard';

export type * from './types';

/** The host world's state file, next to the ARM emulator's. */
export const HOSTS_WORLD_STATE_FILE = 'hosts-world-state.json';

/** WireGuard re-keys a session every two minutes while the peers talk (keepalives included). */
const REKEY_MS = 120_000;

/** What the host world is built on. */
export interface HostWorldOptions {
  store: ArmStore;
  /** Completes the ARM operations that are due (and persists ARM), so VMs are seen as they are now. */
  settle(): void;
  /** Where to persist the world; none keeps it in memory. */
  stateFile?: string;
  timings?: Partial<HostTimings>;
  faults?: ToolFaultRule[];
  /** Builds the cluster part on the world's services (default `createClusterPart`). */
  cluster?: (services: WorldServices) => ClusterPart;
}

interface Machine {
  vm: VmFacts;
  hostKey: string;
  faults: ToolFaultKind[];
  cloudInit: CloudInitFacts;
  server: MachineSshServer;
  ready: Promise<number>;
}

interface Tunnel {
  iface: string;
  config: WireguardConfig;
  publicKey: string;
  listenPort: number;
  upMs: number;
}

interface SavedMachine {
  name: string;
  deploymentId: string;
  hostKey: string;
  faults: ToolFaultKind[];
  runningSinceMs?: number;
}

interface Persisted {
  version: 1;
  timings: HostTimings;
  tunnels: Tunnel[];
  locks: Record<string, string>;
  machines: Record<string, SavedMachine>;
  counts: HostCounts;
  cluster: unknown;
}

function emptyCounts(): HostCounts {
  return { tools: {}, applied: {}, sshSessions: {} };
}

function error(status: number, code: string, message: string): WorldResponse {
  return { status, body: { error: { code, message } } };
}

function ok(body: unknown): WorldResponse {
  return { status: 200, body };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function addressOf(cidr: string | undefined): string {
  return cidr === undefined ? '' : (cidr.split('/')[0] ?? '');
}

function lockKey(deploymentId: string, machine: string): string {
  return `${deploymentId}/${machine}`;
}

/** The machines and tunnels of one ARM emulator. */
export class HostWorld {
  private timings: HostTimings;
  private readonly faults = new ToolFaults();
  private readonly machines = new Map<string, Machine>();
  private readonly tunnels = new Map<string, Tunnel>();
  private readonly locks = new Map<string, string>();
  private counts: HostCounts = emptyCounts();
  private saved: Record<string, SavedMachine> = {};
  private readonly publicKeys = new Map<string, string>();
  private readonly cluster: ClusterPart;
  private closed = false;

  constructor(private readonly opts: HostWorldOptions) {
    const data = this.read();
    this.timings = { ...DEFAULT_HOST_TIMINGS, ...data?.timings, ...validateTimings(opts.timings ?? {}) };
    this.faults.set(opts.faults ?? []);
    for (const t of data?.tunnels ?? []) this.tunnels.set(t.iface, t);
    for (const [k, v] of Object.entries(data?.locks ?? {})) this.locks.set(k, v);
    this.saved = data?.machines ?? {};
    this.counts = { ...emptyCounts(), ...data?.counts };
    this.cluster = (opts.cluster ?? createClusterPart)(this.services());
    if (data?.cluster !== undefined) this.cluster.load(data.cluster);
  }

  // ---- persistence -------------------------------------------------------------------------------

  private read(): Partial<Persisted> | undefined {
    if (!this.opts.stateFile) return undefined;
    try {
      return JSON.parse(readFileSync(this.opts.stateFile, 'utf8')) as Partial<Persisted>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`host world state ${this.opts.stateFile} is unreadable: ${(err as Error).message}`);
    }
  }

  /** Writes the state file atomically (no-op without one). */
  save(): void {
    const file = this.opts.stateFile;
    if (!file) return;
    const machines: Record<string, SavedMachine> = { ...this.saved };
    for (const [vmId, m] of this.machines) {
      machines[vmId] = {
        name: m.vm.name,
        deploymentId: m.vm.deploymentId,
        hostKey: m.hostKey,
        faults: m.faults,
        runningSinceMs: m.vm.runningSinceMs,
      };
    }
    const data: Persisted = {
      version: 1,
      timings: this.timings,
      tunnels: [...this.tunnels.values()],
      locks: Object.fromEntries(this.locks),
      machines,
      counts: this.counts,
      cluster: this.cluster.dump(),
    };
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(data), { mode: 0o600 });
    renameSync(tmp, file);
  }

  // ---- machines ----------------------------------------------------------------------------------

  /** Brings the machines in line with the VMs: new ones start, deleted ones go, restarted ones reboot. */
  sync(): void {
    if (this.closed) return;
    this.opts.settle();
    let changed = false;
    const seen = new Set<string>();
    for (const vm of readVms(this.opts.store)) {
      seen.add(vm.vmId);
      const m = this.machines.get(vm.vmId);
      if (!m) {
        this.machines.set(vm.vmId, this.startMachine(vm));
        changed = true;
        continue;
      }
      if (m.vm.runningSinceMs !== vm.runningSinceMs) {
        // Stopped or rebooted: connections drop and /run/lock (a tmpfs) is empty again.
        m.server.dropConnections();
        this.locks.delete(lockKey(vm.deploymentId, vm.name));
        changed = true;
      }
      m.vm = vm;
    }
    for (const [vmId, m] of this.machines) {
      if (seen.has(vmId)) continue;
      void m.server.close();
      this.locks.delete(lockKey(m.vm.deploymentId, m.vm.name));
      this.machines.delete(vmId);
      changed = true;
    }
    for (const [vmId, saved] of Object.entries(this.saved)) {
      if (!seen.has(vmId)) {
        // Deleted while the emulator was down.
        this.locks.delete(lockKey(saved.deploymentId, saved.name));
        delete this.saved[vmId];
        changed = true;
      }
    }
    if (changed) this.save();
  }

  private startMachine(vm: VmFacts): Machine {
    const saved = this.saved[vm.vmId];
    delete this.saved[vm.vmId];
    if (saved && saved.runningSinceMs !== vm.runningSinceMs)
      this.locks.delete(lockKey(vm.deploymentId, vm.name));
    const hostKey = saved?.hostKey ?? generateHostKey();
    const machine: Machine = {
      vm,
      hostKey,
      faults: saved?.faults ?? [],
      cloudInit: readCloudInit(vm.customData),
      server: new MachineSshServer(hostKey, {
        accepting: () => {
          this.sync();
          return this.machines.get(vm.vmId) === machine && this.now(machine).booted;
        },
        login: () => ({ username: machine.vm.adminUsername, keys: machine.vm.authorizedKeys }),
        onLogin: () => {
          this.counts.sshSessions[machine.vm.name] = (this.counts.sshSessions[machine.vm.name] ?? 0) + 1;
          this.save();
        },
        exec: (command) => this.exec(machine, command),
      }),
      ready: Promise.resolve(0),
    };
    if (!saved) this.takeMachineFaults(machine);
    machine.ready = machine.server.listen();
    machine.ready.catch(() => undefined);
    return machine;
  }

  private takeMachineFaults(m: Machine): void {
    for (const kind of MACHINE_FAULT_KINDS) {
      if (m.faults.includes(kind)) continue;
      const scoped = `${m.vm.deploymentId}/${m.vm.name}`;
      if (
        this.faults.take('machine', undefined, scoped, [kind]) ??
        this.faults.take('machine', undefined, m.vm.name, [kind])
      )
        m.faults.push(kind);
    }
  }

  private now(m: Machine, now = Date.now()): MachineNow {
    return machineNow(m.vm, m.cloudInit, m.faults, this.timings, now);
  }

  private publicKeyOf(privateKey: string): string {
    let pub = this.publicKeys.get(privateKey);
    if (pub === undefined) {
      pub = configPublicKey({ privateKey } as WireguardConfig);
      this.publicKeys.set(privateKey, pub);
    }
    return pub;
  }

  private view(m: Machine, now = Date.now()): MachineView {
    return {
      name: m.vm.name,
      deploymentId: m.vm.deploymentId,
      wireguardAddress: addressOf(m.cloudInit.wg0?.config?.addresses[0]),
      adminUsername: m.vm.adminUsername,
      authorizedKeys: [...m.vm.authorizedKeys],
      booted: this.now(m, now).booted,
    };
  }

  private shell(m: Machine): MachineShell {
    return {
      name: m.vm.name,
      adminUsername: m.vm.adminUsername,
      now: () => Date.now(),
      cloudInit: () => this.now(m).cloudInit,
      cloudInitEndMs: () => this.now(m).cloudInitEndMs,
      wireguard: () => this.now(m).wireguard,
      wg0: () => this.machineWg0(m),
      hasWg0Config: () => m.cloudInit.wg0 !== undefined,
      lockHeld: () => this.locks.has(lockKey(m.vm.deploymentId, m.vm.name)),
      releaseLock: () => {
        this.locks.delete(lockKey(m.vm.deploymentId, m.vm.name));
        this.save();
      },
      k0s: () => this.cluster.k0sOn(m.vm.deploymentId, m.vm.name),
    };
  }

  private async exec(m: Machine, command: string): Promise<ExecResult | 'drop'> {
    this.sync();
    if (this.machines.get(m.vm.vmId) !== m || !this.now(m).booted) return 'drop';
    this.countTool('ssh exec', 'started');
    const fault = this.faults.take('ssh', command, m.vm.name, RUN_FAULT_KINDS);
    if (fault?.kind === 'latency') await new Promise((resolve) => setTimeout(resolve, fault.latencyMs ?? 0));
    let answer: ExecResult | 'drop';
    if (fault?.kind === 'crash') answer = 'drop';
    else if (fault?.kind === 'fail')
      answer = {
        stdout: '',
        stderr: `${fault.message ?? `injected failure in ${command}`}\n`,
        code: fault.exitCode ?? 1,
      };
    else answer = await runCommandLine(command, this.shell(m));
    this.countTool('ssh exec', answer !== 'drop' && answer.code === 0 ? 'completed' : 'failed');
    this.save();
    return answer;
  }

  // ---- tunnels -----------------------------------------------------------------------------------

  /** The machine that answers a tunnel's peer, and since when their session runs. */
  private answering(
    t: Tunnel,
    peer: WireguardPeerConfig,
    now: number
  ): { machine: Machine; sinceMs: number } | undefined {
    const endpoint = peer.endpoint;
    if (!endpoint) return undefined;
    for (const m of this.machines.values()) {
      const conf = m.cloudInit.wg0?.config;
      if (m.vm.publicIp !== endpoint.host || !conf || conf.listenPort !== endpoint.port) continue;
      const state = this.now(m, now);
      if (state.wireguard !== 'active' || state.wireguardActiveMs === undefined) continue;
      if (this.publicKeyOf(conf.privateKey) !== peer.publicKey) continue;
      if (!conf.peers.some((p) => p.publicKey === t.publicKey)) continue;
      return { machine: m, sinceMs: Math.max(t.upMs, state.wireguardActiveMs) };
    }
    return undefined;
  }

  private handshakeSeconds(sinceMs: number | undefined, now: number): number {
    if (sinceMs === undefined || sinceMs > now) return 0;
    return Math.floor((sinceMs + Math.floor((now - sinceMs) / REKEY_MS) * REKEY_MS) / 1000);
  }

  private tunnelShow(t: Tunnel, now: number): WireguardInterfaceShow {
    return {
      interface: t.iface,
      publicKey: t.publicKey,
      listenPort: t.listenPort,
      peers: t.config.peers.map((p) => ({
        publicKey: p.publicKey,
        ...(p.endpoint ? { endpoint: endpointText(p.endpoint) } : {}),
        allowedIps: p.allowedIps,
        latestHandshake: this.handshakeSeconds(this.answering(t, p, now)?.sinceMs, now),
        ...(p.persistentKeepalive ? { persistentKeepalive: p.persistentKeepalive } : {}),
      })),
    };
  }

  private machineWg0(m: Machine, now = Date.now()): WireguardInterfaceShow | undefined {
    const conf = m.cloudInit.wg0?.config;
    if (!conf || this.now(m, now).wireguard !== 'active') return undefined;
    return {
      interface: 'wg0',
      publicKey: this.publicKeyOf(conf.privateKey),
      listenPort: conf.listenPort ?? 0,
      peers: conf.peers.map((p) => {
        let since: number | undefined;
        for (const t of this.tunnels.values()) {
          if (t.publicKey !== p.publicKey) continue;
          for (const tp of t.config.peers) {
            const a = this.answering(t, tp, now);
            if (a?.machine === m) since = Math.max(since ?? 0, a.sinceMs);
          }
        }
        return {
          publicKey: p.publicKey,
          ...(p.endpoint ? { endpoint: endpointText(p.endpoint) } : {}),
          allowedIps: p.allowedIps,
          latestHandshake: this.handshakeSeconds(since, now),
          ...(p.persistentKeepalive ? { persistentKeepalive: p.persistentKeepalive } : {}),
        };
      }),
    };
  }

  /** Whether the laptop reaches the deployment's machine at `address` through some up tunnel. */
  private reachable(deploymentId: string, address: string, now = Date.now()): boolean {
    for (const t of this.tunnels.values()) {
      for (const p of t.config.peers) {
        if (!routedBy(p.allowedIps, address)) continue;
        const m = this.answering(t, p, now)?.machine;
        if (m && m.vm.deploymentId === deploymentId && this.view(m, now).wireguardAddress === address)
          return true;
      }
    }
    return false;
  }

  private up(body: Record<string, unknown>): WorldResponse {
    const iface = body.interface;
    if (typeof iface !== 'string' || !validInterfaceName(iface))
      return error(
        400,
        'InvalidInterface',
        `interface must be 1 to 15 of a-zA-Z0-9_=+.- (got ${JSON.stringify(iface)})`
      );
    let config: WireguardConfig;
    if (typeof body.config === 'string') {
      const parsed = parseWireguardConfig(body.config);
      if (!parsed.config) {
        const file = typeof body.file === 'string' ? body.file : `${iface}.conf`;
        return {
          status: 400,
          body: {
            error: {
              code: 'InvalidConfig',
              message: formatProblems(file, parsed.problems),
              problems: parsed.problems,
            },
          },
        };
      }
      config = parsed.config;
    } else {
      try {
        config = checkParsedConfig(body.config);
      } catch (err) {
        return error(400, 'InvalidConfig', (err as Error).message);
      }
    }
    if (this.tunnels.has(iface)) return error(409, 'AlreadyExists', `\`${iface}' already exists`);
    const routes = new Map<string, string>();
    for (const t of this.tunnels.values())
      for (const p of t.config.peers) for (const n of p.allowedIps) routes.set(n, t.iface);
    for (const p of config.peers) {
      for (const n of p.allowedIps) {
        const other = routes.get(n);
        if (other !== undefined)
          return error(
            409,
            'RouteExists',
            `RTNETLINK answers: File exists (route ${n} is already on ${other})`
          );
      }
    }
    const used = new Set([...this.tunnels.values()].map((t) => t.listenPort));
    if (config.listenPort !== undefined && config.listenPort !== 0 && used.has(config.listenPort))
      return error(
        409,
        'AddressInUse',
        `RTNETLINK answers: Address already in use (listen port ${config.listenPort})`
      );
    let listenPort = config.listenPort ?? 0;
    while (listenPort === 0 || used.has(listenPort)) listenPort = 30000 + Math.floor(Math.random() * 30000);
    const tunnel: Tunnel = {
      iface,
      config,
      publicKey: this.publicKeyOf(config.privateKey),
      listenPort,
      upMs: Date.now(),
    };
    this.tunnels.set(iface, tunnel);
    this.save();
    return ok({
      interface: iface,
      publicKey: tunnel.publicKey,
      listenPort,
      addresses: config.addresses,
      routes: config.peers.flatMap((p) => p.allowedIps),
    });
  }

  private route(query: URLSearchParams): Promise<WorldResponse> | WorldResponse {
    const iface = query.get('interface');
    const address = query.get('address');
    const port = Number(query.get('port') ?? '22');
    if (!iface || !address || !Number.isInteger(port) || port < 1 || port > 65535)
      return error(400, 'BadRequest', 'GET /world/route needs ?interface=&address=&port=');
    const unreachable = (why: string) =>
      ({
        status: 503,
        body: { error: { code: 'Unreachable', message: `no route to ${address}:${port}: ${why}` } },
      }) as WorldResponse;
    const t = this.tunnels.get(iface);
    if (!t) return unreachable(`interface \`${iface}' is not up`);
    const peer = t.config.peers.find((p) => routedBy(p.allowedIps, address));
    if (!peer) return unreachable(`no peer of ${iface} has ${address} in its AllowedIPs`);
    const m = this.answering(t, peer, Date.now())?.machine;
    if (!m) return unreachable(`peer ${peer.publicKey} of ${iface} does not answer (no handshake)`);
    if (this.view(m).wireguardAddress !== address)
      return unreachable(`${m.vm.name} behind peer ${peer.publicKey} has another WireGuard address`);
    const refused = (why: string) =>
      ({
        status: 503,
        body: {
          error: { code: 'ConnectionRefused', message: `connect ECONNREFUSED ${address}:${port}${why}` },
        },
      }) as WorldResponse;
    if (port !== 22) return refused(` (${m.vm.name} listens on port 22 only)`);
    if (this.faults.take('ssh', 'connect', m.vm.name, ['refuse'])) return refused(' (injected)');
    return m.ready.then(
      (sshPort) => ok({ host: '127.0.0.1', port: sshPort }),
      (err: unknown) => refused(` (the SSH server of ${m.vm.name} does not listen: ${String(err)})`)
    );
  }

  // ---- tools -------------------------------------------------------------------------------------

  private countTool(command: string, what: keyof ToolCallCounts): void {
    const c = (this.counts.tools[command] ??= { started: 0, completed: 0, failed: 0 });
    c[what]++;
  }

  private toolStart(body: Record<string, unknown>): WorldResponse {
    const tool = body.tool as ToolName;
    const { command, target } = body;
    if (!TOOL_NAMES.includes(tool) || tool === 'machine' || tool === 'ssh')
      return error(
        400,
        'BadRequest',
        `tool must be one of wg, wg-quick, k0sctl, helm, kubectl, az (got ${String(tool)})`
      );
    if (typeof command !== 'string' || command === '')
      return error(400, 'BadRequest', 'command must be a non-empty string');
    if (target !== undefined && target !== null && typeof target !== 'string')
      return error(400, 'BadRequest', 'target must be a string when given');
    const key = `${tool} ${command}`;
    this.countTool(key, 'started');
    const fault = this.faults.take(
      tool,
      command,
      typeof target === 'string' ? target : undefined,
      RUN_FAULT_KINDS
    );
    // A failed or crashed tool never reports its end: count it here.
    if (fault?.kind === 'fail' || fault?.kind === 'crash') this.countTool(key, 'failed');
    this.save();
    return ok(fault ? { fault } : {});
  }

  private toolEnd(body: Record<string, unknown>): WorldResponse {
    const { tool, command, ok: success } = body;
    if (typeof tool !== 'string' || typeof command !== 'string' || typeof success !== 'boolean')
      return error(400, 'BadRequest', 'POST /world/tool/end needs { tool, command, ok: boolean }');
    this.countTool(`${tool} ${command}`, success ? 'completed' : 'failed');
    this.save();
    return ok({});
  }

  // ---- routes ------------------------------------------------------------------------------------

  private parse(text: string): { value?: unknown; bad?: WorldResponse } {
    try {
      return { value: text === '' ? undefined : (JSON.parse(text) as unknown) };
    } catch (err) {
      return { bad: error(400, 'BadRequest', `body is not JSON: ${(err as Error).message}`) };
    }
  }

  /** Answers `/world/*` (`route` is the path below `/world`, like `/route`). */
  async handleWorld(
    method: string,
    route: string,
    query: URLSearchParams,
    text: string
  ): Promise<WorldResponse> {
    this.sync();
    const { value, bad } = this.parse(text);
    if (bad) return bad;
    const body = isObject(value) ? value : {};
    const at = `${method} ${route.replace(/\/+$/, '')}`;
    switch (at) {
      case 'POST /wireguard/up':
        return this.up(body);
      case 'POST /wireguard/down': {
        const iface = body.interface;
        if (typeof iface !== 'string')
          return error(400, 'BadRequest', 'POST /world/wireguard/down needs { interface }');
        if (!this.tunnels.delete(iface))
          return error(404, 'NotAWireGuardInterface', `\`${iface}' is not a WireGuard interface`);
        this.save();
        return ok({ interface: iface });
      }
      case 'GET /wireguard/show': {
        const iface = query.get('interface');
        if (!iface) return ok({ interfaces: [...this.tunnels.keys()].sort() });
        const t = this.tunnels.get(iface);
        return t
          ? ok(this.tunnelShow(t, Date.now()))
          : error(404, 'NoSuchDevice', 'Unable to access interface: No such device');
      }
      case 'GET /route':
        return this.route(query);
      case 'POST /tool/start':
        return this.toolStart(body);
      case 'POST /tool/end':
        return this.toolEnd(body);
      default:
        if (/^\/(k0sctl|kube|helm|az)(\/|$)/.test(route))
          return this.cluster.handle(method, route, query, value);
        return error(404, 'NotFound', `no world route ${method} /world${route}`);
    }
  }

  /** Answers `/admin/hosts/*` (`route` is the path below `/admin/hosts`). */
  handleAdmin(method: string, route: string, query: URLSearchParams, text: string): WorldResponse {
    const { value, bad } = this.parse(text);
    if (bad) return bad;
    const at = `${method} ${route.replace(/\/+$/, '') || '/'}`;
    try {
      switch (at) {
        case 'GET /state':
          return ok(this.state());
        case 'GET /counts':
          return ok(this.hostCounts());
        case 'GET /faults':
          return ok(this.faults.list());
        case 'PUT /faults':
          this.setFaults(value as ToolFaultRule[]);
          return ok(this.faults.list());
        case 'GET /timings':
          return ok(this.timings);
        case 'PUT /timings':
          return ok(this.setTimings(value as Partial<HostTimings>));
        case 'POST /wireguard/drop': {
          const iface = query.get('interface');
          if (!iface) return error(400, 'BadRequest', 'POST /admin/hosts/wireguard/drop needs ?interface=');
          return this.dropTunnel(iface)
            ? ok({ dropped: iface })
            : error(404, 'NoSuchDevice', `\`${iface}' is not up`);
        }
        default:
          return error(404, 'NotFound', `no admin route ${method} /admin/hosts${route}`);
      }
    } catch (err) {
      return error(400, 'BadRequest', (err as Error).message);
    }
  }

  // ---- the handle and its admin operations ---------------------------------------------------------

  /** Everything the world holds now. */
  state(): HostWorldState {
    this.sync();
    const now = Date.now();
    const machines: MachineState[] = [...this.machines.values()].map((m) => {
      const s = this.now(m, now);
      const conf = m.cloudInit.wg0?.config;
      const lock = this.locks.get(lockKey(m.vm.deploymentId, m.vm.name));
      return {
        ...this.view(m, now),
        vmId: m.vm.vmId,
        resourceGroup: m.vm.resourceGroup,
        ...(m.vm.publicIp ? { publicIp: m.vm.publicIp } : {}),
        ...(conf?.listenPort !== undefined ? { listenPort: conf.listenPort } : {}),
        ...(conf ? { wireguardPublicKey: this.publicKeyOf(conf.privateKey) } : {}),
        ...(m.cloudInit.wg0?.problem ? { wireguardProblem: m.cloudInit.wg0.problem } : {}),
        running: s.running,
        ...(m.vm.runningSinceMs !== undefined
          ? { runningSince: new Date(m.vm.runningSinceMs).toISOString() }
          : {}),
        wireguard: s.wireguard,
        cloudInit: s.cloudInit,
        ...(m.server.port !== undefined ? { sshPort: m.server.port } : {}),
        hostKeyFingerprint: hostKeyFingerprint(m.hostKey),
        faults: [...m.faults],
        ...(lock !== undefined ? { lock } : {}),
      };
    });
    const tunnels: TunnelState[] = [...this.tunnels.values()].map((t) => {
      const answeredBy: Record<string, string> = {};
      for (const p of t.config.peers) {
        const m = this.answering(t, p, now)?.machine;
        if (m) answeredBy[p.publicKey] = m.vm.name;
      }
      return {
        ...this.tunnelShow(t, now),
        addresses: t.config.addresses,
        upSince: new Date(t.upMs).toISOString(),
        answeredBy,
      };
    });
    return {
      timings: { ...this.timings },
      machines,
      tunnels,
      locks: Object.fromEntries(this.locks),
      faults: this.faults.list(),
      counts: this.hostCounts(),
      cluster: this.cluster.dump(),
    };
  }

  /** A copy of the counts. */
  hostCounts(): HostCounts {
    return structuredClone(this.counts);
  }

  /** Replaces the fault rules; machine faults are taken at once by running machines of that name. */
  setFaults(rules: ToolFaultRule[]): void {
    this.sync();
    this.faults.set(rules);
    for (const m of this.machines.values()) this.takeMachineFaults(m);
    this.save();
  }

  /** Merges timings into the current ones. */
  setTimings(timings: Partial<HostTimings>): HostTimings {
    this.timings = { ...this.timings, ...validateTimings(timings) };
    this.save();
    return { ...this.timings };
  }

  /** Kills a tunnel; false when it was not up. */
  dropTunnel(iface: string): boolean {
    const dropped = this.tunnels.delete(iface);
    if (dropped) this.save();
    return dropped;
  }

  /** The handle `ArmEmulator.hosts`. */
  handle(): HostWorldHandle {
    return {
      state: () => this.state(),
      counts: () => this.hostCounts(),
      setFaults: (rules) => this.setFaults(rules),
      setTimings: (timings) => this.setTimings(timings),
      dropTunnel: (iface) => this.dropTunnel(iface),
    };
  }

  /** Forgets machines, tunnels, locks, counts, faults and the cluster (timings are kept). */
  reset(): void {
    for (const m of this.machines.values()) void m.server.close();
    this.machines.clear();
    this.saved = {};
    this.tunnels.clear();
    this.locks.clear();
    this.counts = emptyCounts();
    this.faults.set([]);
    this.cluster.reset();
    this.save();
  }

  /** Stops every SSH server and writes the state file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.save();
    this.closed = true;
    await Promise.all([...this.machines.values()].map((m) => m.server.close()));
  }

  // ---- what the cluster part uses ------------------------------------------------------------------

  private services(): WorldServices {
    return {
      now: () => Date.now(),
      timings: () => ({ ...this.timings }),
      machines: (deploymentId) => {
        this.sync();
        const now = Date.now();
        return [...this.machines.values()]
          .filter((m) => m.vm.deploymentId === deploymentId)
          .map((m) => this.view(m, now));
      },
      reachable: (deploymentId, address) => {
        this.sync();
        return this.reachable(deploymentId, address);
      },
      lockOf: (deploymentId, machine) => this.locks.get(lockKey(deploymentId, machine)),
      setLock: (deploymentId, machine, holder) => {
        if (holder === undefined) this.locks.delete(lockKey(deploymentId, machine));
        else this.locks.set(lockKey(deploymentId, machine), holder);
        this.save();
      },
      countTool: (command, what) => {
        this.countTool(command, what);
        this.save();
      },
      countApplied: (key) => {
        this.counts.applied[key] = (this.counts.applied[key] ?? 0) + 1;
        this.save();
      },
      changed: () => this.save(),
    };
  }
}
