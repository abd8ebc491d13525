/**
 * A machine's SSH server: `ssh2` on 127.0.0.1, its own host key, public-key auth for the admin user
 * only, `exec` requests answered by the machine. Connections while the machine is not booted are closed
 * before the SSH greeting, as a port with nothing listening behind a NAT would.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { AuthContext, Connection, ParsedKey } from 'ssh2';
import { Server, utils } from 'ssh2';
import type { ExecResult } from './commands';

/** An OpenSSH private key (ed25519) for a machine's host key. */
export function generateHostKey(): string {
  // ssh2 1.17.0 drops a leading zero byte of an ed25519 public key it generates, and then cannot read
  // that key back (one key in 256: a machine failed to start in a CI run): draw another.
  for (;;) {
    const key = utils.generateKeyPairSync('ed25519').private;
    if (!(utils.parseKey(key) instanceof Error)) return key;
  }
}

/** `SHA256:<base64>` of a host key, as `ssh-keygen -l` prints it. */
export function hostKeyFingerprint(privateKey: string): string {
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error) return 'unknown';
  const digest = createHash('sha256').update(parsed.getPublicSSH()).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

/** What the server asks its machine. */
export interface MachineHooks {
  /** The machine accepts connections now (booted and running). */
  accepting(): boolean;
  /** The user allowed in and their `authorized_keys` lines. */
  login(): { username: string; keys: string[] };
  /** An authenticated connection. */
  onLogin(): void;
  /** Answers one `exec`; `drop` ends the connection instead of answering. */
  exec(command: string): Promise<ExecResult | 'drop'>;
}

function keyMatches(ctx: AuthContext & { method: 'publickey' }, line: string): boolean {
  const parsed = utils.parseKey(line);
  if (parsed instanceof Error) return false;
  const key: ParsedKey = parsed;
  const blob = key.getPublicSSH();
  if (
    ctx.key.algo !== key.type ||
    ctx.key.data.length !== blob.length ||
    !timingSafeEqual(ctx.key.data, blob)
  )
    return false;
  // Without a signature the client only asks whether the key would do; with one, it must verify.
  return (
    ctx.signature === undefined ||
    (ctx.blob !== undefined && key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true)
  );
}

/** One machine's SSH server. */
export class MachineSshServer {
  private readonly tcp: net.Server;
  private readonly ssh: Server;
  private readonly sockets = new Set<net.Socket>();
  private listening?: Promise<number>;
  private closed = false;

  constructor(
    hostKey: string,
    private readonly hooks: MachineHooks
  ) {
    this.ssh = new Server({ hostKeys: [hostKey] }, (client) => this.onClient(client));
    this.tcp = net.createServer((socket) => {
      if (this.closed || !hooks.accepting()) {
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      this.ssh.injectSocket(socket);
    });
  }

  /** Listens on 127.0.0.1 (any free port); resolves to the port. */
  listen(): Promise<number> {
    this.listening ??= new Promise<number>((resolve, reject) => {
      this.tcp.once('error', reject);
      this.tcp.listen(0, '127.0.0.1', () => {
        this.tcp.off('error', reject);
        resolve((this.tcp.address() as AddressInfo).port);
      });
    });
    return this.listening;
  }

  /** The port, once listening. */
  get port(): number | undefined {
    const address = this.tcp.address();
    return address && typeof address === 'object' ? address.port : undefined;
  }

  /** Drops every open connection (the machine went down). */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** Stops listening and drops every connection. */
  close(): Promise<void> {
    this.closed = true;
    this.dropConnections();
    if (!this.tcp.listening) return Promise.resolve();
    return new Promise((resolve) => this.tcp.close(() => resolve()));
  }

  private onClient(client: Connection): void {
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      const { username, keys } = this.hooks.login();
      if (ctx.method !== 'publickey' || ctx.username !== username || !keys.some((k) => keyMatches(ctx, k))) {
        ctx.reject(['publickey']);
        return;
      }
      ctx.accept();
    });
    client.on('ready', () => {
      this.hooks.onLogin();
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('pty', (accept) => accept?.());
        session.on('env', (accept) => accept?.());
        session.on('shell', (_accept, reject) => reject?.());
        session.on('subsystem', (_accept, reject) => reject?.());
        session.on('exec', (accept, _reject, info) => {
          const channel = accept();
          this.hooks.exec(info.command).then(
            (answer) => {
              if (answer === 'drop') {
                client.end();
                return;
              }
              if (answer.stdout !== '') channel.write(answer.stdout);
              if (answer.stderr !== '') channel.stderr.write(answer.stderr);
              channel.exit(answer.code);
              channel.end();
            },
            (err: unknown) => {
              channel.stderr.write(`emulated machine: ${String(err)}\n`);
              channel.exit(255);
              channel.end();
            }
          );
        });
      });
    });
  }
}
