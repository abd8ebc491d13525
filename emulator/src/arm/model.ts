/** Internal data model of the emulator: stored resources, operations and the per-type behaviour contract. */
import type { ArmStore } from './state';

/** A JSON object. */
export type Json = Record<string, unknown>;

/** A child resource kept inline in its parent's properties (a subnet, a security rule). */
export interface ChildEntry {
  name: string;
  id: string;
  properties: Json;
}

/** A resource as stored (resource groups included). */
export interface StoredResource {
  id: string;
  type: string;
  name: string;
  subscription: string;
  resourceGroup: string;
  location: string;
  tags: Record<string, string>;
  /** Properties as stored, `provisioningState` included; hidden ones are dropped when rendered. */
  properties: Json;
  /** Other top-level fields the client sent or the type sets: sku, zones, managedBy, … */
  extra: Json;
  etag: string;
  /** Emulator-only state: power state, secrets that are never returned, … */
  internal: Json;
}

/** Status of a long-running operation. */
export type OperationStatus = 'InProgress' | 'Succeeded' | 'Failed' | 'Canceled';

/** A long-running operation. */
export interface Operation {
  id: string;
  subscription: string;
  /** Provider namespace the status URL lives under (Microsoft.Network, …). */
  namespace: string;
  location: string;
  verb: 'create' | 'update' | 'delete' | 'action';
  /** The POST action (powerOff, start, …) of an `action` operation. */
  action?: string;
  resourceId: string;
  resourceType: string;
  resourceName: string;
  startMs: number;
  endMs: number;
  status: OperationStatus;
  /** Canonical JSON of the request body that started it: a retry with the same body is the same write. */
  bodyKey: string;
  error?: { code: string; message: string };
  /** `subscription` operations (resource group deletes) report under /subscriptions/{s}/operationresults. */
  scope: 'provider' | 'subscription';
}

/** What a PUT handler gets. */
export interface PutContext {
  store: ArmStore;
  id: string;
  name: string;
  subscription: string;
  resourceGroup: string;
  location: string;
  /** `properties` of the request body ({} when absent). */
  props: Json;
  /** Top-level fields of the request body other than location, tags, properties. */
  extra: Json;
  existing: StoredResource | undefined;
}

/** What a PUT handler returns: what to store. */
export interface Prepared {
  properties: Json;
  extra: Json;
  internal?: Json;
}

/** Query options that change how a resource is rendered. */
export interface RenderOptions {
  expand?: string;
  statusOnly?: boolean;
}

/** A POST action of a type (VM start, powerOff, …). */
export interface ActionSpec {
  /** Checks preconditions and applies the transitional state; throws ArmError to refuse. */
  begin(store: ArmStore, resource: StoredResource): void;
  /** Applies the final state; `atMs` is when the operation ended. */
  complete(store: ArmStore, resource: StoredResource, atMs: number): void;
}

/** A child resource type kept inline in the parent (subnets of a VNet, rules of an NSG). */
export interface ChildKind {
  /** Path segment and parent property name, e.g. 'subnets'. */
  collection: string;
  /** ARM type, e.g. 'Microsoft.Network/virtualNetworks/subnets'. */
  type: string;
  /** Validates one child PUT against its parent and siblings; returns the properties to store. */
  prepare(store: ArmStore, parent: StoredResource, entry: ChildEntry, existing: ChildEntry | undefined): Json;
  /** Throws when the child may not be deleted now. */
  checkDelete?(store: ArmStore, parent: StoredResource, child: ChildEntry): void;
  /** The child as returned (computed back-references added). */
  render(store: ArmStore, parent: StoredResource, child: ChildEntry): Json;
}

/** The behaviour of one resource type. */
export interface ResourceKind {
  type: string;
  /** PUT and DELETE are long-running operations (false: synchronous, like SSH public keys). */
  lro: boolean;
  /** The type's responses carry no provisioningState (SSH public keys). */
  hideProvisioningState?: boolean;
  children?: ChildKind[];
  /** Validates and normalises a PUT; throws ArmError to refuse it. */
  prepare(ctx: PutContext): Prepared;
  /** Runs when a PUT is accepted, after the resource is stored. */
  onAccepted?(store: ArmStore, resource: StoredResource, created: boolean): void;
  /** Runs when a create or update operation completes; `atMs` is when it ended. */
  onSucceeded?(store: ArmStore, resource: StoredResource, created: boolean, atMs: number): void;
  /** Throws when the resource may not be deleted now. */
  checkDelete?(store: ArmStore, resource: StoredResource): void;
  /** Runs when a delete completes, before the resource is removed (cascades). */
  onDeleted?(store: ArmStore, resource: StoredResource): void;
  /** Properties as returned: computed back-references added, hidden ones removed. */
  renderProperties?(store: ArmStore, resource: StoredResource, options: RenderOptions): Json;
  /** GET sub-resources other than children, e.g. a VM's `instanceView`. */
  views?: Record<string, (store: ArmStore, resource: StoredResource) => Json>;
  /** POST actions, by lower-case name. */
  actions?: Record<string, ActionSpec>;
}
