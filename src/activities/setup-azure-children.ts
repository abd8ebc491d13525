/** setup_azure_children: a service principal and the k0rdent credential objects for Azure child clusters. */
import { namesFor } from '../config/naming';
import type { PhaseFactory } from './phase';
import { event } from './phase';
import { worldPhase } from './world-phase';

/** The setup_azure_children phase. */
export const setupAzureChildrenPhase: PhaseFactory = (deps) =>
  worldPhase(deps, {
    resources: (ctx) => [
      {
        kind: 'servicePrincipal',
        name: namesFor(ctx.deploymentId, ctx.config).servicePrincipal,
        props: { role: 'Contributor' },
      },
      { kind: 'azureClusterIdentity', name: 'kcm-system/azure-cluster-identity', props: {} },
      {
        kind: 'credential',
        name: 'kcm-system/azure-cluster-credential',
        props: { identity: 'azure-cluster-identity' },
      },
    ],
    applied: (ctx) => ({
      patch: { values: { azure_children_configured: true } },
      events: [
        event(
          'azure_credentials_configured',
          `Azure credentials configured for cluster deployment (${namesFor(ctx.deploymentId, ctx.config).servicePrincipal})`
        ),
      ],
    }),
    removed: () => ({
      patch: { values: { azure_children_configured: false } },
      events: [event('azure_credentials_cleanup', 'Azure credentials and service principal removed')],
    }),
  });
