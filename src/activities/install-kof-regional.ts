/**
 * install_kof_regional: a regional Azure cluster as a k0rdent ClusterDeployment, Ready, with its
 * kubeconfig saved (0600); its events go to `state/cluster-<name>-events.yaml`.
 */
import { promises as fs } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import { namesFor } from '../config/naming';
import { writeSecretFile } from '../hosts/keys';
import type { PhaseContext } from '../workflows/messages';
import { FailureTypes } from '../workflows/messages';
import { conditionText, conditionTrue, kubeApply, kubeDelete, kubeGet, waitFor } from './cluster-ops';
import type { Phase, PhaseFactory } from './phase';
import { event, verdict } from './phase';
import { readAzureCredentials } from './setup-azure-children';
import type { Toolbox } from './toolbox';
import { toolbox } from './toolbox';

/** ClusterDeployments live where k0rdent's templates and credentials are. */
/** Namespace of the regional ClusterDeployment. */
export const NAMESPACE = 'kcm-system';
const KIND = 'clusterdeployment';

/** Name of the regional ClusterDeployment. */
export function clusterName(ctx: PhaseContext): string {
  return namesFor(ctx.deploymentId, ctx.config).kofRegionalCluster;
}

function kubeconfigPath(ctx: PhaseContext): string {
  const names = namesFor(ctx.deploymentId, ctx.config);
  return `k0sctl-config/kof-regional-${names.kofRegionalCluster}-kubeconfig`;
}

async function requireObject(tools: Toolbox, kind: string, name: string, hint: string): Promise<void> {
  if (!(await kubeGet(tools, kind, name, NAMESPACE)))
    throw ApplicationFailure.create({
      type: FailureTypes.NotFound,
      message: `${kind} ${NAMESPACE}/${name} does not exist: ${hint}`,
      nonRetryable: true,
    });
}

async function clusterDeployment(ctx: PhaseContext, tools: Toolbox): Promise<Record<string, unknown>> {
  const r = ctx.config.kof.regional;
  const creds = await readAzureCredentials(tools);
  return {
    apiVersion: 'k0rdent.mirantis.com/v1beta1',
    kind: 'ClusterDeployment',
    metadata: {
      name: clusterName(ctx),
      namespace: NAMESPACE,
      labels: {
        'k0rdent.mirantis.com/istio-role': 'child',
        'k0rdent.mirantis.com/kof-cluster-role': 'regional',
      },
    },
    spec: {
      template: r.template,
      credential: r.credential,
      dryRun: false,
      config: {
        clusterIdentity: { name: 'azure-cluster-identity', namespace: NAMESPACE },
        location: r.location,
        subscriptionID: creds?.subscription_id ?? ctx.cloud.subscriptionId,
        controlPlaneNumber: 1,
        controlPlane: { vmSize: r.cp_instance_size, rootVolumeSize: Number(r.root_volume_size) },
        workersNumber: 3,
        worker: { vmSize: r.worker_instance_size, rootVolumeSize: Number(r.root_volume_size) },
      },
    },
  };
}

/** The install_kof_regional phase. */
export const installKofRegionalPhase: PhaseFactory = (deps): Phase => ({
  async check(ctx) {
    const tools = toolbox(deps, ctx);
    const cd = await kubeGet(tools, KIND, clusterName(ctx), NAMESPACE);
    const problems = conditionTrue(cd) ? [] : [`ClusterDeployment ${clusterName(ctx)}: ${conditionText(cd)}`];
    const saved = await tools.exists(kubeconfigPath(ctx));
    if (!saved) problems.push(`kubeconfig ./${kubeconfigPath(ctx)} is missing`);
    return verdict(problems);
  },

  async apply(ctx) {
    const tools = toolbox(deps, ctx);
    const name = clusterName(ctx);
    const r = ctx.config.kof.regional;
    await requireObject(
      tools,
      'clustertemplate',
      r.template,
      'is kof.regional.template a template k0rdent ships?'
    );
    await requireObject(
      tools,
      'credential',
      r.credential,
      'run setup_azure_children (--with-azure-children) first'
    );
    await kubeApply(tools, [await clusterDeployment(ctx, tools)]);
    await waitFor(
      {
        what: `ClusterDeployment ${name} Ready`,
        timeoutMs: ctx.config.timeouts.k0rdent_install_wait * 1000,
        ...tools.poll,
      },
      async () => {
        const cd = await kubeGet(tools, KIND, name, NAMESPACE);
        return conditionTrue(cd)
          ? { done: true, value: undefined }
          : { done: false, observed: conditionText(cd) };
      }
    );
    const secret = await kubeGet(tools, 'secret', `${name}-kubeconfig`, NAMESPACE);
    const value = secret?.data?.value;
    if (!value)
      throw ApplicationFailure.create({
        type: FailureTypes.CommandFailed,
        message: `secret ${NAMESPACE}/${name}-kubeconfig has no kubeconfig yet`,
      });
    await writeSecretFile(tools.file(kubeconfigPath(ctx)), Buffer.from(value, 'base64').toString('utf8'));
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
        event(
          'kof_regional_deployment_completed',
          `KOF regional cluster ${name} ready; kubeconfig in ./${kubeconfigPath(ctx)}`
        ),
      ],
    };
  },

  async rollback(ctx) {
    const tools = toolbox(deps, ctx);
    const name = clusterName(ctx);
    if (await kubeGet(tools, 'crd', 'clusterdeployments.k0rdent.mirantis.com')) {
      await kubeDelete(tools, KIND, name, NAMESPACE);
      await waitFor(
        {
          what: `ClusterDeployment ${name} deleted`,
          timeoutMs: ctx.config.timeouts.k0rdent_install_wait * 1000,
          ...tools.poll,
        },
        async () =>
          (await kubeGet(tools, KIND, name, NAMESPACE))
            ? { done: false, observed: 'still there' }
            : { done: true, value: undefined }
      );
    }
    await fs.rm(tools.file(kubeconfigPath(ctx)), { force: true });
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
