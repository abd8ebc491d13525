/** Parses ARM request paths (case-insensitive) into routes. */

/** What an ARM path addresses. */
export type Route =
  | { kind: 'subscription'; sub: string }
  | { kind: 'resourceGroups'; sub: string }
  | { kind: 'resourceGroup'; sub: string; rg: string }
  | { kind: 'groupResources'; sub: string; rg: string }
  | { kind: 'subscriptionResources'; sub: string }
  /** A resource type's collection, in a resource group or (without rg) the whole subscription. */
  | { kind: 'collection'; sub: string; rg?: string; ns: string; type: string }
  | { kind: 'resource'; sub: string; rg: string; ns: string; type: string; name: string }
  /** `{resource}/{segment}`: a child collection, an action (POST) or a view like instanceView (GET). */
  | {
      kind: 'resourceSegment';
      sub: string;
      rg: string;
      ns: string;
      type: string;
      name: string;
      segment: string;
    }
  | {
      kind: 'child';
      sub: string;
      rg: string;
      ns: string;
      type: string;
      name: string;
      collection: string;
      child: string;
    }
  /** An LRO status URL (`operations/{id}`) or result URL (`operationResults/{id}`). */
  | { kind: 'operation'; sub: string; opId: string; result: boolean }
  | { kind: 'unknown' };

function providerRoute(sub: string, rg: string, p: string[]): Route {
  const [ns, type, name, segment, child] = p;
  if (ns === undefined || type === undefined) return { kind: 'unknown' };
  if (name === undefined) return { kind: 'collection', sub, rg, ns, type };
  if (segment === undefined) return { kind: 'resource', sub, rg, ns, type, name };
  if (child === undefined) return { kind: 'resourceSegment', sub, rg, ns, type, name, segment };
  if (p.length === 5) return { kind: 'child', sub, rg, ns, type, name, collection: segment, child };
  return { kind: 'unknown' };
}

/** The route of an ARM path. */
export function parseRoute(pathname: string): Route {
  let segs: string[];
  try {
    segs = pathname
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    return { kind: 'unknown' };
  }
  const lower = segs.map((s) => s.toLowerCase());
  const sub = segs[1];
  if (lower[0] !== 'subscriptions' || sub === undefined) return { kind: 'unknown' };
  const rest = segs.slice(2);
  const restLower = lower.slice(2);
  if (rest.length === 0) return { kind: 'subscription', sub };
  if (restLower[0] === 'resourcegroups') {
    const rg = rest[1];
    if (rg === undefined) return { kind: 'resourceGroups', sub };
    if (rest.length === 2) return { kind: 'resourceGroup', sub, rg };
    if (rest.length === 3 && restLower[2] === 'resources') return { kind: 'groupResources', sub, rg };
    if (restLower[2] === 'providers') return providerRoute(sub, rg, rest.slice(3));
    return { kind: 'unknown' };
  }
  if (restLower[0] === 'resources' && rest.length === 1) return { kind: 'subscriptionResources', sub };
  if (restLower[0] === 'operationresults' && rest.length === 2) {
    return { kind: 'operation', sub, opId: rest[1] ?? '', result: true };
  }
  if (restLower[0] === 'providers') {
    // /providers/{ns}/locations/{location}/operations|operationResults/{id}
    if (
      rest.length === 6 &&
      restLower[2] === 'locations' &&
      (restLower[4] === 'operations' || restLower[4] === 'operationresults')
    ) {
      return { kind: 'operation', sub, opId: rest[5] ?? '', result: restLower[4] === 'operationresults' };
    }
    const [, ns, type] = rest;
    if (ns !== undefined && type !== undefined && rest.length === 3)
      return { kind: 'collection', sub, ns, type };
  }
  return { kind: 'unknown' };
}
