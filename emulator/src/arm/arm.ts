/**
 * The ARM engine: routes a request to resource groups, provider resources, child resources, actions and
 * LRO status URLs, and completes long-running operations once their duration has passed. Every handler
 * is synchronous, so requests never interleave inside the engine.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { childrenOf, clone, obj, stateOf } from './common';
import { COMPUTE_KINDS } from './compute';
import type { ArmResponse } from './errors';
import {
  ArmError,
  anotherOperation,
  invalidParameter,
  methodNotAllowed,
  resourceGroupNotFound,
  resourceNotFound,
} from './errors';
import type {
  ChildEntry,
  ChildKind,
  Json,
  Operation,
  RenderOptions,
  ResourceKind,
  StoredResource,
} from './model';
import { NETWORK_KINDS } from './network';
import type { Route } from './paths';
import { parseRoute } from './paths';
import type { ArmStore } from './state';
import { canonicalJson, keyOf, newEtag } from './state';
import type { EmulatedResource, LroTimings } from './types';

/** ARM type of resource groups. */
export const RESOURCE_GROUP = 'Microsoft.Resources/resourceGroups';
/** Type the generic resource lists are counted under. */
export const GENERIC_RESOURCES = 'Microsoft.Resources/resources';

const KINDS = new Map<string, ResourceKind>(
  [...NETWORK_KINDS, ...COMPUTE_KINDS].map((k) => [k.type.toLowerCase(), k])
);

/** The modelled behaviour of a type, or undefined. */
export function kindOf(type: string): ResourceKind | undefined {
  return KINDS.get(type.toLowerCase());
}

/** One ARM request as the engine sees it. */
export interface ArmRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: string;
  /** `https://host:port` as the client addressed the server, for absolute LRO URLs. */
  base: string;
}

/** A request's route with the resource type and name it is about (for counting and fault matching). */
export interface Classified {
  route: Route;
  type?: string;
  name?: string;
  /** An LRO status or result URL. */
  poll: boolean;
}

/** Settings that may change while the emulator runs. */
export interface EngineConfig {
  lro: LroTimings;
  pollRetryAfterSeconds: number;
}

/** Normalised Azure location: lower case without spaces. */
function normLocation(location: unknown): string | undefined {
  return typeof location === 'string' && location.trim() !== ''
    ? location.toLowerCase().replace(/\s+/g, '')
    : undefined;
}

function parseTags(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  const tags = obj(value);
  if (!tags || Object.values(tags).some((v) => typeof v !== 'string')) {
    throw invalidParameter('tags must be an object whose values are strings.');
  }
  return { ...(tags as Record<string, string>) };
}

/** The `$filter=tagName eq '…' [and tagValue eq '…']` of a list request, as a predicate. */
function tagFilter(req: ArmRequest): (r: StoredResource) => boolean {
  const filter = req.url.searchParams.get('$filter') ?? '';
  const tagName = /tagName eq '([^']*)'/i.exec(filter)?.[1];
  const tagValue = /tagValue eq '([^']*)'/i.exec(filter)?.[1];
  return (r) =>
    tagName === undefined || (tagName in r.tags && (tagValue === undefined || r.tags[tagName] === tagValue));
}

const TOP_LEVEL = new Set(['id', 'name', 'type', 'location', 'tags', 'properties', 'etag']);

/** The ARM engine of one emulator. */
export class ArmEngine {
  constructor(
    readonly store: ArmStore,
    readonly config: EngineConfig
  ) {}

  // ---- classification ---------------------------------------------------------------------------

