/** install_k0rdent: the kcm Helm release, upgraded in place when it exists, and its Management object. */
import type { PhaseFactory } from './phase';
import { event } from './phase';
import { worldPhase } from './world-phase';

/** The install_k0rdent phase. */
export const installK0rdentPhase: PhaseFactory = (deps) =>
  worldPhase(deps, {
    resources: (ctx) => [
      {
        kind: 'helmRelease',
        name: `${ctx.config.software.k0rdent.namespace}/kcm`,
        props: {
          chart: ctx.config.software.k0rdent.registry,
          version: ctx.config.software.k0rdent.version,
          status: 'deployed',
        },
      },
      { kind: 'management', name: 'kcm', props: { ready: true } },
    ],
    stepsPerResource: 3,
    applied: (ctx) => ({
      patch: { values: { k0rdent_installed: true, k0rdent_ready: true } },
      events: [
        event('k0rdent_installation_started', `Installing k0rdent ${ctx.config.software.k0rdent.version}`),
        event('k0rdent_installation_completed', 'k0rdent Helm release kcm deployed'),
        event('k0rdent_ready', 'Management object kcm is ready'),
      ],
    }),
    removed: () => ({
      patch: { values: { k0rdent_installed: false, k0rdent_ready: false } },
      events: [event('k0rdent_uninstalled', 'k0rdent Helm release kcm uninstalled')],
    }),
  });
