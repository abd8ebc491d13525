/** The network security group and the inbound rules it must hold; rules others added are kept. */
import type { NetworkSecurityGroup, SecurityRule } from '@azure/arm-network';
import type { ArmEngine, DeploymentScope, Ensured, Handle } from '../engine';
import { networkHandle, same, tagDrift } from '../engine';

/** One inbound rule of the NSG. */
export interface NsgRuleSpec {
  name: string;
  priority: number;
  protocol: 'Tcp' | 'Udp' | '*';
  port: number | string;
  access: 'Allow' | 'Deny';
  direction: 'Inbound' | 'Outbound';
}

/** The NSG and the rules it must hold (other rules are kept). */
export interface NsgSpec {
  name: string;
  rules: NsgRuleSpec[];
}

/** The NSG `name` of the scope's resource group. */
export function nsgHandle(
  engine: ArmEngine,
  scope: DeploymentScope,
  name: string
): Handle<NetworkSecurityGroup> {
  return networkHandle('nsg', scope, name, engine.clients.network.networkSecurityGroups);
}

function rule(spec: NsgRuleSpec): SecurityRule {
  return {
    name: spec.name,
    protocol: spec.protocol,
    sourcePortRange: '*',
    destinationPortRange: String(spec.port),
    sourceAddressPrefix: '*',
    destinationAddressPrefix: '*',
    access: spec.access,
    priority: spec.priority,
    direction: spec.direction,
  };
}

function nsgDrift(
  engine: ArmEngine,
  scope: DeploymentScope,
  existing: NetworkSecurityGroup,
  spec: NsgSpec
): string[] {
  const drift = tagDrift(existing.tags, engine.tagsFor(scope));
  for (const want of spec.rules) {
    const have = existing.securityRules?.find((r) => same(r.name, want.name));
    if (!have) {
      drift.push(`rule ${want.name} is missing`);
      continue;
    }
    const ok =
      same(have.protocol, want.protocol) &&
      have.destinationPortRange === String(want.port) &&
      have.priority === want.priority &&
      same(have.access, want.access) &&
      same(have.direction, want.direction);
    if (!ok) {
      drift.push(
        `rule ${want.name} is ${have.access} ${have.protocol}/${have.destinationPortRange} priority ${have.priority}, ` +
          `want ${want.access} ${want.protocol}/${want.port} priority ${want.priority}`
      );
    }
  }
  return drift;
}

/** Creates the NSG with its rules, or adopts ours (rules someone else added are kept). */
export async function ensureNsg(
  engine: ArmEngine,
  scope: DeploymentScope,
  spec: NsgSpec
): Promise<Ensured<NetworkSecurityGroup>> {
  const handle = nsgHandle(engine, scope, spec.name);
  const ours = spec.rules.map((r) => rule(r));
  return engine.ensure(
    scope,
    handle,
    { location: scope.location, tags: engine.tagsFor(scope), securityRules: ours },
    (e) => nsgDrift(engine, scope, e, spec),
    (body, existing) => {
      const extra = (existing?.securityRules ?? [])
        .filter((r) => !spec.rules.some((w) => same(w.name, r.name)))
        .map(
          (r): SecurityRule => ({
            name: r.name,
            protocol: r.protocol,
            sourcePortRange: r.sourcePortRange,
            sourcePortRanges: r.sourcePortRanges,
            destinationPortRange: r.destinationPortRange,
            destinationPortRanges: r.destinationPortRanges,
            sourceAddressPrefix: r.sourceAddressPrefix,
            sourceAddressPrefixes: r.sourceAddressPrefixes,
            destinationAddressPrefix: r.destinationAddressPrefix,
            destinationAddressPrefixes: r.destinationAddressPrefixes,
            access: r.access,
            priority: r.priority,
            direction: r.direction,
            description: r.description,
          })
        );
      return { ...body, securityRules: [...ours, ...extra] };
    }
  );
}

/** Problems with the NSG and its rules; empty when fine. */
export async function inspectNsg(
  engine: ArmEngine,
  scope: DeploymentScope,
  spec: NsgSpec
): Promise<string[]> {
  return engine.inspect(scope, nsgHandle(engine, scope, spec.name), (e) => nsgDrift(engine, scope, e, spec));
}

export function nsgId(engine: ArmEngine, scope: DeploymentScope, nsg: string): string {
  return engine.resourceId(scope, 'Microsoft.Network', 'networkSecurityGroups', nsg);
}
