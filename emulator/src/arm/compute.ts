/**
 * Microsoft.Compute behaviour: SSH public keys (synchronous), virtual machines (on existing NICs, with an
 * OS disk, power state and actions) and managed disks.
 */
import { randomUUID } from 'node:crypto';
import { ArmError, invalidParameter } from './errors';
import type { ActionSpec, Json, PutContext, ResourceKind, StoredResource } from './model';
import { clone, obj, refId, requireRef, sameId, stateOf, str } from './common';
import { NIC, cascadeNicDelete, vmUsingNic } from './network';
import type { ArmStore } from './state';
import { digest, keyOf, newEtag } from './state';

/** ARM type of SSH public keys. */
export const SSH_KEY = 'Microsoft.Compute/sshPublicKeys';
/** ARM type of virtual machines. */
export const VM = 'Microsoft.Compute/virtualMachines';
/** ARM type of managed disks. */
export const DISK = 'Microsoft.Compute/disks';

const sshKeyKind: ResourceKind = {
  type: SSH_KEY,
  lro: false,
  hideProvisioningState: true,
  prepare(ctx) {
    const props = clone(ctx.props);
    delete props.provisioningState;
    const key = props.publicKey;
    if (
      key !== undefined &&
      (typeof key !== 'string' || !/^(ssh-[a-z0-9]+|ecdsa-sha2-\S+) \S+/.test(key.trim()))
    ) {
      throw invalidParameter(`The value of parameter publicKey of ${ctx.id} is not a valid SSH public key.`);
    }
    return { properties: props, extra: ctx.extra };
  },
};

// ---- virtual machines -----------------------------------------------------------------------------

const POWER_TEXT: Record<string, string> = {
  starting: 'VM starting',
  running: 'VM running',
  stopping: 'VM stopping',
  stopped: 'VM stopped',
  deallocating: 'VM deallocating',
  deallocated: 'VM deallocated',
};

function osDiskName(vmName: string, vmId: string): string {
  return `${vmName}_OsDisk_1_${digest(`disk:${keyOf(vmId)}`).slice(0, 32)}`;
}

function diskIdFor(vm: StoredResource, name: string): string {
  return `/subscriptions/${vm.subscription}/resourceGroups/${vm.resourceGroup}/providers/${DISK}/${name}`;
}

function osDiskOf(vm: StoredResource): Json {
  return obj(obj(vm.properties.storageProfile)?.osDisk) ?? {};
}

function networkInterfacesOf(vm: StoredResource): Json[] {
  const list = obj(vm.properties.networkProfile)?.networkInterfaces;
  return Array.isArray(list) ? (list as Json[]) : [];
}

function immutable(what: string): ArmError {
  return new ArmError(409, 'PropertyChangeNotAllowed', `Changing property '${what}' is not allowed.`);
}

