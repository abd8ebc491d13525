/**
 * The generic engine under the ARM adapter: read first, adopt what is ours, PUT what is missing or
 * drifted, refuse what is someone else's, and wait on `provisioningState` with GETs that stop as soon as
 * the activity is cancelled. The resource modules (`resources/`) describe each type through a `Handle`.
 */
import { cancelSignal } from '../activities/work';
import type { ArmClients } from './clients';
import { ArmFailureTypes, armFailure, isNotFound, toArmFailure } from './errors';
import { sleep } from './progress';
import type { AzureTarget } from './target';

/** Tag naming the deployment a resource belongs to: the ownership test. */
export const TAG_DEPLOYMENT = 'k0rdent-deployment';
/** Tag naming the person who deployed. */
export const TAG_OWNER = 'k0rdent-owner';
/** Tag naming the tool. */
export const TAG_CREATED_BY = 'created-by';
/** Value of `created-by`. */
export const CREATED_BY = 'k0rdent-deploy';

/** Where and for whom the adapter acts. */
export interface DeploymentScope {
  deploymentId: string;
  /** Deployer identity, for the `k0rdent-owner` and `owner` tags. */
  owner: string;
  resourceGroup: string;
  location: string;
}

/** Timing of the adapter; every duration has a default. */
export interface AdapterOptions {
  /** Longest delay between provisioning-state GETs. */
  pollIntervalMs: number;
  /** First delay of a wait; each next one doubles up to `pollIntervalMs`. */
  pollFirstMs: number;
  /** Longest wait for one resource to settle or disappear. */
  settleTimeoutMs: number;
  /** The signal that cancels SDK calls and waits (the activity's cancellation by default). */
  signal: () => AbortSignal;
}

/** Defaults: seconds between polls against Azure, a fraction of one against the local emulator. */
export function defaultAdapterOptions(target: AzureTarget): AdapterOptions {
  return {
    pollIntervalMs: target.cloud === 'emulator' ? 200 : 5_000,
    pollFirstMs: target.cloud === 'emulator' ? 50 : 1_000,
    settleTimeoutMs: 30 * 60_000,
    signal: cancelSignal,
  };
}

/** What an `ensure*` did. */
export type EnsureOutcome = 'created' | 'updated' | 'adopted';

/** A resource after `ensure*`. */
export interface Ensured<T> {
  resource: T;
  outcome: EnsureOutcome;
}

export type Tags = Record<string, string>;
export type Call = { abortSignal: AbortSignal };

/** How the adapter reaches one resource. */
export interface Handle<T> {
  /** Short type for messages: `vnet`, `nsg`, `vm`, ... */
  type: string;
  name: string;
  get(o: Call): Promise<T>;
  put(body: T, o: Call): Promise<unknown>;
  /** Starts the delete; returns once ARM accepted it. */
  del(o: Call): Promise<unknown>;
  state(r: T): string | undefined;
  tags(r: T): Tags | undefined;
  /** Resource groups made by the Bash tool carry only `cluster-id`. */
  legacyOwnership?: boolean;
}

export const STOPPED = new Set(['stopped', 'deallocated', 'stopping', 'deallocating']);
const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'cancelled']);

function isTerminal(state: string | undefined): boolean {
  return state === undefined || TERMINAL.has(state.toLowerCase());
}

function succeeded(state: string | undefined): boolean {
  return state === undefined || state.toLowerCase() === 'succeeded';
}

export const same = (a: string | undefined, b: string | undefined) =>
  (a ?? '').toLowerCase() === (b ?? '').toLowerCase();
export const normLocation = (l: string | undefined) => (l ?? '').replace(/\s+/g, '').toLowerCase();

function ownerOf(tags: Tags | undefined, legacy: boolean): string | undefined {
  return tags?.[TAG_DEPLOYMENT] ?? (legacy ? tags?.['cluster-id'] : undefined);
}

/**
 * Tags written when a resource is made and kept as they are afterwards: who deployed and when. A worker
 * on another machine (another deployer identity) must neither see drift in them nor rewrite them.
 */
const KEPT_TAGS = new Set(['created', 'owner', TAG_OWNER]);

export function tagDrift(existing: Tags | undefined, desired: Tags): string[] {
  return Object.entries(desired)
    .filter(
      ([key, value]) => existing?.[key] !== value && !(KEPT_TAGS.has(key) && existing?.[key] !== undefined)
    )
    .map(([key, value]) => `tag ${key} is ${existing?.[key] ?? 'missing'}, want ${value}`);
}

