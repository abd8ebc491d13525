/** The emulator's self-signed TLS certificate: generated once per process, or kept in PEM files. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { generate } from 'selfsigned';

/** A certificate and its private key, PEM. */
export interface TlsMaterial {
  cert: string;
  key: string;
}

const TEN_YEARS_MS = 10 * 365 * 24 * 60 * 60 * 1000;

async function generateCertificate(): Promise<TlsMaterial> {
  const now = new Date();
  const pems = await generate([{ name: 'commonName', value: 'k0rdent ARM emulator' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + TEN_YEARS_MS),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

let shared: Promise<TlsMaterial> | undefined;

/**
 * The certificate to serve: read from `files` when both exist, else generated (and written to `files`
 * when given). Without files, one certificate is shared by every emulator of the process.
 */
export async function tlsMaterial(files?: { cert: string; key: string }): Promise<TlsMaterial> {
  if (!files) {
    shared ??= generateCertificate();
    return shared;
  }
  try {
    const [cert, key] = await Promise.all([fs.readFile(files.cert, 'utf8'), fs.readFile(files.key, 'utf8')]);
    return { cert, key };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const material = await generateCertificate();
  await fs.mkdir(path.dirname(files.key), { recursive: true });
  await fs.writeFile(files.key, material.key, { mode: 0o600 });
  await fs.mkdir(path.dirname(files.cert), { recursive: true });
  await fs.writeFile(files.cert, material.cert);
  return material;
}
