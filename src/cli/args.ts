/** Command-line parsing shared by every command: the usage text, option parsing, the deployment folder. */
import { statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

/** A usage or input problem: printed without a stack, exit code 2. */
export class UsageError extends Error {}

/** `--help` / `-h` given to a command: the usage is printed and nothing else happens. */
export class HelpRequested extends Error {}

export const USAGE = `usage: k0rdent-deploy <command> [options]

commands:
  deploy   [--config FILE] [--cloud emulator|azure] [--with-kof] [--with-azure-children] [--detach] [--no-worker]
           start the deployment of this folder, or attach to it when it runs; shows progress
  plan     [deploy | rollback --to PHASE | reset] [--json] [--config FILE] [--cloud emulator|azure]
           [--with-kof] [--with-azure-children]
           what that command would do, per phase and per resource, from checks that change nothing
  status   [--json]             the deployment's phases with status, timestamps and durations
  list                          every deployment known to the Temporal server
  rollback --to PHASE [--resume] roll back to PHASE (and continue at once with --resume)
  resume                        continue after a failure or a rollback
  reset    [--yes]              undo everything, archive the state to old_deployments/, end the deployment
  sweep    [--delete] [--json]  tagged Azure resources no live deployment accounts for; --delete removes
           them (exit 3: strays found and left)
  worker   [--task-queue Q] [--config FILE] [--tuner fixed|resource] [--max-workflow-tasks N]
           [--max-activities N] [--max-local-activities N] [--keygen-threads N]
           run a worker (keeps deployments moving while nothing else runs); load limits from
           orchestrator.worker of the config, then the flags
  demo                          dev server + Web UI + worker + a full deployment in the local world

common options:
  --dir DIR      deployment folder (default: current directory); holds state/, .clusterid, keys
  --id ID        deployment id (default: the folder's .clusterid)
Temporal connection: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TLS_* ... (default: embedded dev server)
Web UI links: the embedded dev server's, else K0RDENT_WEB_UI (e.g. http://localhost:8080)`;

const COMMON = {
  dir: { type: 'string' },
  id: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

export type Values = Record<string, string | boolean | undefined>;

export function parse(args: string[], options: OptionSpec): Values {
  let values: Values;
  try {
    ({ values } = parseArgs({
      args,
      options: { ...COMMON, ...options },
      allowPositionals: false,
      strict: true,
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${USAGE}`);
  }
  if (values.help) throw new HelpRequested();
  const empty = Object.keys(values).find((name) => values[name] === '');
  if (empty !== undefined) throw new UsageError(`--${empty}: needs a value`);
  return values;
}

/** The deployment folder of `--dir` (default: the current directory); refuses a path that is no folder. */
export function workDirOf(dir: unknown): string {
  const workDir = path.resolve(typeof dir === 'string' ? dir : process.cwd());
  let isDirectory = true;
  try {
    isDirectory = statSync(workDir).isDirectory();
  } catch {
    // A folder that does not exist yet: deploy creates it, the other commands find no deployment there.
  }
  if (!isDirectory) throw new UsageError(`--dir ${String(dir)}: not a directory`);
  return workDir;
}