function mergeTags(existing: Tags | undefined, desired: Tags): Tags {
  const merged = { ...existing, ...desired };
  for (const key of KEPT_TAGS) {
    const kept = existing?.[key];
    if (kept !== undefined) merged[key] = kept;
  }
  return merged;
}

/** The calls every Microsoft.Network collection of the SDK has, on a resource of a group. */
export interface NetworkCollection<T> {
  get(resourceGroup: string, name: string, o: Call): Promise<T>;
  beginCreateOrUpdate(resourceGroup: string, name: string, body: T, o: Call): Promise<unknown>;
  beginDelete(resourceGroup: string, name: string, o: Call): Promise<unknown>;
}

/** The handle of a Microsoft.Network resource (NSG, VNet, public IP, NIC) of the scope's group. */
export function networkHandle<T extends { provisioningState?: string; tags?: Tags }>(
  type: string,
  scope: DeploymentScope,
  name: string,
  collection: NetworkCollection<T>
): Handle<T> {
  return {
    type,
    name,
    get: (o) => collection.get(scope.resourceGroup, name, o),
    put: (body, o) => collection.beginCreateOrUpdate(scope.resourceGroup, name, body, o),
    del: (o) => collection.beginDelete(scope.resourceGroup, name, o),
    state: (r) => r.provisioningState,
    tags: (r) => r.tags,
  };
}

/** The engine of one target: its clients, timing, and the verbs every resource type is handled with. */
export class ArmEngine {
  readonly options: AdapterOptions;

  constructor(
    readonly clients: ArmClients,
    options: Partial<AdapterOptions> = {}
  ) {
    this.options = { ...defaultAdapterOptions(clients.target), ...options };
  }

  /** ARM id of a resource of the scope's resource group. */
  resourceId(scope: DeploymentScope, provider: string, type: string, name: string): string {
    return `/subscriptions/${this.clients.target.subscriptionId}/resourceGroups/${scope.resourceGroup}/providers/${provider}/${type}/${name}`;
  }

  /** Tags every resource of the deployment carries. */
  tagsFor(scope: DeploymentScope): Tags {
    return { [TAG_DEPLOYMENT]: scope.deploymentId, [TAG_OWNER]: scope.owner, [TAG_CREATED_BY]: CREATED_BY };
  }

  // ---- generic machinery ----------------------------------------------------------------------

  async call<R>(action: string, signal: AbortSignal, fn: (o: Call) => Promise<R>): Promise<R> {
    try {
      return await fn({ abortSignal: signal });
    } catch (err) {
      throw toArmFailure(action, err, signal);
    }
  }

  /** GET; undefined on 404. */
  async find<T>(handle: Handle<T>, signal: AbortSignal): Promise<T | undefined> {
    try {
      return await handle.get({ abortSignal: signal });
    } catch (err) {
      if (isNotFound(err) && !signal.aborted) return undefined;
      throw toArmFailure(`read ${handle.type} ${handle.name}`, err, signal);
    }
  }

  assertOurs<T>(scope: DeploymentScope, handle: Handle<T>, resource: T, verb: string): void {
    const tags = handle.tags(resource);
    const owner = ownerOf(tags, handle.legacyOwnership === true);
    if (owner === scope.deploymentId) return;
    const who =
      owner === undefined
        ? 'no k0rdent deployment (it has no k0rdent-deployment tag)'
        : `deployment ${owner}${tags?.[TAG_OWNER] ? ` of ${tags[TAG_OWNER]}` : ''}`;
    throw armFailure(
      ArmFailureTypes.Foreign,
      `${verb} ${handle.type} ${handle.name}: ForeignResource: ${handle.type} ${handle.name} in ${scope.resourceGroup} belongs to ${who}, not ${scope.deploymentId}`
    );
  }

  /** Polls GET until the resource leaves its transitional state; throws if it disappears. */
  async settle<T>(handle: Handle<T>, action: string, signal: AbortSignal): Promise<T> {
    const deadline = Date.now() + this.options.settleTimeoutMs;
    for (let look = 0; ; look++) {
      const current = await this.find(handle, signal);
      if (current === undefined) {
        throw armFailure(
          ArmFailureTypes.OperationFailed,
          `${action}: ResourceNotFound: ${handle.type} ${handle.name} disappeared while being provisioned`
        );
      }
      const state = handle.state(current);
      if (isTerminal(state)) return current;
      if (Date.now() >= deadline) {
        throw armFailure(
          ArmFailureTypes.Timeout,
          `${action}: Timeout: ${handle.type} ${handle.name} is still ${state} after ${this.options.settleTimeoutMs} ms`
        );
      }
      await this.pause(action, signal, look);
    }
  }

