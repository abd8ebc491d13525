/**
 * A local Azure Resource Manager emulator for tests and the demo: an HTTPS server on 127.0.0.1 with a
 * self-signed certificate that the real Azure SDK clients talk to through their `endpoint` option. It
 * keeps resource groups, network and compute resources in memory (optionally in a JSON file), runs
 * long-running operations for a configurable time, injects faults, and counts what it sees.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { handleAdmin } from './admin';
import type { AdminTarget } from './admin';
import { ArmEngine } from './arm';
import type { EngineConfig } from './arm';
import type { ArmResponse } from './errors';
import { HOSTS_WORLD_STATE_FILE, HostWorld } from '../hosts';
import { FaultInjector, faultResponse } from './faults';
import { ArmStore } from './state';
import { tlsMaterial } from './tls';
import type { ArmEmulator, ArmEmulatorInfo, ArmEmulatorOptions, EmulatorCounts } from './types';
import type { WorldResponse } from '../hosts/types';
import { startToolServer } from '../tools/server';
import { toolSocketFor } from '../tools/socket';

/** The public types of the emulator. */
export type {
  ArmEmulator,
  ArmEmulatorInfo,
  ArmEmulatorOptions,
  EmulatedResource,
  EmulatorCounts,
  FaultKind,
  FaultRule,
  LroTimings,
} from './types';

/** File in a standalone emulator's state folder that says where it listens. */
export const ARM_EMULATOR_INFO_FILE = 'arm-emulator.json';
/** The standalone emulator's certificate (the CA clients trust). */
export const ARM_EMULATOR_CA_FILE = 'arm-emulator-ca.pem';
/** The standalone emulator's private key. */
export const ARM_EMULATOR_KEY_FILE = 'arm-emulator-key.pem';
/** The standalone emulator's persisted resources and counters. */
export const ARM_EMULATOR_STATE_FILE = 'arm-emulator-state.json';

/** Reads `arm-emulator.json` of a standalone emulator's state folder; undefined when absent or malformed. */
export async function armEmulatorInfo(stateDir: string): Promise<ArmEmulatorInfo | undefined> {
  try {
    const info = JSON.parse(
      await fs.readFile(path.join(stateDir, ARM_EMULATOR_INFO_FILE), 'utf8')
    ) as Partial<ArmEmulatorInfo>;
    if (
      typeof info.endpoint === 'string' &&
      typeof info.adminUrl === 'string' &&
      typeof info.caFile === 'string' &&
      typeof info.pid === 'number'
    ) {
      return { endpoint: info.endpoint, adminUrl: info.adminUrl, caFile: info.caFile, pid: info.pid };
    }
    return undefined;
  } catch {
    return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(
  res: ServerResponse,
  method: string,
  r: ArmResponse,
  clientRequestId: string | undefined
): void {
  const headers: Record<string, string> = {
    'x-ms-request-id': randomUUID(),
    'x-ms-correlation-request-id': randomUUID(),
    ...(clientRequestId ? { 'x-ms-client-request-id': clientRequestId } : {}),
    ...r.headers,
  };
  const payload =
    r.body === undefined || method === 'HEAD' || r.status === 204 ? undefined : JSON.stringify(r.body);
  if (payload !== undefined) headers['Content-Type'] = 'application/json; charset=utf-8';
  if (r.status !== 204)
    headers['Content-Length'] = String(payload === undefined ? 0 : Buffer.byteLength(payload));
  res.writeHead(r.status, headers);
  res.end(payload);
}

function sendWorld(res: ServerResponse, r: WorldResponse): void {
  const payload = JSON.stringify(r.body ?? null);
  res.writeHead(r.status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(payload)),
  });
  res.end(payload);
}

