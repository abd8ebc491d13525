/** Helpers the per-type behaviours share: references between resources and property access. */
import { ArmError } from './errors';
import type { ChildEntry, Json, StoredResource } from './model';
import type { ArmStore } from './state';
import { keyOf } from './state';

/** The object at `value`, or undefined when it is not a plain object. */
export function obj(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

/** The string at `value`, or undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The `id` of a reference object like `{ id: "/subscriptions/…" }`, or undefined. */
export function refId(value: unknown): string | undefined {
  const id = str(obj(value)?.id);
  return id === undefined || id === '' ? undefined : id;
}

/** True when two ARM ids name the same resource. */
export function sameId(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && keyOf(a) === keyOf(b);
}

/** The provisioning state stored in a properties object. */
export function stateOf(properties: Json): string {
  return str(properties.provisioningState) ?? 'Succeeded';
}

/** A deep copy of JSON data. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** The children of a parent's inline collection. */
export function childrenOf(resource: StoredResource, collection: string): ChildEntry[] {
  const list = resource.properties[collection];
  return Array.isArray(list) ? (list as ChildEntry[]) : [];
}

/**
 * Resolves a reference that `by` makes to a resource of `type` (a child type like
 * '…/virtualNetworks/subnets' is resolved inside its parent). Missing → 400 InvalidResourceReference;
 * not Succeeded (the referenced resource or its parent) → 400 ReferencedResourceNotProvisioned.
 */
export function requireRef(
  store: ArmStore,
  id: string,
  type: string,
  by: string
): { resource: StoredResource; child?: ChildEntry } {
  const found = store.resolve(id);
  const actualType = found
    ? found.child
      ? `${found.resource.type}/${found.collection}`
      : found.resource.type
    : '';
  if (!found || actualType.toLowerCase() !== type.toLowerCase()) {
    throw new ArmError(
      400,
      'InvalidResourceReference',
      `Resource ${id} referenced by resource ${by} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.`
    );
  }
  for (const [what, props] of [
    [found.resource.id, found.resource.properties],
    ...(found.child ? [[found.child.id, found.child.properties] as const] : []),
  ] as const) {
    const state = stateOf(props);
    if (state !== 'Succeeded') {
      throw new ArmError(
        400,
        'ReferencedResourceNotProvisioned',
        `Cannot proceed with operation because resource ${what} used by resource ${by} is not in Succeeded state. Resource is in ${state} state.`
      );
    }
  }
  return found;
}