function prepareVm(ctx: PutContext): { properties: Json; extra: Json; internal: Json } {
  const props = clone(ctx.props);
  for (const readOnly of ['provisioningState', 'vmId', 'timeCreated', 'instanceView']) delete props[readOnly];
  const old = ctx.existing;
  if (str(obj(props.hardwareProfile)?.vmSize) === undefined) {
    throw invalidParameter("Required parameter 'hardwareProfile.vmSize' is missing (null).");
  }
  if (old && props.osProfile === undefined && old.properties.osProfile !== undefined) {
    props.osProfile = clone(old.properties.osProfile);
  }
  const osProfile = obj(props.osProfile);
  const internal: Json = old ? clone(old.internal) : {};
  if (osProfile) {
    const customData = str(osProfile.customData);
    delete osProfile.customData;
    if (old) {
      const before = obj(old.properties.osProfile) ?? {};
      if (customData !== undefined && customData !== str(old.internal.customData))
        throw immutable('customData');
      for (const field of ['adminUsername', 'computerName']) {
        if (osProfile[field] !== undefined && osProfile[field] !== before[field]) throw immutable(field);
      }
    } else if (customData !== undefined) {
      internal.customData = customData;
    }
  }
  if (
    old &&
    ctx.extra.zones !== undefined &&
    JSON.stringify(ctx.extra.zones) !== JSON.stringify(old.extra.zones)
  ) {
    throw immutable('zones');
  }
  const nics = obj(props.networkProfile)?.networkInterfaces;
  if (!Array.isArray(nics) || nics.length === 0) {
    throw invalidParameter(`Virtual machine ${ctx.id} must have at least one network interface.`);
  }
  props.networkProfile = {
    ...obj(props.networkProfile),
    networkInterfaces: nics.map((n, i) => {
      const nicId = refId(n);
      if (nicId === undefined)
        throw invalidParameter(`networkProfile.networkInterfaces[${i}].id is missing.`);
      const nic = requireRef(ctx.store, nicId, NIC, ctx.id).resource;
      const user = vmUsingNic(ctx.store, nic.id);
      if (user && !sameId(user.id, ctx.id)) {
        throw new ArmError(
          400,
          'NicInUse',
          `Network Interface ${nic.id} is used by existing resource ${user.id}. In order to use it, it must be dissociated from the resource.`
        );
      }
      const p = obj(obj(n)?.properties) ?? {};
      return {
        id: nic.id,
        properties: { ...p, primary: p.primary ?? i === 0, deleteOption: str(p.deleteOption) ?? 'Detach' },
      };
    }),
  };
  const storage = obj(props.storageProfile) ?? {};
  const osDisk = obj(storage.osDisk) ?? {};
  const before = old ? osDiskOf(old) : {};
  const name = str(before.name) ?? str(osDisk.name) ?? osDiskName(ctx.name, ctx.id);
  const vmStub = { subscription: ctx.subscription, resourceGroup: ctx.resourceGroup } as StoredResource;
  const managed = obj(osDisk.managedDisk) ?? {};
  props.storageProfile = {
    ...storage,
    osDisk: {
      osType: 'Linux',
      createOption: 'FromImage',
      caching: 'ReadWrite',
      diskSizeGB: 30,
      deleteOption: 'Detach',
      ...osDisk,
      name,
      managedDisk: {
        storageAccountType: 'Premium_LRS',
        ...managed,
        id: str(obj(before.managedDisk)?.id) ?? diskIdFor(vmStub, name),
      },
    },
  };
  // Unique per creation, as in Azure: a VM deleted and made again under the same name is another machine.
  internal.vmId ??= randomUUID();
  internal.timeCreated ??= new Date().toISOString();
  return { properties: props, extra: ctx.extra, internal };
}

function powerState(vm: StoredResource): string {
  return str(vm.internal.powerState) ?? 'running';
}

function instanceView(vm: StoredResource): Json {
  const state = stateOf(vm.properties);
  const power = powerState(vm);
  return {
    computerName: obj(vm.properties.osProfile)?.computerName ?? vm.name,
    osName: 'debian',
    osVersion: '12',
    hyperVGeneration: 'V2',
    statuses: [
      {
        code: `ProvisioningState/${state.toLowerCase()}`,
        level: 'Info',
        displayStatus: `Provisioning ${state.toLowerCase()}`,
      },
      { code: `PowerState/${power}`, level: 'Info', displayStatus: POWER_TEXT[power] ?? power },
    ],
  };
}

function powerAction(from: string[], during: string, to: string, verb: string): ActionSpec {
  return {
    begin(_store, vm) {
      if (stateOf(vm.properties) !== 'Succeeded') {
        throw new ArmError(
          409,
          'OperationNotAllowed',
          `Cannot ${verb} virtual machine ${vm.name} while it is ${stateOf(vm.properties)}.`
        );
      }
      if (!from.includes(powerState(vm))) {
        throw new ArmError(
          409,
          'OperationNotAllowed',
          `Cannot ${verb} virtual machine ${vm.name} while it is ${powerState(vm)}.`
        );
      }
      vm.internal.powerState = during;
    },
    complete(_store, vm, atMs) {
      vm.internal.powerState = to;
      // The machine behind the VM boots again from here (see emulator/src/hosts).
      if (to === 'running') vm.internal.runningSinceMs = atMs;
    },
  };
}

const ANY_POWER = ['starting', 'running', 'stopping', 'stopped', 'deallocating', 'deallocated'];

