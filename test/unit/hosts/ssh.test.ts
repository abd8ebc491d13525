import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { ensureSshKeyPair } from '../../../src/hosts/keys';
import type { SshOptions, SshTarget } from '../../../src/hosts/ssh';
import {
  SshError,
  commandTimeoutMs,
  connectSsh,
  forgetHostKey,
  sshOptionsFrom,
  withSsh,
} from '../../../src/hosts/ssh';

const SSHD = '/usr/sbin/sshd';
const SSH_KEYGEN = '/usr/bin/ssh-keygen';
const UNSHARE = '/usr/bin/unshare';
const MOUNT = '/usr/bin/mount';

function requireTool(file: string, debianPackage: string): void {
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: install the Debian package ${debianPackage}`);
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function tcp(port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** A dial that reaches 127.0.0.1:`port` whatever address it is asked for, and remembers each call. */
function countingDial(port: number): { calls: string[]; dial: NonNullable<SshOptions['dial']> } {
  const calls: string[] = [];
  return {
    calls,
    dial: (address, p) => {
      calls.push(`${address}:${p}`);
      return tcp(port);
    },
  };
}

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

async function eventually(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

function isSshError(kind: SshError['kind'], ...fragments: (string | RegExp)[]) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof SshError, `expected an SshError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    for (const f of fragments) {
      if (typeof f === 'string') assert.ok(err.message.includes(f), `"${f}" not in: ${err.message}`);
      else assert.match(err.message, f);
    }
    return true;
  };
}

interface Sshd {
  port: number;
  /** `ssh-ed25519 <base64>` of the server's host key. */
  hostKey: string;
  /** Who the server lets in, and a folder that user can write to. */
  username: string;
  home: string;
  stop(): Promise<void>;
}

const TEST_USER = 'k0rdent-ssh-test';

/**
 * The user the server lets in. OpenSSH refuses `signal` requests in root sessions (a root login runs
 * without privilege separation), and a VM's admin user is never root; so when the tests run as root the
 * server gets an unprivileged user of its own, through a private copy of /etc/passwd bound over the real
 * one in a mount namespace that only sshd sees. Otherwise it is the current user.
 */
async function loginUser(dir: string): Promise<{ username: string; home: string; wrap: string[] }> {
  if (process.getuid?.() !== 0) return { username: os.userInfo().username, home: dir, wrap: [] };
  requireTool(UNSHARE, 'util-linux');
  requireTool(MOUNT, 'mount');
  const passwd = await fs.readFile('/etc/passwd', 'utf8');
  const used = new Set(passwd.split('\n').map((line) => Number(line.split(':')[2])));
  let uid = 42420;
  while (used.has(uid)) uid += 1;
  const home = path.join(dir, 'home');
  await fs.mkdir(home, { mode: 0o755 });
  await fs.chown(home, uid, uid);
  await fs.chmod(dir, 0o711);
  const copy = path.join(dir, 'passwd');
  await fs.writeFile(
    copy,
    `${passwd.trimEnd()}\n${TEST_USER}:x:${uid}:${uid}:k0rdent ssh test:${home}:/bin/sh\n`
  );
  return {
    username: TEST_USER,
    home,
    wrap: [
      UNSHARE,
      '--mount',
      '--propagation',
      'private',
      '/bin/sh',
      '-c',
      `${MOUNT} --bind "$0" /etc/passwd && exec "$@"`,
      copy,
    ],
  };
}

