/** The emulator's state: resources, operations and counters, with JSON persistence. */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ChildEntry, Operation, StoredResource } from './model';
import type { EmulatorCounts, FaultKind } from './types';

/** The counters that are persisted (everything but `existing`, which is derived). */
export type CountData = Omit<EmulatorCounts, 'existing'>;

/** Empty counters. */
export function emptyCounts(): CountData {
  return { total: 0, requests: {}, byType: {}, writesByType: {}, polls: 0, pollsByType: {}, faults: {} };
}

interface PersistedState {
  version: 1;
  resources: StoredResource[];
  operations: Operation[];
  counts: CountData;
  /** Port the emulator last listened on, so a restarted standalone emulator keeps its endpoint. */
  port?: number;
}

/** Lower-case key of an ARM id (ARM ids are case-insensitive). */
export function keyOf(id: string): string {
  return id.replace(/\/+$/, '').toLowerCase();
}

/** Hex digest of a string, for deterministic names and addresses. */
export function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A fresh weak etag. */
export function newEtag(): string {
  return `W/"${randomUUID()}"`;
}

/** JSON with object keys sorted, so equal bodies compare equal. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Parent properties that hold child resources. */
export const CHILD_COLLECTIONS = new Set(['subnets', 'securityRules']);

/** Completed operations older than this are forgotten. */
const OPERATION_RETENTION_MS = 6 * 60 * 60 * 1000;

/** Resources, operations and counters of one emulator. */
export class ArmStore {
  readonly resources = new Map<string, StoredResource>();
  readonly operations = new Map<string, Operation>();
  counts: CountData = emptyCounts();
  port: number | undefined;

  constructor(readonly file?: string) {}

  /** Loads the state file if there is one. */
  load(): void {
    if (!this.file) return;
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const data = JSON.parse(text) as Partial<PersistedState>;
    for (const r of data.resources ?? []) this.resources.set(keyOf(r.id), r);
    for (const op of data.operations ?? []) this.operations.set(op.id.toLowerCase(), op);
    this.counts = { ...emptyCounts(), ...data.counts };
    this.port = data.port;
  }

  /** Writes the state file atomically (no-op without one). */
  save(now = Date.now()): void {
    if (!this.file) return;
    for (const [id, op] of this.operations) {
      if (op.status !== 'InProgress' && now - op.endMs > OPERATION_RETENTION_MS) this.operations.delete(id);
    }
    const data: PersistedState = {
      version: 1,
      resources: [...this.resources.values()],
      operations: [...this.operations.values()],
      counts: this.counts,
      port: this.port,
    };
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(data));
    renameSync(tmp, this.file);
  }

  /** Forgets resources, operations and counters. */
  clear(): void {
    this.resources.clear();
    this.operations.clear();
    this.counts = emptyCounts();
  }

  /** The resource with this id, or undefined. */
  get(id: string): StoredResource | undefined {
    return this.resources.get(keyOf(id));
  }

  /** Stores a resource under its id. */
  put(resource: StoredResource): void {
    this.resources.set(keyOf(resource.id), resource);
  }

  /** Removes a resource; true when it existed. */
  remove(id: string): boolean {
    return this.resources.delete(keyOf(id));
  }

  /** The resource group, or undefined. */
  resourceGroup(subscription: string, rg: string): StoredResource | undefined {
    return this.get(`/subscriptions/${subscription}/resourceGroups/${rg}`);
  }

  /** Resources of a type (case-insensitive), optionally within one subscription and resource group. */
  ofType(type: string, subscription?: string, rg?: string): StoredResource[] {
    const t = type.toLowerCase();
    return [...this.resources.values()].filter(
      (r) =>
        r.type.toLowerCase() === t &&
        (subscription === undefined || r.subscription.toLowerCase() === subscription.toLowerCase()) &&
        (rg === undefined || r.resourceGroup.toLowerCase() === rg.toLowerCase())
    );
  }

  /** Provider resources (not the group itself) of a resource group. */
  inGroup(subscription: string, rg: string): StoredResource[] {
    const prefix = `${keyOf(`/subscriptions/${subscription}/resourceGroups/${rg}`)}/`;
    return [...this.resources.entries()].filter(([k]) => k.startsWith(prefix)).map(([, r]) => r);
  }

  /**
   * Resolves an id to a stored resource or to a child kept inline in its parent (`collection` is the
   * parent property, e.g. 'subnets').
   */
  resolve(id: string): { resource: StoredResource; child?: ChildEntry; collection?: string } | undefined {
    const direct = this.get(id);
    if (direct) return { resource: direct };
    const m = /^(.*)\/([^/]+)\/([^/]+)$/.exec(id.replace(/\/+$/, ''));
    if (!m) return undefined;
    const parent = this.get(m[1] ?? '');
    const collection = Object.keys(parent?.properties ?? {}).find(
      (k) => k.toLowerCase() === (m[2] ?? '').toLowerCase()
    );
    if (!parent || !collection) return undefined;
    const list = parent.properties[collection];
    if (!Array.isArray(list)) return undefined;
    const child = (list as ChildEntry[]).find((c) => c.name.toLowerCase() === (m[3] ?? '').toLowerCase());
    return child ? { resource: parent, child, collection } : undefined;
  }

  /** The operation with this id, or undefined. */
  operation(id: string): Operation | undefined {
    return this.operations.get(id.toLowerCase());
  }

  /**
   * The running operation that blocks a write on `id`: one on the resource itself, on its parent, or
   * (with `withChildren`) on one of its children.
   */
  activeOperation(id: string, withChildren = true): Operation | undefined {
    const key = keyOf(id);
    for (const op of this.operations.values()) {
      if (op.status !== 'InProgress' || op.scope === 'subscription') continue;
      const k = keyOf(op.resourceId);
      if (k === key || key.startsWith(`${k}/`) || (withChildren && k.startsWith(`${key}/`))) return op;
    }
    return undefined;
  }

  /** Counts one request. */
  countRequest(method: string, type: string | undefined, poll: boolean): void {
    const c = this.counts;
    c.total++;
    c.requests[method] = (c.requests[method] ?? 0) + 1;
    if (type === undefined) return;
    if (poll) {
      c.polls++;
      c.pollsByType[type] = (c.pollsByType[type] ?? 0) + 1;
      return;
    }
    const perType = (c.byType[type] ??= {});
    perType[method] = (perType[method] ?? 0) + 1;
    if (method === 'PUT' || method === 'PATCH' || method === 'DELETE') {
      c.writesByType[type] = (c.writesByType[type] ?? 0) + 1;
    }
  }

  /** Counts one injected fault. */
  countFault(kind: FaultKind): void {
    this.counts.faults[kind] = (this.counts.faults[kind] ?? 0) + 1;
  }

  /** Resources that exist, by type, inline children included. */
  existing(): Record<string, number> {
    const out: Record<string, number> = {};
    const add = (type: string) => (out[type] = (out[type] ?? 0) + 1);
    for (const r of this.resources.values()) {
      add(r.type);
      for (const [prop, value] of Object.entries(r.properties)) {
        if (!Array.isArray(value) || !CHILD_COLLECTIONS.has(prop)) continue;
        for (let i = 0; i < value.length; i++) add(`${r.type}/${prop}`);
      }
    }
    return out;
  }
}
