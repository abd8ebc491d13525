/**
 * setup_azure_children: a service principal for child clusters (Contributor on the subscription), its
 * secret in `config/azure-credentials.yaml` (0600, never in state or history), and the k0rdent objects
 * that let CAPZ use it: the identity secret, the AzureClusterIdentity and the Credential.
 */
import { promises as fs } from 'node:fs';
import { parse, stringify } from 'yaml';
import { namesFor } from '../config/naming';
import { writeSecretFile } from '../hosts/keys';
import type { PhaseContext } from '../workflows/messages';
import { kubeApply, kubeDelete, kubeGet, waitFor } from './cluster-ops';
import type { Phase, PhaseFactory } from './phase';
import { event, verdict } from './phase';
import type { Toolbox } from './toolbox';
import { toolbox } from './toolbox';

/** Where the Bash tool keeps the service principal's secret, relative to the deployment folder. */
export const AZURE_CREDENTIALS_FILE = 'config/azure-credentials.yaml';
const NAMESPACE = 'kcm-system';
const IDENTITY = 'azure-cluster-identity';
const IDENTITY_SECRET = 'azure-cluster-identity-secret';
const CREDENTIAL = 'azure-cluster-credential';
const IDENTITY_CRD = 'azureclusteridentities.infrastructure.cluster.x-k8s.io';

/** The service principal's identity and secret as the credentials file holds them. */
export interface AzureCredentials {
  subscription_id: string;
  tenant_id: string;
  client_id: string;
  client_secret: string;
  service_principal_name: string;
}

/** Reads the credentials file, or undefined when it is missing or incomplete. */
export async function readAzureCredentials(tools: Toolbox): Promise<AzureCredentials | undefined> {
  try {
    const doc = parse(await fs.readFile(tools.file(AZURE_CREDENTIALS_FILE), 'utf8')) as {
      azure?: Partial<AzureCredentials>;
    };
    const a = doc.azure;
    if (a?.client_id && a.client_secret && a.tenant_id && a.subscription_id && a.service_principal_name)
      return a as AzureCredentials;
  } catch {
    // missing or unreadable: made again
  }
  return undefined;
}

/** The tenant's service principals of a display name. */
export async function listSp(tools: Toolbox, name: string): Promise<{ appId: string }[]> {
  const r = await tools.run('az', ['ad', 'sp', 'list', '--display-name', name, '-o', 'json']);
  return JSON.parse(r.stdout) as { appId: string }[];
}

/** Makes the service principal, or a new secret for ours when the file lost it. */
async function ensureSp(
  ctx: PhaseContext,
  tools: Toolbox
): Promise<{ creds: AzureCredentials; created: boolean }> {
  const name = namesFor(ctx.deploymentId, ctx.config).servicePrincipal;
  const existing = await listSp(tools, name);
  const saved = await readAzureCredentials(tools);
  if (saved && existing.some((sp) => sp.appId === saved.client_id)) return { creds: saved, created: false };
  const subscription = ctx.cloud.subscriptionId;
  const first = existing[0];
  const r = first
    ? await tools.run('az', ['ad', 'sp', 'credential', 'reset', '--id', first.appId, '-o', 'json'], {
        secretOutput: true,
      })
    : await tools.run(
        'az',
        [
          'ad',
          'sp',
          'create-for-rbac',
          '--name',
          name,
          '--role',
          'contributor',
          '--scopes',
          `/subscriptions/${subscription}`,
          '-o',
          'json',
        ],
        { secretOutput: true }
      );
  const sp = JSON.parse(r.stdout) as { appId: string; password: string; tenant: string };
  const creds: AzureCredentials = {
    subscription_id: subscription,
    tenant_id: sp.tenant,
    client_id: sp.appId,
    client_secret: sp.password,
    service_principal_name: name,
  };
  await writeSecretFile(tools.file(AZURE_CREDENTIALS_FILE), stringify({ azure: creds }));
  return { creds, created: !first };
}

/** Kind, name and namespace of every object the phase applies, in order. */
export const CHILDREN_OBJECTS: readonly { kind: string; name: string; namespace: string }[] = [
  { kind: 'Secret', name: IDENTITY_SECRET, namespace: NAMESPACE },
  { kind: 'AzureClusterIdentity', name: IDENTITY, namespace: NAMESPACE },
  { kind: 'Credential', name: CREDENTIAL, namespace: NAMESPACE },
];

