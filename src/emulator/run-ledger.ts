/**
 * The local world: a file-backed stand-in for the cloud, hosts and cluster that phases act on when no
 * real endpoint is configured. It keeps the resources each phase made, a ledger of phase runs, and
 * injected faults, under `<deployment folder>/.local-world/`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { writeFileAtomic } from '../state/atomic';

/** A resource held by the local world. */
export interface WorldResource {
  kind: string;
  name: string;
  /** Deployment id the resource belongs to (the ownership tag). */
  owner: string;
  props: Record<string, unknown>;
}

/** Per-phase counts of what ran to completion. */
export interface LedgerEntry {
  applyStarted: number;
  applyCompleted: number;
  rollbackCompleted: number;
}

/** A fault to inject: fail the next `remaining` calls of a phase verb. */
export interface FaultSpec {
  remaining: number;
  message?: string;
  /** Fail with a non-retryable failure type. */
  nonRetryable?: boolean;
}

/** Everything the local world stores. */
export interface WorldData {
  resources: Record<string, WorldResource>;
  ledger: Record<string, LedgerEntry>;
  faults: Record<string, FaultSpec>;
}

const locks = new Map<string, Promise<unknown>>();

function key(kind: string, name: string): string {
  return `${kind}/${name}`.toLowerCase();
}

/** A handle on one deployment's local world. */
export class LocalWorld {
  readonly file: string;

  constructor(workDir: string) {
    this.file = path.join(workDir, '.local-world', 'world.json');
  }

  /** Reads the world (empty when nothing was made yet). */
  async read(): Promise<WorldData> {
    try {
      const data = JSON.parse(await fs.readFile(this.file, 'utf8')) as Partial<WorldData>;
      return { resources: data.resources ?? {}, ledger: data.ledger ?? {}, faults: data.faults ?? {} };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { resources: {}, ledger: {}, faults: {} };
      throw new Error(`local world ${this.file} is unreadable: ${(err as Error).message}`);
    }
  }

  /** Changes the world under an in-process lock and writes it atomically. */
  async update<T>(fn: (data: WorldData) => T): Promise<T> {
    const previous = locks.get(this.file) ?? Promise.resolve();
    const run = previous.then(async () => {
      const data = await this.read();
      const result = fn(data);
      await writeFileAtomic(this.file, JSON.stringify(data, null, 2) + '\n');
      return result;
    });
    locks.set(
      this.file,
      run.catch(() => undefined)
    );
    return run;
  }

  /** Creates or updates a resource; refuses one that belongs to another deployment. */
  async put(
    owner: string,
    kind: string,
    name: string,
    props: Record<string, unknown>
  ): Promise<WorldResource> {
    return this.update((data) => {
      const existing = data.resources[key(kind, name)];
      if (existing && existing.owner !== owner) {
        throw ApplicationFailure.create({
          message: `${kind} ${name} belongs to ${existing.owner}, not ${owner}`,
          type: 'ForeignResource',
          nonRetryable: true,
        });
      }
      const resource = { kind, name, owner, props: { ...existing?.props, ...props } };
      data.resources[key(kind, name)] = resource;
      return resource;
    });
  }

  /** A resource, or undefined. */
  async get(kind: string, name: string): Promise<WorldResource | undefined> {
    return (await this.read()).resources[key(kind, name)];
  }

  /** Deletes a resource; deleting a missing one is not an error. */
  async remove(kind: string, name: string): Promise<boolean> {
    return this.update((data) => {
      const existed = key(kind, name) in data.resources;
      delete data.resources[key(kind, name)];
      return existed;
    });
  }

  /** Resources of one kind. */
  async list(kind: string): Promise<WorldResource[]> {
    return Object.values((await this.read()).resources).filter((r) => r.kind === kind);
  }

  /** Counts a phase event in the ledger. */
  async count(phase: string, what: keyof LedgerEntry): Promise<void> {
    await this.update((data) => {
      const entry = data.ledger[phase] ?? { applyStarted: 0, applyCompleted: 0, rollbackCompleted: 0 };
      entry[what] += 1;
      data.ledger[phase] = entry;
    });
  }

  /** Arms a fault for `<phase>.<verb>` (verb: check, apply, rollback). */
  async injectFault(target: string, fault: FaultSpec): Promise<void> {
    await this.update((data) => {
      data.faults[target] = fault;
    });
  }

  /** Throws the injected failure if one is armed for `target`, consuming it. */
  async maybeFail(target: string): Promise<void> {
    const fault = await this.update((data) => {
      const armed = data.faults[target];
      if (!armed || armed.remaining <= 0) return undefined;
      armed.remaining -= 1;
      if (armed.remaining === 0) delete data.faults[target];
      return armed;
    });
    if (fault) {
      throw ApplicationFailure.create({
        message: fault.message ?? `injected fault in ${target}`,
        type: 'InjectedFault',
        nonRetryable: fault.nonRetryable === true,
      });
    }
  }
}
