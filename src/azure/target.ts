/** Where a deployment's Azure calls go: Azure itself or the local ARM emulator. No secrets: only references. */

/** Subscription id the emulator answers for. */
export const EMULATOR_SUBSCRIPTION = '00000000-0000-0000-0000-000000000000';

/** Public Azure Resource Manager endpoint. */
export const AZURE_ENDPOINT = 'https://management.azure.com';

/** The ARM endpoint and sign-in method of one deployment. */
export interface AzureTarget {
  cloud: 'azure' | 'emulator';
  subscriptionId: string;
  /** ARM base URL, `https://…` without a trailing slash. */
  endpoint: string;
  /** PEM file of a CA to trust in addition to the system ones (the emulator's self-signed certificate). */
  caCertFile?: string;
  /** `emulator` sends a placeholder token; the others pick an @azure/identity credential. */
  credential: 'cli' | 'service_principal' | 'default' | 'emulator';
}

/** A problem with the Azure settings of a deployment, named by its config path. */
export interface TargetIssue {
  path: string;
  message: string;
}

/** The target for Azure itself, from the config; issues name what is missing. */
export function azureTarget(azure: { subscription_id: string; credential: AzureTarget['credential'] }): {
  target?: AzureTarget;
  issues: TargetIssue[];
} {
  if (azure.subscription_id === '') {
    return {
      issues: [
        { path: 'azure.subscription_id', message: 'required with --cloud azure (the subscription GUID)' },
      ],
    };
  }
  return {
    target: {
      cloud: 'azure',
      subscriptionId: azure.subscription_id,
      endpoint: AZURE_ENDPOINT,
      credential: azure.credential,
    },
    issues: [],
  };
}

/** The target for a running local ARM emulator. */
export function emulatorTarget(endpoint: string, caCertFile: string): AzureTarget {
  return {
    cloud: 'emulator',
    subscriptionId: EMULATOR_SUBSCRIPTION,
    endpoint,
    caCertFile,
    credential: 'emulator',
  };
}
