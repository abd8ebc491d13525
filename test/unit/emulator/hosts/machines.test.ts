/** The machines behind the emulator's VMs: SSH servers, their auth, boot timeline and command table. */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { generateHostKey } from '../../../../emulator/src/hosts/ssh-server';
import { raw } from '../helpers';
import type { Deployment, FakeCluster, World } from './helpers';
import {
  ADMIN,
  TEST_TIMINGS,
  deploy,
  machineOf,
  sleep,
  sshConnect,
  sshKey,
  sshThroughTunnel,
  startWorld,
  tool,
  until,
  writeConfig,
} from './helpers';

/** Long enough for boot and cloud-init with the test timings. */
const SETTLED = (TEST_TIMINGS.bootMs ?? 0) + (TEST_TIMINGS.cloudInitMs ?? 0) + 100;

/** The route the worker's dialer asks for. */
async function routeOf(
  world: World,
  iface: string,
  address: string,
  port = 22
): Promise<{ status: number; code?: string; port?: number }> {
  const query = new URLSearchParams({ interface: iface, address, port: String(port) });
  const res = await raw(world.arm, 'GET', `/world/route?${query.toString()}`, { auth: false });
  const body = res.json as { port?: number; error?: { code: string } };
  return { status: res.status, code: body.error?.code, port: body.port };
}

