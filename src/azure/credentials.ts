/** The token credential of a target: a placeholder for the emulator, an @azure/identity credential for Azure. */
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { AzureCliCredential, DefaultAzureCredential, EnvironmentCredential } from '@azure/identity';
import type { AzureTarget } from './target';
import { ArmFailureTypes, armFailure } from './errors';

/** Variables a service principal is read from; the secret may be replaced by a certificate path. */
export const SERVICE_PRINCIPAL_VARIABLES = [
  'AZURE_TENANT_ID',
  'AZURE_CLIENT_ID',
  'AZURE_CLIENT_SECRET',
] as const;

/** The emulator accepts any bearer token; this one never expires within a run. */
export const emulatorCredential: TokenCredential = {
  getToken: (): Promise<AccessToken> =>
    Promise.resolve({
      token: 'k0rdent-emulator',
      expiresOnTimestamp: Date.now() + 3_600_000,
      tokenType: 'Bearer',
    }),
};

function servicePrincipal(env: NodeJS.ProcessEnv): TokenCredential {
  const missing = SERVICE_PRINCIPAL_VARIABLES.filter((name) => {
    if (name === 'AZURE_CLIENT_SECRET' && env.AZURE_CLIENT_CERTIFICATE_PATH) return false;
    return !env[name];
  });
  if (missing.length > 0) {
    throw armFailure(
      ArmFailureTypes.InvalidConfig,
      `azure.credential service_principal: set ${missing.join(', ')} in the worker's environment` +
        (missing.includes('AZURE_CLIENT_SECRET')
          ? ' (or AZURE_CLIENT_CERTIFICATE_PATH instead of the secret)'
          : '')
    );
  }
  return new EnvironmentCredential();
}

/** The credential that signs a target's requests; secrets stay inside @azure/identity. */
export function credentialFor(target: AzureTarget, env: NodeJS.ProcessEnv = process.env): TokenCredential {
  switch (target.credential) {
    case 'emulator':
      return emulatorCredential;
    case 'cli':
      return new AzureCliCredential();
    case 'service_principal':
      return servicePrincipal(env);
    case 'default':
      return new DefaultAzureCredential();
  }
}
