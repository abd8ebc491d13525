/** The deployment's SSH public key resource. */
import type { SshPublicKeyResource } from '@azure/arm-compute';
import type { ArmEngine, DeploymentScope, Ensured, Handle } from '../engine';
import { tagDrift } from '../engine';

/** An SSH public key resource. */
export interface SshKeySpec {
  name: string;
  publicKey: string;
}

export function sshKeyHandle(
  engine: ArmEngine,
  scope: DeploymentScope,
  name: string
): Handle<SshPublicKeyResource> {
  const keys = engine.clients.compute.sshPublicKeys;
  return {
    type: 'ssh key',
    name,
    get: (o) => keys.get(scope.resourceGroup, name, o),
    put: (body, o) =>
      keys.create(scope.resourceGroup, name, { ...body, location: body.location ?? scope.location }, o),
    del: (o) => keys.delete(scope.resourceGroup, name, o),
    state: () => undefined,
    tags: (r) => r.tags,
  };
}

function sshKeyDrift(
  engine: ArmEngine,
  scope: DeploymentScope,
  existing: SshPublicKeyResource,
  spec: { name: string; publicKey?: string }
): string[] {
  const drift = tagDrift(existing.tags, engine.tagsFor(scope));
  if (spec.publicKey !== undefined && (existing.publicKey ?? '').trim() !== spec.publicKey.trim())
    drift.push('public key differs');
  return drift;
}

/** Registers the deployment's SSH public key, or adopts ours. */
export async function ensureSshPublicKey(
  engine: ArmEngine,
  scope: DeploymentScope,
  spec: SshKeySpec
): Promise<Ensured<SshPublicKeyResource>> {
  return engine.ensure(
    scope,
    sshKeyHandle(engine, scope, spec.name),
    { location: scope.location, tags: engine.tagsFor(scope), publicKey: spec.publicKey.trim() },
    (e) => sshKeyDrift(engine, scope, e, spec)
  );
}

/** Problems with the SSH key resource; empty when fine. Without a key text only presence and owner count. */
export async function inspectSshPublicKey(
  engine: ArmEngine,
  scope: DeploymentScope,
  spec: { name: string; publicKey?: string }
): Promise<string[]> {
  return engine.inspect(scope, sshKeyHandle(engine, scope, spec.name), (e) =>
    sshKeyDrift(engine, scope, e, spec)
  );
}
