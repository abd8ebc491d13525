/** Where an emulator's tool server listens, known to the emulator and to the phases' commands alike. */
import os from 'node:os';
import path from 'node:path';

/** The socket of the emulator listening at `endpoint` (`https://127.0.0.1:PORT`): one per port. */
export function toolSocketFor(endpoint: string): string {
  return path.join(os.tmpdir(), `k0rdent-emulator-${new URL(endpoint).port}.sock`);
}
