/**
 * The ARM adapter the Azure phases use: one method per need, each idempotent and safe to re-run after a
 * crash. An `ensure*` reads first; a missing resource is PUT, one of ours is adopted (and PUT again only
 * when its spec drifted), anyone else's is refused with `ForeignResource`. Waits poll the resource's
 * `provisioningState` with GETs, heartbeating, and stop as soon as the activity is cancelled.
 */
import type { SshPublicKeyResource, VirtualMachine } from '@azure/arm-compute';
import type {
  NetworkInterface,
  NetworkSecurityGroup,
  PublicIPAddress,
  SecurityRule,
  Subnet,
  VirtualNetwork,
} from '@azure/arm-network';
import type { ResourceGroup } from '@azure/arm-resources';
import { cancelSignal } from '../activities/work';
import type { ArmClients } from './clients';
import { ArmFailureTypes, armFailure, isNotFound, toArmFailure } from './errors';
import type { ArmKind } from './ownership';
import { osDiskName } from './ownership';
import { sleep } from './progress';
import type { AzureTarget } from './target';

/** Tag naming the deployment a resource belongs to: the ownership test. */
export const TAG_DEPLOYMENT = 'k0rdent-deployment';
/** Tag naming the person who deployed. */
export const TAG_OWNER = 'k0rdent-owner';
/** Tag naming the tool. */
export const TAG_CREATED_BY = 'created-by';
/** Value of `created-by`. */
export const CREATED_BY = 'k0rdent-deploy';

/** Where and for whom the adapter acts. */
export interface DeploymentScope {
  deploymentId: string;
  /** Deployer identity, for the `k0rdent-owner` and `owner` tags. */
  owner: string;
  resourceGroup: string;
  location: string;
}

/** Timing of the adapter; every duration has a default. */
export interface AdapterOptions {
  /** Longest delay between provisioning-state GETs. */
  pollIntervalMs: number;
  /** First delay of a wait; each next one doubles up to `pollIntervalMs`. */
  pollFirstMs: number;
  /** Longest wait for one resource to settle or disappear. */
  settleTimeoutMs: number;
  /** The signal that cancels SDK calls and waits (the activity's cancellation by default). */
  signal: () => AbortSignal;
}

/** Defaults: seconds between polls against Azure, a fraction of one against the local emulator. */
export function defaultAdapterOptions(target: AzureTarget): AdapterOptions {
  return {
    pollIntervalMs: target.cloud === 'emulator' ? 200 : 5_000,
    pollFirstMs: target.cloud === 'emulator' ? 50 : 1_000,
    settleTimeoutMs: 30 * 60_000,
    signal: cancelSignal,
  };
}

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

/** The VNet and its one subnet, with the NSG attached to the subnet. */
export interface VnetSpec {
  name: string;
  addressPrefix: string;
  subnet: { name: string; addressPrefix: string; nsg: string };
}

/** An SSH public key resource. */
export interface SshKeySpec {
  name: string;
  publicKey: string;
}

/** A Standard, static, zonal public IP. */
export interface PublicIpSpec {
  name: string;
  zone?: number;
}

/** A NIC in the subnet, with the NSG and a public IP. */
export interface NicSpec {
  name: string;
  vnet: string;
  subnet: string;
  nsg: string;
  publicIp: string;
}

/** A marketplace image, `publisher:offer:sku:version`. */
export interface ImageRef {
  publisher: string;
  offer: string;
  sku: string;
  version: string;
}

/** A Linux VM on an existing NIC. */
export interface VmSpec {
  name: string;
  size: string;
  image: ImageRef;
  zone?: number;
  priority: 'Regular' | 'Spot';
  /** Only sent for Spot VMs. */
  evictionPolicy?: 'Deallocate' | 'Delete';
  adminUsername: string;
  sshPublicKey: string;
  /** Base64 cloud-init; sent on create only (Azure neither returns nor lets one change it). */
  customData: string;
  osDiskSizeGb: number;
  nic: string;
}

/** What an `ensure*` did. */
export type EnsureOutcome = 'created' | 'updated' | 'adopted';

/** A resource after `ensure*`. */
export interface Ensured<T> {
  resource: T;
  outcome: EnsureOutcome;
}

/** What the adapter reports about a VM. */
export interface VmStatus {
  name: string;
  provisioningState?: string;
  /** `running`, `stopped`, `deallocated`, ... when the instance view was read. */
  powerState?: string;
  tags: Record<string, string>;
  /** The deployment that owns it, if tagged. */
  deployment?: string;
  osDiskName?: string;
  nicIds: string[];
  /** The provisioning failure Azure reports, if any. */
  failure?: { code: string; message: string };
}

/** A resource as a subscription or group listing shows it. */
export interface ListedResource {
  id: string;
  type: string;
  name: string;
  resourceGroup: string;
  tags: Record<string, string>;
}

