/** The k0sctl cluster config, in the shape the Bash tool writes. */
import { stringify } from 'yaml';
import type { DeploymentNames, K0rdentConfig } from '../config/types';

/** k0sctl role of each host: a lone controller also runs workloads. */
export function k0sRoles(names: DeploymentNames): { host: string; address: string; role: string }[] {
  const controllers = names.hosts.filter((h) => h.role === 'controller');
  return names.hosts.map((h) => {
    let role = 'worker';
    if (h.role === 'controller')
      role = controllers.length === 1 || h !== controllers[0] ? 'controller+worker' : 'controller';
    return { host: h.name, address: h.wireguardIp, role };
  });
}

/** Renders `k0sctl-config/<ID>-k0sctl.yaml`. */
export function renderK0sctlConfig(names: DeploymentNames, config: K0rdentConfig): string {
  const doc = {
    apiVersion: 'k0sctl.k0sproject.io/v1beta1',
    kind: 'Cluster',
    metadata: { name: names.deploymentId },
    spec: {
      hosts: k0sRoles(names).map((h) => ({
        ssh: { address: h.address, user: config.ssh.username, keyPath: `./${names.sshPrivateKeyPath}` },
        role: h.role,
      })),
      k0s: {
        version: config.software.k0s.version,
        dynamicConfig: false,
        config: {
          spec: {
            network: {
              nodeLocalLoadBalancing: { enabled: true, type: 'EnvoyProxy' },
              provider: 'calico',
              calico: {
                ipAutodetectionMethod: 'can-reach=8.8.8.8',
                envVars: { FELIX_IGNORELOOSERPF: 'true' },
              },
            },
          },
        },
      },
    },
  };
  return stringify(doc, { lineWidth: 0 });
}