/** Starts a real OpenSSH server on a free port of 127.0.0.1 that lets `authorizedKey` in. */
async function startSshd(dir: string, authorizedKey: string): Promise<Sshd> {
  requireTool(SSHD, 'openssh-server');
  requireTool(SSH_KEYGEN, 'openssh-client');
  const login = await loginUser(dir);
  const hostKeyFile = path.join(dir, 'ssh_host_ed25519_key');
  execFileSync(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-f', hostKeyFile]);
  const authorizedKeys = path.join(login.home, 'authorized_keys');
  await fs.writeFile(authorizedKeys, authorizedKey + '\n', { mode: 0o600 });
  const { uid, gid } = await fs.stat(login.home);
  await fs.chown(authorizedKeys, uid, gid);
  const port = await freePort();
  const config = path.join(dir, 'sshd_config');
  await fs.writeFile(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKeyFile}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      '',
    ].join('\n')
  );
  // Started as root, sshd insists on its privilege separation directory.
  if (process.getuid?.() === 0) await fs.mkdir('/run/sshd', { recursive: true, mode: 0o755 });

  const [cmd = SSHD, ...args] = [...login.wrap, SSHD, '-D', '-e', '-f', config];
  const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  const listening = await eventually(async () => {
    if (exited) return true;
    try {
      (await tcp(port)).destroy();
      return true;
    } catch {
      return false;
    }
  }, 10_000);
  if (exited || !listening) {
    child.kill('SIGKILL');
    throw new Error(`sshd did not start on port ${port}:\n${log}`);
  }
  const [type, key] = (await fs.readFile(`${hostKeyFile}.pub`, 'utf8')).split(' ');
  return {
    port,
    hostKey: `${type} ${key}`,
    username: login.username,
    home: login.home,
    stop: async () => {
      if (exited) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

describe('ssh', () => {
  let dir: string;
  let sshd: Sshd;
  let target: SshTarget;
  let knownHosts: string;
  let caseNo = 0;

  const options = (overrides: Partial<SshOptions> = {}): SshOptions => ({
    knownHostsFile: knownHosts,
    connectTimeoutMs: 5000,
    attempts: 1,
    retryDelayMs: 100,
    ...overrides,
  });

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-ssh-'));
    const { publicKey } = await ensureSshKeyPair(path.join(dir, 'client-key'), 'k0rdent-ssh-test');
    sshd = await startSshd(dir, publicKey);
    target = {
      name: 'k0s-controller-1',
      address: '127.0.0.1',
      port: sshd.port,
      username: sshd.username,
      privateKeyFile: path.join(dir, 'client-key'),
    };
  });

  after(async () => {
    await sshd?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    caseNo += 1;
    knownHosts = path.join(dir, `case-${caseNo}`, 'azure-resources', 'known_hosts');
  });

  it('runs commands and returns their exit code, stdout and stderr', async () => {
    const cases = [
      { command: 'echo hello', code: 0, stdout: 'hello\n', stderr: '' },
      { command: 'exit 3', code: 3, stdout: '', stderr: '' },
      { command: 'echo partial; echo broken >&2; exit 1', code: 1, stdout: 'partial\n', stderr: 'broken\n' },
      { command: 'printf "%s" "$(id -un)"', code: 0, stdout: sshd.username, stderr: '' },
    ];
    await withSsh(target, options(), async (s) => {
      for (const c of cases)
        assert.deepEqual(await s.exec(c.command), { code: c.code, stdout: c.stdout, stderr: c.stderr });
    });
  });

  it('writes stdin to the command and closes it', async () => {
    await withSsh(target, options(), async (s) => {
      const text = 'line one\nline two\n';
      assert.deepEqual(await s.exec('cat', { stdin: text }), { code: 0, stdout: text, stderr: '' });
      assert.deepEqual(await s.exec('wc -c', { timeoutMs: 5000 }), { code: 0, stdout: '0\n', stderr: '' });
    });
  });

  it('records the host key on first contact, 0600, in a form OpenSSH reads, and verifies it after', async () => {
    await withSsh(target, options(), (s) => s.exec('true'));
    const line = `[127.0.0.1]:${sshd.port} ${sshd.hostKey}\n`;
    assert.equal(await fs.readFile(knownHosts, 'utf8'), line);
    assert.equal((await fs.stat(knownHosts)).mode & 0o777, 0o600);
    const found = execFileSync(SSH_KEYGEN, ['-F', `[127.0.0.1]:${sshd.port}`, '-f', knownHosts], {
      encoding: 'utf8',
    });
    assert.ok(found.includes(sshd.hostKey), found);

    await withSsh(target, options(), (s) => s.exec('true'));
    assert.equal(await fs.readFile(knownHosts, 'utf8'), line);
  });

  for (const recorded of [
    { type: 'ed25519', args: ['-t', 'ed25519'] },
    { type: 'rsa', args: ['-t', 'rsa', '-b', '2048'] },
  ]) {
    it(`refuses a changed host key (recorded: ${recorded.type}) at once, and accepts the machine after forgetHostKey`, async () => {
      const other = path.join(dir, `other-host-key-${caseNo}`);
      execFileSync(SSH_KEYGEN, ['-q', ...recorded.args, '-N', '', '-f', other]);
      const [type, key] = (await fs.readFile(`${other}.pub`, 'utf8')).split(' ');
      const neighbour = `10.0.0.9 ${sshd.hostKey}\n`;
      await fs.mkdir(path.dirname(knownHosts), { recursive: true });
      await fs.writeFile(knownHosts, `${neighbour}[127.0.0.1]:${sshd.port} ${type} ${key}\n`, {
        mode: 0o600,
      });

      const { calls, dial } = countingDial(sshd.port);
      await assert.rejects(
        connectSsh(target, options({ dial, attempts: 3, retryDelayMs: 1000 })),
        isSshError('host-key', 'k0s-controller-1', `127.0.0.1:${sshd.port}`, knownHosts, 'ssh-keygen -R')
      );
      assert.equal(calls.length, 1);

      await forgetHostKey(knownHosts, '127.0.0.1', sshd.port);
      assert.equal(await fs.readFile(knownHosts, 'utf8'), neighbour);
      const result = await withSsh(target, options({ dial }), (s) => s.exec('echo again'));
      assert.equal(result.stdout, 'again\n');
      assert.equal(
        await fs.readFile(knownHosts, 'utf8'),
        `${neighbour}[127.0.0.1]:${sshd.port} ${sshd.hostKey}\n`
      );
    });
  }

  it('does not lose lines when first contacts to many hosts record their keys at once', async () => {
    const { calls, dial } = countingDial(sshd.port);
    const addresses = Array.from({ length: 8 }, (_, i) => `192.0.2.${i + 1}`);
    const outputs = await Promise.all(
      addresses.map((address, i) =>
        withSsh({ ...target, name: `k0s-worker-${i + 1}`, address, port: 22 }, options({ dial }), (s) =>
          s.exec(`echo ${address}`)
        )
      )
    );
    assert.deepEqual(
      outputs.map((o) => o.stdout.trim()),
      addresses
    );
    assert.deepEqual(calls.sort(), addresses.map((a) => `${a}:22`).sort());
    const lines = (await fs.readFile(knownHosts, 'utf8')).trimEnd().split('\n').sort();
    assert.deepEqual(lines, addresses.map((a) => `${a} ${sshd.hostKey}`).sort());
  });

  it('connects through a custom dial and records the host under the address it was given', async () => {
    const { calls, dial } = countingDial(sshd.port);
    const vm = { ...target, address: '192.168.100.11', port: 22 };
    const result = await withSsh(vm, options({ dial }), (s) => s.exec('echo through the tunnel'));
    assert.equal(result.stdout, 'through the tunnel\n');
    assert.deepEqual(calls, ['192.168.100.11:22']);
    assert.equal(await fs.readFile(knownHosts, 'utf8'), `192.168.100.11 ${sshd.hostKey}\n`);
  });

  it('fails on a refused key at once, without trying again', async () => {
    const wrongKey = path.join(dir, 'wrong-key');
    await ensureSshKeyPair(wrongKey, 'not-authorized');
    const { calls, dial } = countingDial(sshd.port);
    await assert.rejects(
      connectSsh({ ...target, privateKeyFile: wrongKey }, options({ dial, attempts: 3, retryDelayMs: 1000 })),
      isSshError('auth', 'k0s-controller-1', `127.0.0.1:${sshd.port}`, wrongKey, '1 attempt')
    );
    assert.equal(calls.length, 1);
  });

  it('fails on a missing private key file without dialling', async () => {
    const { calls, dial } = countingDial(sshd.port);
    await assert.rejects(
      connectSsh(
        { ...target, privateKeyFile: path.join(dir, 'no-such-key') },
        options({ dial, attempts: 3 })
      ),
      isSshError('auth', 'no-such-key')
    );
    assert.equal(calls.length, 0);
  });

  it('tries a closed port `attempts` times, `retryDelayMs` apart, and names what it tried', async () => {
    const closed = await freePort();
    const { calls, dial } = countingDial(closed);
    const started = Date.now();
    await assert.rejects(
      connectSsh({ ...target, port: closed }, options({ dial, attempts: 3, retryDelayMs: 300 })),
      isSshError(
        'connect',
        'k0s-controller-1',
        `127.0.0.1:${closed}`,
        /ECONNREFUSED/,
        '3 attempts, 0.3s apart'
      )
    );
    assert.equal(calls.length, 3);
    assert.ok(Date.now() - started >= 600, `${Date.now() - started} ms`);
  });

  it('times out a server that never speaks, and tries it again', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    const { calls, dial } = countingDial(port);
    try {
      await assert.rejects(
        connectSsh(
          { ...target, port },
          options({ dial, connectTimeoutMs: 300, attempts: 2, retryDelayMs: 50 })
        ),
        isSshError('timeout', `127.0.0.1:${port}`, '2 attempts')
      );
      assert.equal(calls.length, 2);
    } finally {
      silent.close();
    }
  });

  it('kills a command that outlives its timeout', async () => {
    const pidFile = path.join(sshd.home, 'timeout.pid');
    await withSsh(target, options(), async (s) => {
      const started = Date.now();
      await assert.rejects(
        s.exec(`echo $$ > ${pidFile}; exec sleep 30`, { timeoutMs: 500 }),
        isSshError('timeout', 'k0s-controller-1', 'echo $$', 'after 0.5s', 'killed')
      );
      assert.ok(Date.now() - started < 5000);
      const pid = Number(await fs.readFile(pidFile, 'utf8'));
      assert.ok(await eventually(() => processGone(pid), 5000), `remote sleep ${pid} still runs`);
      assert.equal((await s.exec('echo still usable')).code, 0);
    });
  });

  for (const via of ['the command', 'the session'] as const) {
    it(`kills a running command when ${via}'s signal aborts`, async () => {
      const pidFile = path.join(sshd.home, `abort-${caseNo}.pid`);
      const controller = new AbortController();
      const sessionSignal = via === 'the session' ? controller.signal : undefined;
      const commandSignal = via === 'the command' ? controller.signal : undefined;
      await withSsh(target, options({ signal: sessionSignal }), async (s) => {
        setTimeout(() => controller.abort(), 500);
        await assert.rejects(
          s.exec(`echo $$ > ${pidFile}; exec sleep 30`, { signal: commandSignal }),
          isSshError('cancelled', 'k0s-controller-1', 'echo $$', 'killed')
        );
        const pid = Number(await fs.readFile(pidFile, 'utf8'));
        assert.ok(await eventually(() => processGone(pid), 5000), `remote sleep ${pid} still runs`);
      });
    });
  }

  it('cancels the sleep between connect attempts', async () => {
    const closed = await freePort();
    const { calls, dial } = countingDial(closed);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const started = Date.now();
    await assert.rejects(
      connectSsh(
        { ...target, port: closed },
        options({ dial, attempts: 5, retryDelayMs: 10_000, signal: controller.signal })
      ),
      isSshError('cancelled', `127.0.0.1:${closed}`)
    );
    assert.ok(Date.now() - started < 2000, `${Date.now() - started} ms`);
    assert.equal(calls.length, 1);
  });

  it('does not connect with a signal that has already aborted', async () => {
    const { calls, dial } = countingDial(sshd.port);
    await assert.rejects(
      connectSsh(target, options({ dial, signal: AbortSignal.abort() })),
      isSshError('cancelled')
    );
    assert.equal(calls.length, 0);
  });

  it('maps the config timeouts (seconds) to connection options', () => {
    const timeouts = {
      ssh_connect: 30,
      ssh_command: 300,
      verification_retries: 3,
      verification_retry_delay: 10,
    };
    const signal = new AbortController().signal;
    const dial = countingDial(1).dial;
    assert.deepEqual(sshOptionsFrom(timeouts, '/tmp/known_hosts', dial, signal), {
      knownHostsFile: '/tmp/known_hosts',
      connectTimeoutMs: 30_000,
      attempts: 3,
      retryDelayMs: 10_000,
      dial,
      signal,
    });
    assert.equal(sshOptionsFrom({ ...timeouts, verification_retries: 0 }, 'k').attempts, 1);
    assert.equal(commandTimeoutMs(timeouts), 300_000);
  });
});
