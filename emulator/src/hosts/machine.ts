/** The machines as the ARM store shows them: what each VM says about its machine, and its timeline. */
import { childrenOf, obj, refId, stateOf, str } from '../arm/common';
import { VM } from '../arm/compute';
import type { StoredResource } from '../arm/model';
import { NIC, PIP } from '../arm/network';
import type { ArmStore } from '../arm/state';
import type { CloudInitFacts } from './cloud-init';
import type { CloudInitStatus, HostTimings, ToolFaultKind, WireguardUnitState } from './types';

/** Tag that names a resource's deployment (as `src/azure/adapter.ts` writes it). */
export const DEPLOYMENT_TAG = 'k0rdent-deployment';

/** What a VM says about its machine. */
export interface VmFacts {
  vmId: string;
  name: string;
  resourceGroup: string;
  /** `k0rdent-deployment` tag; '' when untagged. */
  deploymentId: string;
  adminUsername: string;
  authorizedKeys: string[];
  customData?: string;
  publicIp?: string;
  /** Since when the machine runs (ms): the VM reached `Succeeded` or was last started, and is powered on. */
  runningSinceMs?: number;
}

function publicIpOf(store: ArmStore, vm: StoredResource): string | undefined {
  const refs = obj(vm.properties.networkProfile)?.networkInterfaces;
  const list = Array.isArray(refs) ? (refs as Record<string, unknown>[]) : [];
  const primaryFirst = [...list].sort(
    (a, b) => Number(obj(b.properties)?.primary === true) - Number(obj(a.properties)?.primary === true)
  );
  for (const ref of primaryFirst) {
    const nicId = refId(ref);
    const nic = nicId === undefined ? undefined : store.get(nicId);
    if (!nic || nic.type.toLowerCase() !== NIC.toLowerCase()) continue;
    for (const config of childrenOf(nic, 'ipConfigurations')) {
      const pipId = refId(config.properties.publicIPAddress);
      const pip = pipId === undefined ? undefined : store.get(pipId);
      if (pip && pip.type.toLowerCase() === PIP.toLowerCase() && stateOf(pip.properties) === 'Succeeded') {
        const ip = str(pip.internal.ipAddress);
        if (ip !== undefined) return ip;
      }
    }
  }
  return undefined;
}

/**
 * The VMs that have machines: every VM that reached `Succeeded` and is not being deleted. A VM created
 * before the emulator recorded start times counts as running since its creation.
 */
export function readVms(store: ArmStore): VmFacts[] {
  const out: VmFacts[] = [];
  for (const vm of store.ofType(VM)) {
    const state = stateOf(vm.properties);
    const vmId = str(vm.internal.vmId);
    if (vmId === undefined || state === 'Deleting') continue;
    let since = typeof vm.internal.runningSinceMs === 'number' ? vm.internal.runningSinceMs : undefined;
    if (since === undefined && vm.internal.succeededMs === undefined) {
      // Only a VM that never reached Succeeded (still Creating) has no machine yet.
      if (state !== 'Succeeded' && state !== 'Updating') continue;
      const created = Date.parse(str(vm.internal.timeCreated) ?? '');
      since = Number.isNaN(created) ? 0 : created;
    }
    const power = str(vm.internal.powerState) ?? 'running';
    const os = obj(vm.properties.osProfile) ?? {};
    const keys = obj(obj(obj(os.linuxConfiguration)?.ssh))?.publicKeys;
    out.push({
      vmId,
      name: vm.name,
      resourceGroup: vm.resourceGroup,
      deploymentId: vm.tags[DEPLOYMENT_TAG] ?? '',
      adminUsername: str(os.adminUsername) ?? '',
      authorizedKeys: (Array.isArray(keys) ? keys : [])
        .map((k) => str(obj(k)?.keyData))
        .filter((k): k is string => k !== undefined && k.trim() !== ''),
      customData: str(vm.internal.customData),
      publicIp: publicIpOf(store, vm),
      runningSinceMs: power === 'running' ? since : undefined,
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Where a machine is in its timeline. */
export interface MachineNow {
  running: boolean;
  booted: boolean;
  wireguard: WireguardUnitState;
  /** When `wg-quick@wg0` became active (ms), while it is. */
  wireguardActiveMs?: number;
  cloudInit: CloudInitStatus;
  /** When cloud-init ends or ended (ms), while running. */
  cloudInitEndMs?: number;
}

/** A machine's state at `now`: boot, `wg-quick@wg0`, cloud-init, from its start and the timings. */
export function machineNow(
  vm: VmFacts,
  cloudInit: CloudInitFacts,
  faults: readonly ToolFaultKind[],
  timings: HostTimings,
  now: number
): MachineNow {
  if (vm.runningSinceMs === undefined)
    return { running: false, booted: false, wireguard: 'inactive', cloudInit: 'running' };
  const bootAt = vm.runningSinceMs + timings.bootMs;
  if (now < bootAt) return { running: true, booted: false, wireguard: 'inactive', cloudInit: 'running' };
  const cloudInitEndMs = bootAt + timings.cloudInitMs;
  const cloudInitStatus: CloudInitStatus =
    now < cloudInitEndMs
      ? 'running'
      : faults.includes('cloud-init-error') || cloudInit.error !== undefined
        ? 'error'
        : 'done';
  const wg0 = cloudInit.wg0;
  const wgAt = bootAt + timings.wireguardStartMs;
  let wireguard: WireguardUnitState;
  if (!wg0?.started) wireguard = 'inactive';
  else if (now < wgAt) wireguard = 'activating';
  else if (faults.includes('wireguard-failed') || wg0.problem !== undefined || !wg0.config)
    wireguard = 'failed';
  else wireguard = 'active';
  return {
    running: true,
    booted: true,
    wireguard,
    ...(wireguard === 'active' ? { wireguardActiveMs: wgAt } : {}),
    cloudInit: cloudInitStatus,
    cloudInitEndMs,
  };
}
