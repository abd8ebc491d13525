/** install_kof_mothership: Istio, the KOF operators and the KOF mothership. */
import type { PhaseFactory } from './phase';
import { event } from './phase';
import { worldPhase } from './world-phase';

/** The install_kof_mothership phase. */
export const installKofMothershipPhase: PhaseFactory = (deps) =>
  worldPhase(deps, {
    resources: (ctx) => {
      const kof = ctx.config.kof;
      return [
        {
          kind: 'helmRelease',
          name: `${kof.istio.namespace}/kof-istio`,
          props: { version: kof.istio.version },
        },
        {
          kind: 'helmRelease',
          name: `${kof.mothership.namespace}/kof-operators`,
          props: { version: kof.version },
        },
        {
          kind: 'helmRelease',
          name: `${kof.mothership.namespace}/kof-mothership`,
          props: { version: kof.version },
        },
      ];
    },
    applied: (ctx) => ({
      patch: {
        values: {
          kof_mothership_installed: true,
          kof_mothership_version: ctx.config.kof.version,
          kof_mothership_namespace: ctx.config.kof.mothership.namespace,
        },
      },
      events: [
        event('kof_mothership_deployment_started', `Installing KOF mothership ${ctx.config.kof.version}`),
        event('kof_istio_installed', `kof-istio installed in ${ctx.config.kof.istio.namespace}`),
        event('kof_operators_installed', 'kof-operators installed'),
        event('kof_mothership_installed', 'kof-mothership installed'),
        event('kof_mothership_deployment_completed', 'KOF mothership deployment completed'),
      ],
    }),
    removed: () => ({
      patch: {
        values: {
          kof_mothership_installed: false,
          kof_mothership_version: null,
          kof_mothership_namespace: null,
        },
      },
      events: [event('kof_mothership_uninstalled', 'KOF mothership, operators and Istio uninstalled')],
    }),
  });
