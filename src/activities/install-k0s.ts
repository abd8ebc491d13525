/** install_k0s: the k0sctl config, the k0s cluster on the VMs, and its kubeconfig. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { namesFor } from '../config/naming';
import { k0sRoles, renderK0sctlConfig } from '../cluster/k0sctl';
import { writeSecretFile } from '../hosts/keys';
import { isoSecond } from '../workflows/state';
import type { Phase, PhaseFactory } from './phase';
import { event, verdict } from './phase';
import { worldPhase } from './world-phase';

/** The install_k0s phase. */
export const installK0sPhase: PhaseFactory = (deps): Phase => {
  const inner = worldPhase(deps, {
    resources: (ctx) => [
      {
        kind: 'k0sCluster',
        name: ctx.deploymentId,
        props: {
          version: ctx.config.software.k0s.version,
          nodes: k0sRoles(namesFor(ctx.deploymentId, ctx.config)),
        },
      },
    ],
    stepsPerResource: 4,
    applied: (ctx) => {
      const names = namesFor(ctx.deploymentId, ctx.config);
      const now = isoSecond(Date.now());
      return {
        patch: {
          values: { k0s_config_generated: true, k0s_cluster_deployed: true },
          artifacts: {
            k0sctl_config: { path: `./${names.k0sctlConfig}`, updated_at: now },
            kubeconfig_file: { path: `./${names.kubeconfig}`, updated_at: now },
          },
        },
        events: [
          event('k0s_config_generated', `k0sctl config written to ./${names.k0sctlConfig}`),
          event('k0s_deployment_started', `k0s ${ctx.config.software.k0s.version} deployment started`),
          event('k0s_deployment_completed', `k0s cluster deployed on ${names.hosts.length} nodes`),
          event('kubeconfig_retrieved', `Kubeconfig saved to ./${names.kubeconfig}`),
        ],
      };
    },
    removed: (ctx) => ({
      patch: {
        values: { k0s_config_generated: false, k0s_cluster_deployed: false },
        artifacts: { k0sctl_config: null, kubeconfig_file: null },
      },
      events: [
        event('k0s_cluster_uninstalled', `k0s cluster ${ctx.deploymentId} reset`),
        event('k0s_config_reset', 'k0sctl config and kubeconfig removed'),
      ],
    }),
  });
  return {
    async check(ctx) {
      const names = namesFor(ctx.deploymentId, ctx.config);
      const seen = await inner.check(ctx);
      const kubeconfig = await fs.access(path.join(ctx.workDir, names.kubeconfig)).then(
        () => true,
        () => false
      );
      if (!kubeconfig)
        return verdict([
          ...(seen.reason ? [seen.reason] : []),
          `kubeconfig ./${names.kubeconfig} is missing`,
        ]);
      return seen;
    },
    async apply(ctx) {
      const names = namesFor(ctx.deploymentId, ctx.config);
      await fs.mkdir(path.join(ctx.workDir, path.dirname(names.k0sctlConfig)), { recursive: true });
      await fs.writeFile(path.join(ctx.workDir, names.k0sctlConfig), renderK0sctlConfig(names, ctx.config));
      const result = await inner.apply(ctx);
      const controller = names.hosts.find((h) => h.role === 'controller');
      const kubeconfig = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          { name: ctx.deploymentId, cluster: { server: `https://${controller?.wireguardIp ?? ''}:6443` } },
        ],
        contexts: [{ name: ctx.deploymentId, context: { cluster: ctx.deploymentId, user: 'admin' } }],
        'current-context': ctx.deploymentId,
        users: [{ name: 'admin', user: {} }],
      };
      await writeSecretFile(path.join(ctx.workDir, names.kubeconfig), stringify(kubeconfig));
      return result;
    },
    async rollback(ctx) {
      const names = namesFor(ctx.deploymentId, ctx.config);
      const result = await inner.rollback(ctx);
      await fs.rm(path.join(ctx.workDir, path.dirname(names.k0sctlConfig)), { recursive: true, force: true });
      return result;
    },
  };
};
