/** Azure AD service principals of the emulator's tenant, as `az ad sp` sees them; passwords are never kept. */
import { randomBytes, randomUUID } from 'node:crypto';
import { EMULATOR_SUBSCRIPTION } from '../../../../src/azure/target';
import { WorldError, badRequest } from './errors';
import type { ClusterWorldState, ServicePrincipal } from './model';

/** The emulator's Azure AD tenant. */
export const EMULATOR_TENANT = 'e0e0e0e0-0000-4000-8000-00000000e0e0';

const ROLES = [
  'Owner',
  'Contributor',
  'Reader',
  'User Access Administrator',
  'Role Based Access Control Administrator',
];

const YEAR_MS = 365 * 24 * 60 * 60 * 1000;

/** `az account show`. */
export function account(): Record<string, unknown> {
  return {
    environmentName: 'AzureCloud',
    homeTenantId: EMULATOR_TENANT,
    id: EMULATOR_SUBSCRIPTION,
    isDefault: true,
    managedByTenants: [],
    name: 'k0rdent emulator subscription',
    state: 'Enabled',
    tenantDefaultDomain: 'k0rdentemulator.onmicrosoft.com',
    tenantDisplayName: 'k0rdent emulator',
    tenantId: EMULATOR_TENANT,
    user: { name: 'deployer@k0rdentemulator.onmicrosoft.com', type: 'user' },
  };
}

function password(): string {
  return randomBytes(30).toString('base64').replace(/[+/=]/g, '').slice(0, 34) + '~Q8';
}

/** A principal as `az ad sp list|show` prints it. */
export function principalView(sp: ServicePrincipal): Record<string, unknown> {
  return {
    accountEnabled: true,
    appDisplayName: sp.displayName,
    appId: sp.appId,
    appOwnerOrganizationId: EMULATOR_TENANT,
    displayName: sp.displayName,
    id: sp.id,
    passwordCredentials: sp.credentials.map((c) => ({
      displayName: 'rbac',
      endDateTime: new Date(c.endMs).toISOString(),
      keyId: c.keyId,
      startDateTime: new Date(c.startMs).toISOString(),
    })),
    servicePrincipalNames: [sp.appId],
    servicePrincipalType: 'Application',
    signInAudience: 'AzureADMyOrg',
  };
}

function newCredential(now: number): ServicePrincipal['credentials'][number] {
  return { keyId: randomUUID(), startMs: now, endMs: now + YEAR_MS };
}

/** `az ad sp create-for-rbac`: creates the principal, or for an existing display name gives it a new password. */
export function createForRbac(
  world: ClusterWorldState,
  now: number,
  body: unknown,
  countApplied: (key: string) => void
): { appId: string; displayName: string; password: string; tenant: string; created: boolean } {
  const b = (body ?? {}) as { displayName?: unknown; role?: unknown; scopes?: unknown };
  if (typeof b.displayName !== 'string' || !b.displayName) throw badRequest('displayName is required');
  const scopes = Array.isArray(b.scopes) ? b.scopes.filter((s): s is string => typeof s === 'string') : [];
  let role: string | undefined;
  if (b.role !== undefined) {
    const wanted = typeof b.role === 'string' ? b.role : '';
    role = ROLES.find((r) => r.toLowerCase() === wanted.toLowerCase());
    if (!role) throw new WorldError(404, 'RoleNotFound', `Role '${wanted}' doesn't exist.`);
  }
  let sp = world.servicePrincipals.find((p) => p.displayName === b.displayName);
  const created = !sp;
  if (!sp) {
    sp = {
      appId: randomUUID(),
      id: randomUUID(),
      displayName: b.displayName,
      createdMs: now,
      roles: [],
      credentials: [],
    };
    world.servicePrincipals.push(sp);
    countApplied(`sp:${b.displayName}`);
  }
  for (const scope of role ? scopes : [])
    if (!sp.roles.some((r) => r.role === role && r.scope === scope))
      sp.roles.push({ role: role as string, scope });
  sp.credentials = [newCredential(now)];
  return {
    appId: sp.appId,
    displayName: sp.displayName,
    password: password(),
    tenant: EMULATOR_TENANT,
    created,
  };
}

function find(world: ClusterWorldState, id: unknown): ServicePrincipal {
  const sp = world.servicePrincipals.find((p) => p.appId === id || p.id === id);
  if (!sp)
    throw new WorldError(
      404,
      'NotFound',
      `Resource '${String(id)}' does not exist or one of its queried reference-property objects are not present.`
    );
  return sp;
}

/** `az ad sp list [--display-name]`. */
export function listPrincipals(
  world: ClusterWorldState,
  displayName: string | null
): Record<string, unknown>[] {
  return world.servicePrincipals
    .filter((p) => displayName === null || p.displayName === displayName)
    .map(principalView);
}

/** `az ad sp show --id`. */
export function showPrincipal(world: ClusterWorldState, id: string | null): Record<string, unknown> {
  return principalView(find(world, id));
}

/** `az ad sp delete --id`: the principal and its application. */
export function deletePrincipal(world: ClusterWorldState, body: unknown): void {
  const sp = find(world, (body as { id?: unknown } | null)?.id);
  world.servicePrincipals = world.servicePrincipals.filter((p) => p !== sp);
}

/** `az ad sp credential reset --id`: a new password replaces the old ones. */
export function resetCredential(
  world: ClusterWorldState,
  now: number,
  body: unknown
): { appId: string; password: string; tenant: string } {
  const sp = find(world, (body as { id?: unknown } | null)?.id);
  sp.credentials = [newCredential(now)];
  return { appId: sp.appId, password: password(), tenant: EMULATOR_TENANT };
}
