/** The VNet and its one subnet with the NSG attached; other subnets and prefixes are kept. */
import type { Subnet, VirtualNetwork } from '@azure/arm-network';
import type { ArmEngine, DeploymentScope, Ensured, Handle } from '../engine';
import { networkHandle, same, tagDrift } from '../engine';
import { nsgId } from './nsg';

/** The VNet and its one subnet, with the NSG attached to the subnet. */
export interface VnetSpec {
  name: string;
  addressPrefix: string;
  subnet: { name: string; addressPrefix: string; nsg: string };
}

/** The VNet `name` of the scope's resource group. */
export function vnetHandle(engine: ArmEngine, scope: DeploymentScope, name: string): Handle<VirtualNetwork> {
  return networkHandle('vnet', scope, name, engine.clients.network.virtualNetworks);
}

function vnetDrift(
  engine: ArmEngine,
  scope: DeploymentScope,
  existing: VirtualNetwork,
  spec: VnetSpec
): string[] {
  const drift = tagDrift(existing.tags, engine.tagsFor(scope));
  if (!(existing.addressSpace?.addressPrefixes ?? []).includes(spec.addressPrefix))
    drift.push(`address space lacks ${spec.addressPrefix}`);
  const subnet = existing.subnets?.find((s) => same(s.name, spec.subnet.name));
  if (!subnet) drift.push(`subnet ${spec.subnet.name} is missing`);
  else {
    if (subnet.addressPrefix !== spec.subnet.addressPrefix)
      drift.push(`subnet ${spec.subnet.name} is ${subnet.addressPrefix}, want ${spec.subnet.addressPrefix}`);
    if (!same(subnet.networkSecurityGroup?.id, nsgId(engine, scope, spec.subnet.nsg)))
      drift.push(`subnet ${spec.subnet.name} is not attached to nsg ${spec.subnet.nsg}`);
  }
  return drift;
}

/** Creates the VNet with its subnet (NSG attached inline), or adopts ours; other subnets are kept. */
export async function ensureVnet(
  engine: ArmEngine,
  scope: DeploymentScope,
  spec: VnetSpec
): Promise<Ensured<VirtualNetwork>> {
  const subnet: Subnet = {
    name: spec.subnet.name,
    addressPrefix: spec.subnet.addressPrefix,
    networkSecurityGroup: { id: nsgId(engine, scope, spec.subnet.nsg) },
  };
  return engine.ensure(
    scope,
    vnetHandle(engine, scope, spec.name),
    {
      location: scope.location,
      tags: engine.tagsFor(scope),
      addressSpace: { addressPrefixes: [spec.addressPrefix] },
      subnets: [subnet],
    },
    (e) => vnetDrift(engine, scope, e, spec),
    (body, existing) => {
      const prefixes = existing?.addressSpace?.addressPrefixes ?? [];
      const others = (existing?.subnets ?? [])
        .filter((s) => !same(s.name, spec.subnet.name))
        .map(
          (s): Subnet => ({
            name: s.name,
            id: s.id,
            addressPrefix: s.addressPrefix,
            networkSecurityGroup: s.networkSecurityGroup,
          })
        );
      return {
        ...body,
        addressSpace: { addressPrefixes: [...new Set([...prefixes, spec.addressPrefix])] },
        subnets: [subnet, ...others],
      };
    }
  );
}

/** Problems with the VNet and its subnet; empty when fine. */
export async function inspectVnet(
  engine: ArmEngine,
  scope: DeploymentScope,
  spec: VnetSpec
): Promise<string[]> {
  return engine.inspect(scope, vnetHandle(engine, scope, spec.name), (e) =>
    vnetDrift(engine, scope, e, spec)
  );
}
