/** Listings across the subscription or a resource group, tagged or not. */
import type { ArmEngine, Tags } from '../engine';
import { isNotFound, toArmFailure } from '../errors';

/** A resource as a subscription or group listing shows it. */
export interface ListedResource {
  id: string;
  type: string;
  name: string;
  resourceGroup: string;
  tags: Record<string, string>;
}

/**
 * Resource groups of the subscription carrying the tag `tagName` (with any value), and unless
 * `groupsOnly` its resources carrying it too.
 */
export async function listTagged(
  engine: ArmEngine,
  tagName: string,
  opts: { groupsOnly?: boolean } = {}
): Promise<ListedResource[]> {
  const signal = engine.options.signal();
  const filter = `tagName eq '${tagName}'`;
  const found: ListedResource[] = [];
  const { resources } = engine.clients;
  await engine.call(`list resources tagged ${tagName}`, signal, async (o) => {
    for await (const g of resources.resourceGroups.list({ ...o, filter })) found.push(listed(g));
    if (opts.groupsOnly) return;
    for await (const r of resources.resources.list({ ...o, filter })) found.push(listed(r));
  });
  return found;
}

/** Every resource of a resource group, tagged or not; empty when the group does not exist. */
export async function listGroupResources(
  engine: ArmEngine,
  resourceGroup: string
): Promise<ListedResource[]> {
  const signal = engine.options.signal();
  const found: ListedResource[] = [];
  try {
    for await (const r of engine.clients.resources.resources.listByResourceGroup(resourceGroup, {
      abortSignal: signal,
    }))
      found.push(listed(r));
  } catch (err) {
    if (isNotFound(err) && !signal.aborted) return [];
    throw toArmFailure(`list resources of ${resourceGroup}`, err, signal);
  }
  return found;
}

function listed(r: { id?: string; type?: string; name?: string; tags?: Tags }): ListedResource {
  const id = r.id ?? '';
  return {
    id,
    type: r.type ?? '',
    name: r.name ?? '',
    resourceGroup: /\/resourceGroups\/([^/]+)/i.exec(id)?.[1] ?? '',
    tags: r.tags ?? {},
  };
}