/** Parses `publisher:offer:sku:version`. */
export function parseImageUrn(urn: string): ImageRef {
  const parts = urn.split(':');
  const [publisher, offer, sku, version] = parts;
  if (parts.length !== 4 || !publisher || !offer || !sku || !version) {
    throw armFailure(
      ArmFailureTypes.InvalidConfig,
      `azure.vm_image: "${urn}" is not an image URN publisher:offer:sku:version`
    );
  }
  return { publisher, offer, sku, version };
}

type Tags = Record<string, string>;
type Call = { abortSignal: AbortSignal };

/** How the adapter reaches one resource. */
interface Handle<T> {
  /** Short type for messages: `vnet`, `nsg`, `vm`, ... */
  type: string;
  name: string;
  get(o: Call): Promise<T>;
  put(body: T, o: Call): Promise<unknown>;
  /** Starts the delete; returns once ARM accepted it. */
  del(o: Call): Promise<unknown>;
  state(r: T): string | undefined;
  tags(r: T): Tags | undefined;
  /** Resource groups made by the Bash tool carry only `cluster-id`. */
  legacyOwnership?: boolean;
}

const STOPPED = new Set(['stopped', 'deallocated', 'stopping', 'deallocating']);
const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'cancelled']);

function isTerminal(state: string | undefined): boolean {
  return state === undefined || TERMINAL.has(state.toLowerCase());
}

function succeeded(state: string | undefined): boolean {
  return state === undefined || state.toLowerCase() === 'succeeded';
}

const same = (a: string | undefined, b: string | undefined) =>
  (a ?? '').toLowerCase() === (b ?? '').toLowerCase();
const normLocation = (l: string | undefined) => (l ?? '').replace(/\s+/g, '').toLowerCase();

function ownerOf(tags: Tags | undefined, legacy: boolean): string | undefined {
  return tags?.[TAG_DEPLOYMENT] ?? (legacy ? tags?.['cluster-id'] : undefined);
}

/**
 * Tags written when a resource is made and kept as they are afterwards: who deployed and when. A worker
 * on another machine (another deployer identity) must neither see drift in them nor rewrite them.
 */
const KEPT_TAGS = new Set(['created', 'owner', TAG_OWNER]);

function tagDrift(existing: Tags | undefined, desired: Tags): string[] {
  return Object.entries(desired)
    .filter(
      ([key, value]) => existing?.[key] !== value && !(KEPT_TAGS.has(key) && existing?.[key] !== undefined)
    )
    .map(([key, value]) => `tag ${key} is ${existing?.[key] ?? 'missing'}, want ${value}`);
}

function mergeTags(existing: Tags | undefined, desired: Tags): Tags {
  const merged = { ...existing, ...desired };
  for (const key of KEPT_TAGS) {
    const kept = existing?.[key];
    if (kept !== undefined) merged[key] = kept;
  }
  return merged;
}

/** The ARM adapter of one target. */
export class ArmAdapter {
  readonly options: AdapterOptions;

  constructor(
    readonly clients: ArmClients,
    options: Partial<AdapterOptions> = {}
  ) {
    this.options = { ...defaultAdapterOptions(clients.target), ...options };
  }

  /** ARM id of a resource of the scope's resource group. */
  resourceId(scope: DeploymentScope, provider: string, type: string, name: string): string {
    return `/subscriptions/${this.clients.target.subscriptionId}/resourceGroups/${scope.resourceGroup}/providers/${provider}/${type}/${name}`;
  }

  /** Tags every resource of the deployment carries. */
  tagsFor(scope: DeploymentScope): Tags {
    return { [TAG_DEPLOYMENT]: scope.deploymentId, [TAG_OWNER]: scope.owner, [TAG_CREATED_BY]: CREATED_BY };
  }

  // ---- resource group -------------------------------------------------------------------------

  private rgHandle(scope: DeploymentScope): Handle<ResourceGroup> {
    const rgs = this.clients.resources.resourceGroups;
    return {
      type: 'resource group',
      name: scope.resourceGroup,
      get: (o) => rgs.get(scope.resourceGroup, o),
      put: (body, o) => rgs.createOrUpdate(scope.resourceGroup, body, o),
      del: (o) => rgs.beginDelete(scope.resourceGroup, o),
      state: (r) => r.properties?.provisioningState,
      tags: (r) => r.tags,
      legacyOwnership: true,
    };
  }

