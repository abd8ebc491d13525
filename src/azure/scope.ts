/** The deployment scope of the ARM adapter, from a deployment's id and config. */
import { deployerIdentity, namesFor } from '../config/naming';
import type { K0rdentConfig } from '../config/types';
import type { DeploymentScope } from './adapter';

const identities = new Map<string, string>();

/** Deployer identity for the owner tags, resolved once per process and configured owner. */
function ownerFor(config: K0rdentConfig): string {
  const key = config.metadata.owner ?? '';
  let owner = identities.get(key);
  if (owner === undefined) {
    owner = deployerIdentity(config);
    identities.set(key, owner);
  }
  return owner;
}

/** Deployment id, owner, resource group and location the Azure phases act in. */
export function deploymentScope(deploymentId: string, config: K0rdentConfig): DeploymentScope {
  return {
    deploymentId,
    owner: ownerFor(config),
    resourceGroup: namesFor(deploymentId, config).resourceGroup,
    location: config.azure.location,
  };
}
