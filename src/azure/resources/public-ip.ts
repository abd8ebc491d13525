/** Standard, static, zonal public IPs. */
import type { PublicIPAddress } from '@azure/arm-network';
import type { ArmEngine, DeploymentScope, Ensured, Handle } from '../engine';
import { networkHandle, same, tagDrift } from '../engine';

/** A Standard, static, zonal public IP. */
export interface PublicIpSpec {
  name: string;
  zone?: number;
}

/** The public IP `name` of the scope's resource group. */
export function pipHandle(engine: ArmEngine, scope: DeploymentScope, name: string): Handle<PublicIPAddress> {
  return networkHandle('public ip', scope, name, engine.clients.network.publicIPAddresses);
}

/** Creates a Standard static public IP in the zone, or adopts ours. */
export async function ensurePublicIp(
  engine: ArmEngine,
  scope: DeploymentScope,
  spec: PublicIpSpec
): Promise<Ensured<PublicIPAddress>> {
  const zones = spec.zone === undefined ? undefined : [String(spec.zone)];
  return engine.ensure(
    scope,
    pipHandle(engine, scope, spec.name),
    {
      location: scope.location,
      tags: engine.tagsFor(scope),
      sku: { name: 'Standard', tier: 'Regional' },
      zones,
      publicIPAllocationMethod: 'Static',
      publicIPAddressVersion: 'IPv4',
    },
    (e) => {
      const drift = tagDrift(e.tags, engine.tagsFor(scope));
      if (!same(e.sku?.name, 'Standard')) drift.push(`sku is ${e.sku?.name}, want Standard`);
      if (!same(e.publicIPAllocationMethod, 'Static')) drift.push('allocation is not Static');
      if ((e.zones ?? []).join(',') !== (zones ?? []).join(','))
        drift.push(`zones are [${(e.zones ?? []).join(',')}], want [${(zones ?? []).join(',')}]`);
      return drift;
    }
  );
}