  private rgSpec(scope: DeploymentScope): ResourceGroup {
    return {
      location: scope.location,
      tags: {
        ...this.tagsFor(scope),
        owner: scope.owner,
        'cluster-id': scope.deploymentId,
        created: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
    };
  }

  private rgDrift(existing: ResourceGroup, desired: ResourceGroup): string[] {
    const drift = tagDrift(existing.tags, desired.tags ?? {});
    if (normLocation(existing.location) !== normLocation(desired.location))
      drift.push(`location is ${existing.location}, want ${desired.location}`);
    return drift;
  }

  /** True when the resource group exists (whoever owns it). */
  async resourceGroupExists(scope: DeploymentScope): Promise<boolean> {
    const signal = this.options.signal();
    try {
      const { body } = await this.clients.resources.resourceGroups.checkExistence(scope.resourceGroup, {
        abortSignal: signal,
      });
      return body;
    } catch (err) {
      throw toArmFailure(`read resource group ${scope.resourceGroup}`, err, signal);
    }
  }

  /** Creates the resource group with its tags, or adopts ours. */
  async ensureResourceGroup(scope: DeploymentScope): Promise<Ensured<ResourceGroup>> {
    const desired = this.rgSpec(scope);
    return this.ensure(scope, this.rgHandle(scope), desired, (e) => this.rgDrift(e, desired));
  }

  /** Problems with the resource group (missing, foreign, not succeeded, drifted); empty when fine. */
  async inspectResourceGroup(scope: DeploymentScope): Promise<string[]> {
    const desired = this.rgSpec(scope);
    return this.inspect(scope, this.rgHandle(scope), (e) => this.rgDrift(e, desired));
  }

  /** Deletes our resource group and waits until it is gone; false when there was none. */
  async deleteResourceGroup(scope: DeploymentScope): Promise<boolean> {
    return this.deleteOwned(scope, this.rgHandle(scope));
  }

  // ---- network security group -----------------------------------------------------------------

  private nsgHandle(scope: DeploymentScope, name: string): Handle<NetworkSecurityGroup> {
    const nsgs = this.clients.network.networkSecurityGroups;
    return {
      type: 'nsg',
      name,
      get: (o) => nsgs.get(scope.resourceGroup, name, o),
      put: (body, o) => nsgs.beginCreateOrUpdate(scope.resourceGroup, name, body, o),
      del: (o) => nsgs.beginDelete(scope.resourceGroup, name, o),
      state: (r) => r.provisioningState,
      tags: (r) => r.tags,
    };
  }

  private static rule(spec: NsgRuleSpec): SecurityRule {
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

  private nsgDrift(scope: DeploymentScope, existing: NetworkSecurityGroup, spec: NsgSpec): string[] {
    const drift = tagDrift(existing.tags, this.tagsFor(scope));
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
  async ensureNsg(scope: DeploymentScope, spec: NsgSpec): Promise<Ensured<NetworkSecurityGroup>> {
    const handle = this.nsgHandle(scope, spec.name);
    const ours = spec.rules.map((r) => ArmAdapter.rule(r));
    return this.ensure(
      scope,
      handle,
      { location: scope.location, tags: this.tagsFor(scope), securityRules: ours },
      (e) => this.nsgDrift(scope, e, spec),
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
  async inspectNsg(scope: DeploymentScope, spec: NsgSpec): Promise<string[]> {
    return this.inspect(scope, this.nsgHandle(scope, spec.name), (e) => this.nsgDrift(scope, e, spec));
  }

  // ---- virtual network ------------------------------------------------------------------------

  private vnetHandle(scope: DeploymentScope, name: string): Handle<VirtualNetwork> {
    const vnets = this.clients.network.virtualNetworks;
    return {
      type: 'vnet',
      name,
      get: (o) => vnets.get(scope.resourceGroup, name, o),
      put: (body, o) => vnets.beginCreateOrUpdate(scope.resourceGroup, name, body, o),
      del: (o) => vnets.beginDelete(scope.resourceGroup, name, o),
      state: (r) => r.provisioningState,
      tags: (r) => r.tags,
    };
  }

  private nsgId(scope: DeploymentScope, nsg: string): string {
    return this.resourceId(scope, 'Microsoft.Network', 'networkSecurityGroups', nsg);
  }

  private vnetDrift(scope: DeploymentScope, existing: VirtualNetwork, spec: VnetSpec): string[] {
    const drift = tagDrift(existing.tags, this.tagsFor(scope));
    if (!(existing.addressSpace?.addressPrefixes ?? []).includes(spec.addressPrefix))
      drift.push(`address space lacks ${spec.addressPrefix}`);
    const subnet = existing.subnets?.find((s) => same(s.name, spec.subnet.name));
    if (!subnet) drift.push(`subnet ${spec.subnet.name} is missing`);
    else {
      if (subnet.addressPrefix !== spec.subnet.addressPrefix)
        drift.push(
          `subnet ${spec.subnet.name} is ${subnet.addressPrefix}, want ${spec.subnet.addressPrefix}`
        );
      if (!same(subnet.networkSecurityGroup?.id, this.nsgId(scope, spec.subnet.nsg)))
        drift.push(`subnet ${spec.subnet.name} is not attached to nsg ${spec.subnet.nsg}`);
    }
    return drift;
  }

  /** Creates the VNet with its subnet (NSG attached inline), or adopts ours; other subnets are kept. */
  async ensureVnet(scope: DeploymentScope, spec: VnetSpec): Promise<Ensured<VirtualNetwork>> {
    const subnet: Subnet = {
      name: spec.subnet.name,
      addressPrefix: spec.subnet.addressPrefix,
      networkSecurityGroup: { id: this.nsgId(scope, spec.subnet.nsg) },
    };
    return this.ensure(
      scope,
      this.vnetHandle(scope, spec.name),
      {
        location: scope.location,
        tags: this.tagsFor(scope),
        addressSpace: { addressPrefixes: [spec.addressPrefix] },
        subnets: [subnet],
      },
      (e) => this.vnetDrift(scope, e, spec),
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
  async inspectVnet(scope: DeploymentScope, spec: VnetSpec): Promise<string[]> {
    return this.inspect(scope, this.vnetHandle(scope, spec.name), (e) => this.vnetDrift(scope, e, spec));
  }

  // ---- SSH public key -------------------------------------------------------------------------

  private sshKeyHandle(scope: DeploymentScope, name: string): Handle<SshPublicKeyResource> {
    const keys = this.clients.compute.sshPublicKeys;
    return {
      type: 'ssh key',
      name,
      get: (o) => keys.get(scope.resourceGroup, name, o),
      put: (body, o) =>
        keys.create(scope.resourceGroup, name, { ...body, location: body.location ?? scope.location }, o),
      del: (o) => keys.delete(scope.resourceGroup, name, o),
      state: () => undefined,
      tags: (r) => r.tags,
    };
  }

  private sshKeyDrift(
    scope: DeploymentScope,
    existing: SshPublicKeyResource,
    spec: { name: string; publicKey?: string }
  ): string[] {
    const drift = tagDrift(existing.tags, this.tagsFor(scope));
    if (spec.publicKey !== undefined && (existing.publicKey ?? '').trim() !== spec.publicKey.trim())
      drift.push('public key differs');
    return drift;
  }

  /** Registers the deployment's SSH public key, or adopts ours. */
  async ensureSshPublicKey(scope: DeploymentScope, spec: SshKeySpec): Promise<Ensured<SshPublicKeyResource>> {
    return this.ensure(
      scope,
      this.sshKeyHandle(scope, spec.name),
      { location: scope.location, tags: this.tagsFor(scope), publicKey: spec.publicKey.trim() },
      (e) => this.sshKeyDrift(scope, e, spec)
    );
  }

  /** Problems with the SSH key resource; empty when fine. Without a key text only presence and owner count. */
  async inspectSshPublicKey(
    scope: DeploymentScope,
    spec: { name: string; publicKey?: string }
  ): Promise<string[]> {
    return this.inspect(scope, this.sshKeyHandle(scope, spec.name), (e) => this.sshKeyDrift(scope, e, spec));
  }

  // ---- public IP ------------------------------------------------------------------------------

  private pipHandle(scope: DeploymentScope, name: string): Handle<PublicIPAddress> {
    const pips = this.clients.network.publicIPAddresses;
    return {
      type: 'public ip',
      name,
      get: (o) => pips.get(scope.resourceGroup, name, o),
      put: (body, o) => pips.beginCreateOrUpdate(scope.resourceGroup, name, body, o),
      del: (o) => pips.beginDelete(scope.resourceGroup, name, o),
      state: (r) => r.provisioningState,
      tags: (r) => r.tags,
    };
  }

  /** Creates a Standard static public IP in the zone, or adopts ours. */
  async ensurePublicIp(scope: DeploymentScope, spec: PublicIpSpec): Promise<Ensured<PublicIPAddress>> {
    const zones = spec.zone === undefined ? undefined : [String(spec.zone)];
    return this.ensure(
      scope,
      this.pipHandle(scope, spec.name),
      {
        location: scope.location,
        tags: this.tagsFor(scope),
        sku: { name: 'Standard', tier: 'Regional' },
        zones,
        publicIPAllocationMethod: 'Static',
        publicIPAddressVersion: 'IPv4',
      },
      (e) => {
        const drift = tagDrift(e.tags, this.tagsFor(scope));
        if (!same(e.sku?.name, 'Standard')) drift.push(`sku is ${e.sku?.name}, want Standard`);
        if (!same(e.publicIPAllocationMethod, 'Static')) drift.push('allocation is not Static');
        if ((e.zones ?? []).join(',') !== (zones ?? []).join(','))
          drift.push(`zones are [${(e.zones ?? []).join(',')}], want [${(zones ?? []).join(',')}]`);
        return drift;
      }
    );
  }

  // ---- network interface ----------------------------------------------------------------------

  private nicHandle(scope: DeploymentScope, name: string): Handle<NetworkInterface> {
    const nics = this.clients.network.networkInterfaces;
    return {
      type: 'nic',
      name,
      get: (o) => nics.get(scope.resourceGroup, name, o),
      put: (body, o) => nics.beginCreateOrUpdate(scope.resourceGroup, name, body, o),
      del: (o) => nics.beginDelete(scope.resourceGroup, name, o),
      state: (r) => r.provisioningState,
      tags: (r) => r.tags,
    };
  }

  /** Creates a NIC in the subnet with the NSG and the public IP, or adopts ours. */
  async ensureNic(scope: DeploymentScope, spec: NicSpec): Promise<Ensured<NetworkInterface>> {
    const subnetId = `${this.resourceId(scope, 'Microsoft.Network', 'virtualNetworks', spec.vnet)}/subnets/${spec.subnet}`;
    const nsgId = this.nsgId(scope, spec.nsg);
    const pipId = this.resourceId(scope, 'Microsoft.Network', 'publicIPAddresses', spec.publicIp);
    return this.ensure(
      scope,
      this.nicHandle(scope, spec.name),
      {
        location: scope.location,
        tags: this.tagsFor(scope),
        networkSecurityGroup: { id: nsgId },
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
        const drift = tagDrift(e.tags, this.tagsFor(scope));
        const ip = e.ipConfigurations?.[0];
        if (!same(e.networkSecurityGroup?.id, nsgId)) drift.push(`nsg is not ${spec.nsg}`);
        if (!same(ip?.subnet?.id, subnetId)) drift.push(`subnet is not ${spec.subnet}`);
        if (!same(ip?.publicIPAddress?.id, pipId)) drift.push(`public ip is not ${spec.publicIp}`);
        return drift;
      }
    );
  }

  // ---- virtual machine ------------------------------------------------------------------------

  private vmHandle(scope: DeploymentScope, name: string): Handle<VirtualMachine> {
    const vms = this.clients.compute.virtualMachines;
    return {
      type: 'vm',
      name,
      get: (o) => vms.get(scope.resourceGroup, name, { ...o, expand: 'instanceView' }),
      put: (body, o) => vms.createOrUpdate(scope.resourceGroup, name, body, o).submitted(),
      del: (o) => vms.delete(scope.resourceGroup, name, o).submitted(),
      state: (r) => r.provisioningState,
      tags: (r) => r.tags,
    };
  }

  private vmDrift(scope: DeploymentScope, e: VirtualMachine, spec: VmSpec, nicId: string): string[] {
    const drift = tagDrift(e.tags, this.tagsFor(scope));
    if (!same(e.hardwareProfile?.vmSize, spec.size))
      drift.push(`size is ${e.hardwareProfile?.vmSize}, want ${spec.size}`);
    const image = e.storageProfile?.imageReference;
    const urn = (i: Partial<ImageRef> | undefined) => [i?.publisher, i?.offer, i?.sku, i?.version].join(':');
    if (!same(urn(image), urn(spec.image))) drift.push(`image is ${urn(image)}, want ${urn(spec.image)}`);
    const zones = spec.zone === undefined ? '' : String(spec.zone);
    if ((e.zones ?? []).join(',') !== zones)
      drift.push(`zones are [${(e.zones ?? []).join(',')}], want [${zones}]`);
    if (!same(e.priority ?? 'Regular', spec.priority))
      drift.push(`priority is ${e.priority}, want ${spec.priority}`);
    if (spec.priority === 'Spot' && !same(e.evictionPolicy, spec.evictionPolicy))
      drift.push(`eviction policy is ${e.evictionPolicy}, want ${spec.evictionPolicy}`);
    if (!same(e.osProfile?.adminUsername, spec.adminUsername))
      drift.push(`admin user is ${e.osProfile?.adminUsername}`);
    const key = e.osProfile?.linuxConfiguration?.ssh?.publicKeys?.[0]?.keyData;
    if ((key ?? '').trim() !== spec.sshPublicKey.trim()) drift.push('ssh key differs');
    if (!(e.networkProfile?.networkInterfaces ?? []).some((n) => same(n.id, nicId)))
      drift.push(`nic is not ${spec.nic}`);
    return drift;
  }

  /** Creates the VM on its NIC, or adopts ours; a VM whose provisioning failed is deleted and made again. */
  async ensureVm(scope: DeploymentScope, spec: VmSpec): Promise<Ensured<VirtualMachine>> {
    const nicId = this.resourceId(scope, 'Microsoft.Network', 'networkInterfaces', spec.nic);
    const spot = spec.priority === 'Spot';
    const desired: VirtualMachine = {
      location: scope.location,
      tags: this.tagsFor(scope),
      zones: spec.zone === undefined ? undefined : [String(spec.zone)],
      hardwareProfile: { vmSize: spec.size },
      storageProfile: {
        imageReference: { ...spec.image },
        osDisk: {
          name: osDiskName(spec.name),
          createOption: 'FromImage',
          diskSizeGB: spec.osDiskSizeGb,
          deleteOption: 'Delete',
        },
      },
      osProfile: {
        computerName: spec.name,
        adminUsername: spec.adminUsername,
        customData: spec.customData,
        linuxConfiguration: {
          disablePasswordAuthentication: true,
          ssh: {
            publicKeys: [
              { path: `/home/${spec.adminUsername}/.ssh/authorized_keys`, keyData: spec.sshPublicKey.trim() },
            ],
          },
        },
      },
      networkProfile: { networkInterfaces: [{ id: nicId, primary: true, deleteOption: 'Delete' }] },
      priority: spec.priority,
      evictionPolicy: spot ? (spec.evictionPolicy ?? 'Deallocate') : undefined,
      billingProfile: spot ? { maxPrice: -1 } : undefined,
    };
    const ensured = await this.ensure(
      scope,
      this.vmHandle(scope, spec.name),
      desired,
      (e) => this.vmDrift(scope, e, spec, nicId),
      (body, existing) => {
        if (!existing || !body.osProfile) return body;
        // customData cannot change on an existing VM and is never returned: leave it out of updates.
        const osProfile = { ...body.osProfile };
        delete osProfile.customData;
        return { ...body, osProfile };
      },
      { recreateWhenFailed: true, failureOf: (vm) => vmFailure(vm) }
    );
    const power = vmStatus(spec.name, ensured.resource).powerState;
    if (power !== undefined && STOPPED.has(power.toLowerCase())) {
      return { resource: await this.startVm(scope, spec.name), outcome: 'updated' };
    }
    return ensured;
  }

  /** Starts a stopped or deallocated VM (a Spot eviction, a manual stop) and waits until it runs. */
  private async startVm(scope: DeploymentScope, name: string): Promise<VirtualMachine> {
    const signal = this.options.signal();
    const handle = this.vmHandle(scope, name);
    const action = `start vm ${name}`;
    await this.call(action, signal, (o) =>
      this.clients.compute.virtualMachines.start(scope.resourceGroup, name, o).submitted()
    );
    const deadline = Date.now() + this.options.settleTimeoutMs;
    for (let look = 0; ; look++) {
      const vm = await this.find(handle, signal);
      if (vm === undefined) {
        throw armFailure(
          ArmFailureTypes.OperationFailed,
          `${action}: ResourceNotFound: vm ${name} disappeared`
        );
      }
      const power = vmStatus(name, vm).powerState;
      if (power === undefined || power.toLowerCase() === 'running') return vm;
      if (Date.now() >= deadline) {
        throw armFailure(ArmFailureTypes.Timeout, `${action}: Timeout: vm ${name} is still ${power}`);
      }
      await this.pause(action, signal, look);
    }
  }

  /** A VM's provisioning and power state, or undefined when it does not exist. */
  async getVm(scope: DeploymentScope, name: string): Promise<VmStatus | undefined> {
    const signal = this.options.signal();
    const vm = await this.find(this.vmHandle(scope, name), signal);
    return vm && vmStatus(name, vm);
  }

  /** The VMs of the resource group (without power state); empty when the group does not exist. */
  async listVms(scope: DeploymentScope): Promise<VmStatus[]> {
    const signal = this.options.signal();
    const found: VmStatus[] = [];
    try {
      for await (const vm of this.clients.compute.virtualMachines.list(scope.resourceGroup, {
        abortSignal: signal,
      })) {
        found.push(vmStatus(vm.name ?? '', vm));
      }
    } catch (err) {
      if (isNotFound(err)) return [];
      throw toArmFailure(`list vm in ${scope.resourceGroup}`, err, signal);
    }
    return found;
  }

  /**
   * Deletes our VM and waits until it is gone, then its NIC (then public IP) and its OS disk in
   * parallel. Each part missing already is fine, so a retried rollback finishes the job. False when
   * none of them existed.
   */
  async deleteVm(scope: DeploymentScope, name: string): Promise<boolean> {
    const signal = this.options.signal();
    const vm = await this.find(this.vmHandle(scope, name), signal);
    let osDisk = osDiskName(name);
    let any = false;
    if (vm) {
      osDisk = vm.storageProfile?.osDisk?.name ?? osDisk;
      any = await this.deleteOwned(scope, this.vmHandle(scope, name));
    }
    const [nicAndIp, disk] = await Promise.all([
      (async () => {
        const nic = await this.deleteOwned(scope, this.nicHandle(scope, `${name}-nic`));
        const pip = await this.deleteOwned(scope, this.pipHandle(scope, `${name}-pip`));
        return nic || pip;
      })(),
      this.deleteDisk(scope, osDisk),
    ]);
    return any || nicAndIp || disk;
  }

  // The OS disk is made by Azure and carries no tags of its own: it is ours when untagged in our
  // resource group under the name our VM gave it, refused only when tagged for another deployment.
  private async deleteDisk(scope: DeploymentScope, name: string): Promise<boolean> {
    const disks = this.clients.compute.disks;
    const handle: Handle<{ tags?: Tags; provisioningState?: string }> = {
      type: 'disk',
      name,
      get: (o) => disks.get(scope.resourceGroup, name, o),
      put: () => Promise.reject(new Error('disks are never created by the adapter')),
      del: (o) => disks.delete(scope.resourceGroup, name, o).submitted(),
      state: (r) => r.provisioningState,
      tags: (r) => (r.tags?.[TAG_DEPLOYMENT] === undefined ? { ...r.tags, ...this.tagsFor(scope) } : r.tags),
    };
    return this.deleteOwned(scope, handle);
  }

  // ---- the whole subscription -----------------------------------------------------------------

  /**
   * Resource groups of the subscription carrying the tag `tagName` (with any value), and unless
   * `groupsOnly` its resources carrying it too.
   */
  async listTagged(tagName: string, opts: { groupsOnly?: boolean } = {}): Promise<ListedResource[]> {
    const signal = this.options.signal();
    const filter = `tagName eq '${tagName}'`;
    const found: ListedResource[] = [];
    const { resources } = this.clients;
    await this.call(`list resources tagged ${tagName}`, signal, async (o) => {
      for await (const g of resources.resourceGroups.list({ ...o, filter })) found.push(listed(g));
      if (opts.groupsOnly) return;
      for await (const r of resources.resources.list({ ...o, filter })) found.push(listed(r));
    });
    return found;
  }

  /** Every resource of a resource group, tagged or not; empty when the group does not exist. */
  async listGroupResources(resourceGroup: string): Promise<ListedResource[]> {
    const signal = this.options.signal();
    const found: ListedResource[] = [];
    try {
      for await (const r of this.clients.resources.resources.listByResourceGroup(resourceGroup, {
        abortSignal: signal,
      }))
        found.push(listed(r));
    } catch (err) {
      if (isNotFound(err) && !signal.aborted) return [];
      throw toArmFailure(`list resources of ${resourceGroup}`, err, signal);
    }
    return found;
  }

  /**
   * Deletes one resource of the scope's deployment and resource group by kind and name (refused with
   * `ForeignResource` unless its tags say it is the deployment's) and waits until it is gone; false when
   * there was none. Unlike `deleteVm`, a VM goes alone.
   */
  async deleteResource(scope: DeploymentScope, kind: ArmKind, name: string): Promise<boolean> {
    if (kind === 'disk') return this.deleteDisk(scope, name);
    const handles: Record<Exclude<ArmKind, 'disk'>, () => Handle<unknown>> = {
      resourceGroup: () => this.rgHandle({ ...scope, resourceGroup: name }),
      nsg: () => this.nsgHandle(scope, name),
      vnet: () => this.vnetHandle(scope, name),
      sshKey: () => this.sshKeyHandle(scope, name),
      publicIp: () => this.pipHandle(scope, name),
      nic: () => this.nicHandle(scope, name),
      vm: () => this.vmHandle(scope, name),
    };
    return this.deleteOwned(scope, handles[kind]());
  }

  // ---- generic machinery ----------------------------------------------------------------------

  private async call<R>(action: string, signal: AbortSignal, fn: (o: Call) => Promise<R>): Promise<R> {
    try {
      return await fn({ abortSignal: signal });
    } catch (err) {
      throw toArmFailure(action, err, signal);
    }
  }

  /** GET; undefined on 404. */
  private async find<T>(handle: Handle<T>, signal: AbortSignal): Promise<T | undefined> {
    try {
      return await handle.get({ abortSignal: signal });
    } catch (err) {
      if (isNotFound(err) && !signal.aborted) return undefined;
      throw toArmFailure(`read ${handle.type} ${handle.name}`, err, signal);
    }
  }

  private assertOurs<T>(scope: DeploymentScope, handle: Handle<T>, resource: T, verb: string): void {
    const tags = handle.tags(resource);
    const owner = ownerOf(tags, handle.legacyOwnership === true);
    if (owner === scope.deploymentId) return;
    const who =
      owner === undefined
        ? 'no k0rdent deployment (it has no k0rdent-deployment tag)'
        : `deployment ${owner}${tags?.[TAG_OWNER] ? ` of ${tags[TAG_OWNER]}` : ''}`;
    throw armFailure(
      ArmFailureTypes.Foreign,
      `${verb} ${handle.type} ${handle.name}: ForeignResource: ${handle.type} ${handle.name} in ${scope.resourceGroup} belongs to ${who}, not ${scope.deploymentId}`
    );
  }

  /** Polls GET until the resource leaves its transitional state; throws if it disappears. */
  private async settle<T>(handle: Handle<T>, action: string, signal: AbortSignal): Promise<T> {
    const deadline = Date.now() + this.options.settleTimeoutMs;
    for (let look = 0; ; look++) {
      const current = await this.find(handle, signal);
      if (current === undefined) {
        throw armFailure(
          ArmFailureTypes.OperationFailed,
          `${action}: ResourceNotFound: ${handle.type} ${handle.name} disappeared while being provisioned`
        );
      }
      const state = handle.state(current);
      if (isTerminal(state)) return current;
      if (Date.now() >= deadline) {
        throw armFailure(
          ArmFailureTypes.Timeout,
          `${action}: Timeout: ${handle.type} ${handle.name} is still ${state} after ${this.options.settleTimeoutMs} ms`
        );
      }
      await this.pause(action, signal, look);
    }
  }

  /** Polls GET until the resource is gone. */
  private async gone<T>(handle: Handle<T>, action: string, signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + this.options.settleTimeoutMs;
    for (let look = 0; (await this.find(handle, signal)) !== undefined; look++) {
      if (Date.now() >= deadline) {
        throw armFailure(
          ArmFailureTypes.Timeout,
          `${action}: Timeout: ${handle.type} ${handle.name} still exists after ${this.options.settleTimeoutMs} ms`
        );
      }
      await this.pause(action, signal, look);
    }
  }

  /** The pause after look number `look` of a wait: `pollFirstMs`, doubling up to `pollIntervalMs`. */
  private async pause(action: string, signal: AbortSignal, look: number): Promise<void> {
    const { pollFirstMs, pollIntervalMs } = this.options;
    try {
      await sleep(
        Math.min(pollIntervalMs, Math.min(pollFirstMs, pollIntervalMs) * 2 ** Math.min(look, 20)),
        signal
      );
    } catch (err) {
      throw toArmFailure(action, err, signal);
    }
  }

  private async ensure<T extends { tags?: Tags; location?: string }>(
    scope: DeploymentScope,
    handle: Handle<T>,
    desired: T,
    drift: (existing: T) => string[],
    shape: (body: T, existing: T | undefined) => T = (body) => body,
    opts: {
      recreateWhenFailed?: boolean;
      failureOf?: (r: T) => { code: string; message: string } | undefined;
    } = {}
  ): Promise<Ensured<T>> {
    const signal = this.options.signal();
    let existing = await this.find(handle, signal);
    if (existing !== undefined) {
      this.assertOurs(scope, handle, existing, 'adopt');
      const state = handle.state(existing)?.toLowerCase();
      if (state === 'deleting') {
        await this.gone(handle, `wait for ${handle.type} ${handle.name}`, signal);
        existing = undefined;
      } else if (!isTerminal(state)) {
        existing = await this.settle(handle, `wait for ${handle.type} ${handle.name}`, signal);
      }
    }
    if (existing !== undefined && !succeeded(handle.state(existing)) && opts.recreateWhenFailed) {
      const action = `delete failed ${handle.type} ${handle.name}`;
      await this.startDelete(handle, action, signal);
      await this.gone(handle, action, signal);
      existing = undefined;
    }
    if (existing !== undefined && succeeded(handle.state(existing)) && drift(existing).length === 0) {
      return { resource: existing, outcome: 'adopted' };
    }
    const verb = existing === undefined ? 'create' : 'update';
    const action = `${verb} ${handle.type} ${handle.name}`;
    const body = shape({ ...desired, tags: mergeTags(existing?.tags, desired.tags ?? {}) }, existing);
    await this.call(action, signal, (o) => handle.put(body, o));
    const done = await this.settle(handle, action, signal);
    const state = handle.state(done);
    if (!succeeded(state)) {
      const failure = opts.failureOf?.(done) ?? {
        code: 'ProvisioningFailed',
        message: `provisioning state is ${state}`,
      };
      throw toArmFailure(
        action,
        new Error(`The long-running operation has failed. ${failure.code}. ${failure.message}`)
      );
    }
    return { resource: done, outcome: existing === undefined ? 'created' : 'updated' };
  }

  private async inspect<T>(
    scope: DeploymentScope,
    handle: Handle<T>,
    drift: (existing: T) => string[]
  ): Promise<string[]> {
    const signal = this.options.signal();
    const found = await this.find(handle, signal);
    if (found === undefined) return [`${handle.type} ${handle.name} is missing`];
    try {
      this.assertOurs(scope, handle, found, 'check');
    } catch (err) {
      return [(err as Error).message.replace(/^.*?ForeignResource: /, '')];
    }
    const state = handle.state(found);
    if (!succeeded(state)) return [`${handle.type} ${handle.name} is ${state}`];
    return drift(found).map((d) => `${handle.type} ${handle.name}: ${d}`);
  }

  private async startDelete<T>(handle: Handle<T>, action: string, signal: AbortSignal): Promise<void> {
    try {
      await handle.del({ abortSignal: signal });
    } catch (err) {
      if (isNotFound(err) && !signal.aborted) return;
      throw toArmFailure(action, err, signal);
    }
  }

  private async deleteOwned<T>(scope: DeploymentScope, handle: Handle<T>): Promise<boolean> {
    const signal = this.options.signal();
    const found = await this.find(handle, signal);
    if (found === undefined) return false;
    this.assertOurs(scope, handle, found, 'delete');
    const action = `delete ${handle.type} ${handle.name}`;
    if (handle.state(found)?.toLowerCase() !== 'deleting') await this.startDelete(handle, action, signal);
    await this.gone(handle, action, signal);
    return true;
  }
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

function vmFailure(vm: VirtualMachine): { code: string; message: string } | undefined {
  const status = vm.instanceView?.statuses?.find((s) => /^ProvisioningState\/failed/i.test(s.code ?? ''));
  if (!status) return undefined;
  const code = (status.code ?? '').split('/')[2] ?? 'ProvisioningFailed';
  return { code, message: status.message ?? status.displayStatus ?? 'provisioning failed' };
}

function vmStatus(name: string, vm: VirtualMachine): VmStatus {
  const power = vm.instanceView?.statuses?.find((s) => /^PowerState\//i.test(s.code ?? ''));
  return {
    name,
    provisioningState: vm.provisioningState,
    powerState: power?.code?.split('/')[1],
    tags: vm.tags ?? {},
    deployment: vm.tags?.[TAG_DEPLOYMENT],
    osDiskName: vm.storageProfile?.osDisk?.name,
    nicIds: (vm.networkProfile?.networkInterfaces ?? []).map((n) => n.id ?? '').filter((id) => id !== ''),
    failure: vmFailure(vm),
  };
}
