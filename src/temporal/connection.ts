/** Temporal connection settings from the standard TEMPORAL_* variables, with the embedded default. */
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';

/** Address of the embedded dev server when no TEMPORAL_ADDRESS is set. */
export const EMBEDDED_ADDRESS = '127.0.0.1:7233';

/** Where to connect: the TEMPORAL_* settings (env or profile file) or the embedded dev server. */
export interface ConnectionSettings {
  options: NativeConnectionOptions;
  namespace: string;
  /** True when nothing names a server, so the embedded dev server is used (and may be started). */
  embedded: boolean;
}

/** Resolves the connection settings once for worker and CLI alike. */
export function connectionSettings(env: NodeJS.ProcessEnv = process.env): ConnectionSettings {
  const loaded = loadClientConnectConfig();
  const embedded = !env.TEMPORAL_ADDRESS && !loaded.connectionOptions.address;
  return {
    options: { ...loaded.connectionOptions, address: loaded.connectionOptions.address ?? EMBEDDED_ADDRESS },
    namespace: loaded.namespace ?? env.TEMPORAL_NAMESPACE ?? 'default',
    embedded,
  };
}
