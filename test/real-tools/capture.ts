/**
 * Runs whole deployments in the local emulated world and records every command line a phase hands to
 * helm, kubectl, az and k0sctl: argv, stdin and the files named by `--config`/`-f`, as the phases ran them.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultDeps } from '../../src/activities';
import { EMULATED_TOOLS_BIN } from '../../emulator/src/access';
import { localWorld } from '../../emulator/src/world';
import { createWorker } from '../../src/worker';
import type { DeploymentState } from '../../src/workflows/messages';
import { resetUpdate } from '../../src/workflows/messages';
import { prepareDeployment, startDeployment, startServer, waitFor } from '../integration/harness';

/** The tools whose command lines are recorded. */
export const RECORDED_TOOLS = ['helm', 'kubectl', 'az', 'k0sctl'] as const;

/** One of the recorded tools. */
export type RecordedTool = (typeof RECORDED_TOOLS)[number];

/** One command a phase ran. */
export interface ToolCommand {
  tool: RecordedTool;
  args: string[];
  /** The working folder: the deployment folder. */
  cwd: string;
  stdin: string;
  /** Copies of the files the command was given, by argument index. */
  files: Map<number, string>;
  /** Which deployment ran it, e.g. `3 controllers, 2 workers`. */
  topology: string;
  /** That deployment's id. */
  deploymentId: string;
  /** When it ran, in nanoseconds since the epoch (orders a deployment's commands). */
  at: bigint;
}

/** The shape of one recorded deployment. */
export interface Topology {
  controllers: number;
  workers: number;
}

/** Flags whose value is a file the recorder keeps a copy of. */
const FILE_FLAGS = ['--config', '-f', '--filename', '--values'];

// Each shim keeps argv (NUL-separated), stdin and named files, then runs the emulated tool with them.
const SHIM = `#!/usr/bin/env bash
set -euo pipefail
base="$K0RDENT_RECORD_DIR/$(date +%s%N)-$$"
tool=$(basename "$0")
printf '%s\\0' "$tool" "$PWD" "$@" >"$base.args.tmp"
cat >"$base.stdin"
i=0
prev=
for a in "$@"; do
  case " ${FILE_FLAGS.join(' ')} " in *" $prev "*) if [ "$a" != - ] && [ -f "$a" ]; then cp -- "$a" "$base.arg$i"; fi ;; esac
  prev=$a
  i=$((i + 1))
done
mv "$base.args.tmp" "$base.args"
exec "$K0RDENT_RECORD_NEXT/$tool" "$@" <"$base.stdin"
`;

function completed(s: DeploymentState): boolean {
  return s.status === 'completed';
}

/** How a topology is named in messages and figures. */
export function topologyLabel(t: Topology): string {
  return `${t.controllers} controller${t.controllers === 1 ? '' : 's'}, ${t.workers} worker${t.workers === 1 ? '' : 's'}`;
}

async function readRecords(
  dir: string,
  deployments: Map<string, { topology: string; id: string }>
): Promise<ToolCommand[]> {
  const out: ToolCommand[] = [];
  for (const name of await fs.readdir(dir)) {
    if (!name.endsWith('.args')) continue;
    const base = path.join(dir, name.slice(0, -'.args'.length));
    const [tool, cwd, ...args] = (await fs.readFile(`${base}.args`, 'utf8')).split('\0').slice(0, -1) as [
      RecordedTool,
      string,
      ...string[],
    ];
    const files = new Map<number, string>();
    for (let i = 0; i < args.length; i++) {
      const copy = await fs.readFile(`${base}.arg${i}`, 'utf8').catch(() => undefined);
      if (copy !== undefined) files.set(i, copy);
    }
    out.push({
      tool,
      args,
      cwd,
      stdin: await fs.readFile(`${base}.stdin`, 'utf8'),
      files,
      topology: deployments.get(cwd)?.topology ?? cwd,
      deploymentId: deployments.get(cwd)?.id ?? '',
      at: BigInt(path.basename(base).split('-')[0] as string),
    });
  }
  return out.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}

/**
 * Deploys each topology with every optional phase (Azure children and KOF), then resets it, on one
 * in-process worker whose commands pass through the recorder; returns every command, in order.
 */
export async function recordDeployments(topologies: Topology[]): Promise<ToolCommand[]> {
  const s = await startServer();
  const recordDir = await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-record-'));
  const shims = path.join(recordDir, 'bin');
  await fs.mkdir(shims);
  for (const tool of RECORDED_TOOLS) await fs.writeFile(path.join(shims, tool), SHIM, { mode: 0o755 });
  const base = defaultDeps({}, localWorld());
  const deps = {
    ...base,
    hosts: (target: Parameters<typeof base.hosts>[0]) => {
      const access = base.hosts(target);
      return {
        ...access,
        env: {
          ...access.env,
          PATH: `${shims}${path.delimiter}${access.env.PATH ?? process.env.PATH ?? ''}`,
          K0RDENT_RECORD_DIR: recordDir,
          K0RDENT_RECORD_NEXT: EMULATED_TOOLS_BIN,
        },
      };
    },
  };
  const taskQueue = `real-tools-${process.pid}`;
  const worker = await createWorker({
    connection: s.connection,
    taskQueue,
    deps,
    overrides: { shutdownGraceTime: '1s' },
  });
  const running = worker.run();
  const deployments = new Map<string, { topology: string; id: string }>();
  try {
    await Promise.all(
      topologies.map(async (t) => {
        const prepared = await prepareDeployment({
          kof: true,
          taskQueue,
          configure: (config) => {
            config.cluster.controllers.count = t.controllers;
            config.cluster.workers.count = t.workers;
          },
        });
        deployments.set(prepared.workDir, { topology: topologyLabel(t), id: prepared.id });
        const d = await startDeployment(prepared);
        await waitFor(d.handle, completed, 240_000);
        await d.handle.executeUpdate(resetUpdate, { args: [{ reason: 'real-tools' }] });
        await d.handle.result();
        await fs.rm(d.workDir, { recursive: true, force: true });
      })
    );
  } finally {
    worker.shutdown();
    await running;
  }
  const commands = await readRecords(recordDir, deployments);
  await fs.rm(recordDir, { recursive: true, force: true });
  return commands;
}
