/**
 * The ARM adapter the Azure phases use: one method per need, each idempotent and safe to re-run after a
 * crash. An `ensure*` reads first; a missing resource is PUT, one of ours is adopted (and PUT again only
 * when its spec drifted), anyone else's is refused with `ForeignResource`. Waits poll the resource's
 * `provisioningState` with GETs, heartbeating, and stop as soon as the activity is cancelled. The generic
 * machinery is `engine.ts`; each resource type is a module of `resources/`.
 */
import type { SshPublicKeyResource, VirtualMachine } from '@azure/arm-compute';
import type {
  NetworkInterface,
  NetworkSecurityGroup,
  PublicIPAddress,
  VirtualNetwork,
} from '@azure/arm-network';
import type { ResourceGroup } from '@azure/arm-resources';
import type { DeploymentScope, Ensured, Handle } from './engine';
import { ArmEngine } from './engine';
import type { ArmKind } from './ownership';
import { deleteDisk } from './resources/disk';
import * as group from './resources/group';
import type { ListedResource } from './resources/listing';
import * as listing from './resources/listing';
import * as nic from './resources/nic';
import type { NicSpec } from './resources/nic';
import * as nsg from './resources/nsg';
import type { NsgSpec } from './resources/nsg';
import * as pip from './resources/public-ip';
import type { PublicIpSpec } from './resources/public-ip';
import * as sshKey from './resources/ssh-key';
import type { SshKeySpec } from './resources/ssh-key';
import * as vm from './resources/vm';
import type { VmSpec, VmStatus } from './resources/vm';
import * as vnet from './resources/vnet';
import type { VnetSpec } from './resources/vnet';

export type { AdapterOptions, DeploymentScope, EnsureOutcome, Ensured } from './engine';
export { CREATED_BY, TAG_CREATED_BY, TAG_DEPLOYMENT, TAG_OWNER, defaultAdapterOptions } from './engine';
export type { ListedResource } from './resources/listing';
export type { NicSpec } from './resources/nic';
export type { NsgRuleSpec, NsgSpec } from './resources/nsg';
export type { PublicIpSpec } from './resources/public-ip';
export type { SshKeySpec } from './resources/ssh-key';
export type { ImageRef, VmSpec, VmStatus } from './resources/vm';
export { parseImageUrn } from './resources/vm';
export type { VnetSpec } from './resources/vnet';

/** The ARM adapter of one target. */
export class ArmAdapter extends ArmEngine {
  /** True when the resource group exists (whoever owns it). */
  resourceGroupExists(scope: DeploymentScope): Promise<boolean> {
    return group.resourceGroupExists(this, scope);
  }

  /** Creates the resource group with its tags, or adopts ours. */
  ensureResourceGroup(scope: DeploymentScope): Promise<Ensured<ResourceGroup>> {
    return group.ensureResourceGroup(this, scope);
  }

  /** Problems with the resource group (missing, foreign, not succeeded, drifted); empty when fine. */
  inspectResourceGroup(scope: DeploymentScope): Promise<string[]> {
    return group.inspectResourceGroup(this, scope);
  }

  /** Deletes our resource group and waits until it is gone; false when there was none. */
  deleteResourceGroup(scope: DeploymentScope): Promise<boolean> {
    return group.deleteResourceGroup(this, scope);
  }

  /** Creates the NSG with its rules, or adopts ours (rules someone else added are kept). */
  ensureNsg(scope: DeploymentScope, spec: NsgSpec): Promise<Ensured<NetworkSecurityGroup>> {
    return nsg.ensureNsg(this, scope, spec);
  }

  /** Problems with the NSG and its rules; empty when fine. */
  inspectNsg(scope: DeploymentScope, spec: NsgSpec): Promise<string[]> {
    return nsg.inspectNsg(this, scope, spec);
  }

  /** Creates the VNet with its subnet (NSG attached inline), or adopts ours; other subnets are kept. */
  ensureVnet(scope: DeploymentScope, spec: VnetSpec): Promise<Ensured<VirtualNetwork>> {
    return vnet.ensureVnet(this, scope, spec);
  }

