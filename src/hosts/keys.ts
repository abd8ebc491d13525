/** WireGuard (X25519) and SSH (RSA) key pairs, written to 0600 files; only public halves leave this module. */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { generateRsaKey } from './keygen';

const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** A WireGuard key pair in the base64 form `wg genkey` / `wg pubkey` print. */
export interface WireguardKeyPair {
  privateKey: string;
  publicKey: string;
}

/** Makes a new X25519 key pair. */
export function generateWireguardKeyPair(): WireguardKeyPair {
  const { privateKey } = generateKeyPairSync('x25519');
  const raw = Buffer.from(privateKey.export({ format: 'jwk' }).d ?? '', 'base64url');
  const privateKeyB64 = raw.toString('base64');
  return { privateKey: privateKeyB64, publicKey: wireguardPublicKey(privateKeyB64) };
}

/** The public key `wg pubkey` derives from a base64 private key. */
export function wireguardPublicKey(privateKeyB64: string): string {
  const raw = Buffer.from(privateKeyB64.trim(), 'base64');
  if (raw.length !== 32) throw new Error('a WireGuard private key is 32 bytes of base64');
  const key = createPrivateKey({
    key: Buffer.concat([X25519_PKCS8_PREFIX, raw]),
    format: 'der',
    type: 'pkcs8',
  });
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return Buffer.from(jwk.x ?? '', 'base64url').toString('base64');
}

/** Writes `content` with mode 0600, fixing the mode of an existing file too. */
export async function writeSecretFile(file: string, content: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await fs.writeFile(file, content, { mode: 0o600 });
  await fs.chmod(file, 0o600);
}

/**
 * Returns the peer's key pair, generating it only when no private key file exists yet: keys that
 * running VMs already use are never replaced.
 */
export async function ensureWireguardKeys(
  dir: string,
  peer: string
): Promise<WireguardKeyPair & { created: boolean }> {
  const privFile = path.join(dir, `${peer}_privkey`);
  const pubFile = path.join(dir, `${peer}_pubkey`);
  let privateKey: string | undefined;
  try {
    privateKey = (await fs.readFile(privFile, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const created = privateKey === undefined;
  const pair =
    privateKey === undefined
      ? generateWireguardKeyPair()
      : { privateKey, publicKey: wireguardPublicKey(privateKey) };
  if (created) await writeSecretFile(privFile, pair.privateKey + '\n');
  await fs.writeFile(pubFile, pair.publicKey + '\n', { mode: 0o644 });
  return { ...pair, created };
}

/** Reads a peer's private key file (callers must keep it out of workflow payloads). */
export async function readWireguardPrivateKey(dir: string, peer: string): Promise<string> {
  return (await fs.readFile(path.join(dir, `${peer}_privkey`), 'utf8')).trim();
}

/** An SSH wire-format string: length, then bytes. */
export function sshString(buf: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(buf.length);
  return Buffer.concat([len, buf]);
}

/** An SSH wire-format mpint from base64url big-endian bytes. */
export function sshMpint(b64url: string): Buffer {
  let bytes = Buffer.from(b64url, 'base64url');
  if (bytes.length > 0 && (bytes[0] as number) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return sshString(bytes);
}

/** Key generations under way in this process, by private key file. */
const generating = new Map<string, Promise<string>>();

/**
 * Returns the deployment's SSH public key line, generating an RSA 4096 pair (private key 0600, PEM) only
 * when the private key file does not exist; concurrent calls for one file share one generation.
 */
export async function ensureSshKeyPair(
  privFile: string,
  comment: string
): Promise<{ publicKey: string; created: boolean }> {
  let pem: string | undefined;
  try {
    pem = await fs.readFile(privFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const created = pem === undefined;
  if (pem === undefined) {
    let making = generating.get(privFile);
    if (!making) {
      making = generateRsaKey(4096).then(async (made) => {
        await writeSecretFile(privFile, made);
        return made;
      });
      generating.set(privFile, making);
      void making.finally(() => generating.delete(privFile)).catch(() => undefined);
    }
    pem = await making;
  }
  const jwk = createPublicKey(createPrivateKey(pem)).export({ format: 'jwk' });
  const blob = Buffer.concat([
    sshString(Buffer.from('ssh-rsa')),
    sshMpint(jwk.e ?? ''),
    sshMpint(jwk.n ?? ''),
  ]);
  const publicKey = `ssh-rsa ${blob.toString('base64')} ${comment}`;
  await fs.writeFile(`${privFile}.pub`, publicKey + '\n', { mode: 0o644 });
  return { publicKey, created };
}