describe('host world: machines', () => {
  let world: World & { cluster: FakeCluster };

  before(async () => {
    world = await startWorld();
    await sshKey();
  });
  after(async () => {
    await world.close();
  });
  afterEach(() => {
    world.arm.hosts.setFaults([]);
    world.arm.hosts.setTimings(TEST_TIMINGS);
  });

  /** A deployment whose machines have booted and finished cloud-init, with its tunnel up. */
  async function ready(count = 1): Promise<Deployment> {
    const d = await deploy(world, count);
    await sleep(SETTLED);
    const up = await tool(world, 'wg-quick', ['up', await writeConfig(world, d.iface, d.laptopConfig())]);
    assert.equal(up.code, 0, up.stderr);
    return d;
  }

  it('answers every command of the table over SSH through the tunnel', async () => {
    const d = await ready();
    const host = d.hosts[0];
    assert.ok(host);
    const before = world.arm.hosts.counts();
    const ssh = await sshThroughTunnel(world, d, host);
    try {
      const table: [string, number, string, string][] = [
        ['echo hello   world', 0, 'hello world\n', ''],
        ["echo 'quoted  words'", 0, 'quoted  words\n', ''],
        ['cloud-init status', 0, 'status: done\n', ''],
        ['sudo systemctl is-active wg-quick@wg0', 0, 'active\n', ''],
        ['sudo test -e /run/lock/k0sctl', 1, '', ''],
        ['sudo rm -f /run/lock/k0sctl', 0, '', ''],
        ['sudo k0s status', 1, '', 'sudo: k0s: command not found\n'],
        ['kubeadm init', 127, '', 'bash: kubeadm: command not found\n'],
        ['sudo wg show wg1 latest-handshakes', 1, '', 'Unable to access interface: No such device\n'],
        ['wg show wg0 latest-handshakes', 1, '', 'Unable to access interface: Operation not permitted\n'],
        ['sudo test -e /run/lock/k0sctl || echo free', 0, 'free\n', ''],
        ['kubeadm 2>/dev/null; echo after', 0, 'after\n', ''],
        ['hostname', 0, `${host.name}\n`, ''],
      ];
      for (const [command, code, stdout, stderr] of table) {
        assert.deepEqual(await ssh.exec(command), { code, stdout, stderr }, command);
      }
      const handshakes = await ssh.exec('sudo wg show wg0 latest-handshakes');
      assert.equal(handshakes.code, 0);
      const [key, seconds] = handshakes.stdout.trimEnd().split('\t');
      assert.equal(key, d.laptop.publicKey, 'the VM peers with the laptop key');
      assert.ok(
        Math.abs(Number(seconds) - Date.now() / 1000) < 5,
        `a recent handshake: ${handshakes.stdout}`
      );
    } finally {
      ssh.end();
    }
    const counts = world.arm.hosts.counts();
    assert.equal((counts.sshSessions[host.name] ?? 0) - (before.sshSessions[host.name] ?? 0), 1);
    assert.equal((counts.tools['ssh exec']?.started ?? 0) - (before.tools['ssh exec']?.started ?? 0), 14);
  });

  it('shows the k0sctl lock and k0s as the cluster part holds them', async () => {
    const d = await ready();
    const host = d.hosts[0];
    assert.ok(host);
    const id = d.scope.deploymentId;
    const services = world.cluster.world;
    assert.deepEqual(
      services.machines(id).map((m) => [m.name, m.wireguardAddress, m.adminUsername, m.booted]),
      [[host.name, host.wireguardIp, ADMIN, true]]
    );
    assert.equal(services.reachable(id, host.wireguardIp), true);
    assert.equal(services.reachable('k0rdent-other', host.wireguardIp), false);

    const ssh = await sshThroughTunnel(world, d, host);
    try {
      services.setLock(id, host.name, 'k0sctl apply');
      assert.equal(services.lockOf(id, host.name), 'k0sctl apply');
      assert.equal(machineOf(world, host.name, id).lock, 'k0sctl apply');
      assert.equal((await ssh.exec('sudo test -e /run/lock/k0sctl')).code, 0);
      assert.deepEqual(await ssh.exec('rm -f /run/lock/k0sctl'), {
        code: 1,
        stdout: '',
        stderr: "rm: cannot remove '/run/lock/k0sctl': Permission denied\n",
      });
      assert.equal((await ssh.exec('sudo rm -f /run/lock/k0sctl')).code, 0);
      assert.equal((await ssh.exec('sudo test -e /run/lock/k0sctl')).code, 1);
      assert.equal(services.lockOf(id, host.name), undefined);

      world.cluster.k0s.set(`${id}/${host.name}`, { version: 'v1.32.4+k0s.0', role: 'controller' });
      const status = await ssh.exec('sudo k0s status');
      assert.equal(status.code, 0);
      assert.match(status.stdout, /^Version: v1\.32\.4\+k0s\.0\nProcess ID: \d+\nRole: controller\n/);
      assert.deepEqual(await ssh.exec('sudo systemctl is-active k0scontroller'), {
        code: 0,
        stdout: 'active\n',
        stderr: '',
      });
    } finally {
      ssh.end();
    }
  });

  it('follows the timeline: closed before boot, then cloud-init running and wg activating, then done', async () => {
    world.arm.hosts.setTimings({ bootMs: 800, wireguardStartMs: 300, cloudInitMs: 600 });
    const d = await deploy(world, 1);
    const host = d.hosts[0];
    assert.ok(host);
    const m = machineOf(world, host.name, d.scope.deploymentId);
    assert.equal(m.booted, false);
    assert.ok(m.sshPort, 'the SSH server listens from the VM on');
    const key = (await sshKey()).privateKey;
    await assert.rejects(sshConnect({ port: m.sshPort }, key), /closed|lost|ECONNRESET/i);
    const up = await tool(world, 'wg-quick', ['up', await writeConfig(world, d.iface, d.laptopConfig())]);
    assert.equal(up.code, 0, up.stderr);
    assert.deepEqual(await routeOf(world, d.iface, host.wireguardIp), {
      status: 503,
      code: 'Unreachable',
      port: undefined,
    });

    await until('the machine booted', () => machineOf(world, host.name, d.scope.deploymentId).booted);
    const ssh = await sshConnect({ port: m.sshPort }, key);
    try {
      assert.deepEqual(await ssh.exec('cloud-init status'), {
        code: 0,
        stdout: 'status: running\n',
        stderr: '',
      });
      assert.deepEqual(await ssh.exec('sudo systemctl is-active wg-quick@wg0'), {
        code: 3,
        stdout: 'activating\n',
        stderr: '',
      });
      const waited = await ssh.exec('cloud-init status --wait');
      assert.equal(waited.code, 0);
      assert.match(waited.stdout, /^\.+\nstatus: done\n$/);
      assert.deepEqual(await ssh.exec('sudo systemctl is-active wg-quick@wg0'), {
        code: 0,
        stdout: 'active\n',
        stderr: '',
      });
    } finally {
      ssh.end();
    }
    const route = await routeOf(world, d.iface, host.wireguardIp);
    assert.equal(route.status, 200);
    assert.equal(route.port, m.sshPort);
  });

  it('accepts only the admin user with the registered key, verifying the signature', async () => {
    const d = await ready();
    const host = d.hosts[0];
    assert.ok(host);
    const port = machineOf(world, host.name, d.scope.deploymentId).sshPort ?? 0;
    const sessions = world.arm.hosts.counts().sshSessions[host.name] ?? 0;
    const good = await sshKey();
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ format: 'pem', type: 'pkcs1' })
      .toString();
    await assert.rejects(sshConnect({ port }, other), /authentication methods failed/);
    await assert.rejects(sshConnect({ port }, good.privateKey, 'root'), /authentication methods failed/);
    await assert.rejects(sshConnect({ port }, generateHostKey()), /authentication methods failed/);
    const ssh = await sshConnect({ port }, good.privateKey, ADMIN);
    assert.equal((await ssh.exec('whoami')).stdout, `${ADMIN}\n`);
    ssh.end();
    assert.equal(
      world.arm.hosts.counts().sshSessions[host.name],
      sessions + 1,
      'only the accepted connection counts'
    );
  });

  it('keeps one host key per machine and closes its server when the VM is deleted', async () => {
    const d = await ready();
    const host = d.hosts[0];
    assert.ok(host);
    const seen: string[] = [];
    const before = machineOf(world, host.name, d.scope.deploymentId);
    const port = before.sshPort ?? 0;
    for (let i = 0; i < 2; i++) {
      const ssh = await sshConnect({ port }, (await sshKey()).privateKey, ADMIN, (k) =>
        seen.push(k.toString('hex'))
      );
      ssh.end();
    }
    assert.equal(seen.length, 2);
    assert.equal(seen[0], seen[1], 'the same host key on every connection');
    assert.match(before.hostKeyFingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    const open = await sshConnect({ port }, (await sshKey()).privateKey);

    assert.equal(await world.adapter.deleteVm(d.scope, host.name), true);
    assert.equal(
      world.arm.hosts.state().machines.some((m) => m.vmId === before.vmId),
      false,
      'the machine goes with its VM'
    );
    await open.closed;
    await assert.rejects(sshConnect({ port }, (await sshKey()).privateKey), /ECONNREFUSED/);
    assert.equal((await routeOf(world, d.iface, host.wireguardIp)).code, 'Unreachable');
  });

  it('gives a new machine (vmId, host key) to a VM made again under the same name', async () => {
    const d = await ready();
    const host = d.hosts[0];
    assert.ok(host);
    const first = machineOf(world, host.name, d.scope.deploymentId);
    assert.equal(await world.adapter.deleteVm(d.scope, host.name), true);
    const again = await deploy(world, 1);
    const second = machineOf(world, host.name, again.scope.deploymentId);
    assert.notEqual(second.vmId, first.vmId);
    assert.notEqual(second.hostKeyFingerprint, first.hostKeyFingerprint);
  });

  it('answers cloud-init status: error and a failed wg0 to the machine faults, and faults one command', async () => {
    // Machines of earlier tests have the same name: start from an empty world.
    world.arm.reset();
    const name = 'k0s-controller-1';
    world.arm.hosts.setFaults([
      { match: { tool: 'machine', target: name }, kind: 'cloud-init-error' },
      { match: { tool: 'machine', target: name }, kind: 'wireguard-failed' },
      {
        match: { tool: 'ssh', target: name, command: 'echo flaky' },
        kind: 'fail',
        exitCode: 255,
        message: 'kex failed',
      },
    ]);
    const d = await deploy(world, 1);
    const host = d.hosts[0];
    assert.ok(host);
    assert.deepEqual(
      world.arm.hosts.state().faults.map((f) => f.kind),
      ['fail'],
      'the machine took its faults'
    );
    await sleep(SETTLED);
    const m = machineOf(world, host.name, d.scope.deploymentId);
    assert.deepEqual(m.faults, ['cloud-init-error', 'wireguard-failed']);
    const ssh = await sshConnect({ port: m.sshPort ?? 0 }, (await sshKey()).privateKey);
    try {
      assert.deepEqual(await ssh.exec('cloud-init status'), {
        code: 1,
        stdout: 'status: error\n',
        stderr: '',
      });
      assert.deepEqual(await ssh.exec('sudo systemctl is-active wg-quick@wg0'), {
        code: 3,
        stdout: 'failed\n',
        stderr: '',
      });
      assert.deepEqual(await ssh.exec('sudo wg show wg0 latest-handshakes'), {
        code: 1,
        stdout: '',
        stderr: 'Unable to access interface: No such device\n',
      });
      assert.deepEqual(await ssh.exec('echo flaky'), { code: 255, stdout: '', stderr: 'kex failed\n' });
      assert.deepEqual(
        await ssh.exec('echo flaky'),
        { code: 0, stdout: 'flaky\n', stderr: '' },
        'taken once'
      );
    } finally {
      ssh.end();
    }
    const up = await tool(world, 'wg-quick', ['up', await writeConfig(world, d.iface, d.laptopConfig())]);
    assert.equal(up.code, 0, up.stderr);
    const shown = await tool(world, 'wg', ['show', d.iface, 'latest-handshakes']);
    assert.equal(shown.stdout, `${host.keys.publicKey}\t0\n`, 'a failed wg0 never answers');
  });

  it('refuses the route to a machine under an ssh refuse fault, as many times as armed', async () => {
    const d = await ready();
    const host = d.hosts[0];
    assert.ok(host);
    world.arm.hosts.setFaults([{ match: { tool: 'ssh', target: host.name }, kind: 'refuse', times: 2 }]);
    assert.equal((await routeOf(world, d.iface, host.wireguardIp)).code, 'ConnectionRefused');
    await assert.rejects(
      sshThroughTunnel(world, d, host),
      (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED'
    );
    const ssh = await sshThroughTunnel(world, d, host);
    assert.equal((await ssh.exec('echo through')).stdout, 'through\n');
    ssh.end();
    assert.equal((await routeOf(world, d.iface, host.wireguardIp, 6443)).code, 'ConnectionRefused');
  });

  it('reboots the machine when its VM restarts: connections drop, the lock goes, boot starts again', async () => {
    const d = await ready();
    const host = d.hosts[0];
    assert.ok(host);
    const id = d.scope.deploymentId;
    world.cluster.world.setLock(id, host.name, 'k0sctl apply');
    const before = machineOf(world, host.name, id);
    const open = await sshThroughTunnel(world, d, host);
    await world.adapter.clients.compute.virtualMachines.restart(d.scope.resourceGroup, host.name, {
      updateIntervalInMs: 10,
    });
    await open.closed;
    const after = machineOf(world, host.name, id);
    assert.equal(after.vmId, before.vmId, 'the same machine');
    assert.equal(after.hostKeyFingerprint, before.hostKeyFingerprint);
    assert.notEqual(after.runningSince, before.runningSince);
    assert.equal(after.lock, undefined, '/run/lock is empty after a reboot');
    assert.equal(after.booted, false);
    await until('booted again', () => machineOf(world, host.name, id).booted);
  });
});
