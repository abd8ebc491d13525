/** All activities of the deployment workflow, built once from their dependencies. */
import { ApplicationFailure } from '@temporalio/common';
import type { AdapterOptions } from '../azure/adapter';
import { ArmAdapter } from '../azure/adapter';
import type { ClientOptions } from '../azure/clients';
import { armClientsFor } from '../azure/clients';
import type { AzureTarget } from '../azure/target';
import type { HostAccess } from '../hosts/access';
import { directAccess } from '../hosts/access';
import type { LocalWorld } from '../local-world';
import { NO_LOCAL_WORLD } from '../local-world';
import type { ActivityNames, PhaseName } from '../workflows/phases';
import { PHASE_NAMES, activityNames } from '../workflows/phases';
import type { CheckResult, PhaseContext, PhaseRequest, PhaseResult } from '../workflows/messages';
import { resolveContext } from './config-source';
import { connectVpnPhase } from './connect-vpn';
import { createVmsPhase } from './create-vms';
import { installAzureCsiPhase } from './install-azure-csi';
import { installK0rdentPhase } from './install-k0rdent';
import { installK0sPhase } from './install-k0s';
import { installKofMothershipPhase } from './install-kof-mothership';
import { installKofRegionalPhase } from './install-kof-regional';
import type { Phase, PhaseDeps, PhaseFactory } from './phase';
import { prepareDeploymentPhase } from './prepare-deployment';
import { observeItems } from './inventory';
import { archiveState, projectState, recordHistory } from './projection';
import { setupAzureChildrenPhase } from './setup-azure-children';
import { setupNetworkPhase } from './setup-network';
import { setupVpnPhase } from './setup-vpn';
import { wrapFailure } from './work';

/** Every phase's factory, keyed by phase name; a missing phase does not compile. */
export const PHASE_FACTORIES: Record<PhaseName, PhaseFactory> = {
  prepare_deployment: prepareDeploymentPhase,
  setup_network: setupNetworkPhase,
  create_vms: createVmsPhase,
  setup_vpn: setupVpnPhase,
  connect_vpn: connectVpnPhase,
  install_k0s: installK0sPhase,
  install_k0rdent: installK0rdentPhase,
  setup_azure_children: setupAzureChildrenPhase,
  install_azure_csi: installAzureCsiPhase,
  install_kof_mothership: installKofMothershipPhase,
  install_kof_regional: installKofRegionalPhase,
};

type PhaseActivity<R> = (ctx: PhaseContext) => Promise<R>;
type PhaseRequestActivity<R> = (request: PhaseRequest) => Promise<R>;

/** Every phase's activities by name: `check<Phase>` gives a verdict, `<phase>` and `rollback<Phase>` a result. */
export type PhaseActivities = {
  [P in PhaseName as ActivityNames<P>['check']]: PhaseRequestActivity<CheckResult>;
} & {
  [P in PhaseName as ActivityNames<P>['apply' | 'rollback']]: PhaseRequestActivity<PhaseResult>;
};

/** How `defaultDeps` builds ARM adapters; everything has a default. */
export interface AzureDepsOptions {
  adapter?: Partial<AdapterOptions>;
  clients?: ClientOptions;
}

/**
 * Default dependencies: one ARM adapter and one host access per target. A target on the local world's
 * stand-in cloud needs that world (its host access and verb hooks); without one it is refused.
 */
export function defaultDeps(azure: AzureDepsOptions = {}, world?: LocalWorld): PhaseDeps {
  const adapters = new Map<string, ArmAdapter>();
  const accesses = new Map<string, HostAccess>();
  return {
    hooks: world?.verbHooks,
    azure: (target: AzureTarget) => {
      const key = JSON.stringify(target);
      let adapter = adapters.get(key);
      if (!adapter) {
        adapter = new ArmAdapter(armClientsFor(target, azure.clients), azure.adapter);
        adapters.set(key, adapter);
      }
      return adapter;
    },
    hosts: (target: AzureTarget) => {
      if (target.cloud !== 'emulator') return directAccess();
      if (!world) throw ApplicationFailure.nonRetryable(NO_LOCAL_WORLD, 'InvalidConfig');
      const key = JSON.stringify(target);
      let access = accesses.get(key);
      if (!access) {
        access = world.hostAccess(target);
        accesses.set(key, access);
      }
      return access;
    },
  };
}

/** Wraps a phase's verbs: the hooks around each, one error wrapping with context. */
function instrument(name: PhaseName, phase: Phase, deps: PhaseDeps) {
  const names = activityNames(name);
  const run =
    <R>(verb: 'check' | 'apply' | 'rollback', fn: PhaseActivity<R>): PhaseRequestActivity<R> =>
    async (request) => {
      try {
        await deps.hooks?.before(request.workDir, name, verb);
        const result = await fn(await resolveContext(request));
        await deps.hooks?.after(request.workDir, name, verb);
        return result;
      } catch (err) {
        if (err instanceof Error && err.name === 'CancelledFailure') throw err;
        throw wrapFailure(`${verb} ${name}`, err);
      }
    };
  return {
    [names.check]: run<CheckResult>('check', (ctx) => phase.check(ctx)),
    [names.apply]: run<PhaseResult>('apply', (ctx) => phase.apply(ctx)),
    [names.rollback]: run<PhaseResult>('rollback', (ctx) => phase.rollback(ctx)),
  };
}

/** Builds the activities object registered on the worker. */
export function createActivities(deps: PhaseDeps = defaultDeps()) {
  const phaseActivities: Record<string, PhaseRequestActivity<CheckResult | PhaseResult>> = {};
  for (const name of PHASE_NAMES)
    Object.assign(phaseActivities, instrument(name, PHASE_FACTORIES[name](deps), deps));
  return {
    // Keyed by `activityNames`, whose result type `PhaseActivities` is built from.
    ...(phaseActivities as PhaseActivities),
    projectState,
    archiveState,
    recordHistory,
    /** `plan`'s read-only look at which of a phase's items exist. */
    async observePhaseItems(request: PhaseRequest) {
      try {
        return await observeItems(deps, await resolveContext(request));
      } catch (err) {
        if (err instanceof Error && err.name === 'CancelledFailure') throw err;
        throw wrapFailure(`observe ${request.phase}`, err);
      }
    },
  };
}
