/**
 * ARM benchmark of the Azure phases against the local emulator with a configured VM creation latency:
 * requests by method, write requests per created resource, and how parallel create_vms really is.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultDeps } from '../src/activities';
import { createVmsPhase } from '../src/activities/create-vms';
import type { PhaseDeps } from '../src/activities/phase';
import { prepareDeploymentPhase } from '../src/activities/prepare-deployment';
import { setupNetworkPhase } from '../src/activities/setup-network';
import { emulatorTarget } from '../src/azure/target';
import { defaultConfig } from '../src/config/defaults';
import { startArmEmulator } from '../emulator/src/arm';
import type { EmulatorCounts } from '../emulator/src/arm';
import type { PhaseContext } from '../src/workflows/messages';
import type { PhaseName } from '../src/workflows/phases';
import { applyPatch, emptyFacts } from '../src/workflows/state';

const VM_LATENCY_MS = Number(process.env.BENCH_VM_LATENCY_MS ?? 3000);
const OTHER_LATENCY_MS = Number(process.env.BENCH_LRO_MS ?? 100);

interface Row {
  vms: number;
  requests: Record<string, number>;
  polls: number;
  writes: number;
  created: number;
  writesPerResource: number;
  wallMs: number;
  slowestVmMs: number;
  parallelismRatio: number;
}

function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) !== 0) out[k] = v - (before[k] ?? 0);
  return out;
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

async function run(vms: number): Promise<Row> {
  const arm = await startArmEmulator({
    lro: { defaultMs: OTHER_LATENCY_MS, perType: { 'Microsoft.Compute/virtualMachines': VM_LATENCY_MS } },
  });
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-bench-'));
  try {
    const caFile = path.join(workDir, 'ca.pem');
    await fs.writeFile(caFile, arm.caPem);
    const config = defaultConfig();
    config.cluster.workers.count = vms - 1;
    config.orchestrator.parallel_vms = 5;
    const base = defaultDeps({ adapter: { pollIntervalMs: 50 } });
    const vmTimes: number[] = [];
    const deps: PhaseDeps = {
      ...base,
      azure: (target) => {
        const adapter = base.azure(target);
        const ensureVm = adapter.ensureVm.bind(adapter);
        adapter.ensureVm = async (...args) => {
          const start = Date.now();
          try {
            return await ensureVm(...args);
          } finally {
            vmTimes.push(Date.now() - start);
          }
        };
        return adapter;
      },
    };
    const ctx = (phase: PhaseName): PhaseContext => ({
      deploymentId: 'k0rdent-bench001',
      workDir,
      phase,
      config,
      flags: { azureChildren: false, kof: false },
      facts,
      cloud: emulatorTarget(arm.endpoint, caFile),
    });
    const facts = emptyFacts();
    applyPatch(facts, (await prepareDeploymentPhase(deps).apply(ctx('prepare_deployment'))).patch, '');
    applyPatch(facts, (await setupNetworkPhase(deps).apply(ctx('setup_network'))).patch, '');
    const before: EmulatorCounts = structuredClone(arm.counts());
    const start = Date.now();
    await createVmsPhase(deps).apply(ctx('create_vms'));
    const wallMs = Date.now() - start;
    const after = arm.counts();
    const writesByType = diff(after.writesByType, before.writesByType);
    const created = sum(diff(after.existing, before.existing));
    const slowestVmMs = Math.max(...vmTimes);
    return {
      vms,
      requests: diff(after.requests, before.requests),
      polls: after.polls - before.polls,
      writes: sum(writesByType),
      created,
      writesPerResource: sum(writesByType) / created,
      wallMs,
      slowestVmMs,
      parallelismRatio: wallMs / slowestVmMs,
    };
  } finally {
    await arm.close();
    await fs.rm(workDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(
    `create_vms against the ARM emulator, VM creation latency ${VM_LATENCY_MS} ms, other LROs ${OTHER_LATENCY_MS} ms`
  );
  const rows: Row[] = [];
  for (const vms of [1, 5]) rows.push(await run(vms));
  console.log(
    '| VMs | requests by method (polls included) | LRO polls | writes | resources created | writes per resource | wall ms | slowest VM ms | wall / slowest VM |'
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const methods = Object.entries(r.requests)
      .map(([m, n]) => `${m} ${n}`)
      .join(', ');
    console.log(
      `| ${r.vms} | ${methods} | ${r.polls} | ${r.writes} | ${r.created} | ${r.writesPerResource.toFixed(2)} | ${r.wallMs} | ${r.slowestVmMs} | ${r.parallelismRatio.toFixed(2)} |`
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
