/** install_k0rdent: the kcm Helm release at the configured version, and its Management object Ready. */
import type { PhaseContext } from '../workflows/messages';
import {
  conditionText,
  conditionTrue,
  helmEnsure,
  helmRemove,
  helmStatus,
  kubeGet,
  releaseAt,
  waitFor,
} from './cluster-ops';
import type { Phase, PhaseFactory } from './phase';
import { event, verdict } from './phase';
import type { Toolbox } from './toolbox';
import { toolbox } from './toolbox';

const RELEASE = 'kcm';
const MANAGEMENT = 'kcm';

function k0rdent(ctx: PhaseContext) {
  return ctx.config.software.k0rdent;
}

async function management(tools: Toolbox) {
  return kubeGet(tools, 'management', MANAGEMENT);
}

/** The install_k0rdent phase. */
export const installK0rdentPhase: PhaseFactory = (deps): Phase => ({
  async check(ctx) {
    const tools = toolbox(deps, ctx);
    const { namespace, version } = k0rdent(ctx);
    const release = await helmStatus(tools, RELEASE, namespace);
    if (!releaseAt(release, version))
      return verdict([
        `release ${namespace}/${RELEASE} is ${release ? `${release.info.status} at ${release.chart?.metadata?.version ?? '?'}` : 'missing'}, want ${version}`,
      ]);
    const mgmt = await management(tools);
    return verdict(conditionTrue(mgmt) ? [] : [`Management ${MANAGEMENT}: ${conditionText(mgmt)}`]);
  },

  async apply(ctx) {
    const tools = toolbox(deps, ctx);
    const { namespace, version, registry } = k0rdent(ctx);
    const wait = ctx.config.timeouts.k0rdent_install_wait;
    const events = [event('k0rdent_installation_started', `Installing k0rdent ${version} from ${registry}`)];
    const outcome = await helmEnsure(tools, {
      release: RELEASE,
      namespace,
      chart: registry,
      version,
      timeoutSeconds: wait,
      pendingGraceMs: ctx.config.timeouts.k0s_install_wait * 1000,
    });
    if (outcome === 'repaired')
      events.push(
        event(
          'k0rdent_release_repaired',
          `Release ${RELEASE} left pending by an interrupted install was reinstalled`
        )
      );
    events.push(
      event('k0rdent_installation_completed', `k0rdent Helm release ${RELEASE} deployed in ${namespace}`)
    );
    await waitFor(
      { what: `Management ${MANAGEMENT} Ready`, timeoutMs: wait * 1000, ...tools.poll },
      async () => {
        const mgmt = await management(tools);
        return conditionTrue(mgmt)
          ? { done: true, value: undefined }
          : { done: false, observed: conditionText(mgmt) };
      }
    );
    events.push(event('k0rdent_ready', `Management object ${MANAGEMENT} is Ready`));
    return { patch: { values: { k0rdent_installed: true, k0rdent_ready: true } }, events };
  },

  async rollback(ctx) {
    const tools = toolbox(deps, ctx);
    const removed = await helmRemove(tools, RELEASE, k0rdent(ctx).namespace);
    return {
      patch: { values: { k0rdent_installed: false, k0rdent_ready: false } },
      events: [
        event(
          'k0rdent_uninstalled',
          removed
            ? `k0rdent Helm release ${RELEASE} uninstalled`
            : `k0rdent Helm release ${RELEASE} was not installed`
        ),
      ],
    };
  },
});
