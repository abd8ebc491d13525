/**
 * How a deployment reaches its hosts: the environment of the commands phases run and the dialer of its
 * SSH connections. With Azure both are the machine's own; a local world lends its own (the emulator puts
 * its tools first on PATH and routes connections to its machines). Phases never know which.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';

/** The doors to a deployment's hosts. */
export interface HostAccess {
  /** Added to the environment of every command a phase runs. */
  env: Record<string, string>;
  /** Opens a TCP connection to `address:port` through the deployment's tunnel `iface`. */
  dial(iface: string, address: string, port: number): Promise<Duplex>;
}

/** A TCP connection to `host:port`, once it is established. */
export function tcpConnect(host: string, port: number): Promise<Duplex> {
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
  return { env: {}, dial: (_iface, address, port) => tcpConnect(address, port) };
}