  /** The route of a URL and what it is about. */
  classify(url: URL): Classified {
    const route = parseRoute(url.pathname);
    switch (route.kind) {
      case 'resourceGroups':
        return { route, type: RESOURCE_GROUP, poll: false };
      case 'resourceGroup':
        return { route, type: RESOURCE_GROUP, name: route.rg, poll: false };
      case 'groupResources':
      case 'subscriptionResources':
        return { route, type: GENERIC_RESOURCES, poll: false };
      case 'collection':
        return { route, type: this.typeName(route.ns, route.type), poll: false };
      case 'resource':
        return { route, type: this.typeName(route.ns, route.type), name: route.name, poll: false };
      case 'resourceSegment': {
        const parent = this.typeName(route.ns, route.type);
        const child = kindOf(parent)?.children?.find(
          (c) => c.collection.toLowerCase() === route.segment.toLowerCase()
        );
        return child
          ? { route, type: child.type, poll: false }
          : { route, type: parent, name: route.name, poll: false };
      }
      case 'child': {
        const parent = this.typeName(route.ns, route.type);
        const child = kindOf(parent)?.children?.find(
          (c) => c.collection.toLowerCase() === route.collection.toLowerCase()
        );
        return {
          route,
          type: child?.type ?? `${parent}/${route.collection}`,
          name: route.child,
          poll: false,
        };
      }
      case 'operation': {
        const op = this.store.operation(route.opId);
        return { route, type: op?.resourceType, name: op?.resourceName, poll: true };
      }
      default:
        return { route, poll: false };
    }
  }

  private typeName(ns: string, type: string): string {
    return kindOf(`${ns}/${type}`)?.type ?? `${ns}/${type}`;
  }

  // ---- dispatch ---------------------------------------------------------------------------------

  /** Answers one ARM request; errors become ARM error bodies. */
  handle(req: ArmRequest, c: Classified): ArmResponse {
    try {
      const auth = req.headers.authorization;
      if (typeof auth !== 'string' || !/^Bearer\s+\S+/i.test(auth)) {
        throw new ArmError(
          401,
          'AuthenticationFailed',
          "Authentication failed. The 'Authorization' header is missing."
        );
      }
      if (!req.url.searchParams.has('api-version')) {
        throw new ArmError(
          400,
          'MissingApiVersionParameter',
          'The api-version query parameter (?api-version=) is required for all requests.'
        );
      }
      return this.dispatch(req, c.route);
    } catch (err) {
      if (err instanceof ArmError) return err.toResponse();
      return {
        status: 500,
        body: {
          error: { code: 'InternalServerError', message: `emulator error: ${(err as Error).message}` },
        },
      };
    }
  }

  private dispatch(req: ArmRequest, route: Route): ArmResponse {
    const m = req.method;
    switch (route.kind) {
      case 'subscription':
        if (m !== 'GET') break;
        return {
          status: 200,
          body: {
            id: `/subscriptions/${route.sub}`,
            subscriptionId: route.sub,
            displayName: 'ARM emulator',
            state: 'Enabled',
          },
        };
      case 'resourceGroups': {
        if (m !== 'GET') break;
        const tagged = tagFilter(req);
        return this.list(this.store.ofType(RESOURCE_GROUP, route.sub).filter(tagged), {});
      }
      case 'resourceGroup':
        return this.resourceGroup(req, route.sub, route.rg);
      case 'groupResources':
        if (m !== 'GET') break;
        this.group(route.sub, route.rg, false);
        return {
          status: 200,
          body: { value: this.store.inGroup(route.sub, route.rg).map((r) => this.summary(r)) },
        };
      case 'subscriptionResources':
        if (m !== 'GET') break;
        return this.subscriptionResources(req, route.sub);
      case 'collection': {
        if (m !== 'GET') break;
        const kind = this.kind(route.ns, route.type, req);
        if (route.rg !== undefined) this.group(route.sub, route.rg, false);
        return this.list(this.store.ofType(kind.type, route.sub, route.rg), this.renderOptions(req));
      }
      case 'resource':
        return this.resource(req, route);
      case 'resourceSegment':
        return this.segment(req, route);
      case 'child':
        return this.child(req, route);
      case 'operation':
        if (m !== 'GET') break;
        return this.operationStatus(req, route.opId, route.result);
      default:
        throw new ArmError(404, 'NotFound', `No route for ${req.method} ${req.url.pathname}.`);
    }
    throw methodNotAllowed(m);
  }

  private kind(ns: string, type: string, req: ArmRequest): ResourceKind {
    const kind = kindOf(`${ns}/${type}`);
    if (!kind) {
      throw new ArmError(
        400,
        'InvalidResourceType',
        `The resource type '${type}' could not be found in the namespace '${ns}' for api version '${req.url.searchParams.get('api-version') ?? ''}'.`
      );
    }
    return kind;
  }

