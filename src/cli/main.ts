/** The `k0rdent-deploy` command line: deploy, plan, status, list, rollback, resume, reset, sweep, worker, demo. */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { LogLevel } from '@temporalio/worker';
import { ConfigError } from '../config/load';
import type { LocalWorld } from '../local-world';
import { SettingsError, metricsAddress } from '../temporal/connection';
import { UsageError, HelpRequested, USAGE } from './args';
import { deploy } from './deploy';
import { plan } from './plan';
import { status } from './status';
import { list } from './list';
import { rollback } from './rollback';
import { resume } from './resume';
import { reset } from './reset';
import { sweep } from './sweep';
import { worker } from './worker';
import { demo } from './demo';

const COMMANDS: Record<string, (args: string[], world?: LocalWorld) => Promise<number>> = {
  deploy,
  plan,
  status,
  list,
  rollback,
  resume,
  reset,
  sweep,
  worker,
  demo,
};

function logLevel(value: string | undefined): LogLevel {
  const levels: LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];
  return levels.find((l) => l === value?.toUpperCase()) ?? 'WARN';
}

/**
 * Runs the CLI; returns the exit code. `world`, the emulator's when `bin/k0rdent-deploy` finds it built,
 * serves `--cloud emulator`; without it the CLI deploys to Azure only.
 */
export async function main(argv: string[], world?: LocalWorld): Promise<number> {
  const [command, ...rest] = argv;
  let metrics: string | undefined;
  try {
    // Only a worker serves Temporal's worker metrics: any other command would take its port.
    metrics = command === 'worker' ? metricsAddress() : undefined;
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  Runtime.install({
    logger: new DefaultLogger(logLevel(process.env.K0RDENT_LOG_LEVEL)),
    ...(metrics && { telemetryOptions: { metrics: { prometheus: { bindAddress: metrics } } } }),
  });
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const run = COMMANDS[command];
  if (!run) {
    console.error(`unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await run(rest, world);
  } catch (err) {
    if (err instanceof HelpRequested) {
      console.log(USAGE);
      return 0;
    }
    if (err instanceof UsageError || err instanceof ConfigError || err instanceof SettingsError) {
      console.error(err.message);
      return 2;
    }
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
