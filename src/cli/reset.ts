/** `k0rdent-deploy reset`: undo everything and end the deployment. */
import readline from 'node:readline/promises';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { resetSignal, resetUpdate } from '../workflows/messages';
import { UsageError, parse, workDirOf } from './args';
import type { Handle } from './session';
import { connect, deploymentId, workerPolls } from './session';
import { renderTable, watch } from './progress';

export async function reset(args: string[]): Promise<number> {
  const v = parse(args, { yes: { type: 'boolean', short: 'y' } });
  const workDir = workDirOf(v.dir);
  const id = await deploymentId(workDir, v.id);
  if (!v.yes) {
    if (!process.stdin.isTTY)
      throw new UsageError('reset deletes everything the deployment made; pass --yes to confirm');
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question(
      `Reset ${id}: every resource it made is deleted. Type "yes" to continue: `
    );
    rl.close();
    if (answer.trim() !== 'yes') {
      console.log('reset cancelled');
      return 1;
    }
  }
  const { client } = await connect(workDir);
  const handle: Handle = client.workflow.getHandle(id);
  if (!(await workerPolls(client, handle))) {
    await handle.signal(resetSignal, { reason: 'full-reset' });
    console.log(
      `no worker is running: reset of ${id} queued; it runs when a worker starts (k0rdent-deploy worker)`
    );
    return 0;
  }
  try {
    await handle.executeUpdate(resetUpdate, { args: [{ reason: 'full-reset' }] });
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      console.error(`reset refused: ${err.cause?.message ?? err.message}`);
      return 2;
    }
    throw err;
  }
  const state = await watch(handle, (s) => s.status === 'reset' || s.status === 'failed');
  if (state.status === 'failed') {
    console.log(renderTable(state));
    return 1;
  }
  const final = await handle.result();
  console.log(`deployment ${id} reset; state archived to ${final.archivedTo ?? 'old_deployments/'}`);
  return 0;
}
