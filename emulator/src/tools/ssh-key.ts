/** The OpenSSH public key of a private key file, derived as `ssh-keygen -y` would. */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { sshMpint, sshString } from '../../../src/hosts/keys';

/**
 * `ssh-rsa AAAA…` (or `ssh-ed25519`, `ecdsa-sha2-nistp256`) for a PEM or OpenSSH private key; undefined
 * when the text is not an unencrypted private key.
 */
export async function publicKeyOf(text: string): Promise<string | undefined> {
  if (text.includes('BEGIN OPENSSH PRIVATE KEY')) {
    // ssh2 is loaded only for this format: every emulated tool start would pay for it otherwise
    const { utils } = await import('ssh2');
    const parsed = utils.parseKey(text);
    if (parsed instanceof Error || Array.isArray(parsed) || !parsed.isPrivateKey()) return undefined;
    return `${parsed.type} ${parsed.getPublicSSH().toString('base64')}`;
  }
  let jwk: { kty?: string; crv?: string; e?: string; n?: string; x?: string; y?: string };
  try {
    jwk = createPublicKey(createPrivateKey(text)).export({ format: 'jwk' });
  } catch {
    return undefined;
  }
  let parts: Buffer[];
  let type: string;
  if (jwk.kty === 'RSA') {
    type = 'ssh-rsa';
    parts = [sshMpint(jwk.e ?? ''), sshMpint(jwk.n ?? '')];
  } else if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') {
    type = 'ssh-ed25519';
    parts = [sshString(Buffer.from(jwk.x ?? '', 'base64url'))];
  } else if (jwk.kty === 'EC' && jwk.crv === 'P-256') {
    type = 'ecdsa-sha2-nistp256';
    const point = Buffer.concat([
      Buffer.from([4]),
      Buffer.from(jwk.x ?? '', 'base64url'),
      Buffer.from(jwk.y ?? '', 'base64url'),
    ]);
    parts = [sshString(Buffer.from('nistp256')), sshString(point)];
  } else {
    return undefined;
  }
  return `${type} ${Buffer.concat([sshString(Buffer.from(type)), ...parts]).toString('base64')}`;
}
