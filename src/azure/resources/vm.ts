/** Linux VMs on their NICs: made, adopted, restarted when stopped, remade when provisioning failed, deleted with their parts. */
import type { VirtualMachine } from '@azure/arm-compute';
import type { ArmEngine, DeploymentScope, Ensured, Handle } from '../engine';
import { STOPPED, TAG_DEPLOYMENT, same, tagDrift } from '../engine';
import { ArmFailureTypes, armFailure, isNotFound, toArmFailure } from '../errors';
import { osDiskName } from '../ownership';
import { nicHandle } from './nic';
import { pipHandle } from './public-ip';
import { deleteDisk } from './disk';

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

export function vmHandle(engine: ArmEngine, scope: DeploymentScope, name: string): Handle<VirtualMachine> {
  const vms = engine.clients.compute.virtualMachines;
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

function vmDrift(
  engine: ArmEngine,
  scope: DeploymentScope,
  e: VirtualMachine,
  spec: VmSpec,
  nicId: string
): string[] {
  const drift = tagDrift(e.tags, engine.tagsFor(scope));
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
export async function ensureVm(
  engine: ArmEngine,
  scope: DeploymentScope,
  spec: VmSpec
): Promise<Ensured<VirtualMachine>> {
  const nicId = engine.resourceId(scope, 'Microsoft.Network', 'networkInterfaces', spec.nic);
  const spot = spec.priority === 'Spot';
  const desired: VirtualMachine = {
    location: scope.location,
    tags: engine.tagsFor(scope),
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
  const ensured = await engine.ensure(
    scope,
    vmHandle(engine, scope, spec.name),
    desired,
    (e) => vmDrift(engine, scope, e, spec, nicId),
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
    return { resource: await startVm(engine, scope, spec.name), outcome: 'updated' };
  }
  return ensured;
}

/** Starts a stopped or deallocated VM (a Spot eviction, a manual stop) and waits until it runs. */
async function startVm(engine: ArmEngine, scope: DeploymentScope, name: string): Promise<VirtualMachine> {
  const signal = engine.options.signal();
  const handle = vmHandle(engine, scope, name);
  const action = `start vm ${name}`;
  await engine.call(action, signal, (o) =>
    engine.clients.compute.virtualMachines.start(scope.resourceGroup, name, o).submitted()
  );
  const deadline = Date.now() + engine.options.settleTimeoutMs;
  for (let look = 0; ; look++) {
    const vm = await engine.find(handle, signal);
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
    await engine.pause(action, signal, look);
  }
}

/** A VM's provisioning and power state, or undefined when it does not exist. */
export async function getVm(
  engine: ArmEngine,
  scope: DeploymentScope,
  name: string
): Promise<VmStatus | undefined> {
  const signal = engine.options.signal();
  const vm = await engine.find(vmHandle(engine, scope, name), signal);
  return vm && vmStatus(name, vm);
}

/** The VMs of the resource group (without power state); empty when the group does not exist. */
export async function listVms(engine: ArmEngine, scope: DeploymentScope): Promise<VmStatus[]> {
  const signal = engine.options.signal();
  const found: VmStatus[] = [];
  try {
    for await (const vm of engine.clients.compute.virtualMachines.list(scope.resourceGroup, {
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
export async function deleteVm(engine: ArmEngine, scope: DeploymentScope, name: string): Promise<boolean> {
  const signal = engine.options.signal();
  const vm = await engine.find(vmHandle(engine, scope, name), signal);
  let osDisk = osDiskName(name);
  let any = false;
  if (vm) {
    osDisk = vm.storageProfile?.osDisk?.name ?? osDisk;
    any = await engine.deleteOwned(scope, vmHandle(engine, scope, name));
  }
  const [nicAndIp, disk] = await Promise.all([
    (async () => {
      const nic = await engine.deleteOwned(scope, nicHandle(engine, scope, `${name}-nic`));
      const pip = await engine.deleteOwned(scope, pipHandle(engine, scope, `${name}-pip`));
      return nic || pip;
    })(),
    deleteDisk(engine, scope, osDisk),
  ]);
  return any || nicAndIp || disk;
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
