/**
 * How a deployment reaches its hosts: the environment of the commands phases run and the dialer of its
 * SSH connections. With Azure both are the machine's own; with the local emulator the emulated tools come
 * first on PATH and connections are routed to the emulated machines. Phases never know which.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { AzureTarget } from '../azure/target';

/** The doors to a deployment's hosts. */
export interface HostAccess {
  /** Added to the environment of every command a phase runs. */
  env: Record<string, string>;
  /** Opens a TCP connection to `address:port` through the deployment's tunnel `iface`. */
  dial(iface: string, address: string, port: number): Promise<Duplex>;
}

/** Folder of the emulated `wg`, `wg-quick`, `k0sctl`, `helm`, `kubectl` and `az`. */
export const EMULATED_TOOLS_BIN = path.resolve(
  __dirname,
  '..',
  '..',
  '..',
  'src',
  'emulator',
  'tools',
  'bin'
);

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
  const ca = target.caCertFile ? readFileSync(target.caCertFile, 'utf8') : undefined;
  const env: Record<string, string> = {
    PATH: `${EMULATED_TOOLS_BIN}${path.delimiter}${process.env.PATH ?? ''}`,
    K0RDENT_EMULATOR_URL: target.endpoint,
    K0RDENT_EMULATOR_NODE: process.execPath,
  };
  if (target.caCertFile) env.K0RDENT_EMULATOR_CA = target.caCertFile;
  const route = (iface: string, address: string, port: number) =>
    new Promise<{ host: string; port: number }>((resolve, reject) => {
      const url = new URL('/world/route', target.endpoint);
      url.search = new URLSearchParams({ interface: iface, address, port: String(port) }).toString();
      https
        .get(url, { ca }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            try {
              const body = JSON.parse(text) as {
                host?: string;
                port?: number;
                error?: { code: string; message: string };
              };
              if (res.statusCode === 200 && body.host && body.port)
                resolve({ host: body.host, port: body.port });
              else
                reject(
                  routeError(
                    body.error?.code ?? 'Unreachable',
                    body.error?.message ?? `no route to ${address}:${port}`
                  )
                );
            } catch {
              reject(routeError('Unreachable', `no route to ${address}:${port}: ${text}`));
            }
          });
        })
        .on('error', reject);
    });
  return {
    env,
    dial: async (iface, address, port) => {
      const to = await route(iface, address, port);
      return connect(to.host, to.port);
    },
  };
}

/** The access matching a deployment's Azure target. */
export function accessFor(target: AzureTarget): HostAccess {
  return target.cloud === 'emulator' ? emulatorAccess(target) : directAccess();
}
