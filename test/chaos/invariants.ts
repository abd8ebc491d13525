/** What must hold after every chaos run, each check returning the problems it found (none = holds). */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { impliedResources } from '../../src/azure/ownership';
import type { ArmEmulator, EmulatedResource } from '../../emulator/src/arm';
import type { ClusterWorldState } from '../../emulator/src/hosts/cluster/model';
import { namesFor } from '../../src/config/naming';
import type { K0rdentConfig } from '../../src/config/types';
import { renderClusterEventsFile, renderDeploymentState, renderEventsFile } from '../../src/state/render';
import { clusterEventsFile, DEPLOYMENT_EVENTS_FILE, DEPLOYMENT_STATE_FILE } from '../../src/state/paths';
import type { SweepReport } from '../../src/sweep';
import type { DeploymentState } from '../../src/workflows/messages';
import type { PhaseName } from '../../src/workflows/phases';
import { phaseIndex } from '../../src/workflows/phases';
import type { Finish } from './plan';

/** The invariants, in the order they are printed. */
export const INVARIANTS = ['reached', 'world', 'applied-once', 'state-files', 'no-secrets', 'sweep'] as const;
export type Invariant = (typeof INVARIANTS)[number];

/** What the run asked for at the end. */
export interface Expectation {
  finish: Finish;
  /** The phase the deployment rests at when `finish` is `rest`. */
  restAt?: PhaseName;
  enabled: PhaseName[];
}

const done = (s: DeploymentState, p: PhaseName) => s.phases[p].status === 'completed';

/** The deployment reached the state that was asked for. */
export async function checkReached(
  state: DeploymentState,
  expect: Expectation,
  workDir: string,
  closed: boolean
): Promise<string[]> {
  const problems: string[] = [];
  if (expect.finish === 'reset') {
    if (!closed) problems.push('reset asked, but the workflow is still open');
    if (state.status !== 'reset') problems.push(`reset asked, status is ${state.status}`);
    if (!state.archivedTo) problems.push('reset asked, but no archive folder is recorded');
    else if (!(await exists(path.join(workDir, state.archivedTo, 'deployment-state.yaml'))))
      problems.push(`archive ${state.archivedTo} holds no deployment-state.yaml`);
    if (await exists(path.join(workDir, '.clusterid')))
      problems.push('.clusterid is still there after reset');
    for (const p of expect.enabled)
      if (state.phases[p].status !== 'pending')
        problems.push(`${p} is ${state.phases[p].status} after reset`);
    return problems;
  }
  if (closed) problems.push('the workflow closed, but it should stay open');
  if (expect.finish === 'complete') {
    if (state.status !== 'completed') problems.push(`completion asked, status is ${state.status}`);
    for (const p of expect.enabled)
      if (!done(state, p)) problems.push(`${p} is ${state.phases[p].status}, not completed`);
    return problems;
  }
  const target = expect.restAt as PhaseName;
  if (state.status !== 'paused') problems.push(`rest at ${target} asked, status is ${state.status}`);
  if (state.rollbackTarget !== target) problems.push(`rollback target is ${String(state.rollbackTarget)}`);
  for (const p of expect.enabled) {
    const want = phaseIndex(p) < phaseIndex(target) ? 'completed' : 'pending';
    if (state.phases[p].status !== want) problems.push(`${p} is ${state.phases[p].status}, not ${want}`);
  }
  return problems;
}

/** A resource as compared across a run (what a foreign owner would notice changing). */
function fingerprint(r: EmulatedResource): string {
  return JSON.stringify([r.id.toLowerCase(), r.tags, r.provisioningState, r.properties]);
}

/** Resources of other deployments and owners, fingerprinted, to compare before and after a run. */
export function foreignSnapshot(arm: ArmEmulator, id: string): Map<string, string> {
  const rg = `${id}-resgrp`.toLowerCase();
  return new Map(
    arm
      .resources()
      .filter((r) => r.resourceGroup.toLowerCase() !== rg)
      .map((r) => [r.id.toLowerCase(), fingerprint(r)])
  );
}

/** The resources (`type name`) the phases that hold in `state` imply, with the children ARM keeps inline. */
function expectedResources(state: DeploymentState, names: ReturnType<typeof namesFor>): string[] {
  const out = impliedResources(names, (p) => done(state, p)).map((r) => `${r.type} ${r.name}`);
  if (done(state, 'setup_network')) {
    out.push(
      'Microsoft.Network/networkSecurityGroups/securityRules AllowWireGuard',
      'Microsoft.Network/networkSecurityGroups/securityRules AllowSSH',
      `Microsoft.Network/virtualNetworks/subnets ${names.subnet}`
    );
  }
  return out.sort();
}