function objects(creds: AzureCredentials): Record<string, unknown>[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: IDENTITY_SECRET,
        namespace: NAMESPACE,
        labels: { 'k0rdent.mirantis.com/component': 'kcm' },
      },
      type: 'Opaque',
      stringData: { clientSecret: creds.client_secret },
    },
    {
      apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta1',
      kind: 'AzureClusterIdentity',
      metadata: {
        name: IDENTITY,
        namespace: NAMESPACE,
        labels: { 'clusterctl.cluster.x-k8s.io/move-hierarchy': 'true' },
      },
      spec: {
        type: 'ServicePrincipal',
        tenantID: creds.tenant_id,
        clientID: creds.client_id,
        clientSecret: { name: IDENTITY_SECRET, namespace: NAMESPACE },
        allowedNamespaces: {},
      },
    },
    {
      apiVersion: 'k0rdent.mirantis.com/v1beta1',
      kind: 'Credential',
      metadata: { name: CREDENTIAL, namespace: NAMESPACE },
      spec: {
        description: 'Azure credentials for child clusters',
        identityRef: {
          apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta1',
          kind: 'AzureClusterIdentity',
          name: IDENTITY,
          namespace: NAMESPACE,
        },
      },
    },
  ];
}

/** The setup_azure_children phase. */
export const setupAzureChildrenPhase: PhaseFactory = (deps): Phase => ({
  async check(ctx) {
    const tools = toolbox(deps, ctx);
    const saved = await readAzureCredentials(tools);
    if (!saved) return verdict([`${AZURE_CREDENTIALS_FILE} is missing`]);
    const problems: string[] = [];
    if (!(await listSp(tools, saved.service_principal_name)).some((sp) => sp.appId === saved.client_id))
      problems.push(`service principal ${saved.client_id} is gone`);
    for (const [kind, name] of [
      ['azureclusteridentity', IDENTITY],
      ['credential', CREDENTIAL],
      ['secret', IDENTITY_SECRET],
    ] as const)
      if (!(await kubeGet(tools, kind, name, NAMESPACE)))
        problems.push(`${kind} ${NAMESPACE}/${name} is missing`);
    return verdict(problems);
  },

  async apply(ctx) {
    const tools = toolbox(deps, ctx);
    await waitFor(
      {
        what: `CRD ${IDENTITY_CRD}`,
        timeoutMs: ctx.config.timeouts.k0rdent_install_wait * 1000,
        ...tools.poll,
      },
      async () =>
        (await kubeGet(tools, 'crd', IDENTITY_CRD))
          ? { done: true, value: undefined }
          : { done: false, observed: 'not installed yet' }
    );
    const { creds, created } = await ensureSp(ctx, tools);
    await kubeApply(tools, objects(creds));
    return {
      patch: { values: { azure_children_configured: true } },
      events: [
        event(
          'azure_credentials_configured',
          `Azure credentials configured for cluster deployment (${creds.service_principal_name}, ${created ? 'created' : 'reused'})`
        ),
      ],
    };
  },

  async rollback(ctx) {
    const tools = toolbox(deps, ctx);
    const name = namesFor(ctx.deploymentId, ctx.config).servicePrincipal;
    if (await kubeGet(tools, 'crd', IDENTITY_CRD)) {
      await kubeDelete(tools, 'credential', CREDENTIAL, NAMESPACE);
      await kubeDelete(tools, 'azureclusteridentity', IDENTITY, NAMESPACE);
    }
    await kubeDelete(tools, 'secret', IDENTITY_SECRET, NAMESPACE);
    for (const sp of await listSp(tools, name))
      await tools.run('az', ['ad', 'sp', 'delete', '--id', sp.appId]);
    await fs.rm(tools.file(AZURE_CREDENTIALS_FILE), { force: true });
    return {
      patch: { values: { azure_children_configured: false } },
      events: [
        event(
          'azure_credentials_cleanup',
          `Service principal ${name}, its secret and the k0rdent credential removed`
        ),
      ],
    };
  },
});
