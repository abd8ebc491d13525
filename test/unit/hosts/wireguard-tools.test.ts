import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { defaultConfig } from '../../../src/config/defaults';
import { namesFor } from '../../../src/config/naming';
import { ensureWireguardKeys, generateWireguardKeyPair } from '../../../src/hosts/keys';
import { renderCloudInit, renderLaptopConfig } from '../../../src/hosts/wireguard-config';

const WG = '/usr/bin/wg';
const WG_QUICK = '/usr/bin/wg-quick';
const UNSHARE = '/usr/bin/unshare';

function requireTool(file: string, debianPackage: string): void {
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: install the Debian package ${debianPackage}`);
  }
}

function run(
  cmd: string,
  args: string[],
  input?: string
): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(cmd, args, { input, encoding: 'utf8' });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function wgPubkey(privateKey: string): string {
  const result = run(WG, ['pubkey'], privateKey + '\n');
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

/**
 * `wg-quick strip <file>`: the config with wg-quick's own keys (Address, DNS, ...) removed, as wg-quick
 * hands it to `wg`. wg-quick insists on root before it reads anything; without root it runs as root of a
 * user namespace, which needs no privilege.
 */
function wgQuickStrip(file: string): { code: number | null; stdout: string; stderr: string } {
  if (process.getuid?.() === 0) return run(WG_QUICK, ['strip', file]);
  requireTool(UNSHARE, 'util-linux');
  const result = run(UNSHARE, ['--user', '--map-root-user', WG_QUICK, 'strip', file]);
  if (/^unshare:/m.test(result.stderr)) {
    throw new Error(`wg-quick strip needs root or unprivileged user namespaces: ${result.stderr.trim()}`);
  }
  return result;
}

/**
 * Parses a stripped config with wg's own parser. `wg setconf` parses the whole file before it touches
 * the interface; on an interface that does not exist, a config that parses fails only at "Unable to
 * modify interface", whoever runs it and whether or not the kernel has WireGuard.
 */
function wgParse(dir: string, stripped: string): { parsed: boolean; output: string } {
  let iface: string;
  do iface = `k0chk${randomBytes(4).toString('hex')}`;
  while (existsSync(`/sys/class/net/${iface}`));
  const file = path.join(dir, `${iface}.stripped`);
  writeFileSync(file, stripped, { mode: 0o600 });
  const result = run(WG, ['setconf', iface, file]);
  const output = result.stderr + result.stdout;
  if (/Unable to modify interface/.test(output)) return { parsed: true, output };
  assert.notEqual(result.code, 0, `wg setconf changed interface ${iface}`);
  return { parsed: false, output };
}

describe('WireGuard keys and configs against the real wg tools', () => {
  let dir: string;
  const config = defaultConfig();
  config.cluster = { controllers: { count: 3, zones: [1, 2, 3] }, workers: { count: 2, zones: [1] } };
  const names = namesFor('k0rdent-q7m2xk4p', config);

  before(async () => {
    requireTool(WG, 'wireguard-tools');
    requireTool(WG_QUICK, 'wireguard-tools');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-wg-tools-'));
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('derives the public key `wg pubkey` prints, for every generated key', () => {
    for (let i = 0; i < 16; i++) {
      const pair = generateWireguardKeyPair();
      assert.equal(pair.publicKey, wgPubkey(pair.privateKey));
    }
  });

  it('writes 0600 private key files whose public halves are what `wg pubkey` prints', async () => {
    const peers = ['mylaptop', ...names.hosts.map((h) => h.name)];
    for (const peer of peers) {
      const pair = await ensureWireguardKeys(path.join(dir, 'wireguard'), peer);
      const privFile = path.join(dir, 'wireguard', `${peer}_privkey`);
      assert.equal((await fs.stat(privFile)).mode & 0o777, 0o600, privFile);
      const fromFile = (await fs.readFile(privFile, 'utf8')).trim();
      assert.equal(fromFile, pair.privateKey);
      assert.equal(wgPubkey(fromFile), pair.publicKey);
      const pubFile = path.join(dir, 'wireguard', `${peer}_pubkey`);
      assert.equal((await fs.readFile(pubFile, 'utf8')).trim(), pair.publicKey);
    }
  });

  it('renders a laptop config that wg-quick reads and wg parses, with every VM as a peer', async () => {
    const laptop = generateWireguardKeyPair();
    const peers = names.hosts.map((h, i) => ({
      host: h.name,
      wireguardIp: h.wireguardIp,
      publicKey: generateWireguardKeyPair().publicKey,
      endpoint: `20.0.0.${i + 10}`,
    }));
    const conf = renderLaptopConfig({
      deploymentId: names.deploymentId,
      laptopPrivateKey: laptop.privateKey,
      laptopIp: names.laptopWireguardIp,
      port: 51820,
      peers,
    });
    // wg-quick takes the interface name from the file name.
    const file = path.join(dir, `${names.wireguardInterface}.conf`);
    await fs.writeFile(file, conf, { mode: 0o600 });

    const stripped = wgQuickStrip(file);
    assert.equal(stripped.code, 0, stripped.stderr);
    assert.equal(stripped.stderr, '');
    assert.doesNotMatch(stripped.stdout, /^Address/m);
    assert.match(
      stripped.stdout,
      new RegExp(`^PrivateKey = ${laptop.privateKey.replace(/[+/]/g, '\\$&')}$`, 'm')
    );
    for (const p of peers) {
      assert.ok(stripped.stdout.includes(`PublicKey = ${p.publicKey}`), p.host);
      assert.ok(stripped.stdout.includes(`Endpoint = ${p.endpoint}:51820`), p.host);
    }

    const { parsed, output } = wgParse(dir, stripped.stdout);
    assert.ok(parsed, output);
  });

  it("renders each VM's wg0.conf (inside its cloud-init) so that wg-quick reads and wg parses it", async () => {
    const laptop = generateWireguardKeyPair();
    for (const host of names.hosts) {
      const doc = parse(
        renderCloudInit({
          host,
          hostPrivateKey: generateWireguardKeyPair().privateKey,
          laptopPublicKey: laptop.publicKey,
          laptopIp: names.laptopWireguardIp,
          port: 51820,
          sshUsername: 'k0rdent',
        })
      ) as { write_files: { path: string; content: string }[] };
      const wg0 = doc.write_files.find((f) => f.path === '/etc/wireguard/wg0.conf');
      assert.ok(wg0, host.name);
      const file = path.join(dir, host.name, 'wg0.conf');
      await fs.mkdir(path.dirname(file), { mode: 0o700 });
      await fs.writeFile(file, wg0.content, { mode: 0o600 });
      const stripped = wgQuickStrip(file);
      assert.equal(stripped.code, 0, stripped.stderr);
      assert.match(stripped.stdout, /^ListenPort = 51820$/m);
      const { parsed, output } = wgParse(dir, stripped.stdout);
      assert.ok(parsed, `${host.name}: ${output}`);
    }
  });

  it('reports a broken config through the same check (the check can fail)', () => {
    const conf = renderLaptopConfig({
      deploymentId: names.deploymentId,
      laptopPrivateKey: generateWireguardKeyPair().privateKey,
      laptopIp: names.laptopWireguardIp,
      port: 51820,
      peers: [
        {
          host: 'k0s-controller-1',
          wireguardIp: '192.168.100.11',
          publicKey: 'not-a-key',
          endpoint: '20.0.0.10',
        },
      ],
    });
    const { parsed, output } = wgParse(dir, conf.replace(/^Address = .*$/m, ''));
    assert.equal(parsed, false, output);
    assert.match(output, /Key is not the correct length or format: `not-a-key'/);
  });
});
