/** `k0rdent-deploy rollback`: roll back to a phase and follow it. */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { rollbackSignal, rollbackUpdate } from '../workflows/messages';
import { PHASES, isPhaseName } from '../workflows/phases';
import { UsageError, parse } from './args';
import { workerPolls, openDeployment } from './session';
import { renderTable, watch, settled } from './progress';

export async function rollback(args: string[]): Promise<number> {
  const v = parse(args, { to: { type: 'string' }, resume: { type: 'boolean' } });
  if (typeof v.to !== 'string') throw new UsageError('rollback needs --to PHASE');
  if (!isPhaseName(v.to))
    throw new UsageError(`--to ${v.to}: unknown phase; phases are ${PHASES.map((p) => p.name).join(', ')}`);
  const { id, client, handle } = await openDeployment(v);
  const request = { toPhase: v.to, resume: v.resume === true };
  if (!(await workerPolls(client, handle))) {
    await handle.signal(rollbackSignal, request);
    console.log(
      `no worker is running: rollback to ${v.to} queued; it runs when a worker starts (k0rdent-deploy worker)`
    );
    return 0;
  }
  try {
    await handle.executeUpdate(rollbackUpdate, { args: [request] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      console.error(`rollback refused: ${err.cause?.message ?? err.message}`);
      return 2;
    }
    throw err;
  }
  console.log(`rolling back ${id} to ${v.to}`);
  const state = await watch(
    handle,
    (s) =>
      s.status !== 'rolling_back' &&
      s.rollbackTarget === v.to &&
      s.phases[v.to as 'install_k0s'].status !== 'rolling_back' &&
      (settled(s) || s.status === 'in_progress')
  );
  console.log(renderTable(state));
  return state.status === 'failed' ? 1 : 0;
}
