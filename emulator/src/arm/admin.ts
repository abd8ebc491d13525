/**
 * The admin API under /admin (no auth): counts, resources, faults, LRO timings, behind-the-back deletes,
 * reset. `/admin/hosts/*` belongs to the host world (emulator/src/hosts).
 */
import type { ArmResponse } from './errors';
import type { ArmedFault } from './faults';
import type { EmulatedResource, EmulatorCounts, FaultRule, LroTimings } from './types';

/** What the admin API acts on. */
export interface AdminTarget {
  counts(): EmulatorCounts;
  resources(type?: string): EmulatedResource[];
  faults(): ArmedFault[];
  setFaults(rules: FaultRule[]): void;
  lro(): LroTimings;
  setLro(lro: LroTimings | undefined): void;
  removeResource(id: string): boolean;
  reset(): void;
}

function bad(message: string): ArmResponse {
  return { status: 400, body: { error: { code: 'BadRequest', message } } };
}

function parse(body: string): { value?: unknown; error?: ArmResponse } {
  try {
    return { value: JSON.parse(body === '' ? 'null' : body) as unknown };
  } catch (err) {
    return { error: bad(`body is not JSON: ${(err as Error).message}`) };
  }
}

/** Answers one admin request (`path` is below /admin). */
export function handleAdmin(target: AdminTarget, method: string, url: URL, body: string): ArmResponse {
  const path = url.pathname.replace(/^\/admin/, '').replace(/\/+$/, '') || '/';
  const route = `${method} ${path}`;
  switch (route) {
    case 'GET /':
      return {
        status: 200,
        body: {
          routes: [
            'GET /admin/counts',
            'GET /admin/resources[?type=]',
            'DELETE /admin/resources?id=',
            'GET|PUT /admin/faults',
            'GET|PUT /admin/lro',
            'POST /admin/reset',
            'GET /admin/hosts/state',
            'GET /admin/hosts/counts',
            'GET|PUT /admin/hosts/faults',
            'GET|PUT /admin/hosts/timings',
            'POST /admin/hosts/wireguard/drop?interface=',
          ],
        },
      };
    case 'GET /counts':
      return { status: 200, body: target.counts() };
    case 'GET /resources':
      return { status: 200, body: target.resources(url.searchParams.get('type') ?? undefined) };
    case 'DELETE /resources': {
      const id = url.searchParams.get('id');
      if (!id) return bad('DELETE /admin/resources needs ?id=<ARM id>');
      const removed = target.removeResource(id);
      return { status: removed ? 200 : 404, body: { removed } };
    }
    case 'GET /faults':
      return { status: 200, body: target.faults() };
    case 'PUT /faults': {
      const { value, error } = parse(body);
      if (error) return error;
      try {
        target.setFaults(value as FaultRule[]);
      } catch (err) {
        return bad((err as Error).message);
      }
      return { status: 200, body: target.faults() };
    }
    case 'GET /lro':
      return { status: 200, body: target.lro() };
    case 'PUT /lro': {
      const { value, error } = parse(body);
      if (error) return error;
      const lro = value as LroTimings | null;
      const valid =
        lro !== null &&
        typeof lro === 'object' &&
        (lro.defaultMs === undefined || (typeof lro.defaultMs === 'number' && lro.defaultMs >= 0)) &&
        (lro.perType === undefined ||
          (typeof lro.perType === 'object' &&
            lro.perType !== null &&
            Object.values(lro.perType).every((v) => typeof v === 'number' && v >= 0)));
      if (!valid) return bad('lro must be { defaultMs?: number >= 0, perType?: { [type]: number >= 0 } }');
      target.setLro(lro);
      return { status: 200, body: target.lro() };
    }
    case 'POST /reset':
      target.reset();
      return { status: 200, body: {} };
    default:
      return { status: 404, body: { error: { code: 'NotFound', message: `no admin route ${route}` } } };
  }
}