  private renderOptions(req: ArmRequest): RenderOptions {
    return {
      expand: req.url.searchParams.get('$expand') ?? undefined,
      statusOnly: req.url.searchParams.get('statusOnly')?.toLowerCase() === 'true',
    };
  }

  private parseBody(req: ArmRequest): Json {
    let parsed: unknown;
    try {
      parsed = JSON.parse(req.body);
    } catch (err) {
      throw new ArmError(
        400,
        'InvalidRequestContent',
        `The request content was invalid and could not be deserialized: ${(err as Error).message}`
      );
    }
    const body = obj(parsed);
    if (!body) throw new ArmError(400, 'InvalidRequestContent', 'The request content must be a JSON object.');
    return body;
  }

  /** The resource group; 404 when missing, 409 (for writes) while it is being deleted. */
  private group(sub: string, rg: string, write: boolean): StoredResource {
    const group = this.store.resourceGroup(sub, rg);
    if (!group) throw resourceGroupNotFound(rg);
    if (write && stateOf(group.properties) === 'Deleting') {
      throw new ArmError(
        409,
        'ResourceGroupBeingDeleted',
        `The resource group '${group.name}' is in deprovisioning state and cannot perform this operation.`
      );
    }
    return group;
  }

  // ---- rendering --------------------------------------------------------------------------------

  /** A resource as ARM returns it. */
  render(r: StoredResource, options: RenderOptions = {}): Json {
    if (r.type === RESOURCE_GROUP) {
      return {
        id: r.id,
        name: r.name,
        type: r.type,
        location: r.location,
        tags: clone(r.tags),
        ...clone(r.extra),
        properties: { provisioningState: stateOf(r.properties) },
      };
    }
    const kind = kindOf(r.type);
    const properties = kind?.renderProperties
      ? kind.renderProperties(this.store, r, options)
      : clone(r.properties);
    if (kind?.hideProvisioningState) delete properties.provisioningState;
    return {
      name: r.name,
      id: r.id,
      ...(r.type.startsWith('Microsoft.Network/') ? { etag: r.etag } : {}),
      type: r.type,
      location: r.location,
      tags: clone(r.tags),
      ...clone(r.extra),
      properties,
    };
  }

  private summary(r: StoredResource): Json {
    const { sku, zones, managedBy, kind } = r.extra;
    return {
      id: r.id,
      name: r.name,
      type: r.type,
      location: r.location,
      tags: clone(r.tags),
      sku,
      zones,
      managedBy,
      kind,
    };
  }

  private list(resources: StoredResource[], options: RenderOptions): ArmResponse {
    return { status: 200, body: { value: resources.map((r) => this.render(r, options)) } };
  }

