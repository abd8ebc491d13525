/**
 * install_azure_csi: the Azure disk CSI driver on the management cluster (cloud config secret, driver,
 * controller, node daemon set) and the default storage class `managed-csi` that KOF's volumes use.
 */
import { ApplicationFailure } from '@temporalio/common';
import { namesFor } from '../config/naming';
import type { PhaseContext } from '../workflows/messages';
import { FailureTypes } from '../workflows/messages';
import type { KubeObject } from './cluster-ops';
import { kubeApply, kubeDelete, kubeGet, waitFor } from './cluster-ops';
import type { Phase, PhaseFactory } from './phase';
import { event, verdict } from './phase';
import { AZURE_CREDENTIALS_FILE, readAzureCredentials } from './setup-azure-children';
import type { Toolbox } from './toolbox';
import { toolbox } from './toolbox';

const NS = 'kube-system';
const DRIVER = 'disk.csi.azure.com';
const CONTROLLER = 'csi-azuredisk-controller';
const NODE = 'csi-azuredisk-node';
const STORAGE_CLASS = 'managed-csi';
const IMAGE = 'mcr.microsoft.com/oss/kubernetes-csi/azuredisk-csi:v1.30.0';

/** What the driver is made of, in the order it is applied (removed in reverse). */
function manifests(ctx: PhaseContext, cloudConfig: string): Record<string, unknown>[] {
  const labels = (app: string) => ({ app });
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'azure-cloud-provider', namespace: NS },
      type: 'Opaque',
      stringData: { 'cloud-config': cloudConfig, 'azure.json': cloudConfig },
    },
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'csi-azuredisk-controller-sa', namespace: NS },
    },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'csi-azuredisk-node-sa', namespace: NS } },
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'CSIDriver',
      metadata: { name: DRIVER },
      spec: { attachRequired: true, podInfoOnMount: false, fsGroupPolicy: 'File' },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: CONTROLLER, namespace: NS },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels(CONTROLLER) },
        template: {
          metadata: { labels: labels(CONTROLLER) },
          spec: {
            hostNetwork: true,
            serviceAccountName: 'csi-azuredisk-controller-sa',
            containers: [
              { name: 'azuredisk', image: IMAGE, args: ['--endpoint=unix:///csi/csi.sock', '--v=5'] },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: NODE, namespace: NS },
      spec: {
        selector: { matchLabels: labels(NODE) },
        template: {
          metadata: { labels: labels(NODE) },
          spec: {
            hostNetwork: true,
            serviceAccountName: 'csi-azuredisk-node-sa',
            containers: [
              {
                name: 'azuredisk',
                image: IMAGE,
                args: ['--endpoint=unix:///csi/csi.sock', '--v=5'],
                volumeMounts: [{ name: 'kubelet-dir', mountPath: '/var/lib/k0s/kubelet' }],
              },
            ],
            volumes: [{ name: 'kubelet-dir', hostPath: { path: '/var/lib/k0s/kubelet', type: 'Directory' } }],
          },
        },
      },
    },
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: {
        name: STORAGE_CLASS,
        annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
      },
      provisioner: DRIVER,
      parameters: { skuName: 'StandardSSD_ZRS' },
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'WaitForFirstConsumer',
      allowVolumeExpansion: true,
    },
  ];
}

/** Kind, name and namespace of every object of the driver, in the order it is applied. */
export function csiObjects(ctx: PhaseContext): { kind: string; name: string; namespace?: string }[] {
  return manifests(ctx, '').map((doc) => {
    const meta = doc.metadata as { name: string; namespace?: string };
    return {
      kind: String(doc.kind),
      name: meta.name,
      ...(meta.namespace ? { namespace: meta.namespace } : {}),
    };
  });
}

async function cloudConfig(ctx: PhaseContext, tools: Toolbox): Promise<string> {
  const creds = await readAzureCredentials(tools);
  if (!creds)
    throw ApplicationFailure.create({
      type: FailureTypes.NotFound,
      message: `${AZURE_CREDENTIALS_FILE} is missing: the CSI driver needs the service principal setup_azure_children makes`,
      nonRetryable: true,
    });
  const names = namesFor(ctx.deploymentId, ctx.config);
  return JSON.stringify(
    {
      cloud: 'AzurePublicCloud',
      tenantId: creds.tenant_id,
      subscriptionId: creds.subscription_id,
      aadClientId: creds.client_id,
      aadClientSecret: creds.client_secret,
      resourceGroup: names.resourceGroup,
      location: ctx.config.azure.location,
      vnetName: names.vnet,
      subnetName: names.subnet,
      securityGroupName: names.nsg,
      vnetResourceGroup: names.resourceGroup,
      useInstanceMetadata: true,
      vmType: 'standard',
    },
    null,
    2
  );
}

function available(d: KubeObject | undefined): boolean {
  const want = Number(d?.spec?.replicas ?? 1);
  return d !== undefined && (d.status?.availableReplicas ?? 0) >= want;
}

/** The install_azure_csi phase. */
export const installAzureCsiPhase: PhaseFactory = (deps): Phase => ({
  async check(ctx) {
    const tools = toolbox(deps, ctx);
    const problems: string[] = [];
    if (!(await kubeGet(tools, 'csidriver', DRIVER))) problems.push(`CSIDriver ${DRIVER} is missing`);
    if (!(await kubeGet(tools, 'storageclass', STORAGE_CLASS)))
      problems.push(`StorageClass ${STORAGE_CLASS} is missing`);
    if (!available(await kubeGet(tools, 'deployment', CONTROLLER, NS)))
      problems.push(`${CONTROLLER} is not available`);
    return verdict(problems);
  },

  async apply(ctx) {
    const tools = toolbox(deps, ctx);
    await kubeApply(tools, manifests(ctx, await cloudConfig(ctx, tools)));
    await waitFor(
      {
        what: `deployment ${NS}/${CONTROLLER} available`,
        timeoutMs: ctx.config.timeouts.k0rdent_install_wait * 1000,
        ...tools.poll,
      },
      async () => {
        const d = await kubeGet(tools, 'deployment', CONTROLLER, NS);
        return available(d)
          ? { done: true, value: undefined }
          : {
              done: false,
              observed: `${d?.status?.availableReplicas ?? 0}/${Number(d?.spec?.replicas ?? 1)} available`,
            };
      }
    );
    return {
      patch: { values: { azure_csi_installed: true } },
      events: [
        event(
          'azure_csi_installed',
          `Azure disk CSI driver installed with default storage class ${STORAGE_CLASS}`
        ),
      ],
    };
  },

  async rollback(ctx) {
    const tools = toolbox(deps, ctx);
    for (const o of csiObjects(ctx).reverse())
      await kubeDelete(tools, o.kind.toLowerCase(), o.name, o.namespace);
    return {
      patch: { values: { azure_csi_installed: false } },
      events: [event('azure_csi_uninstalled', 'Azure disk CSI driver and its storage class removed')],
    };
  },
});
