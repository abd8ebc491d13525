/**
 * The latencies the orchestration benchmark gives the local world (ARM long-running operations and the
 * host world's `HostTimings`), and the critical-path lower bound of a deployment they imply.
 */
import type { LroTimings } from '../emulator/src/arm';
import type { HostTimings } from '../emulator/src/hosts/types';
import type { DeploymentFlags } from '../src/workflows/messages';
import type { PhaseName } from '../src/workflows/phases';
import { PHASES, phaseEnabled } from '../src/workflows/phases';

/** ARM resource types whose operations the deployment waits for. */
export const ARM_TYPES = {
  nsg: 'Microsoft.Network/networkSecurityGroups',
  vnet: 'Microsoft.Network/virtualNetworks',
  pip: 'Microsoft.Network/publicIPAddresses',
  nic: 'Microsoft.Network/networkInterfaces',
  vm: 'Microsoft.Compute/virtualMachines',
} as const;

/** Duration of each ARM long-running operation, ms; `other` for every type not named (deletes, disks). */
export type ArmLatencies = Record<keyof typeof ARM_TYPES | 'other', number>;

/** Every configured latency of the local world. */
export interface Profile {
  arm: ArmLatencies;
  hosts: HostTimings;
}

/**
 * The full-deployment profile: every wait long enough that a poll every second (the host phases) or
 * every 200 ms (the ARM adapter) is small beside it, shaped like Azure (the VM is the longest operation,
 * cloud-init outlasts the boot, the regional cluster takes a while).
 */
export const FULL_PROFILE: Profile = {
  arm: { nsg: 6000, vnet: 8000, pip: 4000, nic: 4000, vm: 30_000, other: 2000 },
  hosts: {
    bootMs: 12_000,
    wireguardStartMs: 4000,
    cloudInitMs: 24_000,
    k0sApplyMs: 20_000,
    nodeReadyMs: 6000,
    helmInstallMs: 6000,
    managementReadyMs: 12_000,
    webhookReadyMs: 4000,
    clusterDeploymentReadyMs: 20_000,
  },
};

/** Every latency of `p` multiplied by `factor`, rounded to the millisecond. */
export function scaled(p: Profile, factor: number): Profile {
  const times = <K extends string>(r: Record<K, number>) =>
    Object.fromEntries(Object.entries<number>(r).map(([k, v]) => [k, Math.round(v * factor)])) as Record<
      K,
      number
    >;
  return { arm: times(p.arm), hosts: times(p.hosts) };
}

/** The emulator's `lro` option for a profile. */
export function lroTimings(p: Profile): LroTimings {
  return {
    defaultMs: p.arm.other,
    perType: Object.fromEntries(
      (Object.keys(ARM_TYPES) as (keyof typeof ARM_TYPES)[]).map((k) => [ARM_TYPES[k], p.arm[k]])
    ),
  };
}

/** One term of the lower bound: a wait the phase cannot avoid, after everything before it. */
export interface BoundTerm {
  phase: PhaseName;
  what: string;
  ms: number;
}

/** The critical-path lower bound of a deployment: its terms, their sum per phase, and the total. */
export interface LowerBound {
  terms: BoundTerm[];
  byPhase: Partial<Record<PhaseName, number>>;
  totalMs: number;
}

/**
 * The shortest a deployment with `flags` can take under `p`, following what each phase must wait for
 * (src/activities/*.ts) and when the emulator lets it happen (emulator/src/arm, emulator/src/hosts):
 *
 * - setup_network: the resource group and SSH key are synchronous PUTs; the VNet's subnet references
 *   the NSG, so NSG then VNet.
 * - create_vms: per VM public IP, then the NIC (needs the IP, subnet and NSG `Succeeded`), then the VM;
 *   the VMs in parallel, so one chain counts.
 * - The machine's clock starts when its VM operation ends: SSH after `bootMs`, `wg-quick@wg0` after
 *   `bootMs + wireguardStartMs` (connect_vpn waits for the handshake), cloud-init done after
 *   `bootMs + cloudInitMs` (install_k0s waits for it), whichever comes later.
 * - install_k0s: `k0sctl apply`, then the nodes Ready `nodeReadyMs` after k0s is installed.
 * - install_k0rdent: Helm install of kcm, then the Management object Ready.
 * - install_azure_csi: the controller Deployment is available `nodeReadyMs` after it is applied.
 * - install_kof_mothership: three `helm --wait` installs in order, each waiting `nodeReadyMs` for its
 *   Deployments; the mothership also needs the operators' webhook (`webhookReadyMs` after they deploy).
 * - install_kof_regional: the ClusterDeployment Ready `clusterDeploymentReadyMs` after it is applied.
 *
 * Local work (keys, files, Temporal, tools' own run time) has no configured latency and counts zero.
 */
