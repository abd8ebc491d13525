/**
 * The run ledger of one deployment folder: how many times each phase's verbs started and completed, and
 * faults armed for them, under `<deployment folder>/.run-ledger/`. It is how tests and the fault suite see
 * that an install ran once, and make a verb fail on purpose.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';

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

/** Everything the ledger stores. */
export interface LedgerData {
  ledger: Record<string, LedgerEntry>;
  faults: Record<string, FaultSpec>;
}

const locks = new Map<string, Promise<unknown>>();

/** A handle on one deployment folder's ledger. */
export class RunLedger {
  readonly file: string;

  constructor(workDir: string) {
    this.file = path.join(workDir, '.run-ledger', 'ledger.json');
  }

  /** Reads the ledger (empty when nothing ran yet). */
  async read(): Promise<LedgerData> {
    try {
      const data = JSON.parse(await fs.readFile(this.file, 'utf8')) as Partial<LedgerData>;
      return { ledger: data.ledger ?? {}, faults: data.faults ?? {} };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ledger: {}, faults: {} };
      throw new Error(`run ledger ${this.file} is unreadable: ${(err as Error).message}`);
    }
  }

  /** Changes the ledger under an in-process lock and writes it atomically. */
  async update<T>(fn: (data: LedgerData) => T): Promise<T> {
    const previous = locks.get(this.file) ?? Promise.resolve();
    const run = previous.then(async () => {
      const data = await this.read();
      const result = fn(data);
      // Renamed into place, so a killed process never leaves half a ledger; not synced to the disk, as
      // no test crashes the machine, and its syncs crowded the worker's own at 100 deployments.
      const temp = `${this.file}.${process.pid}.tmp`;
      await fs.mkdir(path.dirname(this.file), { recursive: true });
      await fs.writeFile(temp, JSON.stringify(data, null, 2) + '\n');
      await fs.rename(temp, this.file);
      return result;
    });
    locks.set(
      this.file,
      run.catch(() => undefined)
    );
    return run;
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
    // Nearly every call finds nothing armed: that read alone writes nothing.
    if (!(await this.read()).faults[target]) return;
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
