/** Remote commands on a connected session, killed on timeout or cancellation. */
import os from 'node:os';
import type { Client } from 'ssh2';
import type { ClientChannel } from 'ssh2';
import type { SshTarget, SshOptions, CommandResult, ExecOptions, SshSession } from './options';
import { SshError, messageOf, cancelled, seconds } from './options';

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

export function openSession(client: Client, target: SshTarget, opts: SshOptions): SshSession {
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
