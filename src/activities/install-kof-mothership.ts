/**
 * install_kof_mothership: the KOF namespace (Istio injection on), Istio once Sveltos is there, the KOF
 * operators, and the mothership, retried while the VictoriaMetrics webhook is not answering yet.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { EventRecord, PhaseContext } from '../workflows/messages';
import { helmEnsure, helmRemove, helmStatus, kubeApply, kubeGet, releaseAt, waitFor } from './cluster-ops';
import type { Phase, PhaseFactory } from './phase';
import { event, verdict } from './phase';
import type { Toolbox } from './toolbox';
import { toolbox } from './toolbox';
import { pause } from './work';

const CHARTS = 'oci://ghcr.io/k0rdent/kof/charts';
const SVELTOS_CRD = 'clusterprofiles.config.projectsveltos.io';

interface Release {
  release: string;
  namespace: string;
  version: string;
  extraArgs: string[];
}

/** The three releases in install order. */
export function releases(ctx: PhaseContext): Release[] {
  const kof = ctx.config.kof;
  const ns = kof.mothership.namespace;
  return [
    {
      release: 'kof-istio',
      namespace: kof.istio.namespace,
      version: kof.istio.version,
      extraArgs: ['--reset-values', '--wait'],
    },
    {
      release: 'kof-operators',
      namespace: ns,
      version: kof.version,
      extraArgs: ['--reset-values', '--wait'],
    },
    {
      release: 'kof-mothership',
      namespace: ns,
      version: kof.version,
      extraArgs: ['--reset-values', '--wait', '--set', `global.storageClass=${kof.mothership.storage_class}`],
    },
  ];
}

async function install(ctx: PhaseContext, tools: Toolbox, r: Release) {
  return helmEnsure(tools, {
    release: r.release,
    namespace: r.namespace,
    chart: `${CHARTS}/${r.release}`,
    version: r.version,
    extraArgs: r.extraArgs,
    timeoutSeconds: ctx.config.timeouts.k0rdent_install_wait,
    pendingGraceMs: ctx.config.timeouts.k0s_install_wait * 1000,
  });
}

/** The install_kof_mothership phase. */
export const installKofMothershipPhase: PhaseFactory = (deps): Phase => ({
  async check(ctx) {
    const tools = toolbox(deps, ctx);
    const problems: string[] = [];
    for (const r of releases(ctx)) {
      const s = await helmStatus(tools, r.release, r.namespace);
      if (!releaseAt(s, r.version))
        problems.push(`release ${r.namespace}/${r.release} is ${s ? s.info.status : 'missing'}`);
    }
    return verdict(problems);
  },

  async apply(ctx) {
    const tools = toolbox(deps, ctx);
    const kof = ctx.config.kof;
    const events: EventRecord[] = [
      event('kof_mothership_deployment_started', `Installing KOF mothership ${kof.version}`),
    ];
    await kubeApply(tools, [
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: kof.mothership.namespace, labels: { 'istio-injection': 'enabled' } },
      },
    ]);
    await waitFor(
      {
        what: `CRD ${SVELTOS_CRD}`,
        timeoutMs: ctx.config.timeouts.k0rdent_install_wait * 1000,
        ...tools.poll,
      },
      async () =>
        (await kubeGet(tools, 'crd', SVELTOS_CRD))
          ? { done: true, value: undefined }
          : { done: false, observed: 'not installed yet' }
    );
    const [istio, operators, mothership] = releases(ctx) as [Release, Release, Release];
    await install(ctx, tools, istio);
    events.push(event('kof_istio_installed', `kof-istio ${istio.version} installed in ${istio.namespace}`));
    await install(ctx, tools, operators);
    events.push(event('kof_operators_installed', `kof-operators ${operators.version} installed`));
    const attempts = kof.mothership.install_retries;
    for (let attempt = 1; ; attempt++) {
      try {
        await install(ctx, tools, mothership);
        break;
      } catch (err) {
        if (attempt >= attempts || !(err instanceof ApplicationFailure)) throw err;
        events.push(
          event(
            'kof_mothership_retry',
            `kof-mothership attempt ${attempt} of ${attempts} failed; retrying in ${kof.mothership.retry_delay_seconds} s`
          )
        );
        await pause(kof.mothership.retry_delay_seconds * 1000, { mothershipAttempt: attempt });
      }
    }
    events.push(event('kof_mothership_installed', `kof-mothership ${mothership.version} installed`));
    events.push(event('kof_mothership_deployment_completed', 'KOF mothership deployment completed'));
    return {
      patch: {
        values: {
          kof_mothership_installed: true,
          kof_mothership_version: kof.version,
          kof_mothership_namespace: kof.mothership.namespace,
        },
      },
      events,
    };
  },

  async rollback(ctx) {
    const tools = toolbox(deps, ctx);
    for (const r of releases(ctx).reverse()) await helmRemove(tools, r.release, r.namespace);
    return {
      patch: {
        values: {
          kof_mothership_installed: false,
          kof_mothership_version: null,
          kof_mothership_namespace: null,
        },
      },
      events: [event('kof_mothership_uninstalled', 'KOF mothership, operators and Istio uninstalled')],
    };
  },
});
