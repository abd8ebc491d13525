/**
 * The emulator as the product's local world (`src/local-world.ts`): its standalone ARM endpoint per
 * deployment folder, the doors to its hosts, the run ledger around every phase verb, and the writes it
 * counts. `bin/k0rdent-deploy` hands it to the CLI when the emulator is built.
 */
import type { AzureTarget } from '../../src/azure/target';
import type { LocalWorld, PhaseVerb, VerbHooks } from '../../src/local-world';
import { emulatorAccess } from './access';
import type { HostTimings } from './hosts/types';
import { ensureArmEmulator } from './processes';
import { RunLedger } from './run-ledger';
import { worldCounts, worldWrites } from './world-writes';

/** Duration of each long-running operation of the demo's ARM emulator, milliseconds. */
const DEMO_LRO_MS = 1500;

/** How long the demo's emulated machines and cluster take: visible, yet far shorter than Azure. */
const DEMO_HOST_TIMINGS: Partial<HostTimings> = {
  bootMs: 1000,
  wireguardStartMs: 500,
  cloudInitMs: 1500,
  k0sApplyMs: 4000,
  nodeReadyMs: 1000,
  helmInstallMs: 1500,
  managementReadyMs: 2000,
  webhookReadyMs: 1000,
  clusterDeploymentReadyMs: 4000,
};

/** The run ledger of each folder around every verb: what started and completed, and the faults armed. */
export const ledgerHooks: VerbHooks = {
  async before(workDir: string, phase: string, verb: PhaseVerb) {
    const ledger = new RunLedger(workDir);
    if (verb === 'apply') await ledger.count(phase, 'applyStarted');
    await ledger.maybeFail(`${phase}.${verb}`);
  },
  async after(workDir: string, phase: string, verb: PhaseVerb) {
    const ledger = new RunLedger(workDir);
    if (verb === 'apply') await ledger.count(phase, 'applyCompleted');
    if (verb === 'rollback') await ledger.count(phase, 'rollbackCompleted');
  },
};

/** The emulator's local world. */
export function localWorld(): LocalWorld {
  return {
    startCloud: (stateDir, opts) =>
      ensureArmEmulator(stateDir, opts?.demo ? { lroMs: DEMO_LRO_MS, hostTimings: DEMO_HOST_TIMINGS } : {}),
    hostAccess: emulatorAccess,
    verbHooks: ledgerHooks,
    async writesDuring<T>(target: AzureTarget, fn: () => Promise<T>) {
      const before = await worldCounts(target);
      const result = await fn();
      return { result, writes: worldWrites(before, await worldCounts(target)) };
    },
  };
}
