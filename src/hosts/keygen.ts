/**
 * RSA key generation on a few dedicated threads at the lowest CPU priority. RSA 4096 costs seconds of
 * CPU; on the event loop it would stop heartbeats and workflow tasks, and on libuv's pool (what
 * `crypto.generateKeyPair` uses) it would hold up every file write of the worker, the state projection's
 * included. Here it takes only CPU the rest of the worker and the machine leave idle.
 */
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { KeygenAnswer } from './keygen-thread';

interface Pending {
  resolve: (pem: string) => void;
  reject: (err: Error) => void;
}

let threadCount = Math.max(1, Math.min(2, os.availableParallelism() - 1));
const threads: Worker[] = [];
const pending = new Map<number, Pending>();
const queue: { id: number; bits: number }[] = [];
const idle: Worker[] = [];
/** The job each busy thread works on. */
const working = new Map<Worker, number>();
let nextId = 1;

/** Sets how many key generation threads may run (the worker's `keygen_threads`); at least 1. */
export function setKeygenThreads(n: number): void {
  threadCount = Math.max(1, Math.floor(n));
}

function dispatch(): void {
  while (queue.length > 0) {
    let thread = idle.pop();
    if (!thread && threads.length < threadCount) thread = spawnThread();
    if (!thread) return;
    const job = queue.shift();
    if (!job) {
      idle.push(thread);
      return;
    }
    working.set(thread, job.id);
    thread.postMessage(job);
  }
}

function spawnThread(): Worker {
  const thread = new Worker(path.join(__dirname, 'keygen-thread.js'));
  threads.push(thread);
  thread.on('message', (answer: KeygenAnswer) => {
    working.delete(thread);
    const job = pending.get(answer.id);
    pending.delete(answer.id);
    if (answer.pem !== undefined) job?.resolve(answer.pem);
    else job?.reject(new Error(`RSA key generation failed: ${answer.error ?? 'no key'}`));
    idle.push(thread);
    dispatch();
  });
  thread.on('error', (err) => {
    // A thread that died takes its job with it; the others go on.
    threads.splice(threads.indexOf(thread), 1);
    const id = working.get(thread);
    working.delete(thread);
    if (id !== undefined) {
      pending.get(id)?.reject(err);
      pending.delete(id);
    }
    dispatch();
  });
  // After the listeners, which hold the thread's port: the thread alone keeps no process alive.
  thread.unref();
  return thread;
}

/** A new RSA private key of `bits`, PKCS#1 PEM, made on a key generation thread. */
export function generateRsaKey(bits: number): Promise<string> {
  const id = nextId++;
  return new Promise<string>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    queue.push({ id, bits });
    dispatch();
  });
}
