/**
 * How a deployment reaches its hosts: the environment of the commands phases run and the dialer of its
 * SSH connections. With Azure both are the machine's own; with the local emulator the emulated tools come
 * first on PATH and connections are routed to the emulated machines. Phases never know which.
 */
import net from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { AzureTarget } from '../azure/target';
import { errorMessage, worldRequest } from '../emulator/tools/client';
import { toolSocketFor } from '../emulator/tools/socket';

/** The doors to a deployment's hosts. */
export interface HostAccess {
  /** Added to the environment of every command a phase runs. */
  env: Record<string, string>;
  /** Opens a TCP connection to `address:port` through the deployment's tunnel `iface`. */
  dial(iface: string, address: string, port: number): Promise<Duplex>;
}

/** Folder of the emulated `wg`, `wg-quick`, `k0sctl`, `helm`, `kubectl` and `az` (built by `npm run build`). */
export const EMULATED_TOOLS_BIN = path.resolve(__dirname, '..', '..', 'emulator-tools', 'bin');

function connect(host: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** The hosts as the operating system reaches them: real tools, real routes. */
export function directAccess(): HostAccess {
  return { env: {}, dial: (_iface, address, port) => connect(address, port) };
}

function routeError(code: string, message: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(message);
  err.code = code === 'ConnectionRefused' ? 'ECONNREFUSED' : 'EHOSTUNREACH';
  return err;
}

/** The hosts of the local emulator behind `target`. */
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
      return connect(body.host, body.port);
    },
  };
}

/** The access matching a deployment's Azure target. */
export function accessFor(target: AzureTarget): HostAccess {
  return target.cloud === 'emulator' ? emulatorAccess(target) : directAccess();
}
