/** The laptop's WireGuard tunnels: the emulated `wg-quick` and `wg`, the handshake rule, routes and faults. */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { generateWireguardKeyPair } from '../../../../src/hosts/keys';
import { raw } from '../helpers';
import type { Deployment, FakeCluster, World } from './helpers';
import {
  TEST_TIMINGS,
  deploy,
  sleep,
  sshKey,
  sshThroughTunnel,
  startWorld,
  tool,
  writeConfig,
} from './helpers';

const SETTLED = (TEST_TIMINGS.bootMs ?? 0) + (TEST_TIMINGS.cloudInitMs ?? 0) + 100;

describe('host world: laptop tunnels and the wg tools', () => {
  let world: World & { cluster: FakeCluster };
  let d: Deployment;

  before(async () => {
    world = await startWorld();
    await sshKey();
    d = await deploy(world, 2);
    await sleep(SETTLED);
  });
  after(async () => {
    await world.close();
  });
  afterEach(async () => {
    world.arm.hosts.setFaults([]);
    const up = (await tool(world, 'wg', ['show', 'interfaces'])).stdout.trim();
    for (const iface of up === '' ? [] : up.split(' ')) world.arm.hosts.dropTunnel(iface);
  });

  const route = async (iface: string, address: string) => {
    const query = new URLSearchParams({ interface: iface, address, port: '22' });
    return raw(world.arm, 'GET', `/world/route?${query.toString()}`, { auth: false });
  };

  it('brings the laptop config up with wg-quick, and wg show sees a live handshake per VM', async () => {
    const file = await writeConfig(world, d.iface, d.laptopConfig());
    const up = await tool(world, 'wg-quick', ['up', file]);
    assert.equal(up.code, 0, up.stderr);
    assert.equal(up.stdout, '');
    assert.deepEqual(up.stderr.trimEnd().split('\n'), [
      `[#] ip link add ${d.iface} type wireguard`,
      `[#] wg setconf ${d.iface} /dev/fd/63`,
      `[#] ip -4 address add ${d.laptopIp}/32 dev ${d.iface}`,
      `[#] ip link set mtu 1420 up dev ${d.iface}`,
      ...d.hosts.map((h) => `[#] ip -4 route add ${h.wireguardIp}/32 dev ${d.iface}`),
    ]);

    assert.deepEqual(await tool(world, 'wg', ['show', 'interfaces']), {
      code: 0,
      stdout: `${d.iface}\n`,
      stderr: '',
    });
    const shown = await tool(world, 'wg', ['show', d.iface, 'latest-handshakes']);
    assert.equal(shown.code, 0, shown.stderr);
    const lines = shown.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.split('\t'));
    assert.deepEqual(
      lines.map(([key]) => key),
      d.hosts.map((h) => h.keys.publicKey)
    );
    for (const [, seconds] of lines)
      assert.ok(Math.abs(Number(seconds) - Date.now() / 1000) < 5, String(seconds));

    const human = await tool(world, 'wg', ['show', d.iface]);
    assert.match(
      human.stdout,
      new RegExp(`^interface: ${d.iface}\\n  public key: ${escape(d.laptop.publicKey)}\\n`)
    );
    assert.match(human.stdout, /latest handshake: (Now|\d+ seconds? ago)\n/);
    assert.match(human.stdout, /persistent keepalive: every 25 seconds/);
    assert.match(human.stdout, new RegExp(`endpoint: ${escape(d.hosts[1]?.publicIp ?? '')}:51871`));

    for (const h of d.hosts) {
      const r = await route(d.iface, h.wireguardIp);
      assert.equal(r.status, 200, r.text);
      const to = r.json as { host: string; port: number };
      assert.equal(to.host, '127.0.0.1');
      assert.ok(to.port > 0);
    }
    const ssh = await sshThroughTunnel(world, d, d.hosts[1] ?? d.hosts[0]!);
    assert.equal((await ssh.exec('hostname')).stdout, 'k0s-worker-1\n');
    ssh.end();

    const again = await tool(world, 'wg-quick', ['up', file]);
    assert.deepEqual(again, { code: 1, stdout: '', stderr: `wg-quick: \`${d.iface}' already exists\n` });
    const down = await tool(world, 'wg-quick', ['down', file]);
    assert.deepEqual(down, { code: 0, stdout: '', stderr: `[#] ip link delete dev ${d.iface}\n` });
    assert.deepEqual(await tool(world, 'wg-quick', ['down', d.iface]), {
      code: 1,
      stdout: '',
      stderr: `wg-quick: \`${d.iface}' is not a WireGuard interface\n`,
    });
    assert.deepEqual(await tool(world, 'wg', ['show', d.iface]), {
      code: 1,
      stdout: '',
      stderr: 'Unable to access interface: No such device\n',
    });
    const counts = world.arm.hosts.counts().tools;
    assert.deepEqual(counts['wg-quick up'], { started: 2, completed: 1, failed: 1 });
    assert.deepEqual(counts['wg-quick down'], { started: 2, completed: 1, failed: 1 });
  });

  it('answers no handshake (0) for a peer whose key does not match, and routes nothing to it', async () => {
    const stranger = generateWireguardKeyPair();
    const worker = d.hosts[1];
    assert.ok(worker);
    const text = d.laptopConfig({ peerKeys: { [worker.name]: stranger.publicKey } });
    const iface = `${d.iface}x`;
    const up = await tool(world, 'wg-quick', ['up', await writeConfig(world, iface, text)]);
    assert.equal(up.code, 0, up.stderr);
    const shown = (await tool(world, 'wg', ['show', iface, 'latest-handshakes'])).stdout;
    assert.match(shown, new RegExp(`^${escape(d.hosts[0]?.keys.publicKey ?? '')}\\t[1-9]\\d+\\n`));
    assert.match(shown, new RegExp(`\\n${escape(stranger.publicKey)}\\t0\\n$`));
    const r = await route(iface, worker.wireguardIp);
    assert.equal(r.status, 503);
    assert.deepEqual((r.json as { error: { code: string } }).error.code, 'Unreachable');
    assert.equal(world.cluster.world.reachable(d.scope.deploymentId, worker.wireguardIp), false);
    assert.equal(world.cluster.world.reachable(d.scope.deploymentId, d.hosts[0]?.wireguardIp ?? ''), true);
  });

  it('answers no handshake when the laptop key is not the one the VMs know', async () => {
    const other = generateWireguardKeyPair();
    const up = await tool(world, 'wg-quick', [
      'up',
      await writeConfig(world, d.iface, d.laptopConfig({ laptopPrivateKey: other.privateKey })),
    ]);
    assert.equal(up.code, 0, up.stderr);
    const shown = (await tool(world, 'wg', ['show', d.iface, 'latest-handshakes'])).stdout;
    assert.equal(shown, d.hosts.map((h) => `${h.keys.publicKey}\t0\n`).join(''));
  });

  it('drops a tunnel on the admin route: the interface vanishes and so do its routes', async () => {
    const up = await tool(world, 'wg-quick', ['up', await writeConfig(world, d.iface, d.laptopConfig())]);
    assert.equal(up.code, 0, up.stderr);
    const host = d.hosts[0];
    assert.ok(host);
    assert.equal((await route(d.iface, host.wireguardIp)).status, 200);
    const ssh = await sshThroughTunnel(world, d, host);
    const drop = await raw(world.arm, 'POST', `/admin/hosts/wireguard/drop?interface=${d.iface}`, {
      auth: false,
    });
    assert.equal(drop.status, 200);
    assert.deepEqual((await tool(world, 'wg', ['show', 'interfaces'])).stdout, '');
    assert.equal((await route(d.iface, host.wireguardIp)).status, 503);
    assert.equal(world.cluster.world.reachable(d.scope.deploymentId, host.wireguardIp), false);
    const again = await raw(world.arm, 'POST', `/admin/hosts/wireguard/drop?interface=${d.iface}`, {
      auth: false,
    });
    assert.equal(again.status, 404);
    ssh.end();
  });

  it('refuses a config with problems, naming each line', async () => {
    const good = d.laptopConfig();
    const bad = good
      .replace(/^PrivateKey = .*$/m, 'PrivateKey = not-a-key')
      .replace(/^Endpoint = (.*):51871$/m, 'Endpoint = $1')
      .replace('PersistentKeepalive = 25', 'KeepAlive = 25');
    const file = await writeConfig(world, d.iface, bad);
    const res = await tool(world, 'wg-quick', ['up', file]);
    assert.equal(res.code, 1);
    const lines = bad.split('\n');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l)) + 1;
    assert.equal(
      res.stderr,
      [
        `${file}:${at(/^PrivateKey/)}: PrivateKey is not a key: it must be 32 bytes of base64 (44 characters)`,
        `${file}:${at(/^Endpoint/)}: Endpoint \`${d.hosts[0]?.publicIp}' is not ip:port (port 1..65535)`,
        `${file}:${at(/^KeepAlive/)}: key \`KeepAlive' is not valid in [Peer]; valid keys: PublicKey, PresharedKey, AllowedIPs, Endpoint, PersistentKeepalive`,
        'Configuration parsing error',
        '',
      ].join('\n')
    );
    const longName = path.join(world.dir, 'wgk0-a-name-too-long.conf');
    await fs.writeFile(longName, good, { mode: 0o600 });
    assert.deepEqual(await tool(world, 'wg-quick', ['up', longName]), {
      code: 1,
      stdout: '',
      stderr: 'wg-quick: The config file must be a valid interface name, followed by .conf\n',
    });
    assert.deepEqual(await tool(world, 'wg-quick', ['up', path.join(world.dir, 'missing.conf')]), {
      code: 1,
      stdout: '',
      stderr: `wg-quick: \`${path.join(world.dir, 'missing.conf')}' does not exist\n`,
    });
    const usage = await tool(world, 'wg-quick', ['sideways', file]);
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /^Usage: wg-quick \[ up \| down \| strip \]/);
    assert.deepEqual((await tool(world, 'wg', ['show', 'interfaces'])).stdout, '', 'nothing came up');
  });

  it('warns about a world-readable config as wg-quick does', async () => {
    const file = await writeConfig(world, d.iface, d.laptopConfig());
    await fs.chmod(file, 0o644);
    await fs.chmod(world.dir, 0o755);
    const up = await tool(world, 'wg-quick', ['up', file]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(
      up.stderr,
      new RegExp(`^Warning: \`${escape(file)}' is world accessible\\n\\[#\\] ip link add`)
    );
  });

  it('applies tool faults to wg-quick and wg: fail before acting, crash after the first half, latency', async () => {
    const file = await writeConfig(world, d.iface, d.laptopConfig());
    const before = world.arm.hosts.counts().tools['wg-quick up'] ?? { started: 0, completed: 0, failed: 0 };
    world.arm.hosts.setFaults([
      {
        match: { tool: 'wg-quick', command: 'up', target: d.iface },
        kind: 'fail',
        exitCode: 2,
        message: 'RTNETLINK answers: Operation not permitted',
      },
      { match: { tool: 'wg-quick', command: 'up' }, kind: 'crash' },
      { match: { tool: 'wg', command: 'show' }, kind: 'latency', latencyMs: 400, times: -1 },
    ]);
    assert.deepEqual(await tool(world, 'wg-quick', ['up', file]), {
      code: 2,
      stdout: '',
      stderr: 'RTNETLINK answers: Operation not permitted\n',
    });
    assert.deepEqual(
      (await tool(world, 'wg', ['show', 'interfaces'])).stdout,
      '',
      'a failed up acts on nothing'
    );
    const crashed = await tool(world, 'wg-quick', ['up', file]);
    assert.equal(crashed.code, 137);
    assert.match(crashed.stderr, /\[#\] ip link set mtu 1420 up dev .*\nwg-quick up: killed\n$/);
    const started = Date.now();
    assert.equal(
      (await tool(world, 'wg', ['show', 'interfaces'])).stdout,
      `${d.iface}\n`,
      'the crash left it up'
    );
    assert.ok(Date.now() - started >= 400, 'the latency was waited out');
    const after = world.arm.hosts.counts().tools['wg-quick up'];
    assert.deepEqual(after, {
      started: before.started + 2,
      completed: before.completed,
      failed: before.failed + 2,
    });
    assert.deepEqual(
      world.arm.hosts.state().faults.map((f) => [f.kind, f.times]),
      [['latency', -1]]
    );
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
