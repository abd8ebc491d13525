/**
 * How phases reach the hosts of the emulator: its tools first on PATH, each handing its command to the
 * emulator over a socket, and SSH connections routed to the emulated machine behind a tunnel address.
 */
import path from 'node:path';
import type { AzureTarget } from '../../src/azure/target';
import type { HostAccess } from '../../src/hosts/access';
import { tcpConnect } from '../../src/hosts/access';
import { errorMessage, worldRequest } from './tools/client';
import { toolSocketFor } from './tools/socket';

/** Folder of the emulated `wg`, `wg-quick`, `k0sctl`, `helm`, `kubectl` and `az` (built by `npm run build`). */
export const EMULATED_TOOLS_BIN = path.resolve(__dirname, '..', '..', 'emulator-tools', 'bin');

function routeError(code: string, message: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(message);
  err.code = code === 'ConnectionRefused' ? 'ECONNREFUSED' : 'EHOSTUNREACH';
  return err;
}

/** The hosts of the emulator behind `target`. */
export function emulatorAccess(target: AzureTarget): HostAccess {
  const env: Record<string, string> = {
    PATH: `${EMULATED_TOOLS_BIN}${path.delimiter}${process.env.PATH ?? ''}`,
    K0RDENT_EMULATOR_URL: target.endpoint,
    K0RDENT_EMULATOR_TOOLS: toolSocketFor(target.endpoint),
  };
  if (target.caCertFile) env.K0RDENT_EMULATOR_CA = target.caCertFile;
  return {
    env,
    dial: async (iface, address, port) => {
      const query = new URLSearchParams({ interface: iface, address, port: String(port) });
      const res = await worldRequest(env, 'GET', `/world/route?${query.toString()}`);
      const body = res.body as { host?: string; port?: number; error?: { code?: string } } | null;
      if (res.status !== 200 || !body?.host || !body.port)
        throw routeError(body?.error?.code ?? 'Unreachable', `${address}:${port}: ${errorMessage(res)}`);
      return tcpConnect(body.host, body.port);
    },
  };
}
