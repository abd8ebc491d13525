/** The host world's admin routes, tool plumbing routes, cluster delegation, reset and persistence. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { armEmulatorInfo } from '../../../../emulator/src/arm';
import { parseStandaloneArgs } from '../../../../emulator/src/arm/main';
import { HOSTS_WORLD_STATE_FILE } from '../../../../emulator/src/hosts';
import type {
  HostCounts,
  HostTimings,
  HostWorldState,
  ToolFaultRule,
} from '../../../../emulator/src/hosts/types';
import { DEFAULT_HOST_TIMINGS } from '../../../../emulator/src/hosts/types';
import { raw } from '../helpers';
import type { Deployment, World } from './helpers';
import {
  FakeCluster,
  TEST_TIMINGS,
  deploy,
  machineOf,
  sleep,
  sshConnect,
  sshKey,
  sshThroughTunnel,
  startWorld,
  tool,
  writeConfig,
} from './helpers';

const SETTLED = (TEST_TIMINGS.bootMs ?? 0) + (TEST_TIMINGS.cloudInitMs ?? 0) + 100;

describe('host world: admin and tool routes', () => {
  let world: World & { cluster: FakeCluster };

  before(async () => {
    world = await startWorld();
  });
  after(async () => {
    await world.close();
  });
  beforeEach(() => {
    world.arm.reset();
    world.arm.hosts.setTimings({ ...DEFAULT_HOST_TIMINGS, ...TEST_TIMINGS });
  });

  const call = (method: string, route: string, body?: unknown) =>
    raw(world.arm, method, route, { auth: false, body });

  it('validates fault rules with messages that name the field', async () => {
    const cases: [unknown, RegExp][] = [
      [{}, /faults must be an array/],
      [[{ kind: 'fail' }], /faults\[0\]\.match must be an object/],
      [[{ match: { tool: 'ssh2' }, kind: 'fail' }], /faults\[0\]\.match\.tool must be one of wg, wg-quick/],
      [[{ match: { tool: 'helm' }, kind: 'explode' }], /faults\[0\]\.kind must be one of fail, crash/],
      [[{ match: { tool: 'helm' }, kind: 'refuse' }], /faults\[0\]: kind refuse is for tool ssh only/],
      [
        [{ match: { tool: 'helm' }, kind: 'cloud-init-error' }],
        /kind cloud-init-error is for tool machine only/,
      ],
      [
        [{ match: { tool: 'machine', target: 'vm' }, kind: 'fail' }],
        /tool machine takes kind cloud-init-error or/,
      ],
      [[{ match: { tool: 'helm' }, kind: 'latency' }], /faults\[0\]: kind latency needs latencyMs/],
      [
        [{ match: { tool: 'helm' }, kind: 'fail', times: 0 }],
        /faults\[0\]\.times must be a positive integer, or -1/,
      ],
      [
        [{ match: { tool: 'helm' }, kind: 'fail', exitCode: 300 }],
        /faults\[0\]\.exitCode must be an integer 0\.\.255/,
      ],
      [
        [{ match: { tool: 'helm', verb: 'x' }, kind: 'fail' }],
        /faults\[0\]\.match has an unknown field verb/,
      ],
      [[{ match: { tool: 'helm' }, kind: 'fail', count: 2 }], /faults\[0\] has an unknown field count/],
    ];
    for (const [body, message] of cases) {
      const res = await call('PUT', '/admin/hosts/faults', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match((res.json as { error: { message: string } }).error.message, message);
    }
    const rules: ToolFaultRule[] = [
      { match: { tool: 'helm', command: 'upgrade' }, kind: 'fail', times: 2 },
      { match: { tool: 'machine', target: 'k0s-worker-1' }, kind: 'wireguard-failed' },
    ];
    const put = await call('PUT', '/admin/hosts/faults', rules);
    assert.equal(put.status, 200);
    assert.deepEqual(put.json, [rules[0], { ...rules[1], times: 1 }]);
    assert.deepEqual((await call('GET', '/admin/hosts/faults')).json, put.json);
    assert.throws(
      () => world.arm.hosts.setFaults([{ match: { tool: 'ssh' }, kind: 'wireguard-failed' }]),
      /machine only/
    );
  });

  it('merges and validates timings', async () => {
    assert.deepEqual((await call('GET', '/admin/hosts/timings')).json, {
      ...DEFAULT_HOST_TIMINGS,
      ...TEST_TIMINGS,
    });
    const put = await call('PUT', '/admin/hosts/timings', { k0sApplyMs: 5000 });
    assert.equal(put.status, 200);
    assert.deepEqual(put.json, { ...DEFAULT_HOST_TIMINGS, ...TEST_TIMINGS, k0sApplyMs: 5000 });
    assert.deepEqual(world.cluster.world.timings(), put.json, 'the cluster part sees the new timings');
    for (const [body, message] of [
      [{ bootSeconds: 1 }, /unknown timing bootSeconds; timings: bootMs, wireguardStartMs/],
      [{ bootMs: -1 }, /timing bootMs must be a number of milliseconds/],
      [{ bootMs: '5' }, /timing bootMs must be a number/],
      [[1], /timings must be an object/],
    ] as const) {
      const res = await call('PUT', '/admin/hosts/timings', body);
      assert.equal(res.status, 400);
      assert.match((res.json as { error: { message: string } }).error.message, message);
    }
    assert.equal((await call('PUT', '/admin/hosts/timings')).status, 400, 'no body is no timings');
  });

  it('counts tool starts and ends and hands out armed faults on /world/tool/start', async () => {
    world.arm.hosts.setFaults([
      { match: { tool: 'k0sctl', command: 'apply', target: 'k0rdent-a' }, kind: 'crash' },
      { match: { tool: 'helm', command: 'upgrade' }, kind: 'fail', message: 'boom', exitCode: 3, times: -1 },
    ]);
    const start = (body: unknown) => call('POST', '/world/tool/start', body);
    assert.deepEqual((await start({ tool: 'k0sctl', command: 'apply', target: 'k0rdent-b' })).json, {});
    assert.deepEqual((await start({ tool: 'k0sctl', command: 'apply', target: 'k0rdent-a' })).json, {
      fault: { match: { tool: 'k0sctl', command: 'apply', target: 'k0rdent-a' }, kind: 'crash' },
    });
    assert.deepEqual(
      (await start({ tool: 'k0sctl', command: 'apply', target: 'k0rdent-a' })).json,
      {},
      'taken once'
    );
    for (let i = 0; i < 2; i++)
      assert.equal(
        ((await start({ tool: 'helm', command: 'upgrade' })).json as { fault: { kind: string } }).fault.kind,
        'fail'
      );
    assert.equal(
      (await call('POST', '/world/tool/end', { tool: 'k0sctl', command: 'apply', ok: true })).status,
      200
    );
    assert.equal(
      (await call('POST', '/world/tool/end', { tool: 'k0sctl', command: 'apply', ok: false })).status,
      200
    );
    assert.equal((await start({ tool: 'machine', command: 'x' })).status, 400);
    assert.equal((await call('POST', '/world/tool/end', { tool: 'helm' })).status, 400);
    const counts = (await call('GET', '/admin/hosts/counts')).json as HostCounts;
    assert.deepEqual(counts.tools, {
      'k0sctl apply': { started: 3, completed: 1, failed: 2 },
      'helm upgrade': { started: 2, completed: 0, failed: 2 },
    });
    world.cluster.world.countApplied('helm:k0rdent-a:kcm-system/kcm');
    world.cluster.world.countTool('helm install', 'started');
    assert.deepEqual(world.arm.hosts.counts().applied, { 'helm:k0rdent-a:kcm-system/kcm': 1 });
    assert.deepEqual(world.arm.hosts.counts().tools['helm install'], { started: 1, completed: 0, failed: 0 });
  });

  it('hands the cluster routes to the cluster part and answers 404 for unknown world routes', async () => {
    const res = await call('POST', '/world/k0sctl/apply?x=1', {
      config: 'apiVersion: k0sctl.k0sproject.io/v1beta1',
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, {
      method: 'POST',
      route: '/k0sctl/apply',
      query: { x: '1' },
      body: { config: 'apiVersion: k0sctl.k0sproject.io/v1beta1' },
    });
    for (const route of ['/world/kube/get', '/world/helm/list', '/world/az/ad/sp/list'])
      assert.equal((await call('GET', route)).status, 200, route);
    assert.equal((await call('GET', '/world/nothing')).status, 404);
  });

  it('shows machines and tunnels in the state, and forgets them on POST /admin/reset', async () => {
    const d = await deploy(world, 1);
    await sleep(SETTLED);
    const up = await tool(world, 'wg-quick', ['up', await writeConfig(world, d.iface, d.laptopConfig())]);
    assert.equal(up.code, 0, up.stderr);
    const state = (await call('GET', '/admin/hosts/state')).json as HostWorldState;
    const host = d.hosts[0];
    assert.ok(host);
    assert.equal(state.machines.length, 1);
    const m = state.machines[0];
    assert.deepEqual(
      [m?.name, m?.deploymentId, m?.wireguardAddress, m?.publicIp, m?.listenPort, m?.wireguardPublicKey],
      [host.name, d.scope.deploymentId, host.wireguardIp, host.publicIp, 51871, host.keys.publicKey]
    );
    assert.deepEqual([m?.running, m?.booted, m?.wireguard, m?.cloudInit], [true, true, 'active', 'done']);
    assert.deepEqual(
      state.tunnels.map((t) => [t.interface, t.publicKey, t.addresses, t.answeredBy]),
      [[d.iface, d.laptop.publicKey, [`${d.laptopIp}/32`], { [host.keys.publicKey]: host.name }]]
    );
    assert.deepEqual(state.cluster, { releases: [] });
    const port = m?.sshPort ?? 0;

    const resets = world.cluster.resets;
    assert.equal((await call('POST', '/admin/reset')).status, 200);
    assert.equal(world.cluster.resets, resets + 1);
    const after = (await call('GET', '/admin/hosts/state')).json as HostWorldState;
    assert.deepEqual([after.machines, after.tunnels, after.locks, after.faults], [[], [], {}, []]);
    assert.deepEqual(after.counts, { tools: {}, applied: {}, sshSessions: {} });
    assert.deepEqual(after.timings, { ...DEFAULT_HOST_TIMINGS, ...TEST_TIMINGS }, 'timings are kept');
    await assert.rejects(sshConnect({ port }, (await sshKey()).privateKey), /ECONNREFUSED/);
  });
});

describe('host world: persistence across an emulator restart', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-hosts-state-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('keeps tunnels, locks, host keys, counts, timings and the cluster next to the ARM state', async () => {
    const stateFile = path.join(dir, 'arm-emulator-state.json');
    const tlsFiles = { cert: path.join(dir, 'ca.pem'), key: path.join(dir, 'key.pem') };
    const timings: Partial<HostTimings> = { ...TEST_TIMINGS, helmInstallMs: 777 };
    const first = await startWorld({ stateFile, tlsFiles, hosts: { timings } }, dir);
    let d: Deployment | undefined;
    let fingerprint: string | undefined;
    try {
      d = await deploy(first, 1);
      await sleep(SETTLED);
      const up = await tool(first, 'wg-quick', ['up', await writeConfig(first, d.iface, d.laptopConfig())]);
      assert.equal(up.code, 0, up.stderr);
      const host = d.hosts[0];
      assert.ok(host);
      const ssh = await sshThroughTunnel(first, d, host);
      ssh.end();
      first.cluster.world.setLock(d.scope.deploymentId, host.name, 'k0sctl apply');
      first.cluster.data = { releases: ['kcm'] };
      first.cluster.world.changed();
      fingerprint = machineOf(first, host.name, d.scope.deploymentId).hostKeyFingerprint;
    } finally {
      await first.close();
    }
    const saved = JSON.parse(await fs.readFile(path.join(dir, HOSTS_WORLD_STATE_FILE), 'utf8')) as {
      version: number;
    };
    assert.equal(saved.version, 1);

    assert.ok(d);
    const cluster = new FakeCluster();
    const second = await startWorld({ stateFile, tlsFiles }, dir, cluster);
    try {
      const host = d.hosts[0];
      assert.ok(host);
      assert.deepEqual(cluster.data, { releases: ['kcm'] }, 'the cluster part got its dump back');
      assert.equal(second.arm.hosts.state().timings.helmInstallMs, 777);
      assert.equal((await tool(second, 'wg', ['show', 'interfaces'])).stdout, `${d.iface}\n`);
      const m = machineOf(second, host.name, d.scope.deploymentId);
      assert.equal(m.hostKeyFingerprint, fingerprint, 'the same host key');
      assert.equal(m.lock, 'k0sctl apply');
      assert.equal(second.arm.hosts.counts().sshSessions[host.name], 1);
      assert.deepEqual(second.arm.hosts.counts().tools['wg-quick up'], {
        started: 1,
        completed: 1,
        failed: 0,
      });
      const ssh = await sshThroughTunnel(second, d, host);
      try {
        assert.equal((await ssh.exec('sudo test -e /run/lock/k0sctl')).code, 0);
        assert.equal((await ssh.exec('cloud-init status')).stdout, 'status: done\n');
      } finally {
        ssh.end();
      }
      assert.equal(second.arm.hosts.counts().sshSessions[host.name], 2);
    } finally {
      await second.close();
    }
  });
});

describe('host world: the standalone emulator', () => {
  it('takes --host-timings as JSON and refuses what is not timings', () => {
    assert.deepEqual(parseStandaloneArgs(['--state-dir', 'x', '--host-timings', '{"bootMs":2000}']), {
      stateDir: path.resolve('x'),
      hostTimings: { bootMs: 2000 },
    });
    assert.throws(
      () => parseStandaloneArgs(['--state-dir', 'x', '--host-timings', '{"boot":1}']),
      /--host-timings needs a JSON object of timings: unknown timing boot/
    );
    assert.throws(
      () => parseStandaloneArgs(['--state-dir', 'x', '--host-timings', 'fast']),
      /--host-timings needs/
    );
  });

  it('runs with the timings it was given and keeps them across a restart', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-hosts-main-'));
    const main = path.resolve(__dirname, '..', '..', '..', '..', 'emulator', 'src', 'arm', 'main.js');
    const run = async (extra: string[]): Promise<HostTimings> => {
      const child = spawn(process.execPath, [main, '--state-dir', dir, ...extra], { stdio: 'ignore' });
      const exited = new Promise((resolve) => child.on('exit', resolve));
      try {
        const deadline = Date.now() + 20_000;
        let info = await armEmulatorInfo(dir);
        while (info === undefined || info.pid !== child.pid) {
          if (Date.now() > deadline || child.exitCode !== null) throw new Error('the emulator did not start');
          await sleep(50);
          info = await armEmulatorInfo(dir);
        }
        const caPem = await fs.readFile(info.caFile, 'utf8');
        const res = await raw({ endpoint: info.endpoint, caPem }, 'GET', '/admin/hosts/timings', {
          auth: false,
        });
        return res.json as HostTimings;
      } finally {
        child.kill('SIGTERM');
        await exited;
      }
    };
    try {
      assert.equal((await run(['--host-timings', '{"bootMs":2500,"k0sApplyMs":9000}'])).bootMs, 2500);
      const again = await run([]);
      assert.deepEqual(
        [again.bootMs, again.k0sApplyMs, again.helmInstallMs],
        [2500, 9000, DEFAULT_HOST_TIMINGS.helmInstallMs]
      );
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
