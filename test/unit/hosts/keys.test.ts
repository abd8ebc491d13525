import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ensureSshKeyPair,
  ensureWireguardKeys,
  generateWireguardKeyPair,
  wireguardPublicKey,
} from '../../../src/hosts/keys';

describe('key pairs', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-keys-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('derives the same public key as `wg pubkey`', () => {
    const pair = generateWireguardKeyPair();
    const fromWg = execFileSync('wg', ['pubkey'], { input: pair.privateKey + '\n', encoding: 'utf8' }).trim();
    assert.equal(pair.publicKey, fromWg);
    assert.equal(Buffer.from(pair.privateKey, 'base64').length, 32);
  });

  it('reads keys made by `wg genkey`', () => {
    const priv = execFileSync('wg', ['genkey'], { encoding: 'utf8' }).trim();
    const pub = execFileSync('wg', ['pubkey'], { input: priv + '\n', encoding: 'utf8' }).trim();
    assert.equal(wireguardPublicKey(priv), pub);
  });

  it('writes the private key 0600 and never replaces it once it exists', async () => {
    const first = await ensureWireguardKeys(dir, 'k0s-worker-1');
    const second = await ensureWireguardKeys(dir, 'k0s-worker-1');
    assert.equal(first.created, true);
    assert.equal(second.created, false);
    assert.equal(second.privateKey, first.privateKey);
    const stat = await fs.stat(path.join(dir, 'k0s-worker-1_privkey'));
    assert.equal(stat.mode & 0o777, 0o600);
    assert.equal((await fs.readFile(path.join(dir, 'k0s-worker-1_pubkey'), 'utf8')).trim(), first.publicKey);
  });

  it('refuses a private key file that is not a WireGuard key', async () => {
    await fs.writeFile(path.join(dir, 'mylaptop_privkey'), 'not-a-key\n', { mode: 0o600 });
    await assert.rejects(ensureWireguardKeys(dir, 'mylaptop'), /32 bytes/);
  });

  it('makes an SSH key pair whose public line matches what ssh-keygen derives', async () => {
    const priv = path.join(dir, 'k0rdent-abcd1234-ssh-key');
    const made = await ensureSshKeyPair(priv, 'k0rdent-k0rdent-abcd1234');
    assert.equal((await fs.stat(priv)).mode & 0o777, 0o600);
    const derived = execFileSync('ssh-keygen', ['-y', '-f', priv], { encoding: 'utf8' }).trim();
    assert.equal(made.publicKey.split(' ').slice(0, 2).join(' '), derived.split(' ').slice(0, 2).join(' '));
    const again = await ensureSshKeyPair(priv, 'k0rdent-k0rdent-abcd1234');
    assert.equal(again.created, false);
    assert.equal(again.publicKey, made.publicKey);
  });

  it('leaves the event loop free while it generates the RSA key (a worker keeps heartbeating)', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = Date.now();
    try {
      await ensureSshKeyPair(path.join(dir, 'k0rdent-free1234-ssh-key'), 'k0rdent-k0rdent-free1234');
    } finally {
      clearInterval(timer);
    }
    // A blocked loop runs the 5 ms timer once or twice in all; a free one about every 5 ms.
    const expected = Math.floor((Date.now() - started) / 50);
    assert.ok(ticks >= expected, `${ticks} timer runs in ${Date.now() - started} ms`);
  });
});