  private subscriptionResources(req: ArmRequest, sub: string): ArmResponse {
    const type = /resourceType eq '([^']*)'/i.exec(req.url.searchParams.get('$filter') ?? '')?.[1];
    const tagged = tagFilter(req);
    const all = [...this.store.resources.values()].filter(
      (r) =>
        r.type !== RESOURCE_GROUP &&
        r.subscription.toLowerCase() === sub.toLowerCase() &&
        (type === undefined || r.type.toLowerCase() === type.toLowerCase()) &&
        tagged(r)
    );
    return { status: 200, body: { value: all.map((r) => this.summary(r)) } };
  }

  // ---- long-running operations -----------------------------------------------------------------

  private durationFor(type: string): number {
    const perType = this.config.lro.perType ?? {};
    const lookup = (t: string) =>
      Object.entries(perType).find(([k]) => k.toLowerCase() === t.toLowerCase())?.[1];
    const parent = type.split('/').length > 2 ? type.split('/').slice(0, 2).join('/') : undefined;
    return Math.max(
      0,
      lookup(type) ?? (parent !== undefined ? lookup(parent) : undefined) ?? this.config.lro.defaultMs ?? 0
    );
  }

  private startOperation(
    verb: Operation['verb'],
    target: { id: string; type: string; name: string; subscription: string; location: string },
    bodyKey: string,
    extra: Partial<Operation> = {}
  ): Operation {
    const now = Date.now();
    const op: Operation = {
      id: randomUUID(),
      subscription: target.subscription,
      namespace: target.type.split('/')[0] ?? 'Microsoft.Resources',
      location: target.location,
      verb,
      resourceId: target.id,
      resourceType: target.type,
      resourceName: target.name,
      startMs: now,
      endMs: now + this.durationFor(target.type),
      status: 'InProgress',
      bodyKey,
      scope: 'provider',
      ...extra,
    };
    this.store.operations.set(op.id.toLowerCase(), op);
    return op;
  }

  private operationUrls(req: ArmRequest, op: Operation): { status: string; result: string } {
    const api = encodeURIComponent(req.url.searchParams.get('api-version') ?? '');
    if (op.scope === 'subscription') {
      const url = `${req.base}/subscriptions/${op.subscription}/operationresults/${op.id}?api-version=${api}`;
      return { status: url, result: url };
    }
    const prefix = `${req.base}/subscriptions/${op.subscription}/providers/${op.namespace}/locations/${op.location}`;
    return {
      status: `${prefix}/operations/${op.id}?api-version=${api}`,
      result: `${prefix}/operationResults/${op.id}?api-version=${api}`,
    };
  }

  /** Headers of an LRO's first answer: Azure-AsyncOperation, plus Location for deletes and actions. */
  private lroHeaders(req: ArmRequest, op: Operation, withLocation: boolean): Record<string, string> {
    const urls = this.operationUrls(req, op);
    const headers: Record<string, string> = { 'Retry-After': String(this.config.pollRetryAfterSeconds) };
    if (op.scope === 'subscription') headers.Location = urls.result;
    else {
      headers['Azure-AsyncOperation'] = urls.status;
      if (withLocation) headers.Location = urls.result;
    }
    return headers;
  }

  private operationStatus(req: ArmRequest, opId: string, result: boolean): ArmResponse {
    const op = this.store.operation(opId);
    if (!op) throw new ArmError(404, 'OperationNotFound', `Operation ${opId} was not found.`);
    const retry = { 'Retry-After': String(this.config.pollRetryAfterSeconds) };
    if (result) {
      if (op.status === 'InProgress') {
        return { status: 202, headers: { ...retry, Location: this.operationUrls(req, op).result } };
      }
      if (op.status === 'Succeeded') return { status: 200 };
      const error = op.error ?? { code: 'OperationFailed', message: `Operation ${op.id} ${op.status}.` };
      return { status: 409, body: { error } };
    }
    return {
      status: 200,
      headers: op.status === 'InProgress' ? retry : {},
      body: {
        id: new URL(this.operationUrls(req, op).status).pathname,
        name: op.id,
        status: op.status,
        startTime: new Date(op.startMs).toISOString(),
        ...(op.status === 'InProgress' ? {} : { endTime: new Date(op.endMs).toISOString() }),
        ...(op.error ? { error: op.error } : {}),
      },
    };
  }

  /** Completes every operation whose duration has passed, oldest deadline first. */
  settle(now = Date.now()): void {
    const due = [...this.store.operations.values()]
      .filter((op) => op.status === 'InProgress' && op.endMs <= now)
      .sort((a, b) => a.endMs - b.endMs || a.startMs - b.startMs);
    for (const op of due) {
      if (op.status === 'InProgress') this.complete(op, now);
    }
  }

  private complete(op: Operation, now: number): void {
    op.status = 'Succeeded';
    if (op.scope === 'subscription') {
      const group = this.store.get(op.resourceId);
      if (group) this.removeGroup(group, now);
      return;
    }
    const found = this.store.resolve(op.resourceId);
    if (!found) {
      op.status = 'Failed';
      op.error = { code: 'ResourceNotFound', message: `Resource ${op.resourceId} no longer exists.` };
      return;
    }
    const { resource, child, collection } = found;
    const kind = kindOf(resource.type);
    if (child && collection) {
      if (op.verb === 'delete') {
        resource.properties[collection] = childrenOf(resource, collection).filter((c) => c !== child);
        resource.etag = newEtag();
      } else {
        child.properties.provisioningState = 'Succeeded';
      }
      return;
    }
    switch (op.verb) {
      case 'create':
      case 'update':
        this.setState(resource, 'Succeeded');
        kind?.onSucceeded?.(this.store, resource, op.verb === 'create', op.endMs);
        return;
      case 'delete':
        kind?.onDeleted?.(this.store, resource);
        this.cancelOperations(resource.id, now, op.id);
        this.store.remove(resource.id);
        return;
      case 'action':
        kind?.actions?.[op.action ?? '']?.complete(this.store, resource, op.endMs);
        return;
    }
  }

  private setState(resource: StoredResource, state: string): void {
    resource.properties.provisioningState = state;
    for (const child of kindOf(resource.type)?.children ?? []) {
      for (const entry of childrenOf(resource, child.collection)) entry.properties.provisioningState = state;
    }
  }

  /** Marks running operations on a resource (and its children) canceled. */
  private cancelOperations(id: string, now: number, except?: string): void {
    const key = keyOf(id);
    for (const op of this.store.operations.values()) {
      const k = keyOf(op.resourceId);
      if (op.status !== 'InProgress' || op.id === except || (k !== key && !k.startsWith(`${key}/`))) continue;
      op.status = 'Canceled';
      op.endMs = now;
      op.error = { code: 'Canceled', message: `Operation canceled: resource ${id} was deleted.` };
    }
  }

  private removeGroup(group: StoredResource, now: number): void {
    for (const r of this.store.inGroup(group.subscription, group.name)) {
      this.cancelOperations(r.id, now);
      this.store.remove(r.id);
    }
    this.store.remove(group.id);
  }

  /** Deletes a resource or child behind the client's back: no checks, no cascades, running operations canceled. */
  removeBehindTheBack(id: string): boolean {
    const found = this.store.resolve(id);
    if (!found) return false;
    const now = Date.now();
    const { resource, child, collection } = found;
    if (child && collection) {
      this.cancelOperations(child.id, now);
      resource.properties[collection] = childrenOf(resource, collection).filter((c) => c !== child);
      return true;
    }
    if (resource.type === RESOURCE_GROUP) {
      this.cancelOperations(resource.id, now);
      this.removeGroup(resource, now);
      return true;
    }
    this.cancelOperations(resource.id, now);
    return this.store.remove(resource.id);
  }

  // ---- resource groups --------------------------------------------------------------------------

  private resourceGroup(req: ArmRequest, sub: string, rg: string): ArmResponse {
    const existing = this.store.resourceGroup(sub, rg);
    switch (req.method) {
      case 'HEAD':
        return { status: existing ? 204 : 404 };
      case 'GET':
        if (!existing) throw resourceGroupNotFound(rg);
        return { status: 200, body: this.render(existing) };
      case 'PUT': {
        const body = this.parseBody(req);
        const location = normLocation(body.location);
        if (location === undefined)
          throw new ArmError(
            400,
            'LocationRequired',
            'The location property is required for this definition.'
          );
        const tags = parseTags(body.tags);
        if (existing) {
          this.group(sub, rg, true);
          if (existing.location !== location) {
            throw new ArmError(
              400,
              'InvalidResourceGroupLocation',
              `Invalid resource group location '${location}'. The Resource group already exists in location '${existing.location}'.`
            );
          }
          if (tags) existing.tags = tags;
          if (typeof body.managedBy === 'string') existing.extra.managedBy = body.managedBy;
          return { status: 200, body: this.render(existing) };
        }
        const group: StoredResource = {
          id: `/subscriptions/${sub}/resourceGroups/${rg}`,
          type: RESOURCE_GROUP,
          name: rg,
          subscription: sub,
          resourceGroup: rg,
          location,
          tags: tags ?? {},
          properties: { provisioningState: 'Succeeded' },
          extra: typeof body.managedBy === 'string' ? { managedBy: body.managedBy } : {},
          etag: newEtag(),
          internal: {},
        };
        this.store.put(group);
        return { status: 201, body: this.render(group) };
      }
      case 'PATCH': {
        if (!existing) throw resourceGroupNotFound(rg);
        this.group(sub, rg, true);
        const body = this.parseBody(req);
        const tags = parseTags(body.tags);
        if (tags) existing.tags = tags;
        if (typeof body.managedBy === 'string') existing.extra.managedBy = body.managedBy;
        return { status: 200, body: this.render(existing) };
      }
      case 'DELETE': {
        if (!existing) throw resourceGroupNotFound(rg);
        const running = [...this.store.operations.values()].find(
          (op) =>
            op.scope === 'subscription' &&
            op.status === 'InProgress' &&
            keyOf(op.resourceId) === keyOf(existing.id)
        );
        const op =
          running ??
          this.startOperation(
            'delete',
            {
              id: existing.id,
              type: RESOURCE_GROUP,
              name: existing.name,
              subscription: existing.subscription,
              location: existing.location,
            },
            '',
            { scope: 'subscription', namespace: 'Microsoft.Resources' }
          );
        existing.properties.provisioningState = 'Deleting';
        return { status: 202, headers: this.lroHeaders(req, op, true) };
      }
      default:
        throw methodNotAllowed(req.method);
    }
  }

  // ---- provider resources -----------------------------------------------------------------------

  private resource(req: ArmRequest, route: Extract<Route, { kind: 'resource' }>): ArmResponse {
    const kind = this.kind(route.ns, route.type, req);
    const group = this.group(route.sub, route.rg, req.method !== 'GET' && req.method !== 'HEAD');
    const id = `/subscriptions/${group.subscription}/resourceGroups/${group.name}/providers/${kind.type}/${route.name}`;
    const existing = this.store.get(id);
    switch (req.method) {
      case 'GET':
        if (!existing) throw resourceNotFound(kind.type, route.name, group.name);
        return { status: 200, body: this.render(existing, this.renderOptions(req)) };
      case 'HEAD':
        return { status: existing ? 204 : 404 };
      case 'PUT':
        return this.putResource(req, kind, group, id, route.name, existing);
      case 'PATCH': {
        if (!existing) throw resourceNotFound(kind.type, route.name, group.name);
        const busy = this.store.activeOperation(existing.id);
        if (busy) throw anotherOperation(existing.id, busy.verb);
        const body = this.parseBody(req);
        const tags = parseTags(body.tags);
        if (tags) existing.tags = tags;
        existing.etag = newEtag();
        return { status: 200, body: this.render(existing) };
      }
      case 'DELETE':
        return this.deleteResource(req, kind, existing);
      default:
        throw methodNotAllowed(req.method);
    }
  }

  /**
   * A PUT on a resource whose operation is still running: the same body gets that operation back
   * (an idempotent retry), anything else is refused as a conflict.
   */
  private repeatedPut(
    req: ArmRequest,
    id: string,
    bodyKey: string,
    busy: Operation,
    render: (() => Json) | undefined
  ): ArmResponse {
    if (
      render &&
      busy.verb !== 'delete' &&
      keyOf(busy.resourceId) === keyOf(id) &&
      busy.bodyKey === bodyKey
    ) {
      return {
        status: busy.verb === 'create' ? 201 : 200,
        headers: this.lroHeaders(req, busy, false),
        body: render(),
      };
    }
    throw anotherOperation(id, busy.verb);
  }

  private putResource(
    req: ArmRequest,
    kind: ResourceKind,
    group: StoredResource,
    id: string,
    name: string,
    existing: StoredResource | undefined
  ): ArmResponse {
    const body = this.parseBody(req);
    const bodyKey = canonicalJson(body);
    const busy = this.store.activeOperation(id);
    if (busy) return this.repeatedPut(req, id, bodyKey, busy, existing && (() => this.render(existing)));
    const location = normLocation(body.location) ?? existing?.location;
    if (location === undefined)
      throw new ArmError(400, 'LocationRequired', 'The location property is required for this definition.');
    if (existing && existing.location !== location) {
      throw new ArmError(
        400,
        'InvalidResourceLocation',
        `The resource '${name}' already exists in location '${existing.location}' in resource group '${group.name}'. A resource with the same name cannot be created in location '${location}'. Please select a new resource name.`
      );
    }
    const tags = parseTags(body.tags) ?? {};
    const extra: Json = {};
    for (const [k, v] of Object.entries(body)) if (!TOP_LEVEL.has(k)) extra[k] = clone(v);
    const prepared = kind.prepare({
      store: this.store,
      id: existing?.id ?? id,
      name: existing?.name ?? name,
      subscription: group.subscription,
      resourceGroup: group.name,
      location,
      props: obj(body.properties) ?? {},
      extra,
      existing,
    });
    const created = existing === undefined;
    const resource: StoredResource = {
      id: existing?.id ?? id,
      type: kind.type,
      name: existing?.name ?? name,
      subscription: group.subscription,
      resourceGroup: group.name,
      location,
      tags,
      properties: prepared.properties,
      extra: prepared.extra,
      etag: newEtag(),
      internal: { ...existing?.internal, ...prepared.internal },
    };
    this.store.put(resource);
    if (!kind.lro) {
      this.setState(resource, 'Succeeded');
      kind.onAccepted?.(this.store, resource, created);
      kind.onSucceeded?.(this.store, resource, created, Date.now());
      return { status: created ? 201 : 200, body: this.render(resource) };
    }
    this.setState(resource, created ? 'Creating' : 'Updating');
    kind.onAccepted?.(this.store, resource, created);
    const op = this.startOperation(created ? 'create' : 'update', resource, bodyKey);
    return {
      status: created ? 201 : 200,
      headers: this.lroHeaders(req, op, false),
      body: this.render(resource),
    };
  }

  private deleteResource(
    req: ArmRequest,
    kind: ResourceKind,
    existing: StoredResource | undefined
  ): ArmResponse {
    if (!existing) return { status: 204 };
    const busy = this.store.activeOperation(existing.id);
    if (busy) {
      if (busy.verb === 'delete' && keyOf(busy.resourceId) === keyOf(existing.id)) {
        return { status: 202, headers: this.lroHeaders(req, busy, true) };
      }
      throw anotherOperation(existing.id, busy.verb);
    }
    kind.checkDelete?.(this.store, existing);
    if (!kind.lro) {
      kind.onDeleted?.(this.store, existing);
      this.store.remove(existing.id);
      return { status: 200 };
    }
    this.setState(existing, 'Deleting');
    const op = this.startOperation('delete', existing, '');
    return { status: 202, headers: this.lroHeaders(req, op, true) };
  }

  // ---- child resources, actions and views -------------------------------------------------------

  private parentOf(
    req: ArmRequest,
    route: { sub: string; rg: string; ns: string; type: string; name: string },
    write: boolean
  ): { kind: ResourceKind; parent: StoredResource } {
    const kind = this.kind(route.ns, route.type, req);
    const group = this.group(route.sub, route.rg, write);
    const parent = this.store.get(
      `/subscriptions/${group.subscription}/resourceGroups/${group.name}/providers/${kind.type}/${route.name}`
    );
    if (!parent) throw resourceNotFound(kind.type, route.name, group.name);
    return { kind, parent };
  }

  private segment(req: ArmRequest, route: Extract<Route, { kind: 'resourceSegment' }>): ArmResponse {
    const { kind, parent } = this.parentOf(req, route, req.method !== 'GET');
    const seg = route.segment.toLowerCase();
    const child = kind.children?.find((c) => c.collection.toLowerCase() === seg);
    if (child && req.method === 'GET') {
      return {
        status: 200,
        body: { value: childrenOf(parent, child.collection).map((e) => child.render(this.store, parent, e)) },
      };
    }
    const view = kind.views?.[seg];
    if (view && req.method === 'GET') return { status: 200, body: view(this.store, parent) };
    const action = kind.actions?.[seg];
    if (action && req.method === 'POST') {
      const busy = this.store.activeOperation(parent.id);
      if (busy) throw anotherOperation(parent.id, busy.verb);
      action.begin(this.store, parent);
      const op = this.startOperation('action', parent, canonicalJson(req.body), { action: seg });
      return { status: 202, headers: this.lroHeaders(req, op, true) };
    }
    if (child || view || action) {
      throw methodNotAllowed(req.method);
    }
    throw new ArmError(404, 'NotFound', `${kind.type} has no '${route.segment}'.`);
  }

  private child(req: ArmRequest, route: Extract<Route, { kind: 'child' }>): ArmResponse {
    const { kind, parent } = this.parentOf(req, route, req.method !== 'GET');
    const childKind = kind.children?.find(
      (c) => c.collection.toLowerCase() === route.collection.toLowerCase()
    );
    if (!childKind) throw new ArmError(404, 'NotFound', `${kind.type} has no '${route.collection}'.`);
    const list = childrenOf(parent, childKind.collection);
    const existing = list.find((c) => c.name.toLowerCase() === route.child.toLowerCase());
    switch (req.method) {
      case 'GET':
        if (!existing)
          throw resourceNotFound(childKind.type, `${parent.name}/${route.child}`, parent.resourceGroup);
        return { status: 200, body: childKind.render(this.store, parent, existing) };
      case 'PUT':
        return this.putChild(req, kind, childKind, parent, route.child, existing);
      case 'DELETE': {
        if (!existing) return { status: 204 };
        const busy = this.store.activeOperation(existing.id, false);
        if (busy) {
          if (busy.verb === 'delete' && keyOf(busy.resourceId) === keyOf(existing.id)) {
            return { status: 202, headers: this.lroHeaders(req, busy, true) };
          }
          throw anotherOperation(existing.id, busy.verb);
        }
        childKind.checkDelete?.(this.store, parent, existing);
        existing.properties.provisioningState = 'Deleting';
        const op = this.startOperation('delete', this.childTarget(parent, childKind, existing), '');
        return { status: 202, headers: this.lroHeaders(req, op, true) };
      }
      default:
        throw methodNotAllowed(req.method);
    }
  }

  private childTarget(parent: StoredResource, childKind: ChildKind, child: ChildEntry) {
    return {
      id: child.id,
      type: childKind.type,
      name: child.name,
      subscription: parent.subscription,
      location: parent.location,
    };
  }

  private putChild(
    req: ArmRequest,
    kind: ResourceKind,
    childKind: ChildKind,
    parent: StoredResource,
    name: string,
    existing: ChildEntry | undefined
  ): ArmResponse {
    const body = this.parseBody(req);
    const bodyKey = canonicalJson(body);
    const id = existing?.id ?? `${parent.id}/${childKind.collection}/${name}`;
    const busy = this.store.activeOperation(id, false);
    if (busy) {
      return this.repeatedPut(
        req,
        id,
        bodyKey,
        busy,
        existing && (() => childKind.render(this.store, parent, existing))
      );
    }
    const entry: ChildEntry = {
      name: existing?.name ?? name,
      id,
      properties: clone(obj(body.properties) ?? {}),
    };
    entry.properties = childKind.prepare(this.store, parent, entry, existing);
    const created = existing === undefined;
    entry.properties.provisioningState = kind.lro ? (created ? 'Creating' : 'Updating') : 'Succeeded';
    const list = childrenOf(parent, childKind.collection).filter((c) => c !== existing);
    parent.properties[childKind.collection] = [...list, entry];
    parent.etag = newEtag();
    const rendered = childKind.render(this.store, parent, entry);
    if (!kind.lro) return { status: created ? 201 : 200, body: rendered };
    const op = this.startOperation(
      created ? 'create' : 'update',
      this.childTarget(parent, childKind, entry),
      bodyKey
    );
    return { status: created ? 201 : 200, headers: this.lroHeaders(req, op, false), body: rendered };
  }

  // ---- inspection -------------------------------------------------------------------------------

  /** Every resource, inline children included, optionally of one type (case-insensitive). */
  resources(type?: string): EmulatedResource[] {
    const out: EmulatedResource[] = [];
    for (const r of this.store.resources.values()) {
      const rendered = this.render(r);
      out.push({
        id: r.id,
        type: r.type,
        name: r.name,
        resourceGroup: r.resourceGroup,
        location: r.location,
        tags: clone(r.tags),
        provisioningState: stateOf(r.properties),
        properties: obj(rendered.properties) ?? {},
      });
      for (const child of kindOf(r.type)?.children ?? []) {
        for (const entry of childrenOf(r, child.collection)) {
          out.push({
            id: entry.id,
            type: child.type,
            name: entry.name,
            resourceGroup: r.resourceGroup,
            location: r.location,
            tags: {},
            provisioningState: stateOf(entry.properties),
            properties: obj(child.render(this.store, r, entry).properties) ?? {},
          });
        }
      }
    }
    return type === undefined ? out : out.filter((r) => r.type.toLowerCase() === type.toLowerCase());
  }
}
