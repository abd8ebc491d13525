/** Connecting to a VM: dial with retries, the handshake with key authentication and host-key check, keep-alives. */
import { promises as fs } from 'node:fs';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { Client, utils } from 'ssh2';
import type { ServerHostKeyAlgorithm } from 'ssh2';
import type { SshTarget, SshOptions, SshSession } from './options';
import { SshError, messageOf, cancelled, seconds } from './options';
import type { KnownHostLine } from './known-hosts';
import { knownHostName, readText, recordedKeys, mismatch, recordHostKey } from './known-hosts';
import { openSession } from './session';

const HOST_KEY_ALGORITHMS: Record<string, ServerHostKeyAlgorithm[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  'ssh-dss': ['ssh-dss'],
};

const KEEPALIVE_MS = 15_000;

const KEEPALIVE_MISSES = 4;

function defaultDial(address: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address, port });
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

async function readPrivateKey(file: string): Promise<Buffer> {
  let data: Buffer;
  try {
    data = await fs.readFile(file);
  } catch (err) {
    throw new SshError(`cannot read the private key ${file}: ${messageOf(err)}`, 'auth');
  }
  const parsed = utils.parseKey(data);
  if (parsed instanceof Error) {
    throw new SshError(`cannot use the private key ${file}: ${parsed.message}`, 'auth');
  }
  return data;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled('waiting to connect again'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled('waiting to connect again'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Opens the TCP connection within `connectTimeoutMs`. */
function dialWithin(target: SshTarget, opts: SshOptions): Promise<Duplex> {
  const dial = opts.dial ?? defaultDial;
  return new Promise((resolve, reject) => {
    let done = false;
    const settle = (err: SshError | undefined, sock?: Duplex) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(sock as Duplex);
    };
    const onAbort = () => settle(cancelled('connecting'));
    const timer = setTimeout(
      () => settle(new SshError(`no TCP connection within ${seconds(opts.connectTimeoutMs)}`, 'timeout')),
      opts.connectTimeoutMs
    );
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    dial(target.address, target.port).then(
      (sock) => {
        if (done) sock.destroy();
        else settle(undefined, sock);
      },
      (err: unknown) => settle(new SshError(messageOf(err), 'connect'))
    );
  });
}

/** One SSH handshake and authentication over an open connection. */
function handshake(
  target: SshTarget,
  opts: SshOptions,
  sock: Duplex,
  privateKey: Buffer,
  recorded: KnownHostLine[]
): Promise<Client> {
  const algorithms = [...new Set(recorded.flatMap((l) => HOST_KEY_ALGORITHMS[l.type] ?? []))];
  return new Promise((resolve, reject) => {
    const client = new Client();
    let settled = false;
    let refusal: SshError | undefined;
    let unrecorded: Buffer | undefined;
    let recording: Promise<void> | undefined;

    const detach = () => {
      client.off('ready', onReady);
      client.off('error', onError);
      client.off('close', onClose);
      client.off('handshake', onHandshake);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: SshError) => {
      if (settled) return;
      settled = true;
      detach();
      client.on('error', () => undefined);
      client.destroy();
      sock.destroy();
      reject(err);
    };
    const onReady = () => {
      (recording ?? Promise.resolve()).then(
        () => {
          if (settled) return;
          settled = true;
          detach();
          resolve(client);
        },
        (err: unknown) =>
          fail(
            err instanceof SshError
              ? err
              : new SshError(`cannot record the host key: ${messageOf(err)}`, 'connect')
          )
      );
    };
    const onError = (err: Error & { level?: string }) => {
      if (refusal) return fail(refusal);
      if (err.level === 'client-authentication') {
        return fail(new SshError(`the server refused the key ${target.privateKeyFile}`, 'auth'));
      }
      if (err.level === 'client-timeout') {
        return fail(new SshError(`no SSH handshake within ${seconds(opts.connectTimeoutMs)}`, 'timeout'));
      }
      if (algorithms.length > 0 && /no matching host key format/.test(err.message)) {
        return fail(
          new SshError(
            `${target.name} offers none of the host key types recorded for it in ${opts.knownHostsFile}` +
              ` (${recorded.map((l) => l.type).join(', ')}); if the machine was rebuilt, forget the old key with ` +
              `\`ssh-keygen -R '${knownHostName(target.address, target.port)}' -f ${opts.knownHostsFile}\``,
            'host-key'
          )
        );
      }
      return fail(new SshError(err.message, 'connect'));
    };
    const onClose = () =>
      fail(refusal ?? new SshError('the connection closed during the handshake', 'connect'));
    // Emitted once the server has proven it holds the key, so only a proven key is recorded.
    const onHandshake = () => {
      if (unrecorded === undefined || recording !== undefined) return;
      recording = recordHostKey(target, opts.knownHostsFile, unrecorded);
      recording.catch(() => undefined);
    };
    const onAbort = () => fail(cancelled('connecting'));

    client.on('ready', onReady);
    client.on('error', onError);
    client.on('close', onClose);
    client.on('handshake', onHandshake);
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      client.connect({
        sock,
        username: target.username,
        privateKey,
        readyTimeout: opts.connectTimeoutMs,
        keepaliveInterval: KEEPALIVE_MS,
        keepaliveCountMax: KEEPALIVE_MISSES,
        algorithms: algorithms.length > 0 ? { serverHostKey: algorithms } : undefined,
        hostVerifier: (key: Buffer): boolean => {
          if (recorded.length === 0) {
            unrecorded = key;
            return true;
          }
          if (recorded.some((l) => l.key.equals(key))) return true;
          refusal = mismatch(target, opts.knownHostsFile);
          return false;
        },
      });
    } catch (err) {
      fail(new SshError(messageOf(err), 'connect'));
    }
  });
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * Connects and authenticates with the target's key, trying again after refused, dropped or timed-out
 * connections; a refused key or a changed host key fails at once.
 */
export async function connectSsh(target: SshTarget, opts: SshOptions): Promise<SshSession> {
  const where = `ssh ${target.username}@${target.name} (${target.address}:${target.port})`;
  const attempts = Math.max(1, Math.floor(opts.attempts));
  const spacing = attempts > 1 ? `, ${seconds(opts.retryDelayMs)} apart` : '';
  const failure = (err: SshError, made: number) => {
    const tally = made === 0 ? '' : ` (${plural(made, 'attempt')}${made > 1 ? spacing : ''})`;
    return new SshError(`${where}: ${err.message}${tally}`, err.kind);
  };

  let privateKey: Buffer;
  try {
    privateKey = await readPrivateKey(target.privateKeyFile);
  } catch (err) {
    throw failure(err as SshError, 0);
  }
  const host = knownHostName(target.address, target.port);
  let last = cancelled('connecting');
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      if (attempt > 1) await sleep(opts.retryDelayMs, opts.signal);
      if (opts.signal?.aborted) throw cancelled('connecting');
      const recorded = recordedKeys(await readText(opts.knownHostsFile), host);
      const sock = await dialWithin(target, opts);
      const client = await handshake(target, opts, sock, privateKey, recorded);
      return openSession(client, target, opts);
    } catch (err) {
      const e = err instanceof SshError ? err : new SshError(messageOf(err), 'connect');
      if (e.kind !== 'connect' && e.kind !== 'timeout') throw failure(e, attempt);
      last = e;
    }
  }
  throw failure(last, attempts);
}

/** Runs `fn` in a session that is closed afterwards, whatever happens. */
export async function withSsh<T>(
  target: SshTarget,
  opts: SshOptions,
  fn: (s: SshSession) => Promise<T>
): Promise<T> {
  const session = await connectSsh(target, opts);
  try {
    return await fn(session);
  } finally {
    session.close();
  }
}

// ---------------------------------------------------------------------------------------------------
// Commands
