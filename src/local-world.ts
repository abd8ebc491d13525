/**
 * What a local stand-in for Azure and the hosts lends the CLI and the worker: the emulator of the
 * `emulator/` package, in development, tests and the demo. The product only names what it needs here;
 * `bin/k0rdent-deploy` hands it a world when the emulator is built next to it, and production (the
 * worker image) has none, so it runs against Azure alone.
 */
import type { AzureTarget } from './azure/target';
import type { HostAccess } from './hosts/access';

/** One verb of a phase, as hooks see it. */
export type PhaseVerb = 'check' | 'apply' | 'rollback';

/** Runs around every phase verb of a deployment folder: counting, and failing a verb on purpose. */
export interface VerbHooks {
  /** Before the verb runs; what it throws fails the verb as the verb's own error would. */
  before(workDir: string, phase: string, verb: PhaseVerb): Promise<void>;
  /** After the verb completed. */
  after(workDir: string, phase: string, verb: PhaseVerb): Promise<void>;
}

/** A running stand-in ARM endpoint. */
export interface LocalCloud {
  endpoint: string;
  /** Its administration address (resources, request counts), for people. */
  adminUrl: string;
  /** The PEM file of the CA its certificate is signed by. */
  caFile: string;
}

/** The local world: the stand-in cloud, the doors to its hosts, the hooks, and its write counts. */
export interface LocalWorld {
  /**
   * Starts, or finds running, the stand-in ARM endpoint of a deployment folder (its files in `stateDir`);
   * `demo` asks for the demo's latencies.
   */
  startCloud(stateDir: string, opts?: { demo?: boolean }): Promise<LocalCloud>;
  /** How activities reach the hosts of a deployment whose target is the stand-in cloud. */
  hostAccess(target: AzureTarget): HostAccess;
  /** Runs around every phase verb. */
  verbHooks: VerbHooks;
  /** What the world was asked to change while `fn` ran: ARM writes and tool commands that change something. */
  writesDuring<T>(target: AzureTarget, fn: () => Promise<T>): Promise<{ result: T; writes: string[] }>;
}

/** Why `--cloud emulator` cannot be served here. */
export const NO_LOCAL_WORLD =
  'the emulator is not installed here: it is the emulator/ package of the source tree (npm run build ' +
  'builds it); this installation deploys to Azure only';
