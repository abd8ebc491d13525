/**
 * The ARM emulator as a standalone process:
 * `node dist/emulator/src/arm/main.js --state-dir DIR [--port N] [--lro-ms N] [--host H] [--host-timings JSON]`.
 * It writes DIR/arm-emulator.json ({ endpoint, adminUrl, caFile, pid }) once it listens, keeps its
 * certificate, resources and host world in DIR so a restart keeps them (and, without --port, the previous
 * port when free), and exits cleanly on SIGTERM or SIGINT.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { validateTimings } from '../hosts/faults';
import type { HostTimings } from '../hosts/types';
import type { ArmEmulator, ArmEmulatorInfo } from './index';
import {
  ARM_EMULATOR_CA_FILE,
  ARM_EMULATOR_INFO_FILE,
  ARM_EMULATOR_KEY_FILE,
  ARM_EMULATOR_STATE_FILE,
  armEmulatorInfo,
  startArmEmulator,
} from './index';

/** Command-line settings of the standalone emulator. */
export interface StandaloneArgs {
  stateDir: string;
  host?: string;
  port?: number;
  lroMs?: number;
  /** Host world timings merged over the persisted (or default) ones. */
  hostTimings?: Partial<HostTimings>;
}

const USAGE =
  'usage: main.js --state-dir DIR [--port N] [--lro-ms N] [--host H] [--host-timings \'{"bootMs":2000,...}\']';

function integer(flag: string, value: string | undefined, max: number): number {
  const n = Number(value);
  if (value === undefined || !/^\d+$/.test(value) || n > max)
    throw new Error(`${flag} needs an integer 0..${max}; ${USAGE}`);
  return n;
}

/** Parses the command line; throws with the usage on anything unknown or missing. */
export function parseStandaloneArgs(argv: string[]): StandaloneArgs {
  let stateDir: string | undefined;
  const args: Partial<StandaloneArgs> = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    switch (flag) {
      case '--state-dir':
        if (value === undefined) throw new Error(`--state-dir needs a folder; ${USAGE}`);
        stateDir = value;
        break;
      case '--port':
        args.port = integer(flag, value, 65535);
        break;
      case '--lro-ms':
        args.lroMs = integer(flag, value, 3_600_000);
        break;
      case '--host':
        if (value === undefined) throw new Error(`--host needs an address; ${USAGE}`);
        args.host = value;
        break;
      case '--host-timings':
        try {
          args.hostTimings = validateTimings(JSON.parse(value ?? '') as unknown);
        } catch (err) {
          throw new Error(
            `--host-timings needs a JSON object of timings: ${(err as Error).message}; ${USAGE}`
          );
        }
        break;
      default:
        throw new Error(`unknown argument ${String(flag)}; ${USAGE}`);
    }
    i++;
  }
  if (stateDir === undefined) throw new Error(`--state-dir is required; ${USAGE}`);
  return { ...args, stateDir: path.resolve(stateDir) };
}

async function previousPort(stateFile: string): Promise<number | undefined> {
  try {
    const { port } = JSON.parse(await fs.readFile(stateFile, 'utf8')) as { port?: unknown };
    return typeof port === 'number' && port > 0 ? port : undefined;
  } catch {
    return undefined;
  }
}

/** Starts the emulator of a state folder and writes its info file. */
export async function startStandalone(
  args: StandaloneArgs
): Promise<{ emulator: ArmEmulator; info: ArmEmulatorInfo }> {
  await fs.mkdir(args.stateDir, { recursive: true });
  const stateFile = path.join(args.stateDir, ARM_EMULATOR_STATE_FILE);
  const caFile = path.join(args.stateDir, ARM_EMULATOR_CA_FILE);
  const options = {
    host: args.host,
    stateFile,
    tlsFiles: { cert: caFile, key: path.join(args.stateDir, ARM_EMULATOR_KEY_FILE) },
    lro: args.lroMs === undefined ? undefined : { defaultMs: args.lroMs },
    hosts: args.hostTimings === undefined ? undefined : { timings: args.hostTimings },
  };
  let emulator: ArmEmulator;
  const wanted = args.port ?? (await previousPort(stateFile));
  try {
    emulator = await startArmEmulator({ ...options, port: wanted ?? 0 });
  } catch (err) {
    // The previous port is only a preference; an explicit --port must be honoured.
    if (args.port !== undefined || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    emulator = await startArmEmulator({ ...options, port: 0 });
  }
  const info: ArmEmulatorInfo = {
    endpoint: emulator.endpoint,
    adminUrl: emulator.adminUrl,
    caFile,
    pid: process.pid,
  };
  const infoFile = path.join(args.stateDir, ARM_EMULATOR_INFO_FILE);
  const tmp = `${infoFile}.${process.pid}.tmp`;
  await fs.writeFile(tmp, `${JSON.stringify(info, null, 2)}\n`);
  await fs.rename(tmp, infoFile);
  return { emulator, info };
}

/** Stops the emulator and removes the info file if it is still this process's. */
export async function stopStandalone(stateDir: string, emulator: ArmEmulator): Promise<void> {
  await emulator.close();
  const info = await armEmulatorInfo(stateDir);
  if (info?.pid === process.pid) await fs.rm(path.join(stateDir, ARM_EMULATOR_INFO_FILE), { force: true });
}

async function main(): Promise<void> {
  let args: StandaloneArgs;
  try {
    args = parseStandaloneArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const { emulator, info } = await startStandalone(args);
  console.log(`ARM emulator listening on ${info.endpoint} (state ${args.stateDir}, pid ${info.pid})`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`ARM emulator stopping on ${signal}`);
    stopStandalone(args.stateDir, emulator).then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`ARM emulator did not stop cleanly: ${String(err)}`);
        process.exit(1);
      }
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`ARM emulator failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
