/**
 * Runs the emulated tools as the phases do, as child processes from `EMULATED_TOOLS_BIN`, against a small
 * tool server whose world answers `/world/tool/*` itself and hands the rest to a cluster part.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { k0sRoles, renderK0sctlConfig } from '../../../../src/cluster/k0sctl';
import { defaultConfig } from '../../../../src/config/defaults';
import { namesFor } from '../../../../src/config/naming';
import type { DeploymentNames } from '../../../../src/config/types';
import { createClusterPart } from '../../../../emulator/src/hosts/cluster';
import type { ClusterPart, ToolFaultRule, WorldResponse } from '../../../../emulator/src/hosts/types';
import type { ToolServer } from '../../../../emulator/src/tools/server';
import { startToolServer } from '../../../../emulator/src/tools/server';
import { EMULATED_TOOLS_BIN } from '../../../../emulator/src/access';
import { TestServices, sshKeyPair } from '../cluster/world';

/** How a tool run ended. */
export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One `/world/tool/start` or `/world/tool/end` call the emulator saw. */
export interface ToolCall {
  kind: 'start' | 'end';
  tool: string;
  command: string;
  target?: string;
  ok?: boolean;
}

/** The emulator, its world, and a deployment folder with a k0sctl config and SSH key. */
export class ToolHarness {
  readonly services = new TestServices();
  part: ClusterPart;
  readonly calls: ToolCall[] = [];
  faults: ToolFaultRule[] = [];
  names: DeploymentNames;
  private tools?: ToolServer;
  dir = '';

  constructor(readonly deploymentId = 'k0rdent-t00lt3st') {
    this.services.clock = undefined;
    this.part = createClusterPart(this.services);
    this.names = namesFor(deploymentId, defaultConfig());
  }

  /** Path of the k0sctl config, relative to the deployment folder. */
  get k0sctlConfig(): string {
    return this.names.k0sctlConfig;
  }

  /** Path of the kubeconfig the tests write, relative to the deployment folder. */
  get kubeconfig(): string {
    return this.names.kubeconfig;
  }

  async start(): Promise<void> {
    this.dir = await mkdtemp(path.join(os.tmpdir(), 'k0rdent-tools-'));
    this.tools = await startToolServer(path.join(this.dir, 'tools.sock'), (method, route, body) =>
      this.answer(method, route, body)
    );
    const { publicKey, privatePem } = await sshKeyPair();
    await mkdir(path.join(this.dir, 'azure-resources'), { recursive: true });
    await writeFile(path.join(this.dir, this.names.sshPrivateKeyPath), privatePem, { mode: 0o600 });
    await mkdir(path.join(this.dir, 'k0sctl-config'), { recursive: true });
    await writeFile(
      path.join(this.dir, this.names.k0sctlConfig),
      renderK0sctlConfig(this.names, defaultConfig())
    );
    const roles = new Map(k0sRoles(this.names).map((r) => [r.host, r.role]));
    this.services.addDeployment(
      this.deploymentId,
      this.names.hosts.map((h) => ({
        name: h.name,
        address: h.wireguardIp,
        role: roles.get(h.name) ?? 'worker',
      })),
      publicKey
    );
  }

  async stop(): Promise<void> {
    await this.tools?.close();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async answer(method: string, rawUrl: string, body: unknown): Promise<WorldResponse> {
    const url = new URL(rawUrl, 'https://emulator');
    if (!url.pathname.startsWith('/world/'))
      return { status: 404, body: { error: { code: 'NotFound', message: url.pathname } } };
    const route = url.pathname.slice('/world'.length);
    if (route === '/tool/start') {
      const b = body as { tool: string; command: string; target?: string };
      this.calls.push({ kind: 'start', ...b });
      const i = this.faults.findIndex(
        (f) =>
          f.match.tool === b.tool &&
          (f.match.command ?? b.command) === b.command &&
          (f.match.target ?? b.target) === b.target
      );
      const fault = i >= 0 ? this.faults[i] : undefined;
      if (fault && (fault.times ?? 1) !== -1) {
        const left = (fault.times ?? 1) - 1;
        if (left <= 0) this.faults.splice(i, 1);
        else fault.times = left;
      }
      return { status: 200, body: fault ? { fault } : {} };
    }
    if (route === '/tool/end') {
      this.calls.push({ kind: 'end', ...(body as { tool: string; command: string; ok: boolean }) });
      return { status: 200, body: {} };
    }
    return this.part.handle(method, route, url.searchParams, body);
  }

  /** Runs `<tool> args...` in the deployment folder. */
  run(
    tool: string,
    args: string[],
    opts: { stdin?: string; env?: Record<string, string> } = {}
  ): Promise<ToolRun> {
    return new Promise((resolve, reject) => {
      const child = spawn(path.join(EMULATED_TOOLS_BIN, tool), args, {
        cwd: this.dir,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: this.dir,
          K0RDENT_EMULATOR_TOOLS: this.tools?.socketPath ?? '',
          ...opts.env,
        },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(opts.stdin ?? '');
    });
  }

  /** `kubectl --kubeconfig <deployment kubeconfig> ...` */
  kubectl(args: string[], stdin?: string): Promise<ToolRun> {
    return this.run('kubectl', ['--kubeconfig', this.kubeconfig, ...args], { stdin });
  }

  /** `helm --kubeconfig <deployment kubeconfig> ...` */
  helm(args: string[]): Promise<ToolRun> {
    return this.run('helm', [...args, '--kubeconfig', this.kubeconfig]);
  }

  /** Writes a file in the deployment folder. */
  async write(relative: string, text: string): Promise<void> {
    await mkdir(path.dirname(path.join(this.dir, relative)), { recursive: true });
    await writeFile(path.join(this.dir, relative), text);
  }

  /** The starts and ends the emulator saw for a `tool command`. */
  seen(tool: string, command: string): ToolCall[] {
    return this.calls.filter((c) => c.tool === tool && c.command === command);
  }
}