function createOsDisk(store: ArmStore, vm: StoredResource): void {
  const osDisk = osDiskOf(vm);
  const id = str(obj(osDisk.managedDisk)?.id);
  if (id === undefined || store.get(id)) return;
  const storage = obj(vm.properties.storageProfile) ?? {};
  const account = str(obj(osDisk.managedDisk)?.storageAccountType) ?? 'Premium_LRS';
  store.put({
    id,
    type: DISK,
    name: str(osDisk.name) ?? vm.name,
    subscription: vm.subscription,
    resourceGroup: vm.resourceGroup,
    location: vm.location,
    tags: {},
    properties: {
      osType: 'Linux',
      hyperVGeneration: 'V2',
      creationData: {
        createOption: 'FromImage',
        ...(obj(storage.imageReference) ? { imageReference: clone(storage.imageReference) } : {}),
      },
      diskSizeGB: osDisk.diskSizeGB ?? 30,
      diskState: 'Attached',
      timeCreated: new Date().toISOString(),
      provisioningState: 'Succeeded',
    },
    extra: {
      managedBy: vm.id,
      sku: { name: account, tier: account.startsWith('Premium') ? 'Premium' : 'Standard' },
      ...(vm.extra.zones !== undefined ? { zones: clone(vm.extra.zones) } : {}),
    },
    etag: newEtag(),
    internal: {},
  });
}

const vmKind: ResourceKind = {
  type: VM,
  lro: true,
  prepare: prepareVm,
  onAccepted(_store, vm, created) {
    if (created) vm.internal.powerState = 'starting';
  },
  onSucceeded(store, vm, created, atMs) {
    if (created) {
      vm.internal.powerState = 'running';
      // The operation's end, not the moment the engine noticed it: the machine's timeline starts here.
      vm.internal.succeededMs = atMs;
      vm.internal.runningSinceMs = atMs;
    }
    createOsDisk(store, vm);
  },
  onDeleted(store, vm) {
    for (const ref of networkInterfacesOf(vm)) {
      const nicId = refId(ref);
      const option = str(obj(ref.properties)?.deleteOption) ?? 'Detach';
      if (nicId !== undefined && option.toLowerCase() === 'delete') cascadeNicDelete(store, nicId);
    }
    const osDisk = osDiskOf(vm);
    const diskId = str(obj(osDisk.managedDisk)?.id);
    const disk = diskId === undefined ? undefined : store.get(diskId);
    if (!disk) return;
    if ((str(osDisk.deleteOption) ?? 'Detach').toLowerCase() === 'delete') {
      store.remove(disk.id);
    } else {
      delete disk.extra.managedBy;
      disk.properties.diskState = 'Unattached';
    }
  },
  renderProperties(_store, vm, options) {
    const props = clone(vm.properties);
    const expand = options.expand?.toLowerCase() === 'instanceview' || options.statusOnly === true;
    return {
      ...props,
      vmId: vm.internal.vmId,
      timeCreated: vm.internal.timeCreated,
      ...(expand ? { instanceView: instanceView(vm) } : {}),
    };
  },
  views: { instanceview: (_store, vm) => instanceView(vm) },
  actions: {
    poweroff: powerAction(['running', 'starting'], 'stopping', 'stopped', 'power off'),
    deallocate: powerAction(ANY_POWER, 'deallocating', 'deallocated', 'deallocate'),
    start: powerAction(ANY_POWER, 'starting', 'running', 'start'),
    restart: powerAction(['running'], 'starting', 'running', 'restart'),
  },
};

// ---- disks ------------------------------------------------------------------------------------------

const diskKind: ResourceKind = {
  type: DISK,
  lro: true,
  prepare(ctx) {
    const props = clone(ctx.props);
    for (const readOnly of ['provisioningState', 'diskState', 'timeCreated']) delete props[readOnly];
    const extra = clone(ctx.extra);
    delete extra.managedBy;
    if (ctx.existing?.extra.managedBy !== undefined) extra.managedBy = ctx.existing.extra.managedBy;
    extra.sku ??= { name: 'Premium_LRS', tier: 'Premium' };
    props.creationData ??= { createOption: 'Empty' };
    props.diskState = extra.managedBy === undefined ? 'Unattached' : 'Attached';
    props.timeCreated = ctx.existing?.properties.timeCreated ?? new Date().toISOString();
    return { properties: props, extra };
  },
  checkDelete(store, disk) {
    const owner = str(disk.extra.managedBy);
    if (owner !== undefined && store.get(owner)) {
      throw new ArmError(
        409,
        'OperationNotAllowed',
        `Disk ${disk.name} is attached to VM ${owner}. Detach it or delete the VM first.`
      );
    }
  },
};

/** The Microsoft.Compute types the emulator models. */
export const COMPUTE_KINDS: ResourceKind[] = [sshKeyKind, vmKind, diskKind];
