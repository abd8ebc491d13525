/** The only statement of phase order, titles and enablement; every other module reads it. */

/** An optional component that enables one or more phases. */
export type Component = 'azure_children' | 'kof';

/** Which activity-timeout profile a phase uses. */
export type PhaseKind = 'local' | 'cloud' | 'vms' | 'host' | 'cluster';

/** One phase of a deployment, as data. */
export interface PhaseDef {
  /** Key in the state file (`phases.<name>`). */
  readonly name: string;
  /** Title shown by the CLI and the Web UI. */
  readonly title: string;
  /** Label the Bash tool's `status` command used. */
  readonly statusLabel: string;
  /** Present when the phase runs only with an optional component. */
  readonly component?: Component;
  /** Timeout profile of the phase's activities. */
  readonly kind: PhaseKind;
  /** A phase whose apply fans out over the VMs, bounded by `orchestrator.parallel_vms`. */
  readonly parallelOverVms?: boolean;
  /**
   * Completed phases whose effect this phase needs right now (the tunnel, for everything that talks to
   * the VMs or the cluster): checked just before it runs, and run again alone when they drifted.
   */
  readonly requires?: readonly string[];
  /** The facts its activities read; a phase request carries only these. */
  readonly reads?: readonly FactRead[];
}

/** A part of the facts a phase reads: the tunnel port, the VMs' addresses, the peers' public keys. */
export type FactRead = 'wireguard_port' | 'vm_states' | 'wireguard_peers';

/** The eleven phases in execution order. */
export const PHASES = [
  {
    name: 'prepare_deployment',
    title: 'Deployment preparation',
    statusLabel: 'Prepare deployment',
    kind: 'local',
    reads: ['wireguard_port', 'wireguard_peers'],
  },
  {
    name: 'setup_network',
    title: 'Azure network setup',
    statusLabel: 'Setup network',
    kind: 'cloud',
    reads: ['wireguard_port', 'vm_states'],
  },
  {
    name: 'create_vms',
    title: 'Azure VM creation',
    statusLabel: 'Create VMs',
    kind: 'vms',
    parallelOverVms: true,
    reads: ['vm_states'],
  },
  {
    name: 'setup_vpn',
    title: 'WireGuard VPN setup',
    statusLabel: 'Setup VPN',
    kind: 'local',
    reads: ['wireguard_port', 'vm_states', 'wireguard_peers'],
  },
  {
    name: 'connect_vpn',
    title: 'WireGuard VPN connection',
    statusLabel: 'Connect VPN',
    kind: 'host',
    reads: ['wireguard_peers'],
  },
  {
    name: 'install_k0s',
    title: 'k0s installation',
    statusLabel: 'Install k0s',
    kind: 'cluster',
    requires: ['connect_vpn'],
    reads: ['wireguard_peers'],
  },
  {
    name: 'install_k0rdent',
    title: 'k0rdent installation',
    statusLabel: 'Install k0rdent',
    kind: 'cluster',
    requires: ['connect_vpn'],
  },
  {
    name: 'setup_azure_children',
    title: 'Azure child cluster setup',
    statusLabel: 'Setup Azure children',
    component: 'azure_children',
    kind: 'cluster',
    requires: ['connect_vpn'],
  },
  {
    name: 'install_azure_csi',
    title: 'Azure CSI install',
    statusLabel: 'Install Azure CSI',
    component: 'kof',
    kind: 'cluster',
    requires: ['connect_vpn'],
  },
  {
    name: 'install_kof_mothership',
    title: 'KOF mothership install',
    statusLabel: 'Install KOF mothership',
    component: 'kof',
    kind: 'cluster',
    requires: ['connect_vpn'],
  },
  {
    name: 'install_kof_regional',
    title: 'KOF regional install',
    statusLabel: 'Install KOF regional',
    component: 'kof',
    kind: 'cluster',
    requires: ['connect_vpn'],
  },
] as const satisfies readonly PhaseDef[];

/** A phase key, e.g. `install_k0s`. */
export type PhaseName = (typeof PHASES)[number]['name'];

/** All phase keys in order. */
export const PHASE_NAMES: readonly PhaseName[] = PHASES.map((p) => p.name);

/** True when `name` is one of the eleven phase keys. */
export function isPhaseName(name: unknown): name is PhaseName {
  return typeof name === 'string' && (PHASE_NAMES as readonly string[]).includes(name);
}

/** The definition of a phase. */
export function phaseDef(name: PhaseName): PhaseDef {
  const def = PHASES.find((p) => p.name === name);
  if (!def) throw new Error(`unknown phase ${name}`);
  return def;
}

/** Position of a phase in the order (0-based). */
export function phaseIndex(name: PhaseName): number {
  return PHASE_NAMES.indexOf(name);
}

/** `install_k0s` → `InstallK0s`. */
export function pascalCase(name: string): string {
  return name
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

/** `install_k0s` → `installK0s`. */
export function camelCase(name: string): string {
  const p = pascalCase(name);
  return p.charAt(0).toLowerCase() + p.slice(1);
}

/** `install_k0s` → `InstallK0s`, as a type. */
export type PascalCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Capitalize<Head>}${PascalCase<Tail>}`
  : Capitalize<S>;

/** The names of the check / apply / rollback activities of phase `P`. */
export interface ActivityNames<P extends PhaseName = PhaseName> {
  readonly check: `check${PascalCase<P>}`;
  readonly apply: Uncapitalize<PascalCase<P>>;
  readonly rollback: `rollback${PascalCase<P>}`;
}

/** Names of the check / apply / rollback activities of a phase. */
export function activityNames<P extends PhaseName>(name: P): ActivityNames<P> {
  const pascal = pascalCase(name);
  // The strings are built as the types spell them; the compiler cannot follow the case change.
  return {
    check: `check${pascal}`,
    apply: camelCase(name),
    rollback: `rollback${pascal}`,
  } as ActivityNames<P>;
}

/** Whether a phase runs with the given components enabled. */
export function phaseEnabled(def: PhaseDef, flags: { azureChildren: boolean; kof: boolean }): boolean {
  if (def.component === 'azure_children') return flags.azureChildren;
  if (def.component === 'kof') return flags.kof;
  return true;
}
