/** What every emulated tool shares: its I/O, its errors, and its calls to the emulator's `/world` API. */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { ToolFaultRule, ToolName, WorldResponse } from '../hosts/types';

/** Answers a `/world` call (`path` below the origin, like `/world/wireguard/show?interface=wg0`). */
export type WorldCall = (method: string, path: string, body?: unknown) => Promise<WorldResponse>;

/** The streams and surroundings of one tool run, as the tool's process had them. */
export interface ToolIO {
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Process id of the tool's process (lock holders name it). */
  pid: number;
  stdin(): Promise<string>;
  stdout(text: string): void;
  stderr(text: string): void;
  /** The emulator's world the tool acts on. */
  world: WorldCall;
  /** Waits `ms`; rejects with ToolKilled as soon as the tool's process is gone. */
  sleep(ms: number): Promise<void>;
}

/** A tool's run: resolves to its exit code. */
export type ToolMain = (io: ToolIO) => Promise<number>;

/** An error the tool prints to stderr before exiting with `exitCode`. */
export class ToolError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1
  ) {
    super(message);
    this.name = 'ToolError';
  }
}

/** The tool's process died mid-way (an injected crash): it exits 137 and reports nothing more. */
export class ToolCrashed extends Error {
  constructor(readonly tool: string) {
    super(`${tool}: killed`);
    this.name = 'ToolCrashed';
  }
}

/** The tool's process was killed from outside: the run stops where it was and answers nothing. */
export class ToolKilled extends Error {
  constructor() {
    super('the tool process is gone');
    this.name = 'ToolKilled';
  }
}

/** True for the two ways a tool's process ends without finishing its run. */
export function diedMidway(err: unknown): boolean {
  return err instanceof ToolCrashed || err instanceof ToolKilled;
}

/** Calls the tool's world; the answer's status is the caller's to judge. */
export function worldCall(io: ToolIO, method: string, path: string, body?: unknown): Promise<WorldResponse> {
  return io.world(method, path, body);
}

function emulatorUrl(env: NodeJS.ProcessEnv): URL {
  const base = env.K0RDENT_EMULATOR_URL;
  if (!base) throw new ToolError('K0RDENT_EMULATOR_URL is not set: there is no emulator to ask');
  return new URL(base);
}

/** Asks the emulator's `/world` API over HTTPS (`K0RDENT_EMULATOR_URL`, `K0RDENT_EMULATOR_CA`). */
export function worldRequest(
  env: NodeJS.ProcessEnv,
  method: string,
  path: string,
  body?: unknown
): Promise<WorldResponse> {
  const url = new URL(path, emulatorUrl(env));
  const ca = env.K0RDENT_EMULATOR_CA ? readFileSync(env.K0RDENT_EMULATOR_CA, 'utf8') : undefined;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        ca,
        headers: payload
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
          : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text === '' ? null : JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      }
    );
    req.on('error', (err) =>
      reject(new ToolError(`cannot reach the emulator at ${url.origin}: ${err.message}`))
    );
    if (payload) req.write(payload);
    req.end();
  });
}

/** The message of an error answer `{ error: { message } }`, or the body as text. */
export function errorMessage(response: WorldResponse): string {
  const body = response.body as { error?: { message?: string } } | string | null;
  if (body && typeof body === 'object' && body.error?.message) return body.error.message;
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/**
 * Registers the start of a tool command (counted as `"<tool> <command>"`) and returns the `crash` fault
 * armed for it, if any, for the caller to act on after the first half of its work. A `latency` fault has
 * already been waited out; a `fail` fault is thrown here as the ToolError to exit with. The emulator counts
 * a failed or crashed command as failed itself: the caller reports the end (`toolEnd`) of the other runs
 * only, so call this before a `try { … } finally { toolEnd(…) }`.
 */
export async function toolStart(
  io: ToolIO,
  tool: ToolName,
  command: string,
  target?: string
): Promise<ToolFaultRule | undefined> {
  const res = await worldCall(io, 'POST', '/world/tool/start', { tool, command, target });
  if (res.status !== 200) throw new ToolError(`emulator refused ${tool} ${command}: ${errorMessage(res)}`);
  const fault = (res.body as { fault?: ToolFaultRule } | null)?.fault;
  if (fault?.kind === 'latency' && fault.latencyMs) await io.sleep(fault.latencyMs);
  if (fault?.kind === 'fail')
    throw new ToolError(fault.message ?? `injected failure in ${tool} ${command}`, fault.exitCode ?? 1);
  return fault?.kind === 'crash' ? fault : undefined;
}

/** Registers how a tool command ended. */
export async function toolEnd(io: ToolIO, tool: ToolName, command: string, ok: boolean): Promise<void> {
  await worldCall(io, 'POST', '/world/tool/end', { tool, command, ok });
}

/** Ends the run as a killed tool would, after the first half of its work. */
export function crash(_io: ToolIO, tool: ToolName, command: string): never {
  throw new ToolCrashed(`${tool} ${command}`);
}
