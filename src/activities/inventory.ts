/**
 * What each phase makes in the world, item by item (Azure resources, the tunnel, k0s, Helm releases,
 * cluster objects, the service principal), and a read-only look at which of them exist now. `plan`
 * shows them as created, kept or deleted.
 */
import { phaseResources } from '../azure/ownership';
import { deploymentScope } from '../azure/scope';
import { namesFor } from '../config/naming';
import type { PhaseName } from '../workflows/phases';
import type { InventoryItem, ObservedItem, PhaseContext } from '../workflows/messages';
import { helmStatus, kubeGet } from './cluster-ops';
import { upInterfaces } from './connect-vpn';
import { csiObjects } from './install-azure-csi';
import { releases as kofReleases } from './install-kof-mothership';
import { NAMESPACE as KOF_REGIONAL_NAMESPACE, clusterName as kofRegionalName } from './install-kof-regional';
import type { PhaseDeps } from './phase';
import { CHILDREN_OBJECTS, listSp } from './setup-azure-children';
import type { Toolbox } from './toolbox';
import { toolbox } from './toolbox';

/** The Azure resources a phase makes, from the one statement of them. */
function azureItems(ctx: PhaseContext, phase: PhaseName): InventoryItem[] {
  return phaseResources(namesFor(ctx.deploymentId, ctx.config))
    .filter((r) => r.phase === phase)
    .map((r) => ({ kind: 'azure', type: r.type, name: r.name }));
}
const object = (type: string, name: string, namespace?: string): InventoryItem => ({
  kind: 'object',
  type,
  name,
  ...(namespace ? { namespace } : {}),
});

/** The items of every phase, in the order the phase makes them; a missing phase does not compile. */
export const PHASE_ITEMS: Record<PhaseName, (ctx: PhaseContext) => InventoryItem[]> = {
  prepare_deployment: () => [],
  setup_network: (ctx) => azureItems(ctx, 'setup_network'),
  create_vms: (ctx) => azureItems(ctx, 'create_vms'),
  setup_vpn: () => [],
  connect_vpn: (ctx) => [
    {
      kind: 'tunnel',
      type: 'WireGuard interface',
      name: namesFor(ctx.deploymentId, ctx.config).wireguardInterface,
    },
  ],
  install_k0s: (ctx) => [{ kind: 'k0s', type: 'k0s cluster', name: ctx.deploymentId }],
  install_k0rdent: (ctx) => [
    { kind: 'helm', type: 'Helm release', name: 'kcm', namespace: ctx.config.software.k0rdent.namespace },
  ],
  setup_azure_children: (ctx) => [
    ...CHILDREN_OBJECTS.map((o) => object(o.kind, o.name, o.namespace)),
    {
      kind: 'sp',
      type: 'service principal',
      name: namesFor(ctx.deploymentId, ctx.config).servicePrincipal,
    },
  ],
  install_azure_csi: (ctx) => csiObjects(ctx).map((o) => object(o.kind, o.name, o.namespace)),
  install_kof_mothership: (ctx) => [
    { ...object('Namespace', ctx.config.kof.mothership.namespace), outlivesRollback: true },
    ...kofReleases(ctx).map((r) => ({
      kind: 'helm' as const,
      type: 'Helm release',
      name: r.release,
      namespace: r.namespace,
    })),
  ],
  install_kof_regional: (ctx) => [object('ClusterDeployment', kofRegionalName(ctx), KOF_REGIONAL_NAMESPACE)],
};

/** `kind:type:namespace/name`, the key an item is compared by. */
export function itemKey(item: InventoryItem): string {
  return `${item.kind}:${item.type}:${item.namespace ? `${item.namespace}/` : ''}${item.name}`;
}

/** Whether the cluster answers with the deployment's kubeconfig: without it nothing in it can be read. */
async function clusterAnswers(tools: Toolbox, kubeconfig: string): Promise<boolean> {
  if (!(await tools.exists(kubeconfig))) return false;
  const result = await tools.kubectl(['get', 'nodes', '-o', 'name'], { allowFailure: true });
  return result.code === 0;
}

/**
 * Which of a phase's items exist now, by reads only: one listing of the resource group, `wg show`,
 * `kubectl get`, `helm status` and `az ad sp list`. `exists` is left out where the world cannot be read
 * (the cluster does not answer): nothing there is known.
 */
export async function observeItems(deps: PhaseDeps, ctx: PhaseContext): Promise<ObservedItem[]> {
  const items = PHASE_ITEMS[ctx.phase](ctx);
  if (items.length === 0) return [];
  const names = namesFor(ctx.deploymentId, ctx.config);
  const tools = toolbox(deps, ctx);
  let azureNames: Set<string> | undefined;
  let cluster: boolean | undefined;
  const out: ObservedItem[] = [];
  for (const item of items) {
    let exists: boolean | undefined;
    switch (item.kind) {
      case 'azure': {
        azureNames ??= await azureInventory(deps, ctx);
        exists = azureNames.has(`${item.type}/${item.name}`.toLowerCase());
        break;
      }
      case 'tunnel': {
        exists = (await upInterfaces(tools, ctx)).includes(item.name);
        break;
      }
      case 'sp': {
        exists = (await listSp(tools, item.name)).length > 0;
        break;
      }
      default: {
        cluster ??= await clusterAnswers(tools, names.kubeconfig);
        if (item.kind === 'k0s') exists = cluster;
        else if (!cluster) exists = undefined;
        else if (item.kind === 'helm')
          exists = (await helmStatus(tools, item.name, item.namespace ?? '')) !== undefined;
        else
          exists = (await kubeGet(tools, item.type.toLowerCase(), item.name, item.namespace)) !== undefined;
      }
    }
    out.push(exists === undefined ? { ...item } : { ...item, exists });
  }
  return out;
}

/** `type/name` (lower case) of the resource group and everything in it. */
async function azureInventory(deps: PhaseDeps, ctx: PhaseContext): Promise<Set<string>> {
  const scope = deploymentScope(ctx.deploymentId, ctx.config);
  const arm = deps.azure(ctx.cloud);
  const found = new Set<string>();
  if (!(await arm.resourceGroupExists(scope))) return found;
  found.add(`Microsoft.Resources/resourceGroups/${scope.resourceGroup}`.toLowerCase());
  for (const r of await arm.listGroupResources(scope.resourceGroup))
    found.add(`${r.type}/${r.name}`.toLowerCase());
  return found;
}
