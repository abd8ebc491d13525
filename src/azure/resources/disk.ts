/** OS disks, which Azure makes for a VM without the deployment's tags. */
import type { ArmEngine, DeploymentScope, Handle, Tags } from '../engine';
import { TAG_DEPLOYMENT } from '../engine';

// The OS disk is made by Azure and carries no tags of its own: it is ours when untagged in our
// resource group under the name our VM gave it, refused only when tagged for another deployment.
export async function deleteDisk(engine: ArmEngine, scope: DeploymentScope, name: string): Promise<boolean> {
  const disks = engine.clients.compute.disks;
  const handle: Handle<{ tags?: Tags; provisioningState?: string }> = {
    type: 'disk',
    name,
    get: (o) => disks.get(scope.resourceGroup, name, o),
    put: () => Promise.reject(new Error('disks are never created by the adapter')),
    del: (o) => disks.delete(scope.resourceGroup, name, o).submitted(),
    state: (r) => r.provisioningState,
    tags: (r) => (r.tags?.[TAG_DEPLOYMENT] === undefined ? { ...r.tags, ...engine.tagsFor(scope) } : r.tags),
  };
  return engine.deleteOwned(scope, handle);
}
