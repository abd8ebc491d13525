/** The charts the emulated OCI registry serves and the objects each one brings into a cluster. */
import { createHash } from 'node:crypto';
import type { ResourceType } from './kinds';
import { crdObject } from './kinds';

/** One object a chart renders; `readyAfter` starts a readiness clock when the release is deployed. */
export interface RenderedObject {
  doc: Record<string, unknown>;
  readyAfter?: 'managementReadyMs' | 'webhookReadyMs';
}

/** A chart of the registry. */
export interface ChartInfo {
  name: string;
  /** `oci://ghcr.io/k0rdent/...` */
  ref: string;
  /** Published versions, oldest first. */
  versions: string[];
  description: string;
  render(release: string, namespace: string, version: string): RenderedObject[];
}

function crd(
  group: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  versions = ['v1beta1'],
  shortNames: string[] = []
): RenderedObject {
  const t: Omit<ResourceType, 'singular'> = { group, kind, plural, namespaced, versions, shortNames };
  return { doc: crdObject(t) };
}

function deployment(
  name: string,
  namespace: string,
  appName: string,
  image: string,
  replicas = 1
): RenderedObject {
  const labels = { 'app.kubernetes.io/name': appName, 'app.kubernetes.io/instance': name };
  return {
    doc: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace, labels },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: 'manager', image }] } },
      },
    },
  };
}

/** ClusterTemplates kcm ships in its namespace. */
export const KCM_CLUSTER_TEMPLATES = [
  'adopted-cluster-1-0-1',
  'aws-standalone-cp-1-0-8',
  'azure-aks-1-0-1',
  'azure-hosted-cp-1-0-8',
  'azure-standalone-cp-1-0-8',
  'openstack-standalone-cp-1-0-8',
  'vsphere-standalone-cp-1-0-7',
];

function renderKcm(release: string, namespace: string, version: string): RenderedObject[] {
  const dashed = version.replace(/\./g, '-');
  return [
    crd('k0rdent.mirantis.com', 'Management', 'managements', false),
    crd('k0rdent.mirantis.com', 'Credential', 'credentials', true),
    crd('k0rdent.mirantis.com', 'ClusterTemplate', 'clustertemplates', true),
    crd('k0rdent.mirantis.com', 'ClusterDeployment', 'clusterdeployments', true),
    crd('k0rdent.mirantis.com', 'ServiceTemplate', 'servicetemplates', true),
    crd('k0rdent.mirantis.com', 'ProviderTemplate', 'providertemplates', false),
    crd('infrastructure.cluster.x-k8s.io', 'AzureClusterIdentity', 'azureclusteridentities', true),
    crd('cluster.x-k8s.io', 'Cluster', 'clusters', true),
    crd('config.projectsveltos.io', 'ClusterProfile', 'clusterprofiles', false),
    crd('config.projectsveltos.io', 'Profile', 'profiles', true),
    deployment(
      `${release}-controller-manager`,
      namespace,
      'kcm',
      `ghcr.io/k0rdent/kcm/controller:${version}`
    ),
    deployment(
      'capi-controller-manager',
      namespace,
      'cluster-api',
      'registry.k8s.io/cluster-api/cluster-api-controller:v1.10.4'
    ),
    deployment(
      'capz-controller-manager',
      namespace,
      'cluster-api-provider-azure',
      'registry.k8s.io/cluster-api-azure/cluster-api-azure-controller:v1.20.2'
    ),
    deployment(
      'azureserviceoperator-controller-manager',
      namespace,
      'azure-service-operator',
      'mcr.microsoft.com/k8s/azureserviceoperator:v2.13.0'
    ),
    { doc: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'projectsveltos' } } },
    deployment(
      'sc-manager',
      'projectsveltos',
      'sc-manager',
      'docker.io/projectsveltos/sveltoscluster-manager:v0.57.2'
    ),
    deployment(
      'addon-controller',
      'projectsveltos',
      'addon-controller',
      'docker.io/projectsveltos/addon-controller:v0.57.2'
    ),
    {
      doc: {
        apiVersion: 'k0rdent.mirantis.com/v1beta1',
        kind: 'Management',
        metadata: { name: 'kcm' },
        spec: {
          release: `kcm-${dashed}`,
          providers: [
            { name: 'cluster-api-provider-k0sproject-k0smotron' },
            { name: 'cluster-api-provider-azure' },
            { name: 'projectsveltos' },
          ],
        },
      },
      readyAfter: 'managementReadyMs',
    },
    ...KCM_CLUSTER_TEMPLATES.map((name) => ({
      doc: {
        apiVersion: 'k0rdent.mirantis.com/v1beta1',
        kind: 'ClusterTemplate',
        metadata: { name, namespace },
        spec: {
          helm: {
            chartSpec: {
              chart: name.replace(/-\d+-\d+-\d+$/, ''),
              version: name.replace(/^.*-(\d+)-(\d+)-(\d+)$/, '$1.$2.$3'),
            },
          },
        },
      },
    })),
  ];
}

function renderKofIstio(release: string, namespace: string, version: string): RenderedObject[] {
  return [
    crd('networking.istio.io', 'Gateway', 'gateways', true, ['v1', 'v1beta1']),
    crd('networking.istio.io', 'VirtualService', 'virtualservices', true, ['v1', 'v1beta1'], ['vs']),
    crd('networking.istio.io', 'DestinationRule', 'destinationrules', true, ['v1', 'v1beta1'], ['dr']),
    crd('security.istio.io', 'PeerAuthentication', 'peerauthentications', true, ['v1', 'v1beta1'], ['pa']),
    deployment('istiod', namespace, 'istiod', 'docker.io/istio/pilot:1.25.2'),
    deployment(`${release}-operator`, namespace, 'kof-istio', `ghcr.io/k0rdent/kof/kof-istio:${version}`),
    {
      doc: {
        apiVersion: 'config.projectsveltos.io/v1beta1',
        kind: 'ClusterProfile',
        metadata: { name: 'kof-istio-network' },
        spec: { clusterSelector: { matchLabels: { 'k0rdent.mirantis.com/istio-role': 'child' } } },
      },
    },
  ];
}