/** The emulator holds exactly what the state implies: nothing leaked, nothing twice, nothing foreign touched. */
export function checkWorld(
  arm: ArmEmulator,
  state: DeploymentState,
  config: K0rdentConfig,
  foreignBefore: Map<string, string>,
  vpnDropped: boolean
): string[] {
  const problems: string[] = [];
  const names = namesFor(state.deploymentId, config);
  const rg = names.resourceGroup.toLowerCase();
  const all = arm.resources();
  const ours = all
    .filter((r) => r.resourceGroup.toLowerCase() === rg)
    .map((r) => `${r.type} ${r.name}`)
    .sort();
  const want = expectedResources(state, names);
  for (const r of ours.filter((x) => !want.includes(x))) problems.push(`leaked: ${r}`);
  for (const r of want.filter((x) => !ours.includes(x))) problems.push(`missing: ${r}`);
  for (const r of ours.filter((x, i) => ours.indexOf(x) !== i)) problems.push(`twice: ${r}`);
  const tagged = all.filter(
    (r) => r.tags['k0rdent-deployment'] === state.deploymentId && r.resourceGroup.toLowerCase() !== rg
  );
  for (const r of tagged) problems.push(`ours outside the resource group: ${r.id}`);
  for (const r of all.filter(
    (x) => x.provisioningState !== 'Succeeded' && x.resourceGroup.toLowerCase() === rg
  ))
    problems.push(`${r.type} ${r.name} is ${r.provisioningState}`);

  const after = foreignSnapshot(arm, state.deploymentId);
  for (const [id, print] of foreignBefore) {
    const now = after.get(id);
    if (now === undefined) problems.push(`foreign resource deleted: ${id}`);
    else if (now !== print) problems.push(`foreign resource changed: ${id}`);
  }
  for (const id of after.keys()) if (!foreignBefore.has(id)) problems.push(`foreign resource created: ${id}`);

  const world = arm.hosts.state();
  const clusters = (world.cluster as ClusterWorldState).clusters;
  const cluster = clusters[state.deploymentId];
  const expectHeld = (what: string, phase: PhaseName, held: boolean) => {
    if (done(state, phase) && !held) problems.push(`${phase} completed but ${what} is not there`);
    if (!done(state, phase) && held)
      problems.push(`${phase} is ${state.phases[phase].status} but ${what} is there`);
  };
  expectHeld('k0s', 'install_k0s', cluster?.k0s !== undefined);
  const release = (key: string) => cluster?.releases[key] !== undefined;
  expectHeld('the kcm release', 'install_k0rdent', release('kcm-system/kcm'));
  for (const r of ['istio-system/kof-istio', 'kof/kof-operators', 'kof/kof-mothership'])
    expectHeld(`the ${r} release`, 'install_kof_mothership', release(r));
  for (const [key, r] of Object.entries(cluster?.releases ?? {}))
    if (r.status !== 'deployed') problems.push(`release ${key} is ${r.status}`);
  const objects = Object.keys(cluster?.objects ?? {});
  expectHeld(
    'the Azure disk CSIDriver',
    'install_azure_csi',
    objects.some((k) => k.startsWith('CSIDriver') && k.endsWith('/disk.csi.azure.com'))
  );
  expectHeld(
    `ClusterDeployment ${names.kofRegionalCluster}`,
    'install_kof_regional',
    objects.some((k) => k.startsWith('ClusterDeployment') && k.endsWith(`/${names.kofRegionalCluster}`))
  );
  expectHeld(
    `service principal ${names.servicePrincipal}`,
    'setup_azure_children',
    (world.cluster as ClusterWorldState).servicePrincipals.some(
      (sp) => sp.displayName === names.servicePrincipal
    )
  );
  const machines = world.machines.filter((m) => m.deploymentId === state.deploymentId).map((m) => m.name);
  expectHeld(
    'every machine',
    'create_vms',
    names.hosts.every((h) => machines.includes(h.name))
  );
  if (!done(state, 'create_vms') && machines.length > 0)
    problems.push(`machines left: ${machines.join(', ')}`);
  const tunnel = world.tunnels.some((t) => t.interface === names.wireguardInterface);
  // A tunnel dropped after the last phase that needed it stays down until something needs it again.
  if (!vpnDropped || !done(state, 'connect_vpn')) expectHeld('the laptop tunnel', 'connect_vpn', tunnel);
  for (const [key, holder] of Object.entries(world.locks))
    if (key.startsWith(`${state.deploymentId}/`)) problems.push(`k0sctl lock left on ${key} by ${holder}`);
  return problems;
}

/** What `sweep --json` said at the end of a run. */
export interface SweepRun {
  code: number;
  output: string;
  /** ARM writes the emulator received while the sweep ran. */
  writes: number;
}

