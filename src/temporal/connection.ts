/** Temporal connection settings from the standard TEMPORAL_* variables, with the embedded default. */
import { existsSync } from 'node:fs';
import ipaddr from 'ipaddr.js';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { Client, Connection } from '@temporalio/client';
import type { NativeConnectionOptions } from '@temporalio/worker';

/** Address of the embedded dev server when no TEMPORAL_ADDRESS is set. */
export const EMBEDDED_ADDRESS = '127.0.0.1:7233';

/** How long the first connection to a named server may take before its address is called wrong. */
const CONNECT_TIMEOUT_MS = 10_000;

/** A Temporal connection setting that cannot work: one line naming the setting; exit code 2. */
export class SettingsError extends Error {}

/** Where to connect: the TEMPORAL_* settings (env or profile file) or the embedded dev server. */
export interface ConnectionSettings {
  options: NativeConnectionOptions;
  namespace: string;
  /** True when nothing names a server, so the embedded dev server is used (and may be started). */
  embedded: boolean;
}

/** The TLS settings that name files; each must exist before anything connects. */
const TLS_FILE_SETTINGS = [
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
];

/** Refuses an address that is not host:port with a port from 1 to 65535. */
function checkAddress(address: string): void {
  const match = /^(\[[0-9a-fA-F:]+\]|[^\s:/[\]]+):(\d{1,5})$/.exec(address);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) {
    throw new SettingsError(`TEMPORAL_ADDRESS ${address}: not host:port (e.g. temporal.example.com:7233)`);
  }
}

/**
 * Where a worker serves Temporal's worker metrics (slots, poll and task latencies) for Prometheus:
 * `K0RDENT_METRICS_ADDRESS`, an IP address and port; none when it is unset.
 */
export function metricsAddress(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env.K0RDENT_METRICS_ADDRESS;
  if (value === undefined || value === '') return undefined;
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(value);
  const host = match?.[1] ?? match?.[2] ?? '';
  const port = Number(match?.[3]);
  const ipOk =
    match?.[1] !== undefined ? ipaddr.IPv6.isValid(host) : ipaddr.IPv4.isValidFourPartDecimal(host);
  if (!match || !ipOk || port < 1 || port > 65535) {
    throw new SettingsError(
      `K0RDENT_METRICS_ADDRESS ${value.slice(0, 60)}: not an IP address and port (e.g. 127.0.0.1:9464 or [::1]:9464)`
    );
  }
  return value;
}

/** Resolves the connection settings once for worker and CLI alike; refuses settings that cannot work. */
export function connectionSettings(env: NodeJS.ProcessEnv = process.env): ConnectionSettings {
  for (const name of TLS_FILE_SETTINGS) {
    const file = env[name];
    if (file && !existsSync(file)) throw new SettingsError(`${name} ${file}: no such file`);
  }
  let loaded: ReturnType<typeof loadClientConnectConfig>;
  try {
    loaded = loadClientConnectConfig({ overrideEnvVars: env as Record<string, string> });
  } catch (err) {
    const where = env.TEMPORAL_CONFIG_FILE
      ? `TEMPORAL_CONFIG_FILE ${env.TEMPORAL_CONFIG_FILE}`
      : 'temporal.toml';
    throw new SettingsError(`${where}: ${(err as Error).message}`);
  }
  const embedded = !env.TEMPORAL_ADDRESS && !loaded.connectionOptions.address;
  const address = loaded.connectionOptions.address ?? EMBEDDED_ADDRESS;
  if (!embedded) checkAddress(address);
  if (env.TEMPORAL_NAMESPACE === '') throw new SettingsError('TEMPORAL_NAMESPACE: set but empty');
  return {
    options: { ...loaded.connectionOptions, address },
    namespace: loaded.namespace ?? env.TEMPORAL_NAMESPACE ?? 'default',
    embedded,
  };
}

/**
 * Connects a client and checks that the server answers and has the namespace, so a wrong address or
 * namespace is one line naming the setting before anything starts.
 */
export async function connectChecked(settings: ConnectionSettings): Promise<Client> {
  const address = String(settings.options.address);
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...settings.options, connectTimeout: CONNECT_TIMEOUT_MS });
  } catch (err) {
    throw new SettingsError(
      `TEMPORAL_ADDRESS ${address}: no Temporal server answered (${(err as Error).message})`
    );
  }
  const client = new Client({ connection, namespace: settings.namespace });
  try {
    await client.workflowService.describeNamespace({ namespace: settings.namespace });
  } catch (err) {
    await connection.close();
    if ((err as { code?: number }).code === 5) {
      throw new SettingsError(
        `TEMPORAL_NAMESPACE ${settings.namespace}: no such namespace on ${address} ` +
          '(create it with temporal operator namespace create, or set TEMPORAL_NAMESPACE)'
      );
    }
    throw new SettingsError(`TEMPORAL_ADDRESS ${address}: ${(err as Error).message}`);
  }
  return client;
}
