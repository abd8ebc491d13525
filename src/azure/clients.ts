/**
 * The three SDK clients of a target (resources and network are the older HLC generation, compute the
 * modular one), all on the target's endpoint with the right token scope, its CA, and our retry policy.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { ComputeManagementClient } from '@azure/arm-compute';
import { NetworkManagementClient } from '@azure/arm-network';
import { ResourceManagementClient } from '@azure/arm-resources';
import type { TokenCredential } from '@azure/core-auth';
import type { Pipeline, PipelinePolicy, TlsSettings } from '@azure/core-rest-pipeline';
import { credentialFor } from './credentials';
import { ArmFailureTypes, armFailure } from './errors';
import type { RetryPolicyOptions } from './retry';
import { ARM_RETRY_POLICY, DEFAULT_RETRY, armRetryPolicy } from './retry';
import type { AzureTarget } from './target';
import { AZURE_ENDPOINT } from './target';

/** The SDK clients of one target. */
export interface ArmClients {
  target: AzureTarget;
  resources: ResourceManagementClient;
  network: NetworkManagementClient;
  compute: ComputeManagementClient;
}

/** How clients are built; everything has a production default. */
export interface ClientOptions {
  retry?: Partial<RetryPolicyOptions>;
  /** Replaces the target's credential (tests record the scopes asked for). */
  credential?: TokenCredential;
}

/** Name of the policy that refuses any request outside the target's endpoint. */
export const ENDPOINT_GUARD_POLICY = 'k0rdentEndpointGuard';
const SDK_RETRY_POLICY = 'defaultRetryPolicy';
const USER_AGENT = 'k0rdent-deploy';

/**
 * The token scope for a target. Azure clouds use their ARM endpoint (the HLC default); an emulator's
 * endpoint is no audience, so it gets the public ARM one. Both generations get it explicitly: the HLC
 * clients would otherwise ask for `${endpoint}/.default`, the modular one always for the public cloud.
 */
export function scopeFor(target: AzureTarget): string {
  return `${target.cloud === 'azure' ? target.endpoint : AZURE_ENDPOINT}/.default`;
}

function checkEndpoint(target: AzureTarget): string {
  let url: URL;
  try {
    url = new URL(target.endpoint);
  } catch {
    throw armFailure(ArmFailureTypes.InvalidConfig, `ARM endpoint "${target.endpoint}" is not a URL`);
  }
  if (url.protocol !== 'https:' || target.endpoint.endsWith('/') || url.pathname !== '/') {
    throw armFailure(
      ArmFailureTypes.InvalidConfig,
      `ARM endpoint "${target.endpoint}" must be an https:// origin without a trailing slash (the SDK refuses bearer tokens over http)`
    );
  }
  return target.endpoint;
}

/** Refuses any request that would leave the configured endpoint (the SDK silently ignores `$host`). */
function endpointGuard(endpoint: string): PipelinePolicy {
  const prefix = `${endpoint.toLowerCase()}/`;
  return {
    name: ENDPOINT_GUARD_POLICY,
    sendRequest(request, next) {
      if (!request.url.toLowerCase().startsWith(prefix)) {
        throw armFailure(
          ArmFailureTypes.InvalidConfig,
          `refusing ${request.method} ${request.url}: outside the configured ARM endpoint ${endpoint}`
        );
      }
      return next(request);
    },
  };
}

function tlsFor(target: AzureTarget): TlsSettings | undefined {
  if (!target.caCertFile) return undefined;
  let pem: string;
  try {
    pem = readFileSync(target.caCertFile, 'utf8');
  } catch (err) {
    throw armFailure(
      ArmFailureTypes.InvalidConfig,
      `CA certificate ${target.caCertFile} of the ARM endpoint is unreadable: ${(err as Error).message}`
    );
  }
  // `ca` replaces Node's trust store for these requests; keep the public roots next to the extra CA.
  return { ca: [...rootCertificates, pem].join('\n') };
}

function adjust(pipeline: Pipeline, endpoint: string, retry: RetryPolicyOptions): void {
  pipeline.removePolicy({ name: SDK_RETRY_POLICY });
  pipeline.addPolicy(armRetryPolicy(retry), { phase: 'Retry' });
  pipeline.addPolicy(endpointGuard(endpoint));
}

/** Builds the clients of a target (use `armClientsFor` for the cached ones). */
export function buildArmClients(target: AzureTarget, options: ClientOptions = {}): ArmClients {
  const endpoint = checkEndpoint(target);
  const credential = options.credential ?? credentialFor(target);
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const tlsOptions = tlsFor(target);
  const scope = scopeFor(target);
  const userAgentOptions = { userAgentPrefix: USER_AGENT };
  const resources = new ResourceManagementClient(credential, target.subscriptionId, {
    endpoint,
    credentialScopes: [scope],
    tlsOptions,
    userAgentOptions,
  });
  const network = new NetworkManagementClient(credential, target.subscriptionId, {
    endpoint,
    credentialScopes: [scope],
    tlsOptions,
    userAgentOptions,
  });
  const compute = new ComputeManagementClient(credential, target.subscriptionId, {
    endpoint,
    credentials: { scopes: [scope] },
    tlsOptions,
    userAgentOptions,
  });
  for (const pipeline of [resources.pipeline, network.pipeline, compute.pipeline]) {
    adjust(pipeline, endpoint, retry);
    const names = pipeline.getOrderedPolicies().map((p) => p.name);
    if (names.includes(SDK_RETRY_POLICY) || !names.includes(ARM_RETRY_POLICY)) {
      throw new Error(`ARM client pipeline did not take our retry policy: ${names.join(', ')}`);
    }
  }
  return { target, resources, network, compute };
}

const cache = new Map<string, ArmClients>();

/** The clients of a target, built once per target and options. */
export function armClientsFor(target: AzureTarget, options: ClientOptions = {}): ArmClients {
  if (options.credential) return buildArmClients(target, options);
  const key = JSON.stringify([target, options.retry ?? {}]);
  let clients = cache.get(key);
  if (!clients) {
    clients = buildArmClients(target, options);
    cache.set(key, clients);
  }
  return clients;
}
