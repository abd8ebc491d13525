import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, freePort, runCli, startServer } from './harness';

describe('bad production connection settings', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-settings-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** The command line of `command` in the test folder; deploy gets the shipped config and the local world. */
  function argsOf(command: string): string[] {
    const config = path.join(ROOT, 'config', 'k0rdent-default.yaml');
    const extra = command === 'deploy' ? ['--config', config, '--cloud', 'emulator'] : [];
    return [command, '--dir', dir, ...extra];
  }

  /** Runs a command with `env` and checks: exit 2, one line matching `expected`, nothing created. */
  async function refused(args: string[], env: NodeJS.ProcessEnv, expected: RegExp): Promise<void> {
    const run = await runCli(args, dir, env);
    assert.equal(run.code, 2, run.output);
    const lines = run.output.trim().split('\n');
    assert.equal(lines.length, 1, `one line, got:\n${run.output}`);
    assert.match(lines[0] ?? '', expected);
    assert.deepEqual(
      await fs.readdir(dir),
      [],
      'the folder stays empty: no .clusterid, no state, no emulator'
    );
  }

  for (const command of ['deploy', 'worker', 'demo']) {
    it(`${command}: a server that does not answer is named by TEMPORAL_ADDRESS`, async () => {
      // Free a moment ago: nothing listens there.
      const port = await freePort();
      await refused(
        argsOf(command),
        { TEMPORAL_ADDRESS: `127.0.0.1:${port}` },
        new RegExp(`^TEMPORAL_ADDRESS 127\\.0\\.0\\.1:${port}: no Temporal server answered`)
      );
    });

    it(`${command}: a namespace the server lacks is named by TEMPORAL_NAMESPACE`, async () => {
      await startServer();
      await refused(
        argsOf(command),
        { TEMPORAL_NAMESPACE: 'no-such-namespace' },
        /^TEMPORAL_NAMESPACE no-such-namespace: no such namespace on 127\.0\.0\.1:\d+ \(create it/
      );
    });
  }

  const settings: [string, NodeJS.ProcessEnv, RegExp][] = [
    [
      'an address without a port',
      { TEMPORAL_ADDRESS: 'temporal.example.com' },
      /^TEMPORAL_ADDRESS temporal\.example\.com: not host:port/,
    ],
    [
      'a port out of range',
      { TEMPORAL_ADDRESS: 'localhost:70000' },
      /^TEMPORAL_ADDRESS localhost:70000: not host:port/,
    ],
    ['an empty namespace', { TEMPORAL_NAMESPACE: '' }, /^TEMPORAL_NAMESPACE: set but empty$/],
    [
      'a client certificate that does not exist',
      {
        TEMPORAL_TLS_CLIENT_CERT_PATH: '/nonexistent/client.pem',
        TEMPORAL_TLS_CLIENT_KEY_PATH: '/nonexistent/client.key',
      },
      /^TEMPORAL_TLS_CLIENT_CERT_PATH \/nonexistent\/client\.pem: no such file$/,
    ],
    [
      'a server CA that does not exist',
      { TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/nonexistent/ca.pem' },
      /^TEMPORAL_TLS_SERVER_CA_CERT_PATH \/nonexistent\/ca\.pem: no such file$/,
    ],
  ];
  for (const value of ['localhost:9464', '127.0.0.1', '300.1.2.3:9464', '127.0.0.1:0']) {
    it(`worker: refuses the metrics address ${value} in one line naming the setting`, async () => {
      await refused(
        argsOf('worker'),
        { K0RDENT_METRICS_ADDRESS: value },
        new RegExp(`^K0RDENT_METRICS_ADDRESS ${value.replace(/\./g, '\\.')}: not an IP address and port`)
      );
    });
  }
  for (const [label, env, expected] of settings) {
    for (const command of ['deploy', 'worker']) {
      it(`${command}: refuses ${label} in one line naming the setting`, async () => {
        await refused(argsOf(command), env, expected);
      });
    }
  }
});

describe('worker metrics', function () {
  this.timeout(60_000);

  it("serves Temporal's worker metrics for Prometheus at K0RDENT_METRICS_ADDRESS", async () => {
    const s = await startServer();
    const port = await freePort();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-metrics-'));
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'bin', 'k0rdent-deploy'), 'worker', '--dir', dir, '--task-queue', `metrics-${port}`],
      {
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: s.address,
          K0RDENT_METRICS_ADDRESS: `127.0.0.1:${port}`,
        },
        stdio: 'ignore',
      }
    );
    try {
      let text = '';
      const deadline = Date.now() + 30_000;
      while (!/temporal_worker_task_slots_available\{[^}]*worker_type="WorkflowWorker"/.test(text)) {
        assert.ok(Date.now() < deadline, `no slot metrics at 127.0.0.1:${port}: ${text.slice(0, 300)}`);
        await new Promise((r) => setTimeout(r, 250));
        text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
          (r) => r.text(),
          () => ''
        );
      }
      assert.match(text, new RegExp(`task_queue="metrics-${port}"`));
    } finally {
      child.kill('SIGTERM');
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
