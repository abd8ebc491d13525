/**
 * The pinned real tools (installed or found by `scripts/install-real-tools.sh`), the stand-ins they run
 * against instead of a cluster, a registry or a cloud, and how one command runs through them.
 */
import { execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { ROOT, freePort } from '../integration/harness';

/** A real tool as the install script reports it. */
export interface RealTool {
  name: string;
  version: string;
  /** The binary, or undefined when it cannot be had here. */
  path?: string;
  /** Why it cannot be had. */
  missing?: string;
}

/** How one run of a tool ended. */
export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the install script (builds on the first run, minutes; instant from the cache) and reads its report. */
export async function installRealTools(): Promise<Map<string, RealTool>> {
  const { stdout } = await promisify(execFile)(path.join(ROOT, 'scripts', 'install-real-tools.sh'), [], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const tools = new Map<string, RealTool>();
  for (const line of stdout.trim().split('\n')) {
    const [name, version, where, ...why] = line.split(' ') as [string, string, string, ...string[]];
    tools.set(
      name,
      where === '-' ? { name, version, missing: why.join(' ') } : { name, version, path: where }
    );
  }
  return tools;
}

/** Runs `cmd` with `args`, feeding `stdin`; never throws for a non-zero exit. */
export function run(
  cmd: string,
  args: string[],
  opts: { stdin?: string; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}
): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.stdin ?? '');
  });
}

/** A chart the phases install, as a local stand-in with the published chart's name and values keys. */
export interface StandInChart {
  name: string;
  /** Values the stand-in declares; its schema refuses any other key under the objects listed in `closed`. */
  values: Record<string, unknown>;
  closed: string[];
}

/**
 * The charts of `oci://ghcr.io/k0rdent/...` the phases install. Their values keys are the published
 * charts' (`global.*` from kof-mothership's values.yaml); the registry cannot be reached here.
 */
export const STAND_IN_CHARTS: StandInChart[] = [
  { name: 'kcm', values: {}, closed: [] },
  { name: 'kof-istio', values: {}, closed: [] },
  { name: 'kof-operators', values: {}, closed: [] },
  {
    name: 'kof-mothership',
    values: {
      global: {
        clusterLabel: 'cluster',
        clusterName: 'mothership',
        storageClass: '',
        random_username_length: 8,
        random_password_length: 12,
        registry: '',
      },
    },
    closed: ['global'],
  },
];

function schemaOf(values: Record<string, unknown>, closed: string[], at = ''): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    const where = at ? `${at}.${key}` : key;
    properties[key] =
      value !== null && typeof value === 'object' && !Array.isArray(value)
        ? schemaOf(value as Record<string, unknown>, closed, where)
        : { type: typeof value === 'number' ? 'integer' : typeof value };
  }
  return { type: 'object', properties, additionalProperties: !closed.includes(at) };
}

/** Where the real tools run: stand-in charts, a kubeconfig whose server refuses, empty tool homes. */
export interface StandIns {
  dir: string;
  /** Chart folder by chart name. */
  charts: Map<string, string>;
  kubeconfig: string;
  /** `127.0.0.1:<port>` of the kubeconfig's server, where nothing listens. */
  server: string;
  /** The environment the real tools run in. */
  env: NodeJS.ProcessEnv;
}

/** Makes the stand-ins for charts at `versions` (chart name to the version the phases ask for). */
export async function makeStandIns(versions: Map<string, string>): Promise<StandIns> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-real-tools-'));
  const charts = new Map<string, string>();
  for (const chart of STAND_IN_CHARTS) {
    const folder = path.join(dir, 'charts', chart.name);
    await fs.mkdir(path.join(folder, 'templates'), { recursive: true });
    await fs.writeFile(
      path.join(folder, 'Chart.yaml'),
      stringify({ apiVersion: 'v2', name: chart.name, version: versions.get(chart.name) ?? '0.0.0' })
    );
    await fs.writeFile(path.join(folder, 'values.yaml'), stringify(chart.values));
    await fs.writeFile(
      path.join(folder, 'values.schema.json'),
      JSON.stringify(schemaOf(chart.values, chart.closed), null, 2)
    );
    // Renders every value the release gets, so a value that does not render fails the template.
    await fs.writeFile(
      path.join(folder, 'templates', 'values.yaml'),
      [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata:',
        '  name: {{ .Release.Name }}-values',
        '  namespace: {{ .Release.Namespace }}',
        'data:',
        '  values: {{ toYaml .Values | quote }}',
        '',
      ].join('\n')
    );
    charts.set(chart.name, folder);
  }
  // Nothing listens on a port that was free a moment ago.
  const server = `127.0.0.1:${await freePort()}`;
  const kubeconfig = path.join(dir, 'kubeconfig');
  await fs.writeFile(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'stand-in', cluster: { server: `https://${server}` } }],
      users: [{ name: 'stand-in', user: { token: 'stand-in' } }],
      contexts: [{ name: 'stand-in', context: { cluster: 'stand-in', user: 'stand-in' } }],
      'current-context': 'stand-in',
    }),
    { mode: 0o600 }
  );
  const homes = path.join(dir, 'homes');
  const memory = path.join(dir, 'helm-releases.yaml');
  await fs.mkdir(homes);
  await fs.writeFile(memory, '');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: homes,
    // helm keeps releases in memory, so it never asks a cluster for them.
    HELM_DRIVER: 'memory',
    HELM_MEMORY_DRIVER_DATA: memory,
    HELM_CACHE_HOME: path.join(homes, 'helm-cache'),
    HELM_CONFIG_HOME: path.join(homes, 'helm-config'),
    HELM_DATA_HOME: path.join(homes, 'helm-data'),
    KUBECONFIG: kubeconfig,
    // az with an empty profile: no login, no telemetry, no update check.
    AZURE_CONFIG_DIR: path.join(homes, 'azure'),
    AZURE_CORE_COLLECT_TELEMETRY: 'false',
    AZURE_CORE_NO_COLOR: 'true',
    AZURE_CORE_ONLY_SHOW_ERRORS: 'true',
  };
  return { dir, charts, kubeconfig, server, env };
}
