/**
 * Microsoft.Network behaviour: virtual networks with subnets, network security groups with rules, public
 * IP addresses (allocated deterministically) and network interfaces (private IPs from their subnet).
 */
import { ArmError, invalidParameter } from './errors';
import type { Ipv4Cidr } from '../../../src/config/cidr';
import {
  cidrContains,
  cidrOverlaps,
  cidrSize,
  formatIpv4,
  ipv4Number,
  networkOf,
} from '../../../src/config/cidr';
import type { ChildEntry, ChildKind, Json, PutContext, ResourceKind, StoredResource } from './model';
import { childrenOf, clone, obj, refId, requireRef, sameId, stateOf, str } from './common';
import type { ArmStore } from './state';
import { digest, keyOf } from './state';

/** ARM type of virtual networks. */
export const VNET = 'Microsoft.Network/virtualNetworks';
/** ARM type of subnets. */
export const SUBNET = `${VNET}/subnets`;
/** ARM type of network security groups. */
export const NSG = 'Microsoft.Network/networkSecurityGroups';
/** ARM type of security rules. */
export const RULE = `${NSG}/securityRules`;
/** ARM type of public IP addresses. */
export const PIP = 'Microsoft.Network/publicIPAddresses';
/** ARM type of network interfaces. */
export const NIC = 'Microsoft.Network/networkInterfaces';
const VM = 'Microsoft.Compute/virtualMachines';

