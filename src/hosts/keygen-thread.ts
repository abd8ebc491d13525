/** A key generation thread of `keygen.ts`: lowers its own CPU priority, then makes RSA keys on request. */
import { generateKeyPairSync } from 'node:crypto';
import os from 'node:os';
import { parentPort } from 'node:worker_threads';

/** A request: an id to answer under and the modulus length. */
export interface KeygenRequest {
  id: number;
  bits: number;
}

/** The answer: the PKCS#1 PEM private key, or why there is none. */
export interface KeygenAnswer {
  id: number;
  pem?: string;
  error?: string;
}

// On Linux a thread has its own nice value: this one yields the CPU to the event loop and the world.
try {
  os.setPriority(19);
} catch {
  // Not allowed here: the thread still keeps the work off the event loop.
}

parentPort?.on('message', ({ id, bits }: KeygenRequest) => {
  let answer: KeygenAnswer;
  try {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
    answer = { id, pem: privateKey.export({ format: 'pem', type: 'pkcs1' }).toString() };
  } catch (err) {
    answer = { id, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage(answer);
});
