/** The standalone emulator process: info file, persistence across a restart, clean exit on signals. */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ArmEmulatorInfo, EmulatorCounts } from '../../../emulator/src/arm';
import { armEmulatorInfo, startArmEmulator } from '../../../emulator/src/arm';
import { parseStandaloneArgs } from '../../../emulator/src/arm/main';
import { bodies, putGroup, putOk, q, raw, resPath, sleep } from './helpers';

const MAIN = path.resolve(__dirname, '..', '..', '..', 'emulator', 'src', 'arm', 'main.js');
const VNET = 'Microsoft.Network/virtualNetworks';

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function launch(args: string[]): Running {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitForInfo(dir: string, running: Running): Promise<ArmEmulatorInfo> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const info = await armEmulatorInfo(dir);
    if (info && info.pid === running.child.pid) return info;
    if (running.child.exitCode !== null) throw new Error(`emulator exited: ${running.output()}`);
    if (Date.now() > deadline) throw new Error(`emulator did not start: ${running.output()}`);
    await sleep(50);
  }
}

async function stop(running: Running): Promise<number | null> {
  running.child.kill('SIGTERM');
  return running.exited;
}

describe('ARM emulator standalone process', () => {
  let dir: string;
  const started: Running[] = [];

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'arm-emulator-'));
  });
  afterEach(async () => {
    for (const r of started.splice(0)) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('writes its info file, keeps resources, certificate and port across a restart, and exits 0 on SIGTERM', async () => {
    const first = launch(['--state-dir', dir, '--lro-ms', '0']);
    started.push(first);
    const info = await waitForInfo(dir, first);
    assert.equal(info.caFile, path.join(dir, 'arm-emulator-ca.pem'));
    assert.match(info.endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(info.adminUrl, `${info.endpoint}/admin`);
    const caPem = await fs.readFile(info.caFile, 'utf8');
    const target = { endpoint: info.endpoint, caPem };
    await putGroup(target, 'rg');
    await putOk(target, resPath('rg', VNET, 'vnet'), bodies.vnet);
    assert.equal((await raw(target, 'GET', q(resPath('rg', VNET, 'vnet')))).status, 200);

    assert.equal(await stop(first), 0);
    assert.equal(await armEmulatorInfo(dir), undefined, 'a clean exit removes the info file');

    const second = launch(['--state-dir', dir]);
    started.push(second);
    const again = await waitForInfo(dir, second);
    assert.equal(again.endpoint, info.endpoint, 'the previous port is reused when free');
    assert.equal(await fs.readFile(again.caFile, 'utf8'), caPem, 'the certificate is kept');
    const vnet = await raw(target, 'GET', q(resPath('rg', VNET, 'vnet')));
    assert.equal(vnet.status, 200);
    assert.equal(
      (vnet.json as { properties: { provisioningState: string } }).properties.provisioningState,
      'Succeeded'
    );
    const counts = (await raw(target, 'GET', '/admin/counts', { auth: false })).json as EmulatorCounts;
    assert.equal(counts.byType[VNET]?.GET, 2, 'counters survive the restart too');
    second.child.kill('SIGINT');
    assert.equal(await second.exited, 0);
  });

  it('finishes an operation that was running when it stopped', async () => {
    const first = launch(['--state-dir', dir, '--lro-ms', '400']);
    started.push(first);
    const info = await waitForInfo(dir, first);
    const target = { endpoint: info.endpoint, caPem: await fs.readFile(info.caFile, 'utf8') };
    await putGroup(target, 'rg');
    const put = await putOk(target, resPath('rg', VNET, 'vnet'), bodies.vnet);
    assert.equal(await stop(first), 0);
    const second = launch(['--state-dir', dir]);
    started.push(second);
    await waitForInfo(dir, second);
    await sleep(450);
    const poll = await raw(target, 'GET', String(put.headers['azure-asyncoperation']));
    assert.equal((poll.json as { status: string }).status, 'Succeeded');
    assert.equal(await stop(second), 0);
  });

  it('exits 2 with the usage on bad arguments', async () => {
    const bad = launch(['--port', 'abc']);
    started.push(bad);
    assert.equal(await bad.exited, 2);
    assert.match(bad.output(), /usage: main\.js --state-dir DIR/);
  });

  const argCases: Array<{ argv: string[]; error?: RegExp; port?: number; lroMs?: number }> = [
    { argv: ['--state-dir', 'x', '--port', '8443', '--lro-ms', '50'], port: 8443, lroMs: 50 },
    { argv: ['--port', '8443'], error: /--state-dir is required/ },
    { argv: ['--state-dir', 'x', '--port', '70000'], error: /--port needs an integer/ },
    { argv: ['--state-dir', 'x', '--lro-ms', '-1'], error: /--lro-ms needs an integer/ },
    { argv: ['--state-dir', 'x', '--verbose'], error: /unknown argument --verbose/ },
  ];
  for (const { argv, error, port, lroMs } of argCases) {
    it(`parses ${argv.join(' ')}${error ? ' as an error' : ''}`, () => {
      if (error) {
        assert.throws(() => parseStandaloneArgs(argv), error);
        return;
      }
      assert.deepEqual(parseStandaloneArgs(argv), { stateDir: path.resolve('x'), port, lroMs });
    });
  }

  it('reuses the certificate files of a state file in process', async () => {
    const stateFile = path.join(dir, 'state.json');
    const a = await startArmEmulator({ stateFile });
    await a.close();
    const b = await startArmEmulator({ stateFile });
    await b.close();
    assert.equal(b.caPem, a.caPem);
    assert.equal(await fs.readFile(path.join(dir, 'state.cert.pem'), 'utf8'), a.caPem);
  });
});
