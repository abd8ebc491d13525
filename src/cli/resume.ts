/** `k0rdent-deploy resume`: continue after a failure or a rollback. */
import { resumeSignal } from '../workflows/messages';
import { parse } from './args';
import { openDeployment } from './session';
import { folderTimes, renderTable, watch, settled } from './progress';

export async function resume(args: string[]): Promise<number> {
  const v = parse(args, { detach: { type: 'boolean' } });
  const { workDir, id, handle } = await openDeployment(v);
  await handle.signal(resumeSignal);
  console.log(`resume sent to ${id}`);
  if (v.detach) return 0;
  await new Promise((r) => setTimeout(r, 1000));
  const times = await folderTimes(workDir, id);
  const state = await watch(handle, settled, { times });
  console.log(renderTable(state, times));
  return state.status === 'completed' ? 0 : 1;
}