/** A sweep at the end of a run finds nothing stray and nothing left to a running phase, and writes nothing. */
export function checkSweep(run: SweepRun): string[] {
  const start = run.output.indexOf('{');
  if (start < 0) return [`sweep printed no report (exit ${run.code}): ${run.output.trim()}`];
  const report = JSON.parse(run.output.slice(start)) as SweepReport;
  const problems = report.strays.map((r) => `stray ${r.type} ${r.name} of ${r.owner}: ${r.why}`);
  for (const r of report.inFlight) problems.push(`left to a running phase: ${r.type} ${r.name} (${r.why})`);
  if (run.code !== 0) problems.push(`sweep exited ${run.code}`);
  if (run.writes !== 0) problems.push(`sweep without --delete made ${run.writes} ARM write(s)`);
  return problems;
}

/** What each install key counts, by the phase whose apply makes it. */
function installKeys(state: DeploymentState, config: K0rdentConfig): [string, PhaseName][] {
  const id = state.deploymentId;
  const names = namesFor(id, config);
  return [
    [`k0s:${id}`, 'install_k0s'],
    [`helm:${id}:kcm-system/kcm`, 'install_k0rdent'],
    [`sp:${names.servicePrincipal}`, 'setup_azure_children'],
    [`helm:${id}:istio-system/kof-istio`, 'install_kof_mothership'],
    [`helm:${id}:kof/kof-operators`, 'install_kof_mothership'],
    [`helm:${id}:kof/kof-mothership`, 'install_kof_mothership'],
    [`object:${id}:ClusterDeployment:kcm-system/${names.kofRegionalCluster}`, 'install_kof_regional'],
  ];
}

/**
 * Completions of `phase` that had to install: the first, and each one after the phase was rolled back
 * (a completion after a rollback that failed finds the install still there).
 */
function installsNeeded(state: DeploymentState, phase: PhaseName): number {
  let installed = false;
  let needed = 0;
  for (const e of state.events) {
    if (e.phase !== phase) continue;
    if (e.action === 'phase_completed') {
      if (!installed) needed++;
      installed = true;
    } else if (e.action === 'phase_rolled_back') installed = false;
  }
  return needed;
}

/**
 * Each install happened once per time its phase was asked to run: at least once per completion of the
 * phase that had to install, at most once per `apply` the workflow started (retries of one apply count
 * once).
 */
export function checkAppliedOnce(arm: ArmEmulator, state: DeploymentState, config: K0rdentConfig): string[] {
  const applied = arm.hosts.counts().applied;
  const problems: string[] = [];
  for (const [key, phase] of installKeys(state, config)) {
    const n = applied[key] ?? 0;
    const needed = installsNeeded(state, phase);
    const runs = state.phases[phase].runs;
    if (n < needed) problems.push(`${key}: installed ${n}×, but ${phase} completed ${needed}× from scratch`);
    if (n > runs) problems.push(`${key}: installed ${n}×, but ${phase} was asked to run ${runs}×`);
  }
  return problems;
}

/** The state files in `stateDir` at the end equal the projection of the workflow's final state. */
export async function checkFinalFiles(stateDir: string, state: DeploymentState): Promise<string[]> {
  const problems: string[] = [];
  const compare = async (rel: string, render: (existing: string) => string) => {
    const name = path.basename(rel);
    const text = await fs.readFile(path.join(stateDir, name), 'utf8').catch(() => undefined);
    if (text === undefined) {
      problems.push(`${name} is missing`);
      return;
    }
    const want = render(text);
    if (want !== text)
      problems.push(`${name} differs from the projection of the final state: ${firstDiff(text, want)}`);
  };
  await compare(DEPLOYMENT_STATE_FILE, (existing) => renderDeploymentState(state, existing));
  await compare(DEPLOYMENT_EVENTS_FILE, (existing) =>
    renderEventsFile(state.deploymentId, state.createdAt, state.lastUpdated, state.events, existing)
  );
  for (const [name, record] of Object.entries(state.facts.clusters))
    await compare(clusterEventsFile(name), (existing) => renderClusterEventsFile(name, record, existing));
  return problems;
}

function firstDiff(have: string, want: string): string {
  const a = have.split('\n');
  const b = want.split('\n');
  const i = a.findIndex((line, n) => line !== b[n]);
  const at = i < 0 ? Math.min(a.length, b.length) : i;
  return `line ${at + 1}: file "${a[at] ?? ''}", projection "${b[at] ?? ''}"`;
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false
  );
}

/** Places where secret material must never appear, with the text found there. */
export interface Haystack {
  where: string;
  text: string;
}

/** Secret material found in any haystack: the needles are the run's private keys and secrets. */
export function checkNoSecrets(needles: Map<string, string>, haystacks: Haystack[]): string[] {
  const problems: string[] = [];
  const pem = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
  for (const h of haystacks) {
    if (pem.test(h.text)) problems.push(`${h.where}: holds a PEM private key`);
    if (/PrivateKey\s*=\s*[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=/.test(h.text))
      problems.push(`${h.where}: holds a WireGuard PrivateKey line`);
    for (const [name, needle] of needles)
      if (h.text.includes(needle)) problems.push(`${h.where}: holds ${name}`);
  }
  return problems;
}
