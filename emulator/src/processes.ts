/** Starts the standalone local ARM emulator in the background, once per deployment folder. */
import { spawn } from 'node:child_process';
import { openSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { portOpen } from '../../src/temporal/dev-server';
import type { HostTimings } from './hosts/types';

/** What the standalone emulator writes about itself into its state folder. */
export interface EmulatorInfo {
  endpoint: string;
  adminUrl: string;
  caFile: string;
  pid: number;
}

const INFO_FILE = 'arm-emulator.json';

async function readInfo(stateDir: string): Promise<EmulatorInfo | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(stateDir, INFO_FILE), 'utf8')) as EmulatorInfo;
  } catch {
    return undefined;
  }
}

async function listening(info: EmulatorInfo | undefined): Promise<boolean> {
  if (!info) return false;
  const url = new URL(info.endpoint);
  return portOpen(url.hostname, Number(url.port));
}

/**
 * Returns the emulator of `stateDir`, starting it (it outlives this process) when none answers. `lroMs`
 * and `hostTimings` apply to an emulator this call starts; one already running keeps its own.
 */
export async function ensureArmEmulator(
  stateDir: string,
  opts: { lroMs?: number; hostTimings?: Partial<HostTimings>; timeoutMs?: number } = {}
): Promise<EmulatorInfo> {
  const existing = await readInfo(stateDir);
  if (await listening(existing)) return existing as EmulatorInfo;
  await fs.mkdir(stateDir, { recursive: true });
  await fs.rm(path.join(stateDir, INFO_FILE), { force: true });
  const main = path.resolve(__dirname, 'arm', 'main.js');
  const log = openSync(path.join(stateDir, 'arm-emulator.log'), 'a');
  const args = [
    main,
    '--state-dir',
    stateDir,
    ...(opts.lroMs !== undefined ? ['--lro-ms', String(opts.lroMs)] : []),
    ...(opts.hostTimings !== undefined ? ['--host-timings', JSON.stringify(opts.hostTimings)] : []),
  ];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(
        `ARM emulator exited with code ${child.exitCode}; see ${path.join(stateDir, 'arm-emulator.log')}`
      );
    }
    const info = await readInfo(stateDir);
    if (await listening(info)) return info as EmulatorInfo;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`ARM emulator did not start in time; see ${path.join(stateDir, 'arm-emulator.log')}`);
}
