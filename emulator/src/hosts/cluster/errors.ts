/** Error answers of the cluster routes: a status, a code the tools branch on, and the text they print. */
import type { WorldResponse } from '../types';

/**
 * An error of a cluster route. `message` is what the tool prints after its own prefix: a whole
 * kubectl line for `/kube/*`, the text after `Error: ` for `/helm/*`, the k0sctl error for `/k0sctl/*`,
 * the text after `ERROR: ` for `/az/*`.
 */
export class WorldError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {}
  ) {
    super(message);
    this.name = 'WorldError';
  }

  /** The error as a route answer `{ error: { code, message, ...details } }`. */
  toResponse(): WorldResponse {
    return {
      status: this.status,
      body: { error: { code: this.code, message: this.message, ...this.details } },
    };
  }
}

/** 400 for a request body the tool should never have sent. */
export function badRequest(message: string): WorldError {
  return new WorldError(400, 'BadRequest', message);
}

/** A 200 answer. */
export function ok(body: unknown): WorldResponse {
  return { status: 200, body };
}