const VM_KINDS: [string, string][] = [
  ['VMAlertmanager', 'vmalertmanagers'],
  ['VMAgent', 'vmagents'],
  ['VMAlert', 'vmalerts'],
  ['VMAuth', 'vmauths'],
  ['VMCluster', 'vmclusters'],
  ['VMRule', 'vmrules'],
  ['VMServiceScrape', 'vmservicescrapes'],
  ['VMSingle', 'vmsingles'],
  ['VMUser', 'vmusers'],
];

function renderKofOperators(release: string, namespace: string, version: string): RenderedObject[] {
  const operator = `${release}-victoria-metrics-operator`;
  return [
    ...VM_KINDS.map(([kind, plural]) => crd('operator.victoriametrics.com', kind, plural, true)),
    crd(
      'opentelemetry.io',
      'OpenTelemetryCollector',
      'opentelemetrycollectors',
      true,
      ['v1beta1'],
      ['otelcol']
    ),
    deployment(operator, namespace, 'victoria-metrics-operator', 'victoriametrics/operator:v0.56.0'),
    deployment(
      `${release}-opentelemetry-operator`,
      namespace,
      'opentelemetry-operator',
      `ghcr.io/k0rdent/kof/opentelemetry-operator:${version}`
    ),
    {
      doc: {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name: `${operator}-admission` },
        webhooks: VM_KINDS.map(([kind, plural]) => ({
          name: `${kind.toLowerCase()}.victoriametrics.com`,
          admissionReviewVersions: ['v1'],
          sideEffects: 'None',
          failurePolicy: 'Fail',
          clientConfig: {
            service: {
              name: operator,
              namespace,
              port: 9443,
              path: `/validate-operator-victoriametrics-com-v1beta1-${kind.toLowerCase()}`,
            },
          },
          rules: [
            {
              apiGroups: ['operator.victoriametrics.com'],
              apiVersions: ['v1beta1'],
              operations: ['CREATE', 'UPDATE'],
              resources: [plural],
            },
          ],
        })),
      },
      readyAfter: 'webhookReadyMs',
    },
  ];
}

function renderKofMothership(release: string, namespace: string, version: string): RenderedObject[] {
  return [
    deployment(
      `${release}-kof-operator`,
      namespace,
      'kof-mothership',
      `ghcr.io/k0rdent/kof/kof-operator-controller:${version}`
    ),
    deployment(`${release}-promxy`, namespace, 'kof-mothership', 'ghcr.io/jacksontj/promxy:v0.0.93'),
    {
      doc: {
        apiVersion: 'operator.victoriametrics.com/v1beta1',
        kind: 'VMAlertmanager',
        metadata: { name: 'cluster', namespace },
        spec: { replicaCount: 1 },
      },
    },
    {
      doc: {
        apiVersion: 'operator.victoriametrics.com/v1beta1',
        kind: 'VMCluster',
        metadata: { name: 'cluster', namespace },
        spec: { retentionPeriod: '30d', vmstorage: { replicaCount: 1 } },
      },
    },
    {
      doc: {
        apiVersion: 'config.projectsveltos.io/v1beta1',
        kind: 'ClusterProfile',
        metadata: { name: 'kof-storage-secrets' },
        spec: { clusterSelector: { matchLabels: { 'k0rdent.mirantis.com/kof-cluster-role': 'regional' } } },
      },
    },
  ];
}

const KOF_VERSIONS = ['1.0.0', '1.1.0', '1.2.0', '1.3.0'];

/** Every chart the registry serves. */
export const CHARTS: readonly ChartInfo[] = [
  {
    name: 'kcm',
    ref: 'oci://ghcr.io/k0rdent/kcm/charts/kcm',
    versions: ['1.0.0', '1.1.0', '1.1.1', '1.2.0', '1.3.0'],
    description: 'A Helm chart for the k0rdent cluster manager (kcm)',
    render: renderKcm,
  },
  {
    name: 'kof-istio',
    ref: 'oci://ghcr.io/k0rdent/kof/charts/kof-istio',
    versions: KOF_VERSIONS,
    description: 'Istio for k0rdent Observability and FinOps',
    render: renderKofIstio,
  },
  {
    name: 'kof-operators',
    ref: 'oci://ghcr.io/k0rdent/kof/charts/kof-operators',
    versions: KOF_VERSIONS,
    description: 'Operators of k0rdent Observability and FinOps',
    render: renderKofOperators,
  },
  {
    name: 'kof-mothership',
    ref: 'oci://ghcr.io/k0rdent/kof/charts/kof-mothership',
    versions: KOF_VERSIONS,
    description: 'Mothership of k0rdent Observability and FinOps',
    render: renderKofMothership,
  },
];

/** The chart at a reference (`oci://...`), if the registry serves it. */
export function chartAt(ref: string): ChartInfo | undefined {
  return CHARTS.find((c) => c.ref === ref.replace(/\/+$/, ''));
}

/** The manifest digest the registry reports for a chart version. */
export function chartDigest(chart: ChartInfo, version: string): string {
  return `sha256:${createHash('sha256').update(`${chart.ref}:${version}`).digest('hex')}`;
}
