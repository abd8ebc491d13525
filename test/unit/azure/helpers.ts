/** Shared bits of the ARM adapter tests: an in-process emulator, fast clients and a deployment scope. */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { AdapterOptions, DeploymentScope } from '../../../src/azure/adapter';
import { ArmAdapter } from '../../../src/azure/adapter';
import type { ClientOptions } from '../../../src/azure/clients';
import { buildArmClients } from '../../../src/azure/clients';
import type { RetryPolicyOptions } from '../../../src/azure/retry';
import type { AzureTarget } from '../../../src/azure/target';
import { emulatorTarget } from '../../../src/azure/target';
import type { ArmEmulator, EmulatorCounts } from '../../../emulator/src/arm';
import { startArmEmulator } from '../../../emulator/src/arm';

/** Retry bounds small enough for tests, same shape as production. */
export const FAST_RETRY: RetryPolicyOptions = {
  maxRetries: 3,
  maxThrottleRetries: 4,
  baseDelayMs: 5,
  maxDelayMs: 40,
  maxRetryAfterMs: 5_000,
};

/** Adapter timing for tests. */
export const FAST_ADAPTER: Partial<AdapterOptions> = { pollIntervalMs: 20, settleTimeoutMs: 20_000 };

/** A running emulator, its CA on disk and a target pointing at it. */
export interface EmulatorFixture {
  arm: ArmEmulator;
  dir: string;
  target: AzureTarget;
  close(): Promise<void>;
}

/** Starts an emulator with short LROs and writes its CA where a target can name it. */
export async function startEmulator(lroMs = 30): Promise<EmulatorFixture> {
  const arm = await startArmEmulator({ lro: { defaultMs: lroMs } });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-arm-'));
  const caFile = path.join(dir, 'ca.pem');
  await fs.writeFile(caFile, arm.caPem);
  return {
    arm,
    dir,
    target: emulatorTarget(arm.endpoint, caFile),
    close: async () => {
      await arm.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh adapter on the emulator (own clients, so cached clients never leak between tests). */
export function adapterFor(
  target: AzureTarget,
  options: Partial<AdapterOptions> = {},
  clients: ClientOptions = {}
): ArmAdapter {
  return new ArmAdapter(buildArmClients(target, { retry: FAST_RETRY, ...clients }), {
    ...FAST_ADAPTER,
    ...options,
  });
}

/** A deployment scope in its own resource group. */
export function scopeOf(deploymentId: string, owner = 'tester@example.com'): DeploymentScope {
  return { deploymentId, owner, resourceGroup: `${deploymentId}-resgrp`, location: 'westus2' };
}

/** Requests of one method on one resource type (LRO polls excluded). */
export function requestsOf(counts: EmulatorCounts, type: string, method: string): number {
  const byType = Object.entries(counts.byType).find(([t]) => t.toLowerCase() === type.toLowerCase())?.[1];
  return byType?.[method] ?? 0;
}

/** Writes (PUT, PATCH, DELETE) on one resource type. */
export function writesOf(counts: EmulatorCounts, type: string): number {
  return Object.entries(counts.writesByType).find(([t]) => t.toLowerCase() === type.toLowerCase())?.[1] ?? 0;
}

/** Resources of a type that exist now. */
export function existing(counts: EmulatorCounts, type: string): number {
  return Object.entries(counts.existing).find(([t]) => t.toLowerCase() === type.toLowerCase())?.[1] ?? 0;
}

/** A predicate for `assert.rejects`: an ApplicationFailure of `type` whose retryability is `nonRetryable`. */
export function failure(type: string, nonRetryable: boolean, message?: RegExp) {
  return (err: unknown): boolean => {
    if (!(err instanceof ApplicationFailure))
      throw new Error(`expected an ApplicationFailure, got ${String(err)}`);
    if (err.type !== type) throw new Error(`expected type ${type}, got ${err.type}: ${err.message}`);
    if (err.nonRetryable !== nonRetryable)
      throw new Error(`expected nonRetryable ${nonRetryable}: ${err.message}`);
    if (message && !message.test(err.message))
      throw new Error(`message ${err.message} does not match ${message}`);
    return true;
  };
}

/** Known ARM types. */
export const T = {
  rg: 'Microsoft.Resources/resourceGroups',
  nsg: 'Microsoft.Network/networkSecurityGroups',
  vnet: 'Microsoft.Network/virtualNetworks',
  pip: 'Microsoft.Network/publicIPAddresses',
  nic: 'Microsoft.Network/networkInterfaces',
  vm: 'Microsoft.Compute/virtualMachines',
  disk: 'Microsoft.Compute/disks',
  sshKey: 'Microsoft.Compute/sshPublicKeys',
} as const;
