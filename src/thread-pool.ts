/**
 * A few worker threads that run one module's jobs, first come first served: how CPU-heavy work (key
 * generation, rendering the state files) stays off the event loop that sends heartbeats and completes
 * workflow tasks. The thread module answers with `serveJobs`.
 */
import { Worker, parentPort } from 'node:worker_threads';
import type { ResourceLimits } from 'node:worker_threads';

/** A job as the pool sends it. */
interface JobMessage<J> {
  id: number;
  job: J;
}

/** A thread's answer: the result, or why there is none. */
type AnswerMessage<R> = { id: number; result: R } | { id: number; error: string };

interface Pending<R> {
  resolve: (result: R) => void;
  reject: (err: Error) => void;
}

/** What a pool runs and how much of it at once. */
export interface ThreadPoolOptions {
  /** The compiled thread module. */
  file: string;
  /** How many threads may run at once. */
  size: number;
  /** Starts the message of a failed job, e.g. `RSA key generation failed`. */
  what: string;
  /** How many jobs a thread is given at once: more than one for jobs that mostly wait on I/O. */
  jobsPerThread?: number;
  /** Bounds of each thread's heap (Node's `resourceLimits`). */
  resourceLimits?: ResourceLimits;
}

/** Threads running the jobs of one module; a thread alone keeps no process alive. */
export class ThreadPool<J, R> {
  private readonly threads: Worker[] = [];
  private readonly queue: JobMessage<J>[] = [];
  private readonly pending = new Map<number, Pending<R>>();
  /** The jobs each thread works on. */
  private readonly working = new Map<Worker, Set<number>>();
  private nextId = 1;

  private size: number;

  constructor(private readonly opts: ThreadPoolOptions) {
    this.size = opts.size;
  }

  /** Sets how many threads may run at once (at least 1); threads already started stay. */
  resize(size: number): void {
    this.size = Math.max(1, Math.floor(size));
  }

  /** Runs `job` on a thread when one is free. */
  run(job: J): Promise<R> {
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.queue.push({ id, job });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let thread = this.threads.find(
        (t) => (this.working.get(t)?.size ?? 0) < (this.opts.jobsPerThread ?? 1)
      );
      if (!thread && this.threads.length < this.size) thread = this.start();
      if (!thread) return;
      const message = this.queue.shift() as JobMessage<J>;
      this.working.get(thread)?.add(message.id);
      thread.postMessage(message);
    }
  }

  private settle(id: number, outcome: { result: R } | { error: Error }): void {
    const job = this.pending.get(id);
    this.pending.delete(id);
    if ('result' in outcome) job?.resolve(outcome.result);
    else job?.reject(outcome.error);
  }

  private start(): Worker {
    const thread = new Worker(this.opts.file, { resourceLimits: this.opts.resourceLimits });
    this.threads.push(thread);
    this.working.set(thread, new Set());
    thread.on('message', (answer: AnswerMessage<R>) => {
      this.working.get(thread)?.delete(answer.id);
      this.settle(
        answer.id,
        'error' in answer
          ? { error: new Error(`${this.opts.what}: ${answer.error}`) }
          : { result: answer.result }
      );
      this.dispatch();
    });
    thread.on('error', (err) => {
      // A thread that died takes its jobs with it; the others go on, and a new one may start.
      this.threads.splice(this.threads.indexOf(thread), 1);
      const ids = this.working.get(thread) ?? new Set<number>();
      this.working.delete(thread);
      for (const id of ids) this.settle(id, { error: new Error(`${this.opts.what}: ${err.message}`) });
      this.dispatch();
    });
    // After the listeners, which hold the thread's port: the thread alone keeps no process alive.
    thread.unref();
    return thread;
  }
}

/** In a thread module: answers each job of the pool with `handle`'s result, or its error's message. */
export function serveJobs<J, R>(handle: (job: J) => R | Promise<R>): void {
  parentPort?.on('message', ({ id, job }: JobMessage<J>) => {
    void (async () => {
      let answer: AnswerMessage<R>;
      try {
        answer = { id, result: await handle(job) };
      } catch (err) {
        answer = { id, error: err instanceof Error ? err.message : String(err) };
      }
      parentPort?.postMessage(answer);
    })();
  });
}
