/**
 * RSA key generation on a few dedicated threads at the lowest CPU priority. RSA 4096 costs seconds of
 * CPU; on the event loop it would stop heartbeats and workflow tasks, and on libuv's pool (what
 * `crypto.generateKeyPair` uses) it would hold up every file write of the worker, the state projection's
 * included. Here it takes only CPU the rest of the worker and the machine leave idle.
 */
import os from 'node:os';
import path from 'node:path';
import { ThreadPool } from '../thread-pool';
import type { KeygenJob } from './keygen-thread';

const pool = new ThreadPool<KeygenJob, string>({
  file: path.join(__dirname, 'keygen-thread.js'),
  size: Math.max(1, Math.min(2, os.availableParallelism() - 1)),
  what: 'RSA key generation failed',
});

/** Sets how many key generation threads may run (the worker's `keygen_threads`); at least 1. */
export function setKeygenThreads(n: number): void {
  pool.resize(n);
}

/** A new RSA private key of `bits`, PKCS#1 PEM, made on a key generation thread. */
export function generateRsaKey(bits: number): Promise<string> {
  return pool.run({ bits });
}
