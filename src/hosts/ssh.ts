/**
 * SSH to the VMs: key authentication, host keys recorded on first contact in an OpenSSH known_hosts file
 * and verified ever after, connection retries, and remote commands killed on timeout or cancellation.
 */
import { createHmac } from 'node:crypto';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { Client, utils } from 'ssh2';
import type { ClientChannel, ServerHostKeyAlgorithm } from 'ssh2';
import type { K0rdentConfig } from '../config/types';

/** One machine to reach. */
export interface SshTarget {
  /** Host name used in messages (`k0s-controller-1`). */
  name: string;
  address: string;
  port: number;
  username: string;
  /** PEM private key file (as `ensureSshKeyPair` writes it). */
  privateKeyFile: string;
}

/** How to connect. */
export interface SshOptions {
  /** OpenSSH known_hosts file; hosts are written `[addr]:port` when the port is not 22. */
  knownHostsFile: string;
  /** Limit of the TCP connection, and separately of the SSH handshake and authentication. */
  connectTimeoutMs: number;
  /** Connect attempts (at least 1); only refused, dropped or timed-out connections are tried again. */
  attempts: number;
  retryDelayMs: number;
  /** Opens the TCP connection (default: a plain `net.connect`). */
  dial?: (address: string, port: number) => Promise<Duplex>;
  /** Cancels connecting, the sleeps between attempts and every command of the session. */
  signal?: AbortSignal;
}

/** How a remote command ended; a command killed by a signal reports 128 + the signal number. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Per-command options. */
export interface ExecOptions {
  /** Kills the command after this long. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Written to the command's stdin; stdin is closed either way. */
  stdin?: string;
}

/** An open connection. */
export interface SshSession {
  /** Runs a command; a non-zero exit is a result, not an exception. */
  exec(command: string, opts?: ExecOptions): Promise<CommandResult>;
  close(): void;
}

/** What went wrong, for callers that decide whether to retry. */
export type SshErrorKind = 'connect' | 'auth' | 'host-key' | 'timeout' | 'cancelled';

/** Why a connection or a command failed; `partial` holds the output a killed command left. */
export class SshError extends Error {
  constructor(
    message: string,
    readonly kind: SshErrorKind,
    readonly partial?: CommandResult
  ) {
    super(message);
    this.name = 'SshError';
  }
}

/** Connection options from the config's `timeouts` (seconds) and the deployment's known_hosts file. */
export function sshOptionsFrom(
  timeouts: Pick<
    K0rdentConfig['timeouts'],
    'ssh_connect' | 'verification_retries' | 'verification_retry_delay'
  >,
  knownHostsFile: string,
  dial?: SshOptions['dial'],
  signal?: AbortSignal
): SshOptions {
  return {
    knownHostsFile,
    connectTimeoutMs: timeouts.ssh_connect * 1000,
    attempts: Math.max(1, timeouts.verification_retries),
    retryDelayMs: timeouts.verification_retry_delay * 1000,
    dial,
    signal,
  };
}

/** The limit of one remote command, from `timeouts.ssh_command` (seconds). */
export function commandTimeoutMs(timeouts: Pick<K0rdentConfig['timeouts'], 'ssh_command'>): number {
  return timeouts.ssh_command * 1000;
}

// ---------------------------------------------------------------------------------------------------
// known_hosts

interface KnownHostLine {
  marker?: string;
  hosts: string;
  type: string;
  key: Buffer;
}

/** The name of a host in known_hosts, as OpenSSH writes it. */
export function knownHostName(address: string, port = 22): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

function parseKnownHostLine(line: string): KnownHostLine | undefined {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return undefined;
  const fields = trimmed.split(/\s+/);
  const marker = fields[0]?.startsWith('@') ? fields.shift() : undefined;
  const [hosts, type, key] = fields;
  if (hosts === undefined || type === undefined || key === undefined) return undefined;
  return { marker, hosts, type, key: Buffer.from(key, 'base64') };
}