export function lowerBound(p: Profile, flags: DeploymentFlags): LowerBound {
  const h = p.hosts;
  const all: Record<PhaseName, [string, number][]> = {
    prepare_deployment: [['keys and cloud-init files (local, no configured latency)', 0]],
    setup_network: [
      ['resource group and SSH key PUTs (synchronous)', 0],
      ['NSG operation', p.arm.nsg],
      ['VNet operation (its subnet references the NSG)', p.arm.vnet],
    ],
    create_vms: [
      ['public IP operation', p.arm.pip],
      ['NIC operation (needs the public IP)', p.arm.nic],
      ['VM operation (VMs in parallel)', p.arm.vm],
    ],
    setup_vpn: [['laptop WireGuard config (local)', 0]],
    connect_vpn: [
      ['machine boot after VM Succeeded (bootMs)', h.bootMs],
      ['wg-quick@wg0 up, first handshake (wireguardStartMs)', h.wireguardStartMs],
    ],
    install_k0s: [
      [
        'rest of cloud-init (cloudInitMs - wireguardStartMs)',
        Math.max(0, h.cloudInitMs - h.wireguardStartMs),
      ],
      ['k0sctl apply (k0sApplyMs)', h.k0sApplyMs],
      ['nodes Ready (nodeReadyMs)', h.nodeReadyMs],
    ],
    install_k0rdent: [
      ['helm install kcm (helmInstallMs)', h.helmInstallMs],
      ['Management Ready (managementReadyMs)', h.managementReadyMs],
    ],
    setup_azure_children: [['az ad sp and kubectl apply (no configured latency)', 0]],
    install_azure_csi: [['CSI controller available (nodeReadyMs)', h.nodeReadyMs]],
    install_kof_mothership: [
      ['helm kof-istio (helmInstallMs)', h.helmInstallMs],
      ['istiod available, --wait (nodeReadyMs)', h.nodeReadyMs],
      ['helm kof-operators (helmInstallMs)', h.helmInstallMs],
      [
        'operator available, --wait, and its webhook answering (max(nodeReadyMs, webhookReadyMs))',
        Math.max(h.nodeReadyMs, h.webhookReadyMs),
      ],
      ['helm kof-mothership (helmInstallMs)', h.helmInstallMs],
      ['mothership available, --wait (nodeReadyMs)', h.nodeReadyMs],
    ],
    install_kof_regional: [
      ['ClusterDeployment Ready (clusterDeploymentReadyMs)', h.clusterDeploymentReadyMs],
    ],
  };
  const terms: BoundTerm[] = [];
  const byPhase: Partial<Record<PhaseName, number>> = {};
  for (const def of PHASES) {
    if (!phaseEnabled(def, flags)) continue;
    const phaseTerms = all[def.name];
    for (const [what, ms] of phaseTerms) terms.push({ phase: def.name, what, ms });
    byPhase[def.name] = phaseTerms.reduce((a, [, ms]) => a + ms, 0);
  }
  return { terms, byPhase, totalMs: terms.reduce((a, t) => a + t.ms, 0) };
}

/** The longest phase lower bound, to compare with the `quick` preset's 120 s activity timeouts. */
export function longestPhaseMs(bound: LowerBound): number {
  return Math.max(0, ...Object.values(bound.byPhase).filter((v): v is number => v !== undefined));
}
