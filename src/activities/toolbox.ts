/**
 * What the host and cluster phases act through: commands run in the deployment folder (kubectl and helm
 * with the deployment's kubeconfig) and SSH sessions to the VMs over the tunnel, all heartbeating,
 * cancelled with the activity, and logged under `logs/`.
 */
import { access, appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { namesFor } from '../config/naming';
import type { HostPlan } from '../config/types';
import type { RunResult } from '../hosts/run-command';
import { CommandError, commandLine, runCommand, tail } from '../hosts/run-command';
import type { SshSession } from '../hosts/ssh';
import { SshError, commandTimeoutMs, sshOptionsFrom, withSsh } from '../hosts/ssh';
import { isoSecond } from '../workflows/state';
import type { PhaseContext } from '../workflows/messages';
import { FailureTypes } from '../workflows/messages';
import type { PhaseDeps } from './phase';
import { cancelSignal, keepingAlive } from './work';

/** How one command runs. */
export interface ToolRunOptions {
  stdin?: string;
  timeoutMs?: number;
  /** Return a non-zero exit instead of failing. */
  allowFailure?: boolean;
  /** Keep stdout out of the log (it carries a secret). */
  secretOutput?: boolean;
}

/** The commands and sessions of one phase run. */
export interface Toolbox {
  run(cmd: string, args: string[], opts?: ToolRunOptions): Promise<RunResult>;
  /** `kubectl ... --kubeconfig <deployment kubeconfig>` */
  kubectl(args: string[], opts?: ToolRunOptions): Promise<RunResult>;
  /** `helm ... --kubeconfig <deployment kubeconfig>` */
  helm(args: string[], opts?: ToolRunOptions): Promise<RunResult>;
  /** Runs `fn` in an SSH session to a host's WireGuard address. */
  ssh<T>(host: HostPlan, fn: (session: SshSession) => Promise<T>): Promise<T>;
  /** Absolute path of a file in the deployment folder. */
  file(relative: string): string;
  /** Whether a file in the deployment folder exists. */
  exists(relative: string): Promise<boolean>;
  /** How this deployment's waits poll (`orchestrator.poll_initial_ms` / `poll_max_ms`). */
  poll: { firstMs: number; intervalMs: number };
}

/** A failed command as a typed failure, with its exit code and the end of its output. */
export function commandFailure(what: string, result: RunResult): ApplicationFailure {
  const output = tail(result.stderr) || tail(result.stdout);
  return ApplicationFailure.create({
    type: FailureTypes.CommandFailed,
    message: `${what} exited ${result.code}${output ? `: ${output}` : ''}`,
    details: [{ exitCode: result.code }],
  });
}

function failureOf(err: unknown): unknown {
  if (err instanceof SshError) {
    if (err.kind === 'cancelled') return err;
    return ApplicationFailure.create({
      type: err.kind === 'host-key' ? FailureTypes.HostKeyMismatch : FailureTypes.CommandFailed,
      message: err.message,
      nonRetryable: err.kind === 'host-key',
    });
  }
  if (!(err instanceof CommandError)) return err;
  if (err.kind === 'cancelled') return err;
  return ApplicationFailure.create({
    type: err.kind === 'not-found' ? FailureTypes.ToolMissing : FailureTypes.CommandFailed,
    message: err.message,
    nonRetryable: err.kind === 'not-found',
  });
}

/** The toolbox of one phase run. */
export function toolbox(deps: PhaseDeps, ctx: PhaseContext): Toolbox {
  const names = namesFor(ctx.deploymentId, ctx.config);
  const hostAccess = deps.hosts(ctx.cloud);
  const file = (relative: string) => path.resolve(ctx.workDir, relative);
  const logFile = file(path.join('logs', `${ctx.phase}.log`));

  const log = async (text: string) => {
    await mkdir(path.dirname(logFile), { recursive: true });
    await appendFile(logFile, text);
  };

  const run = async (cmd: string, args: string[], opts: ToolRunOptions = {}): Promise<RunResult> => {
    const line = commandLine(cmd, args);
    let result: RunResult;
    try {
      result = await keepingAlive(
        runCommand({
          cmd,
          args,
          cwd: ctx.workDir,
          env: hostAccess.env,
          stdin: opts.stdin,
          signal: cancelSignal(),
          // 0: no command timeout; the activity's own timeouts bound the command.
          timeoutMs:
            opts.timeoutMs === 0 ? undefined : (opts.timeoutMs ?? commandTimeoutMs(ctx.config.timeouts)),
        })
      );
    } catch (err) {
      await log(`${isoSecond(Date.now())} $ ${line}\n${(err as Error).message}\n`);
      throw failureOf(err);
    }
    const stdout = opts.secretOutput ? '(output withheld: it holds a secret)\n' : result.stdout;
    await log(`${isoSecond(Date.now())} $ ${line}\n${stdout}${result.stderr}[exit ${result.code}]\n`);
    if (result.code !== 0 && !opts.allowFailure) throw commandFailure(line, result);
    return result;
  };

  const withKubeconfig = (tool: string) => (args: string[], opts?: ToolRunOptions) =>
    run(tool, [...args, '--kubeconfig', file(names.kubeconfig)], opts);

  return {
    run,
    poll: {
      firstMs: ctx.config.orchestrator.poll_initial_ms,
      intervalMs: ctx.config.orchestrator.poll_max_ms,
    },
    kubectl: withKubeconfig('kubectl'),
    helm: withKubeconfig('helm'),
    file,
    exists: (relative) =>
      access(file(relative)).then(
        () => true,
        () => false
      ),
    ssh: async (host, fn) => {
      try {
        return await keepingAlive(
          withSsh(
            {
              name: host.name,
              address: host.wireguardIp,
              port: 22,
              username: ctx.config.ssh.username,
              privateKeyFile: file(names.sshPrivateKeyPath),
            },
            sshOptionsFrom(
              ctx.config.timeouts,
              file(names.knownHostsFile),
              (address, port) => hostAccess.dial(names.wireguardInterface, address, port),
              cancelSignal()
            ),
            fn
          )
        );
      } catch (err) {
        throw failureOf(err);
      }
    },
  };
}
