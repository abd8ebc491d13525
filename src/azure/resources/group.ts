/** The resource group: tagged for the deployment (and as the Bash tool tags it), in its location. */
import type { ResourceGroup } from '@azure/arm-resources';
import type { ArmEngine, DeploymentScope, Ensured, Handle } from '../engine';
import { normLocation, tagDrift } from '../engine';
import { toArmFailure } from '../errors';

export function rgHandle(engine: ArmEngine, scope: DeploymentScope): Handle<ResourceGroup> {
  const rgs = engine.clients.resources.resourceGroups;
  return {
    type: 'resource group',
    name: scope.resourceGroup,
    get: (o) => rgs.get(scope.resourceGroup, o),
    put: (body, o) => rgs.createOrUpdate(scope.resourceGroup, body, o),
    del: (o) => rgs.beginDelete(scope.resourceGroup, o),
    state: (r) => r.properties?.provisioningState,
    tags: (r) => r.tags,
    legacyOwnership: true,
  };
}

function rgSpec(engine: ArmEngine, scope: DeploymentScope): ResourceGroup {
  return {
    location: scope.location,
    tags: {
      ...engine.tagsFor(scope),
      owner: scope.owner,
      'cluster-id': scope.deploymentId,
      created: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    },
  };
}

function rgDrift(existing: ResourceGroup, desired: ResourceGroup): string[] {
  const drift = tagDrift(existing.tags, desired.tags ?? {});
  if (normLocation(existing.location) !== normLocation(desired.location))
    drift.push(`location is ${existing.location}, want ${desired.location}`);
  return drift;
}

/** True when the resource group exists (whoever owns it). */
export async function resourceGroupExists(engine: ArmEngine, scope: DeploymentScope): Promise<boolean> {
  const signal = engine.options.signal();
  try {
    const { body } = await engine.clients.resources.resourceGroups.checkExistence(scope.resourceGroup, {
      abortSignal: signal,
    });
    return body;
  } catch (err) {
    throw toArmFailure(`read resource group ${scope.resourceGroup}`, err, signal);
  }
}

/** Creates the resource group with its tags, or adopts ours. */
export async function ensureResourceGroup(
  engine: ArmEngine,
  scope: DeploymentScope
): Promise<Ensured<ResourceGroup>> {
  const desired = rgSpec(engine, scope);
  return engine.ensure(scope, rgHandle(engine, scope), desired, (e) => rgDrift(e, desired));
}

/** Problems with the resource group (missing, foreign, not succeeded, drifted); empty when fine. */
export async function inspectResourceGroup(engine: ArmEngine, scope: DeploymentScope): Promise<string[]> {
  const desired = rgSpec(engine, scope);
  return engine.inspect(scope, rgHandle(engine, scope), (e) => rgDrift(e, desired));
}

/** Deletes our resource group and waits until it is gone; false when there was none. */
export async function deleteResourceGroup(engine: ArmEngine, scope: DeploymentScope): Promise<boolean> {
  return engine.deleteOwned(scope, rgHandle(engine, scope));
}
