/** What an SSH connection is given and returns: target, options, command results, the session, its errors. */
import type { Duplex } from 'node:stream';
import type { K0rdentConfig } from '../../config/types';

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

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function cancelled(what: string): SshError {
  return new SshError(`${what} cancelled`, 'cancelled');
}

export function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}
