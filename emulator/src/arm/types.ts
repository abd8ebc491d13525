/** Public types of the local Azure Resource Manager emulator. */
import type { ClusterPart, HostTimings, HostWorldHandle, ToolFaultRule, WorldServices } from '../hosts/types';

/** How long-running operations take: a default and per ARM resource type, in milliseconds. */
export interface LroTimings {
  /** Duration of every operation without a per-type entry (default 0: done at the next request). */
  defaultMs?: number;
  /** Duration per resource type, e.g. `{ 'Microsoft.Compute/virtualMachines': 200 }` (case-insensitive). */
  perType?: Record<string, number>;
}

/** Options of `startArmEmulator`. */
export interface ArmEmulatorOptions {
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port to listen on; 0 = any free port (default). */
  port?: number;
  /** Persist resources and counters to this JSON file (standalone mode survives a restart). */
  stateFile?: string;
  /**
   * PEM files of the TLS certificate and key: reused when both exist, written when not. Defaults to
   * `<stateFile without .json>.cert.pem` / `.key.pem` when `stateFile` is set; otherwise the certificate is
   * generated in memory (once per process).
   */
  tlsFiles?: { cert: string; key: string };
  /** Duration of long-running operations, ms, default and per resource type (e.g. 'Microsoft.Compute/virtualMachines'). */
  lro?: LroTimings;
  /** Seconds to send as Retry-After on LRO polls (default 0 so tests are fast). */
  pollRetryAfterSeconds?: number;
  /** Faults to inject from the start. */
  faults?: FaultRule[];
  /**
   * The host world behind the VMs (see emulator/src/hosts/README.md): timings merged over the defaults
   * (and over the persisted ones), tool fault rules armed from the start, and the cluster part's factory
   * (default `createClusterPart`; tests may pass another).
   */
  hosts?: {
    timings?: Partial<HostTimings>;
    faults?: ToolFaultRule[];
    cluster?: (services: WorldServices) => ClusterPart;
  };
}

/** The kinds of fault the emulator can inject. */
export type FaultKind =
  | 'throttle'
  | 'error'
  | 'drop-before'
  | 'drop-after'
  | 'latency'
  | 'auth'
  | 'quota'
  | 'invalid';

/** One fault to inject into matching ARM requests. */
export interface FaultRule {
  /**
   * Which requests: all filters optional and case-insensitive; type is the ARM resource type like
   * 'Microsoft.Network/publicIPAddresses' (child types like 'Microsoft.Network/virtualNetworks/subnets';
   * an LRO poll has the type and name of the resource its operation acts on).
   */
  match?: { method?: string; type?: string; name?: string };
  kind: FaultKind;
  /** For 'error': 500 or 503 (default 500); for 'auth': 401 or 403 (default 401). */
  status?: number;
  /** For 'throttle': omit to send 429 WITHOUT Retry-After. */
  retryAfterSeconds?: number;
  /** For 'latency'. */
  latencyMs?: number;
  /** How many matching requests it hits (default 1); -1 = always. */
  times?: number;
}

/** What the emulator has seen since start (or the last reset); persisted with the state file. */
export interface EmulatorCounts {
  /** Every ARM request received (admin requests excluded), LRO polls and faulted requests included. */
  total: number;
  /** The same requests by HTTP method. */
  requests: Record<string, number>;
  /** Resource requests (not LRO polls) by resource type, then method, e.g. `{'Microsoft.Compute/virtualMachines': {PUT: 2, GET: 5}}`. */
  byType: Record<string, Record<string, number>>;
  /** PUT, PATCH and DELETE resource requests by resource type. */
  writesByType: Record<string, number>;
  /** LRO status polls (operation status and operation result URLs). */
  polls: number;
  /** LRO polls by the type of resource their operation acts on. */
  pollsByType: Record<string, number>;
  /** Faults injected, by kind. */
  faults: Partial<Record<FaultKind, number>>;
  /** Resources that exist now, by type (resource groups and child resources such as subnets included). */
  existing: Record<string, number>;
}

/** A resource as the emulator holds it. */
export interface EmulatedResource {
  id: string;
  type: string;
  name: string;
  resourceGroup: string;
  location: string;
  tags: Record<string, string>;
  provisioningState: string;
  properties: Record<string, unknown>;
}

/** What a standalone emulator writes about itself into its state folder (`arm-emulator.json`). */
export interface ArmEmulatorInfo {
  endpoint: string;
  adminUrl: string;
  caFile: string;
  pid: number;
}

/** A running emulator. */
export interface ArmEmulator {
  /** Base URL for the SDK clients' `endpoint` option, e.g. https://127.0.0.1:PORT (no trailing slash). */
  endpoint: string;
  /** Admin API on the same server: https://127.0.0.1:PORT/admin. */
  adminUrl: string;
  /** The self-signed certificate (PEM) clients must trust. */
  caPem: string;
  port: number;
  /** Request, poll, fault and resource counts. */
  counts(): EmulatorCounts;
  /** Every resource that exists now (child resources included). */
  resources(): EmulatedResource[];
  /** Replaces the fault rules. */
  setFaults(rules: FaultRule[]): void;
  /** Replaces the LRO durations for operations started from now on. */
  setLro(lro: ArmEmulatorOptions['lro']): void;
  /** Test helper: delete a resource behind the client's back (no counting). */
  removeResource(id: string): boolean;
  /** The machines, tunnels and cluster behind the VMs. */
  hosts: HostWorldHandle;
  /** Forgets every resource, operation, count and fault, and the host world (LRO and host timings are kept). */
  reset(): void;
  /** Stops listening, drops open connections, stops the machines' SSH servers and writes the state files. */
  close(): Promise<void>;
}
