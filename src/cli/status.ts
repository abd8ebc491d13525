/** `k0rdent-deploy status`: the phase table, from the workflow or, with no worker, the state file. */
import path from 'node:path';
import { readStateFile } from '../state/legacy';
import type { Eta, EtaInput } from '../workflows/eta';
import { estimate } from '../workflows/eta';
import { PHASES } from '../workflows/phases';
import { parse } from './args';
import { pageLink, liveState, isRunning, openDeployment } from './session';
import { folderTimes, phaseTable, renderTable } from './progress';

export async function status(args: string[]): Promise<number> {
  const v = parse(args, { json: { type: 'boolean' } });
  const { workDir, id, client, handle, uiUrl } = await openDeployment(v);
  const running = await isRunning(handle);
  // The link goes to stderr with --json, so stdout stays one JSON document.
  const link = running ? await pageLink(client, uiUrl, handle) : undefined;
  const printLink = () => link && (v.json ? console.error : console.log)(`Web UI: ${link}`);
  const times = await folderTimes(workDir, id);
  const state = running ? await liveState(client, handle) : undefined;
  if (state) {
    const eta = estimate(state, times, Date.now());
    console.log(v.json ? JSON.stringify({ ...state, eta }, null, 2) : renderTable(state, times));
    printLink();
    return 0;
  }
  // Without a worker nothing can answer a query; the projection is the last known truth.
  const file = path.join(workDir, 'state', 'deployment-state.yaml');
  const projected = await readStateFile(workDir, id);
  console.error(`no worker is running for ${id}: showing ${file}`);
  const eta = estimate(projectedEtaInput(projected), times, Date.now());
  console.log(v.json ? JSON.stringify({ ...projected, eta }, null, 2) : renderProjectedTable(projected, eta));
  printLink();
  return 0;
}

type ProjectedPhase = {
  status?: string;
  started_at?: string;
  duration_seconds?: number;
  skipped_reason?: string;
  error?: string;
};

function projectedPhases(doc: Record<string, unknown>): Record<string, ProjectedPhase> {
  return (doc.phases ?? {}) as Record<string, ProjectedPhase>;
}

/** What an estimate reads, from a state file. */
function projectedEtaInput(doc: Record<string, unknown>): EtaInput {
  const phases = projectedPhases(doc);
  const flags = (doc.deployment_flags ?? {}) as Record<string, unknown>;
  return {
    phases: Object.fromEntries(
      PHASES.map((p) => {
        const r = phases[p.name] ?? {};
        return [
          p.name,
          {
            status: r.status ?? 'pending',
            ...(r.started_at ? { startedAt: r.started_at } : {}),
            ...(r.duration_seconds !== undefined ? { durationSeconds: r.duration_seconds } : {}),
          },
        ];
      })
    ) as EtaInput['phases'],
    flags: { azureChildren: flags.azure_children === true, kof: flags.kof === true },
  };
}

/** The phase table from a state file, when no worker can answer a query. */
function renderProjectedTable(doc: Record<string, unknown>, eta: Eta): string {
  const phases = projectedPhases(doc);
  const status = String(doc.orchestrator_status ?? doc.status);
  const rows = PHASES.map((p) => {
    const r = phases[p.name] ?? {};
    return {
      status: r.status ?? 'pending',
      durationSeconds: r.duration_seconds,
      note: r.skipped_reason ?? r.error ?? '',
    };
  });
  return phaseTable(`${String(doc.deployment_id)}  ${status}`, rows, eta, status);
}