function guid(id: string): string {
  const h = digest(`guid:${keyOf(id)}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** One IP configuration of a NIC, with the NIC it belongs to. */
interface NicConfig {
  nic: StoredResource;
  config: ChildEntry;
}

function nicConfigs(store: ArmStore): NicConfig[] {
  return store
    .ofType(NIC)
    .flatMap((nic) => childrenOf(nic, 'ipConfigurations').map((config) => ({ nic, config })));
}

function subnetUsers(store: ArmStore, subnetId: string): NicConfig[] {
  return nicConfigs(store).filter((c) => sameId(refId(c.config.properties.subnet), subnetId));
}

function pipUser(store: ArmStore, pipId: string): NicConfig | undefined {
  return nicConfigs(store).find((c) => sameId(refId(c.config.properties.publicIPAddress), pipId));
}

function nsgSubnets(store: ArmStore, nsgId: string): ChildEntry[] {
  return store
    .ofType(VNET)
    .flatMap((v) => childrenOf(v, 'subnets'))
    .filter((s) => sameId(refId(s.properties.networkSecurityGroup), nsgId));
}

function nsgNics(store: ArmStore, nsgId: string): StoredResource[] {
  return store.ofType(NIC).filter((n) => sameId(refId(n.properties.networkSecurityGroup), nsgId));
}

/** The VM whose network profile uses the NIC, if any. */
export function vmUsingNic(store: ArmStore, nicId: string): StoredResource | undefined {
  return store.ofType(VM).find((vm) => {
    const nics = obj(vm.properties.networkProfile)?.networkInterfaces;
    return Array.isArray(nics) && nics.some((n) => sameId(refId(n), nicId));
  });
}

// ---- subnets ------------------------------------------------------------------------------------

function subnetPrefixes(props: Json): string[] {
  const single = str(props.addressPrefix);
  if (single !== undefined) return [single];
  return Array.isArray(props.addressPrefixes)
    ? props.addressPrefixes.filter((p) => typeof p === 'string')
    : [];
}

function parsePrefixes(prefixes: string[], what: string): Ipv4Cidr[] {
  return prefixes.map((p) => {
    const cidr = networkOf(p);
    if (!cidr)
      throw new ArmError(
        400,
        'InvalidAddressPrefixFormat',
        `Address prefix ${p} of ${what} is not a valid IPv4 CIDR.`
      );
    return cidr;
  });
}

function vnetPrefixes(vnet: StoredResource): Ipv4Cidr[] {
  const list = obj(vnet.properties.addressSpace)?.addressPrefixes;
  return Array.isArray(list) ? parsePrefixes(list as string[], vnet.id) : [];
}

function prepareSubnet(
  store: ArmStore,
  vnetSpace: Ipv4Cidr[],
  entry: ChildEntry,
  siblings: ChildEntry[],
  existing: ChildEntry | undefined
): Json {
  const props = clone(entry.properties);
  for (const readOnly of ['provisioningState', 'ipConfigurations', 'purpose']) delete props[readOnly];
  const prefixes = subnetPrefixes(props);
  if (prefixes.length === 0) throw invalidParameter(`Subnet ${entry.name} has no addressPrefix.`);
  const own = parsePrefixes(prefixes, `subnet ${entry.name}`);
  for (const [i, cidr] of own.entries()) {
    if (!vnetSpace.some((space) => cidrContains(space, cidr))) {
      throw new ArmError(
        400,
        'NetcfgSubnetRangeOutsideVnet',
        `Subnet '${entry.name}' is not valid because its IP address range ${prefixes[i]} is outside the IP address range of the virtual network.`
      );
    }
  }
  for (const sibling of siblings) {
    const theirs = parsePrefixes(subnetPrefixes(sibling.properties), `subnet ${sibling.name}`);
    if (own.some((a) => theirs.some((b) => cidrOverlaps(a, b)))) {
      throw new ArmError(
        400,
        'NetcfgSubnetRangesOverlap',
        `Subnet '${entry.name}' is not valid because its IP address range overlaps with that of subnet '${sibling.name}'.`
      );
    }
  }
  if (existing && subnetPrefixes(existing.properties).join(',') !== prefixes.join(',')) {
    const users = subnetUsers(store, existing.id);
    if (users.length > 0) {
      throw new ArmError(
        400,
        'InUseSubnetCannotBeUpdated',
        `Subnet ${entry.name} is in use by ${users[0]?.config.id} and its address prefix cannot be changed.`
      );
    }
  }
  const nsgId = refId(props.networkSecurityGroup);
  if (nsgId !== undefined)
    props.networkSecurityGroup = { id: requireRef(store, nsgId, NSG, entry.id).resource.id };
  else delete props.networkSecurityGroup;
  return props;
}

function assertSubnetUnused(store: ArmStore, subnet: ChildEntry): void {
  const users = subnetUsers(store, subnet.id);
  if (users.length > 0) {
    throw new ArmError(
      400,
      'InUseSubnetCannotBeDeleted',
      `Subnet ${subnet.name} is in use by ${users[0]?.config.id} and cannot be deleted. In order to delete the subnet, delete all the resources within the subnet.`
    );
  }
}

const subnetKind: ChildKind = {
  collection: 'subnets',
  type: SUBNET,
  prepare(store, parent, entry, existing) {
    const siblings = childrenOf(parent, 'subnets').filter((s) => !sameId(s.id, entry.id));
    return prepareSubnet(store, vnetPrefixes(parent), entry, siblings, existing);
  },
  checkDelete(store, _parent, child) {
    assertSubnetUnused(store, child);
  },
  render(store, _parent, child) {
    const users = subnetUsers(store, child.id).map((u) => ({ id: u.config.id }));
    return {
      name: child.name,
      id: child.id,
      type: SUBNET,
      properties: { ...clone(child.properties), ...(users.length > 0 ? { ipConfigurations: users } : {}) },
    };
  },
};

function childEntries(list: unknown, parentId: string, collection: string, what: string): ChildEntry[] {
  if (!Array.isArray(list)) throw invalidParameter(`${what} must be an array.`);
  const seen = new Set<string>();
  return list.map((item) => {
    const name = str(obj(item)?.name);
    if (name === undefined || name === '') throw invalidParameter(`Every entry of ${what} needs a name.`);
    if (seen.has(name.toLowerCase())) throw invalidParameter(`${what} names ${name} twice.`);
    seen.add(name.toLowerCase());
    return {
      name,
      id: `${parentId}/${collection}/${name}`,
      properties: clone(obj(obj(item)?.properties) ?? {}),
    };
  });
}

/** Keeps the stored casing of children that already existed. */
function matchExisting(
  entries: ChildEntry[],
  existing: ChildEntry[]
): Array<[ChildEntry, ChildEntry | undefined]> {
  return entries.map((e) => {
    const old = existing.find((x) => x.name.toLowerCase() === e.name.toLowerCase());
    return [old ? { ...e, name: old.name, id: old.id } : e, old];
  });
}

const vnetKind: ResourceKind = {
  type: VNET,
  lro: true,
  children: [subnetKind],
  prepare(ctx: PutContext) {
    const props = clone(ctx.props);
    for (const readOnly of ['provisioningState', 'resourceGuid']) delete props[readOnly];
    const prefixes = obj(props.addressSpace)?.addressPrefixes;
    if (!Array.isArray(prefixes) || prefixes.length === 0 || prefixes.some((p) => typeof p !== 'string')) {
      throw invalidParameter('addressSpace.addressPrefixes must list at least one address prefix.');
    }
    const space = parsePrefixes(prefixes as string[], `virtual network ${ctx.name}`);
    const before = ctx.existing ? childrenOf(ctx.existing, 'subnets') : [];
    const wanted =
      props.subnets === undefined
        ? clone(before)
        : childEntries(props.subnets, ctx.id, 'subnets', 'properties.subnets');
    for (const gone of before.filter(
      (b) => !wanted.some((w) => w.name.toLowerCase() === b.name.toLowerCase())
    )) {
      assertSubnetUnused(ctx.store, gone);
    }
    const pairs = matchExisting(wanted, before);
    const subnets = pairs.map(([entry, old], i) => ({
      ...entry,
      properties: prepareSubnet(
        ctx.store,
        space,
        entry,
        pairs.filter((_, j) => j < i).map(([e]) => e),
        old
      ),
    }));
    props.addressSpace = { ...obj(props.addressSpace), addressPrefixes: prefixes };
    props.subnets = subnets;
    return { properties: props, extra: ctx.extra };
  },
  checkDelete(store, vnet) {
    for (const subnet of childrenOf(vnet, 'subnets')) assertSubnetUnused(store, subnet);
  },
  renderProperties(store, vnet) {
    return {
      ...clone(vnet.properties),
      resourceGuid: guid(vnet.id),
      subnets: childrenOf(vnet, 'subnets').map((s) => subnetKind.render(store, vnet, s)),
    };
  },
};

// ---- network security groups --------------------------------------------------------------------

const PROTOCOLS = ['Tcp', 'Udp', 'Icmp', 'Esp', 'Ah', '*'];

function pick(value: unknown, allowed: string[], what: string): string {
  const found = allowed.find((a) => a.toLowerCase() === String(value).toLowerCase());
  if (typeof value !== 'string' || found === undefined) {
    throw invalidParameter(`${what} must be one of ${allowed.join(', ')}; got ${JSON.stringify(value)}.`);
  }
  return found;
}

function prepareRule(entry: ChildEntry, siblings: ChildEntry[]): Json {
  const props = clone(entry.properties);
  delete props.provisioningState;
  props.protocol = pick(props.protocol, PROTOCOLS, `Security rule ${entry.name} protocol`);
  props.access = pick(props.access, ['Allow', 'Deny'], `Security rule ${entry.name} access`);
  props.direction = pick(props.direction, ['Inbound', 'Outbound'], `Security rule ${entry.name} direction`);
  const priority = props.priority;
  if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 100 || priority > 4096) {
    throw new ArmError(
      400,
      'SecurityRuleInvalidPriority',
      `Security rule ${entry.name} has invalid priority ${JSON.stringify(priority)}. Value provided: must be between 100 and 4096.`
    );
  }
  const clash = siblings.find(
    (s) => s.properties.priority === priority && String(s.properties.direction) === props.direction
  );
  if (clash) {
    throw new ArmError(
      400,
      'SecurityRuleConflict',
      `Security rule ${entry.name} conflicts with rule ${clash.name}. Rules cannot have the same Priority and Direction.`
    );
  }
  return props;
}

const ruleKind: ChildKind = {
  collection: 'securityRules',
  type: RULE,
  prepare(_store, parent, entry) {
    return prepareRule(
      entry,
      childrenOf(parent, 'securityRules').filter((r) => !sameId(r.id, entry.id))
    );
  },
  render(_store, _parent, child) {
    return { name: child.name, id: child.id, type: RULE, properties: clone(child.properties) };
  },
};

const DEFAULT_RULES: Array<[string, string, string, string, number, string]> = [
  ['AllowVnetInBound', 'VirtualNetwork', 'VirtualNetwork', 'Allow', 65000, 'Inbound'],
  ['AllowAzureLoadBalancerInBound', 'AzureLoadBalancer', '*', 'Allow', 65001, 'Inbound'],
  ['DenyAllInBound', '*', '*', 'Deny', 65500, 'Inbound'],
  ['AllowVnetOutBound', 'VirtualNetwork', 'VirtualNetwork', 'Allow', 65000, 'Outbound'],
  ['AllowInternetOutBound', '*', 'Internet', 'Allow', 65001, 'Outbound'],
  ['DenyAllOutBound', '*', '*', 'Deny', 65500, 'Outbound'],
];

function defaultRules(nsgId: string): Json[] {
  return DEFAULT_RULES.map(([name, source, destination, access, priority, direction]) => ({
    name,
    id: `${nsgId}/defaultSecurityRules/${name}`,
    type: `${NSG}/defaultSecurityRules`,
    properties: {
      provisioningState: 'Succeeded',
      protocol: '*',
      sourcePortRange: '*',
      destinationPortRange: '*',
      sourceAddressPrefix: source,
      destinationAddressPrefix: destination,
      access,
      priority,
      direction,
    },
  }));
}

const nsgKind: ResourceKind = {
  type: NSG,
  lro: true,
  children: [ruleKind],
  prepare(ctx) {
    const props = clone(ctx.props);
    for (const readOnly of [
      'provisioningState',
      'defaultSecurityRules',
      'networkInterfaces',
      'subnets',
      'resourceGuid',
    ]) {
      delete props[readOnly];
    }
    const before = ctx.existing ? childrenOf(ctx.existing, 'securityRules') : [];
    const wanted =
      props.securityRules === undefined
        ? clone(before)
        : childEntries(props.securityRules, ctx.id, 'securityRules', 'properties.securityRules');
    const pairs = matchExisting(wanted, before);
    props.securityRules = pairs.map(([entry], i) => ({
      ...entry,
      properties: prepareRule(
        entry,
        pairs.filter((_, j) => j < i).map(([e]) => e)
      ),
    }));
    return { properties: props, extra: ctx.extra };
  },
  checkDelete(store, nsg) {
    const user = nsgNics(store, nsg.id)[0]?.id ?? nsgSubnets(store, nsg.id)[0]?.id;
    if (user !== undefined) {
      throw new ArmError(
        400,
        'InUseNetworkSecurityGroupCannotBeDeleted',
        `Network security group ${nsg.id} cannot be deleted because it is in use by the following resources: ${user}.`
      );
    }
  },
  renderProperties(store, nsg) {
    const nics = nsgNics(store, nsg.id).map((n) => ({ id: n.id }));
    const subnets = nsgSubnets(store, nsg.id).map((s) => ({ id: s.id }));
    return {
      ...clone(nsg.properties),
      resourceGuid: guid(nsg.id),
      securityRules: childrenOf(nsg, 'securityRules').map((r) => ruleKind.render(store, nsg, r)),
      defaultSecurityRules: defaultRules(nsg.id),
      ...(nics.length > 0 ? { networkInterfaces: nics } : {}),
      ...(subnets.length > 0 ? { subnets } : {}),
    };
  },
};

// ---- public IP addresses ------------------------------------------------------------------------

/** A public address derived from the resource id: 20.a.b.c, unique among the emulator's public IPs. */
function allocatePublicIp(store: ArmStore, id: string): string {
  const used = new Set(store.ofType(PIP).map((p) => str(p.internal.ipAddress)));
  const h = digest(keyOf(id));
  let n =
    ipv4Number(
      `20.${parseInt(h.slice(0, 2), 16)}.${parseInt(h.slice(2, 4), 16)}.${1 + (parseInt(h.slice(4, 6), 16) % 254)}`
    ) ?? 0;
  const first = 20 * 2 ** 24;
  for (;;) {
    const last = n % 256;
    if (last !== 0 && last !== 255 && !used.has(formatIpv4(n))) return formatIpv4(n);
    n = n + 1 >= first + 2 ** 24 ? first + 1 : n + 1;
  }
}

const pipKind: ResourceKind = {
  type: PIP,
  lro: true,
  prepare(ctx) {
    const props = clone(ctx.props);
    for (const readOnly of ['provisioningState', 'ipAddress', 'ipConfiguration', 'resourceGuid'])
      delete props[readOnly];
    const extra = clone(ctx.extra);
    const sku = obj(extra.sku) ?? {};
    const skuName = pick(sku.name ?? 'Standard', ['Standard', 'Basic'], 'sku.name');
    extra.sku = { ...sku, name: skuName, tier: str(sku.tier) ?? 'Regional' };
    const method = pick(
      props.publicIPAllocationMethod ?? (skuName === 'Standard' ? 'Static' : 'Dynamic'),
      ['Static', 'Dynamic'],
      'publicIPAllocationMethod'
    );
    if (skuName === 'Standard' && method !== 'Static') {
      throw invalidParameter(`Standard sku publicIp ${ctx.id} must have AllocationMethod set to Static.`);
    }
    props.publicIPAllocationMethod = method;
    props.publicIPAddressVersion = pick(
      props.publicIPAddressVersion ?? 'IPv4',
      ['IPv4'],
      'publicIPAddressVersion'
    );
    props.idleTimeoutInMinutes ??= 4;
    const ipAddress = str(ctx.existing?.internal.ipAddress) ?? allocatePublicIp(ctx.store, ctx.id);
    return { properties: props, extra, internal: { ipAddress } };
  },
  checkDelete(store, pip) {
    const user = pipUser(store, pip.id);
    if (user) {
      throw new ArmError(
        400,
        'PublicIPAddressInUse',
        `Public IP address ${pip.id} can not be deleted since it is still allocated to resource ${user.config.id}. In order to delete the public IP, disassociate/detach the Public IP address from the resource.`
      );
    }
  },
  renderProperties(store, pip) {
    const user = pipUser(store, pip.id);
    const shown = stateOf(pip.properties) !== 'Creating';
    return {
      ...clone(pip.properties),
      resourceGuid: guid(pip.id),
      ...(shown && pip.internal.ipAddress !== undefined ? { ipAddress: pip.internal.ipAddress } : {}),
      ...(user ? { ipConfiguration: { id: user.config.id } } : {}),
    };
  },
};

// ---- network interfaces -------------------------------------------------------------------------

function allocatePrivateIp(subnet: Ipv4Cidr, used: Set<number>, subnetName: string): number {
  // Azure keeps the first four addresses and the last one of every subnet.
  for (let n = subnet.address + 4; n < subnet.address + cidrSize(subnet) - 1; n++) {
    if (!used.has(n)) return n;
  }
  throw new ArmError(400, 'SubnetIsFull', `Subnet ${subnetName} has no free private IP address.`);
}

function prepareNic(ctx: PutContext): Json {
  const { store } = ctx;
  const props = clone(ctx.props);
  for (const readOnly of ['provisioningState', 'virtualMachine', 'macAddress', 'resourceGuid'])
    delete props[readOnly];
  if (!Array.isArray(props.ipConfigurations) || props.ipConfigurations.length === 0) {
    throw invalidParameter(`Network interface ${ctx.id} must have at least one IP configuration.`);
  }
  const entries = childEntries(
    props.ipConfigurations,
    ctx.id,
    'ipConfigurations',
    'properties.ipConfigurations'
  );
  const before = ctx.existing ? childrenOf(ctx.existing, 'ipConfigurations') : [];
  const nsgId = refId(props.networkSecurityGroup);
  if (nsgId !== undefined)
    props.networkSecurityGroup = { id: requireRef(store, nsgId, NSG, ctx.id).resource.id };
  const others = nicConfigs(store).filter((c) => !sameId(c.nic.id, ctx.id));
  const used = new Map<string, Set<number>>();
  const usedIn = (subnetId: string) => {
    const k = keyOf(subnetId);
    let set = used.get(k);
    if (!set) {
      set = new Set(
        others
          .filter((c) => sameId(refId(c.config.properties.subnet), subnetId))
          .map((c) => ipv4Number(str(c.config.properties.privateIPAddress) ?? ''))
          .filter((n): n is number => n !== undefined)
      );
      used.set(k, set);
    }
    return set;
  };
  const pipsHere = new Set<string>();
  props.ipConfigurations = matchExisting(entries, before).map(([entry, old], i) => {
    const p = entry.properties;
    delete p.provisioningState;
    const subnetRef = refId(p.subnet);
    if (subnetRef === undefined)
      throw invalidParameter(`IP configuration ${entry.id} must reference a subnet.`);
    const subnet = requireRef(store, subnetRef, SUBNET, entry.id).child as ChildEntry;
    const [cidr] = parsePrefixes(subnetPrefixes(subnet.properties), `subnet ${subnet.name}`);
    if (!cidr) throw invalidParameter(`Subnet ${subnet.id} has no address prefix.`);
    const taken = usedIn(subnet.id);
    const method = pick(
      p.privateIPAllocationMethod ?? 'Dynamic',
      ['Dynamic', 'Static'],
      'privateIPAllocationMethod'
    );
    let ip: number | undefined;
    if (method === 'Static') {
      ip = ipv4Number(str(p.privateIPAddress) ?? '');
      if (ip === undefined || ip < cidr.address + 4 || ip >= cidr.address + cidrSize(cidr) - 1) {
        throw new ArmError(
          400,
          'PrivateIPAddressNotInSubnet',
          `IP configuration ${entry.id} asks for private IP address ${JSON.stringify(p.privateIPAddress)}, which is not a usable address of subnet ${subnet.id}.`
        );
      }
      if (taken.has(ip)) {
        throw new ArmError(
          400,
          'PrivateIPAddressInUse',
          `IP configuration ${entry.id} is using the private IP address ${formatIpv4(ip)} which is already allocated to another resource.`
        );
      }
    } else {
      const previous =
        old && sameId(refId(old.properties.subnet), subnet.id)
          ? ipv4Number(str(old.properties.privateIPAddress) ?? '')
          : undefined;
      ip =
        previous !== undefined && !taken.has(previous) ? previous : allocatePrivateIp(cidr, taken, subnet.id);
    }
    taken.add(ip);
    const pipRef = obj(p.publicIPAddress);
    const pipId = refId(pipRef);
    if (pipId !== undefined) {
      const pip = requireRef(store, pipId, PIP, entry.id).resource;
      const user = pipUser(store, pip.id);
      if ((user && !sameId(user.nic.id, ctx.id)) || pipsHere.has(keyOf(pip.id))) {
        throw new ArmError(
          400,
          'PublicIPAddressInUse',
          `Resource ${entry.id} is referencing public IP address ${pip.id} that is already allocated to resource ${user?.config.id ?? ctx.id}.`
        );
      }
      pipsHere.add(keyOf(pip.id));
      const deleteOption = str(obj(pipRef?.properties)?.deleteOption);
      p.publicIPAddress = { id: pip.id, ...(deleteOption ? { properties: { deleteOption } } : {}) };
    } else {
      delete p.publicIPAddress;
    }
    p.subnet = { id: subnet.id };
    p.privateIPAddress = formatIpv4(ip);
    p.privateIPAllocationMethod = method;
    p.privateIPAddressVersion = 'IPv4';
    p.primary ??= i === 0;
    return { name: entry.name, id: entry.id, properties: p };
  });
  return props;
}

const nicKind: ResourceKind = {
  type: NIC,
  lro: true,
  prepare(ctx) {
    return { properties: prepareNic(ctx), extra: ctx.extra };
  },
  checkDelete(store, nic) {
    const vm = vmUsingNic(store, nic.id);
    if (vm) {
      throw new ArmError(
        400,
        'NicInUse',
        `Network Interface ${nic.id} is used by existing resource ${vm.id}. In order to delete the network interface, it must be dissociated from the resource.`
      );
    }
  },
  renderProperties(store, nic) {
    const vm = vmUsingNic(store, nic.id);
    const state = stateOf(nic.properties);
    const mac = digest(`mac:${keyOf(nic.id)}`)
      .slice(0, 6)
      .toUpperCase();
    return {
      ...clone(nic.properties),
      resourceGuid: guid(nic.id),
      ipConfigurations: childrenOf(nic, 'ipConfigurations').map((c) => ({
        name: c.name,
        id: c.id,
        type: `${NIC}/ipConfigurations`,
        properties: { ...clone(c.properties), provisioningState: state },
      })),
      ...(vm
        ? {
            virtualMachine: { id: vm.id },
            macAddress: `00-0D-3A-${mac.slice(0, 2)}-${mac.slice(2, 4)}-${mac.slice(4, 6)}`,
          }
        : {}),
    };
  },
};

/** The Microsoft.Network types the emulator models. */
export const NETWORK_KINDS: ResourceKind[] = [vnetKind, nsgKind, pipKind, nicKind];

/** Removes a NIC a VM delete takes with it, and the public IPs its configurations mark for deletion. */
export function cascadeNicDelete(store: ArmStore, nicId: string): string[] {
  const nic = store.get(nicId);
  if (!nic) return [];
  const removed = [nic.id];
  store.remove(nic.id);
  for (const config of childrenOf(nic, 'ipConfigurations')) {
    const ref = obj(config.properties.publicIPAddress);
    const pipId = refId(ref);
    if (
      pipId !== undefined &&
      str(obj(ref?.properties)?.deleteOption)?.toLowerCase() === 'delete' &&
      store.remove(pipId)
    ) {
      removed.push(pipId);
    }
  }
  return removed;
}