/** Whether a known_hosts host field (plain names, or `|1|salt|hash` hashed ones) names `host`. */
function namesHost(hosts: string, host: string): boolean {
  const wanted = host.toLowerCase();
  return hosts.split(',').some((pattern) => {
    if (pattern.startsWith('|1|')) {
      const [, , salt, hash] = pattern.split('|');
      if (salt === undefined || hash === undefined) return false;
      const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(wanted).digest('base64');
      return digest === hash;
    }
    // Wildcard and negated patterns are never written by this module and are not honoured.
    return pattern.toLowerCase() === wanted;
  });
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function recordedKeys(text: string | undefined, host: string): KnownHostLine[] {
  return (text ?? '')
    .split('\n')
    .map(parseKnownHostLine)
    .filter((l): l is KnownHostLine => l !== undefined && l.marker === undefined && namesHost(l.hosts, host));
}

const fileQueues = new Map<string, Promise<unknown>>();

/** Runs `fn` after every earlier `fn` on the same file in this process has finished. */
async function serialized<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const key = path.resolve(file);
  const run = (fileQueues.get(key) ?? Promise.resolve()).then(fn, fn);
  const settled = run.catch(() => undefined);
  fileQueues.set(key, settled);
  try {
    return await run;
  } finally {
    if (fileQueues.get(key) === settled) fileQueues.delete(key);
  }
}

function keyType(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const length = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + length).toString('latin1');
}

function mismatch(target: SshTarget, file: string): SshError {
  const host = knownHostName(target.address, target.port);
  return new SshError(
    `the host key of ${target.name} (${target.address}:${target.port}) does not match the one recorded ` +
      `in ${file}; if the machine was rebuilt, forget the old key with ` +
      `\`ssh-keygen -R '${host}' -f ${file}\` and connect again`,
    'host-key'
  );
}

/** Appends the host's key unless a key is recorded by now: the same one is fine, another is a mismatch. */
async function recordHostKey(target: SshTarget, file: string, key: Buffer): Promise<void> {
  const host = knownHostName(target.address, target.port);
  await serialized(file, async () => {
    const text = await readText(file);
    const recorded = recordedKeys(text, host);
    if (recorded.some((l) => l.key.equals(key))) return;
    if (recorded.length > 0) throw mismatch(target, file);
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const separator = text !== undefined && text !== '' && !text.endsWith('\n') ? '\n' : '';
    await fs.appendFile(file, `${separator}${host} ${keyType(key)} ${key.toString('base64')}\n`, {
      mode: 0o600,
    });
    await fs.chmod(file, 0o600);
  });
}

/** Removes every key recorded for `address:port`, like `ssh-keygen -R`; a missing file is fine. */
export async function forgetHostKey(knownHostsFile: string, address: string, port = 22): Promise<void> {
  const host = knownHostName(address, port);
  await serialized(knownHostsFile, async () => {
    const text = await readText(knownHostsFile);
    if (text === undefined) return;
    const lines = text.split('\n');
    const kept = lines.filter((line) => {
      const parsed = parseKnownHostLine(line);
      return parsed === undefined || !namesHost(parsed.hosts, host);
    });
    if (kept.length === lines.length) return;
    const temp = `${knownHostsFile}.${process.pid}.tmp`;
    await fs.writeFile(temp, kept.join('\n'), { mode: 0o600 });
    await fs.rename(temp, knownHostsFile);
  });
}

// ---------------------------------------------------------------------------------------------------
// Connecting

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

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}

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