function listen(server: https.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function defaultTlsFiles(stateFile: string): { cert: string; key: string } {
  const base = stateFile.replace(/\.json$/i, '');
  return { cert: `${base}.cert.pem`, key: `${base}.key.pem` };
}

/** Starts an emulator; resolves once it listens. */
export async function startArmEmulator(opts: ArmEmulatorOptions = {}): Promise<ArmEmulator> {
  const store = new ArmStore(opts.stateFile === undefined ? undefined : path.resolve(opts.stateFile));
  store.load();
  const tls = await tlsMaterial(
    opts.tlsFiles ?? (opts.stateFile ? defaultTlsFiles(opts.stateFile) : undefined)
  );
  const config: EngineConfig = {
    lro: structuredClone(opts.lro ?? {}),
    pollRetryAfterSeconds: opts.pollRetryAfterSeconds ?? 0,
  };
  const engine = new ArmEngine(store, config);
  const faults = new FaultInjector();
  faults.set(opts.faults ?? []);
  const hosts = new HostWorld({
    store,
    settle: () => {
      const now = Date.now();
      const due = [...store.operations.values()].some((op) => op.status === 'InProgress' && op.endMs <= now);
      if (!due) return;
      engine.settle(now);
      store.save();
    },
    stateFile:
      store.file === undefined ? undefined : path.join(path.dirname(store.file), HOSTS_WORLD_STATE_FILE),
    timings: opts.hosts?.timings,
    faults: opts.hosts?.faults,
    cluster: opts.hosts?.cluster,
  });

  const counts = (): EmulatorCounts => {
    engine.settle();
    return { ...structuredClone(store.counts), existing: store.existing() };
  };
  const admin: AdminTarget = {
    counts,
    resources: (type) => {
      engine.settle();
      return engine.resources(type);
    },
    faults: () => faults.list(),
    setFaults: (rules) => faults.set(rules),
    lro: () => structuredClone(config.lro),
    setLro: (lro) => {
      config.lro = structuredClone(lro ?? {});
    },
    removeResource: (id) => {
      engine.settle();
      const removed = engine.removeBehindTheBack(id);
      store.save();
      return removed;
    },
    reset: () => {
      store.clear();
      faults.set([]);
      store.save();
      hosts.reset();
    },
  };

  const host = opts.host ?? '127.0.0.1';
  const publicHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  let port = 0;

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const base = `https://${req.headers.host ?? `${publicHost}:${port}`}`;
    const url = new URL(req.url ?? '/', base);
    const clientRequestId = req.headers['x-ms-client-request-id'];
    const requestId = typeof clientRequestId === 'string' ? clientRequestId : undefined;
    if (url.pathname === '/world' || url.pathname.startsWith('/world/')) {
      const route = url.pathname.slice('/world'.length);
      sendWorld(res, await hosts.handleWorld(method, route, url.searchParams, await readBody(req)));
      return;
    }
    if (url.pathname === '/admin/hosts' || url.pathname.startsWith('/admin/hosts/')) {
      const route = url.pathname.slice('/admin/hosts'.length);
      sendWorld(res, hosts.handleAdmin(method, route, url.searchParams, await readBody(req)));
      return;
    }
    if (url.pathname === '/admin' || url.pathname.startsWith('/admin/')) {
      send(res, method, handleAdmin(admin, method, url, await readBody(req)), requestId);
      return;
    }
    engine.settle();
    const classified = engine.classify(url);
    store.countRequest(method, classified.type, classified.poll);
    const hit = faults.take(method, classified.type, classified.name);
    for (const kind of hit.kinds) store.countFault(kind);
    const body = await readBody(req);
    if (hit.fault?.kind === 'drop-before') {
      store.save();
      req.socket.destroy();
      return;
    }
    let response: ArmResponse;
    if (hit.fault && hit.fault.kind !== 'drop-after') {
      response = faultResponse(hit.fault);
    } else {
      engine.settle();
      response = engine.handle({ method, url, headers: req.headers, body, base }, classified);
    }
    store.save();
    // The machines follow their VMs at once: a deleted VM's SSH server stops now, not at the next question.
    hosts.sync();
    if (hit.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, hit.latencyMs));
    if (hit.fault?.kind === 'drop-after') {
      req.socket.destroy();
      return;
    }
    send(res, method, response, requestId);
  }

  const server = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      send(
        res,
        'GET',
        {
          status: 500,
          body: { error: { code: 'InternalServerError', message: `emulator error: ${String(err)}` } },
        },
        undefined
      );
    });
  });
  // Outlive the SDK's idle keep-alive sockets, so a reused connection is not closed under a request.
  server.keepAliveTimeout = 60_000;
  await listen(server, opts.port ?? 0, host);
  port = (server.address() as AddressInfo).port;
  store.port = port;
  store.save();
  const endpoint = `https://${publicHost}:${port}`;
  // The emulated tools' processes hand their commands over on this socket; they run against the world here.
  const tools = await startToolServer(toolSocketFor(endpoint), (method, route, body) => {
    const url = new URL(route, endpoint);
    if (!url.pathname.startsWith('/world/')) throw new Error(`not a world route: ${route}`);
    const text = body === undefined ? '' : JSON.stringify(body);
    return hosts.handleWorld(method, url.pathname.slice('/world'.length), url.searchParams, text);
  });

  let closing: Promise<void> | undefined;
  return {
    endpoint,
    adminUrl: `${endpoint}/admin`,
    caPem: tls.cert,
    port,
    counts,
    resources: () => admin.resources(),
    setFaults: (rules) => admin.setFaults(rules),
    setLro: (lro) => admin.setLro(lro),
    removeResource: (id) => admin.removeResource(id),
    hosts: hosts.handle(),
    reset: () => admin.reset(),
    close: () => {
      closing ??= Promise.all([
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
        hosts.close(),
        tools.close(),
      ]).then(() => store.save());
      return closing;
    },
  };
}