  /** Problems with the VNet and its subnet; empty when fine. */
  inspectVnet(scope: DeploymentScope, spec: VnetSpec): Promise<string[]> {
    return vnet.inspectVnet(this, scope, spec);
  }

  /** Registers the deployment's SSH public key, or adopts ours. */
  ensureSshPublicKey(scope: DeploymentScope, spec: SshKeySpec): Promise<Ensured<SshPublicKeyResource>> {
    return sshKey.ensureSshPublicKey(this, scope, spec);
  }

  /** Problems with the SSH key resource; empty when fine. Without a key text only presence and owner count. */
  inspectSshPublicKey(scope: DeploymentScope, spec: { name: string; publicKey?: string }): Promise<string[]> {
    return sshKey.inspectSshPublicKey(this, scope, spec);
  }

  /** Creates a Standard static public IP in the zone, or adopts ours. */
  ensurePublicIp(scope: DeploymentScope, spec: PublicIpSpec): Promise<Ensured<PublicIPAddress>> {
    return pip.ensurePublicIp(this, scope, spec);
  }

  /** Creates a NIC in the subnet with the NSG and the public IP, or adopts ours. */
  ensureNic(scope: DeploymentScope, spec: NicSpec): Promise<Ensured<NetworkInterface>> {
    return nic.ensureNic(this, scope, spec);
  }

  /** Creates the VM on its NIC, or adopts ours; a VM whose provisioning failed is deleted and made again. */
  ensureVm(scope: DeploymentScope, spec: VmSpec): Promise<Ensured<VirtualMachine>> {
    return vm.ensureVm(this, scope, spec);
  }

  /** A VM's provisioning and power state, or undefined when it does not exist. */
  getVm(scope: DeploymentScope, name: string): Promise<VmStatus | undefined> {
    return vm.getVm(this, scope, name);
  }

  /** The VMs of the resource group (without power state); empty when the group does not exist. */
  listVms(scope: DeploymentScope): Promise<VmStatus[]> {
    return vm.listVms(this, scope);
  }

  /** Deletes our VM and waits until it is gone, then its NIC (then public IP) and its OS disk. */
  deleteVm(scope: DeploymentScope, name: string): Promise<boolean> {
    return vm.deleteVm(this, scope, name);
  }

  /**
   * Resource groups of the subscription carrying the tag `tagName` (with any value), and unless
   * `groupsOnly` its resources carrying it too.
   */
  listTagged(tagName: string, opts: { groupsOnly?: boolean } = {}): Promise<ListedResource[]> {
    return listing.listTagged(this, tagName, opts);
  }

  /** Every resource of a resource group, tagged or not; empty when the group does not exist. */
  listGroupResources(resourceGroup: string): Promise<ListedResource[]> {
    return listing.listGroupResources(this, resourceGroup);
  }

  /**
   * Deletes one resource of the scope's deployment and resource group by kind and name (refused with
   * `ForeignResource` unless its tags say it is the deployment's) and waits until it is gone; false when
   * there was none. Unlike `deleteVm`, a VM goes alone.
   */
  async deleteResource(scope: DeploymentScope, kind: ArmKind, name: string): Promise<boolean> {
    if (kind === 'disk') return deleteDisk(this, scope, name);
    const handles: Record<Exclude<ArmKind, 'disk'>, () => Handle<unknown>> = {
      resourceGroup: () => group.rgHandle(this, { ...scope, resourceGroup: name }),
      nsg: () => nsg.nsgHandle(this, scope, name),
      vnet: () => vnet.vnetHandle(this, scope, name),
      sshKey: () => sshKey.sshKeyHandle(this, scope, name),
      publicIp: () => pip.pipHandle(this, scope, name),
      nic: () => nic.nicHandle(this, scope, name),
      vm: () => vm.vmHandle(this, scope, name),
    };
    return this.deleteOwned(scope, handles[kind]());
  }
}
