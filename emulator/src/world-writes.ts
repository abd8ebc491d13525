/**
 * What the emulated world was asked to change over a span of time: ARM writes and the tool commands
 * that change something. `plan` prints it for its own run; tests assert it is empty.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AzureTarget } from '../../src/azure/target';
import type { EmulatorCounts } from './arm/types';
import type { HostCounts } from './hosts/types';

/** The world's request counts at one moment. */
export interface WorldCounts {
  arm: EmulatorCounts;
  hosts: HostCounts;
}

/** Tool commands (as the emulator counts them, `<tool> <command>`) that only read. */
export const READ_ONLY_COMMANDS: ReadonlySet<string> = new Set([
  'helm status',
  'helm list',
  'kubectl get',
  'wg show',
  'az ad sp list',
  'az ad sp show',
]);

const WRITE_METHODS = ['PUT', 'PATCH', 'DELETE', 'POST'];

function getJson(target: AzureTarget, route: string): Promise<unknown> {
  const ca = target.caCertFile ? readFileSync(target.caCertFile) : undefined;
  return new Promise((resolve, reject) => {
    https
      .get(`${target.endpoint}${route}`, { ca }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () =>
          res.statusCode === 200
            ? resolve(JSON.parse(body))
            : reject(new Error(`${route}: ${res.statusCode}`))
        );
      })
      .on('error', reject);
  });
}

/** The counts of an emulator target now. */
export async function worldCounts(target: AzureTarget): Promise<WorldCounts> {
  const [arm, hosts] = await Promise.all([
    getJson(target, '/admin/counts'),
    getJson(target, '/admin/hosts/counts'),
  ]);
  return { arm: arm as EmulatorCounts, hosts: hosts as HostCounts };
}

/** Writes between two counts, e.g. `2 ARM PUT`, `1 × helm upgrade`; empty when there were none. */
export function worldWrites(before: WorldCounts, after: WorldCounts): string[] {
  const found: string[] = [];
  for (const method of WRITE_METHODS) {
    const n = (after.arm.requests[method] ?? 0) - (before.arm.requests[method] ?? 0);
    if (n > 0) found.push(`${n} ARM ${method}`);
  }
  for (const [command, c] of Object.entries(after.hosts.tools)) {
    const n = c.started - (before.hosts.tools[command]?.started ?? 0);
    if (n > 0 && !READ_ONLY_COMMANDS.has(command)) found.push(`${n} × ${command}`);
  }
  return found;
}
