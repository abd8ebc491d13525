/** `k0rdent-deploy sweep`: tagged resources no live deployment accounts for. */
import { runSweep } from '../sweep';
import { parse } from './args';
import { openDeployment } from './session';

export async function sweep(args: string[]): Promise<number> {
  const v = parse(args, { delete: { type: 'boolean' }, json: { type: 'boolean' } });
  const { workDir, id, client } = await openDeployment(v);
  return runSweep({ client, deploymentId: id, workDir, delete: v.delete === true, json: v.json === true });
}
