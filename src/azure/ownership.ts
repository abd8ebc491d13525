/**
 * What each phase makes in Azure, by type and name: the one statement of which resources a completed
 * phase implies. The sweep reads it to find strays; anything that plans or checks Azure resources can too.
 */
import type { DeploymentNames } from '../config/types';
import type { PhaseName } from '../workflows/phases';

/** ARM types of the resources the phases make. */
export const ARM_TYPES = {
  resourceGroup: 'Microsoft.Resources/resourceGroups',
  nsg: 'Microsoft.Network/networkSecurityGroups',
  vnet: 'Microsoft.Network/virtualNetworks',
  sshKey: 'Microsoft.Compute/sshPublicKeys',
  publicIp: 'Microsoft.Network/publicIPAddresses',
  nic: 'Microsoft.Network/networkInterfaces',
  vm: 'Microsoft.Compute/virtualMachines',
  disk: 'Microsoft.Compute/disks',
} as const;

/** A kind of resource the phases make. */
export type ArmKind = keyof typeof ARM_TYPES;

/**
 * Kinds in the order they can be deleted: newest first, each before what it depends on (a VM before its
 * disk and NIC, a NIC before its public IP, the VNet before the NSG its subnet uses, the group last).
 */
export const DELETE_ORDER: readonly ArmKind[] = [
  'vm',
  'disk',
  'nic',
  'publicIp',
  'sshKey',
  'vnet',
  'nsg',
  'resourceGroup',
];

/** Name of the OS disk the adapter gives a VM; Azure makes it untagged. */
export function osDiskName(vm: string): string {
  return `${vm}-osdisk`;
}

/** One resource a phase makes. */
export interface OwnedResource {
  phase: PhaseName;
  kind: ArmKind;
  type: string;
  name: string;
}

/** The kind of an ARM type (case-insensitive), or undefined for a type no phase makes. */
export function kindOfType(type: string): ArmKind | undefined {
  const t = type.toLowerCase();
  return (Object.keys(ARM_TYPES) as ArmKind[]).find((k) => ARM_TYPES[k].toLowerCase() === t);
}

/**
 * Every resource the Azure phases of a deployment make: setup_network the resource group, NSG, VNet (with
 * its subnet) and SSH public key resource; create_vms per host a public IP, NIC, VM and OS disk.
 */
export function phaseResources(names: DeploymentNames): OwnedResource[] {
  const own = (phase: PhaseName, kind: ArmKind, name: string): OwnedResource => ({
    phase,
    kind,
    type: ARM_TYPES[kind],
    name,
  });
  return [
    own('setup_network', 'resourceGroup', names.resourceGroup),
    own('setup_network', 'nsg', names.nsg),
    own('setup_network', 'vnet', names.vnet),
    own('setup_network', 'sshKey', names.sshKeyResource),
    ...names.hosts.flatMap((h) => [
      own('create_vms', 'publicIp', `${h.name}-pip`),
      own('create_vms', 'nic', `${h.name}-nic`),
      own('create_vms', 'vm', h.name),
      own('create_vms', 'disk', osDiskName(h.name)),
    ]),
  ];
}

/** The resources the phases that `holds` implies (completed ones) make. */
export function impliedResources(
  names: DeploymentNames,
  holds: (phase: PhaseName) => boolean
): OwnedResource[] {
  return phaseResources(names).filter((r) => holds(r.phase));
}