function cancelled(what: string): SshError {
  return new SshError(`${what} cancelled`, 'cancelled');
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

function shortCommand(command: string): string {
  const first = command.trim().split('\n')[0] ?? '';
  return first.length > 60 || command.trim().includes('\n') ? `${first.slice(0, 60)}…` : first;
}

function exitCodeOfSignal(name: string | undefined): number {
  const number = name ? os.constants.signals[`SIG${name}` as NodeJS.Signals] : undefined;
  return number === undefined ? 255 : 128 + number;
}

interface ChannelInternals {
  outgoing?: { id?: number; state?: string };
  _client?: { _protocol?: { signal?: (channel: number, signal: string) => void } };
}

/**
 * Asks the server to signal the command's process group. `ClientChannel.signal()` stays silent once
 * stdin is closed, which `exec` always does, although SSH allows the request until the channel closes;
 * the request therefore goes through the protocol object of the pinned ssh2 version. OpenSSH honours it
 * for unprivileged logins only (a root session runs without privilege separation and refuses it).
 */
function sendSignal(channel: ClientChannel, signal: string): void {
  const internals = channel as unknown as ChannelInternals;
  const id = internals.outgoing?.id;
  const state = internals.outgoing?.state;
  const protocol = internals._client?._protocol;
  if (id !== undefined && (state === 'open' || state === 'eof') && typeof protocol?.signal === 'function') {
    protocol.signal(id, signal);
  } else {
    channel.signal(signal);
  }
}

function openSession(client: Client, target: SshTarget, opts: SshOptions): SshSession {
  let closed = false;
  let lost: string | undefined;
  client.on('error', (err) => {
    lost = err.message;
  });
  client.on('close', () => {
    closed = true;
  });
  const where = `ssh ${target.name} (${target.address}:${target.port})`;

  const exec = (command: string, execOpts: ExecOptions = {}): Promise<CommandResult> =>
    new Promise((resolve, reject) => {
      const what = `${where}: \`${shortCommand(command)}\``;
      const signals = [opts.signal, execOpts.signal].filter((s): s is AbortSignal => s !== undefined);
      if (signals.some((s) => s.aborted)) return reject(cancelled(what));
      if (closed)
        return reject(
          new SshError(`${what}: the connection is closed${lost ? ` (${lost})` : ''}`, 'connect')
        );

      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let code: number | undefined;
      let channel: ClientChannel | undefined;
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const output = (): CommandResult => ({
        code: code ?? -1,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
      const kill = () => {
        if (!channel) return;
        sendSignal(channel, 'KILL');
        channel.close();
      };
      const settle = (err?: SshError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        for (const s of signals) s.removeEventListener('abort', onAbort);
        client.off('close', onLost);
        if (err) reject(err);
        else resolve(output());
      };
      const onAbort = () => {
        kill();
        settle(new SshError(`${what} cancelled; the command was killed`, 'cancelled', output()));
      };
      const onLost = () =>
        settle(
          new SshError(`${what}: the connection was lost${lost ? ` (${lost})` : ''}`, 'connect', output())
        );

      for (const s of signals) s.addEventListener('abort', onAbort, { once: true });
      client.once('close', onLost);
      if (execOpts.timeoutMs !== undefined) {
        const ms = execOpts.timeoutMs;
        timer = setTimeout(() => {
          kill();
          settle(
            new SshError(
              `${what} timed out after ${seconds(ms)}; the command was killed`,
              'timeout',
              output()
            )
          );
        }, ms);
      }
      try {
        client.exec(command, (err, ch) => {
          if (err) return settle(new SshError(`${what}: ${err.message}`, 'connect'));
          channel = ch;
          if (settled) return kill();
          ch.on('data', (chunk: Buffer) => stdout.push(chunk));
          ch.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
          ch.on('exit', (exitCode: number | null, signal?: string) => {
            code = exitCode ?? exitCodeOfSignal(signal);
          });
          ch.on('close', () =>
            settle(
              code === undefined
                ? new SshError(`${what}: the channel closed without an exit status`, 'connect', output())
                : undefined
            )
          );
          if (execOpts.stdin !== undefined) ch.end(execOpts.stdin);
          else ch.end();
        });
      } catch (err) {
        settle(new SshError(`${what}: ${messageOf(err)}`, 'connect'));
      }
    });

  return {
    exec,
    close: () => {
      if (closed) return;
      closed = true;
      client.end();
    },
  };
}
