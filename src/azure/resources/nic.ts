/** Network interfaces in the subnet, with the NSG and a public IP. */
import type { NetworkInterface } from '@azure/arm-network';
import type { ArmEngine, DeploymentScope, Ensured, Handle } from '../engine';
import { networkHandle, same, tagDrift } from '../engine';
import { nsgId } from './nsg';

/** A NIC in the subnet, with the NSG and a public IP. */
export interface NicSpec {
  name: string;
  vnet: string;
  subnet: string;
  nsg: string;
  publicIp: string;
}

/** The NIC `name` of the scope's resource group. */
export function nicHandle(engine: ArmEngine, scope: DeploymentScope, name: string): Handle<NetworkInterface> {
  return networkHandle('nic', scope, name, engine.clients.network.networkInterfaces);
}

/** Creates a NIC in the subnet with the NSG and the public IP, or adopts ours. */
export async function ensureNic(
  engine: ArmEngine,
  scope: DeploymentScope,
  spec: NicSpec
): Promise<Ensured<NetworkInterface>> {
  const subnetId = `${engine.resourceId(scope, 'Microsoft.Network', 'virtualNetworks', spec.vnet)}/subnets/${spec.subnet}`;
  const nsgRef = nsgId(engine, scope, spec.nsg);
  const pipId = engine.resourceId(scope, 'Microsoft.Network', 'publicIPAddresses', spec.publicIp);
  return engine.ensure(
    scope,
    nicHandle(engine, scope, spec.name),
    {
      location: scope.location,
      tags: engine.tagsFor(scope),
      networkSecurityGroup: { id: nsgRef },
      ipConfigurations: [
        {
          name: 'ipconfig1',
          primary: true,
          privateIPAllocationMethod: 'Dynamic',
          subnet: { id: subnetId },
          publicIPAddress: { id: pipId },
        },
      ],
    },
    (e) => {
      const drift = tagDrift(e.tags, engine.tagsFor(scope));
      const ip = e.ipConfigurations?.[0];
      if (!same(e.networkSecurityGroup?.id, nsgRef)) drift.push(`nsg is not ${spec.nsg}`);
      if (!same(ip?.subnet?.id, subnetId)) drift.push(`subnet is not ${spec.subnet}`);
      if (!same(ip?.publicIPAddress?.id, pipId)) drift.push(`public ip is not ${spec.publicIp}`);
      return drift;
    }
  );
}
