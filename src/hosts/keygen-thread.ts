/** A key generation thread of `keygen.ts`: lowers its own CPU priority, then makes RSA keys on request. */
import { generateKeyPairSync } from 'node:crypto';
import os from 'node:os';
import { serveJobs } from '../thread-pool';

/** A request: the modulus length; the answer is the PKCS#1 PEM private key. */
export interface KeygenJob {
  bits: number;
}

// On Linux a thread has its own nice value: this one yields the CPU to the event loop and the world.
try {
  os.setPriority(19);
} catch {
  // Not allowed here: the thread still keeps the work off the event loop.
}

serveJobs(({ bits }: KeygenJob) => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return privateKey.export({ format: 'pem', type: 'pkcs1' }).toString();
});