  /** Polls GET until the resource is gone. */
  async gone<T>(handle: Handle<T>, action: string, signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + this.options.settleTimeoutMs;
    for (let look = 0; (await this.find(handle, signal)) !== undefined; look++) {
      if (Date.now() >= deadline) {
        throw armFailure(
          ArmFailureTypes.Timeout,
          `${action}: Timeout: ${handle.type} ${handle.name} still exists after ${this.options.settleTimeoutMs} ms`
        );
      }
      await this.pause(action, signal, look);
    }
  }

  /** The pause after look number `look` of a wait: `pollFirstMs`, doubling up to `pollIntervalMs`. */
  async pause(action: string, signal: AbortSignal, look: number): Promise<void> {
    const { pollFirstMs, pollIntervalMs } = this.options;
    try {
      await sleep(
        Math.min(pollIntervalMs, Math.min(pollFirstMs, pollIntervalMs) * 2 ** Math.min(look, 20)),
        signal
      );
    } catch (err) {
      throw toArmFailure(action, err, signal);
    }
  }

  async ensure<T extends { tags?: Tags; location?: string }>(
    scope: DeploymentScope,
    handle: Handle<T>,
    desired: T,
    drift: (existing: T) => string[],
    shape: (body: T, existing: T | undefined) => T = (body) => body,
    opts: {
      recreateWhenFailed?: boolean;
      failureOf?: (r: T) => { code: string; message: string } | undefined;
    } = {}
  ): Promise<Ensured<T>> {
    const signal = this.options.signal();
    let existing = await this.find(handle, signal);
    if (existing !== undefined) {
      this.assertOurs(scope, handle, existing, 'adopt');
      const state = handle.state(existing)?.toLowerCase();
      if (state === 'deleting') {
        await this.gone(handle, `wait for ${handle.type} ${handle.name}`, signal);
        existing = undefined;
      } else if (!isTerminal(state)) {
        existing = await this.settle(handle, `wait for ${handle.type} ${handle.name}`, signal);
      }
    }
    if (existing !== undefined && !succeeded(handle.state(existing)) && opts.recreateWhenFailed) {
      const action = `delete failed ${handle.type} ${handle.name}`;
      await this.startDelete(handle, action, signal);
      await this.gone(handle, action, signal);
      existing = undefined;
    }
    if (existing !== undefined && succeeded(handle.state(existing)) && drift(existing).length === 0) {
      return { resource: existing, outcome: 'adopted' };
    }
    const verb = existing === undefined ? 'create' : 'update';
    const action = `${verb} ${handle.type} ${handle.name}`;
    const body = shape({ ...desired, tags: mergeTags(existing?.tags, desired.tags ?? {}) }, existing);
    await this.call(action, signal, (o) => handle.put(body, o));
    const done = await this.settle(handle, action, signal);
    const state = handle.state(done);
    if (!succeeded(state)) {
      const failure = opts.failureOf?.(done) ?? {
        code: 'ProvisioningFailed',
        message: `provisioning state is ${state}`,
      };
      throw toArmFailure(
        action,
        new Error(`The long-running operation has failed. ${failure.code}. ${failure.message}`)
      );
    }
    return { resource: done, outcome: existing === undefined ? 'created' : 'updated' };
  }

  async inspect<T>(
    scope: DeploymentScope,
    handle: Handle<T>,
    drift: (existing: T) => string[]
  ): Promise<string[]> {
    const signal = this.options.signal();
    const found = await this.find(handle, signal);
    if (found === undefined) return [`${handle.type} ${handle.name} is missing`];
    try {
      this.assertOurs(scope, handle, found, 'check');
    } catch (err) {
      return [(err as Error).message.replace(/^.*?ForeignResource: /, '')];
    }
    const state = handle.state(found);
    if (!succeeded(state)) return [`${handle.type} ${handle.name} is ${state}`];
    return drift(found).map((d) => `${handle.type} ${handle.name}: ${d}`);
  }

  async startDelete<T>(handle: Handle<T>, action: string, signal: AbortSignal): Promise<void> {
    try {
      await handle.del({ abortSignal: signal });
    } catch (err) {
      if (isNotFound(err) && !signal.aborted) return;
      throw toArmFailure(action, err, signal);
    }
  }

  async deleteOwned<T>(scope: DeploymentScope, handle: Handle<T>): Promise<boolean> {
    const signal = this.options.signal();
    const found = await this.find(handle, signal);
    if (found === undefined) return false;
    this.assertOurs(scope, handle, found, 'delete');
    const action = `delete ${handle.type} ${handle.name}`;
    if (handle.state(found)?.toLowerCase() !== 'deleting') await this.startDelete(handle, action, signal);
    await this.gone(handle, action, signal);
    return true;
  }
}
