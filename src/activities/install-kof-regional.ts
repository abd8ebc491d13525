/** install_kof_regional: a regional ClusterDeployment, with its own cluster events file. */
import { namesFor } from '../config/naming';
import type { PhaseContext } from '../workflows/messages';
import type { PhaseFactory } from './phase';
import { event } from './phase';
import { worldPhase } from './world-phase';

function clusterName(ctx: PhaseContext): string {
  return namesFor(ctx.deploymentId, ctx.config).kofRegionalCluster;
}

/** The install_kof_regional phase. */
export const installKofRegionalPhase: PhaseFactory = (deps) =>
  worldPhase(deps, {
    resources: (ctx) => {
      const r = ctx.config.kof.regional;
      return [
        {
          kind: 'clusterDeployment',
          name: `kcm-system/${clusterName(ctx)}`,
          props: {
            template: r.template,
            credential: r.credential,
            location: r.location,
            controlPlane: { vmSize: r.cp_instance_size, rootVolumeSize: r.root_volume_size },
            worker: { vmSize: r.worker_instance_size, rootVolumeSize: r.root_volume_size },
            ready: true,
          },
        },
      ];
    },
    stepsPerResource: 4,
    applied: (ctx) => {
      const name = clusterName(ctx);
      const r = ctx.config.kof.regional;
      const clusterEvent = (action: string, message: string) => ({
        cluster: name,
        event: event(action, message),
      });
      return {
        patch: {
          values: {
            kof_regional_installed: true,
            kof_regional_version: ctx.config.kof.version,
            kof_regional_cluster_name: name,
            kof_regional_domain: r.domain,
          },
          cluster_events: [
            clusterEvent('cluster_events_initialized', `Local event tracking initialized for ${name}`),
            clusterEvent(
              'cluster_deployment_created',
              `ClusterDeployment '${name}' created for Azure cluster in ${r.location}`
            ),
            clusterEvent(
              'cluster_config_recorded',
              `Template: ${r.template}, Credential: ${r.credential}, DryRun: false`
            ),
            clusterEvent(
              'kof_regional_cluster_ready',
              'KOF regional cluster deployment completed successfully'
            ),
            clusterEvent('kof_regional_configured', `Domain: ${r.domain}, Admin: ${r.admin_email}`),
          ],
        },
        events: [
          event('kof_regional_deployment_started', `Deploying KOF regional cluster ${name}`),
          event('kof_regional_deployment_completed', `KOF regional cluster ${name} ready`),
        ],
      };
    },
    removed: (ctx) => {
      const name = clusterName(ctx);
      return {
        patch: {
          values: {
            kof_regional_installed: false,
            kof_regional_version: null,
            kof_regional_cluster_name: null,
            kof_regional_domain: null,
          },
          cluster_events: [
            { cluster: name, event: event('cluster_deleted', `ClusterDeployment '${name}' deleted`) },
          ],
        },
        events: [event('kof_regional_uninstall_completed', `KOF regional cluster ${name} removed`)],
      };
    },
  });
