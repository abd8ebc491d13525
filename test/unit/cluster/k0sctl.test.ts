import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { k0sRoles, renderK0sctlConfig } from '../../../src/cluster/k0sctl';
import { defaultConfig } from '../../../src/config/defaults';
import { namesFor } from '../../../src/config/naming';
import type { K0rdentConfig } from '../../../src/config/types';

const ID = 'k0rdent-q7m2xk4p';
const ROLES = ['controller', 'worker', 'controller+worker', 'single'];

function configWith(controllers: number, workers: number): K0rdentConfig {
  const config = defaultConfig();
  config.cluster = {
    controllers: { count: controllers, zones: [1, 2, 3] },
    workers: { count: workers, zones: [1, 2, 3] },
  };
  return config;
}

function render(config: K0rdentConfig): Record<string, unknown> {
  return parse(renderK0sctlConfig(namesFor(ID, config), config)) as Record<string, unknown>;
}

function keysOf(value: unknown, where: string): string[] {
  assert.ok(
    value !== null && typeof value === 'object' && !Array.isArray(value),
    `${where} is not a mapping`
  );
  return Object.keys(value).sort();
}

/** The k0sctl `Cluster` shape (k0sctl.k0sproject.io/v1beta1), limited to the fields this tool writes. */
function assertClusterShape(doc: Record<string, unknown>, config: K0rdentConfig): void {
  assert.deepEqual(keysOf(doc, '(root)'), ['apiVersion', 'kind', 'metadata', 'spec']);
  assert.equal(doc.apiVersion, 'k0sctl.k0sproject.io/v1beta1');
  assert.equal(doc.kind, 'Cluster');
  assert.deepEqual(doc.metadata, { name: ID });
  const spec = doc.spec as { hosts: unknown; k0s: Record<string, unknown> };
  assert.deepEqual(keysOf(spec, 'spec'), ['hosts', 'k0s']);
  assert.ok(Array.isArray(spec.hosts) && spec.hosts.length > 0, 'spec.hosts is a non-empty list');
  (spec.hosts as Record<string, unknown>[]).forEach((host, i) => {
    assert.deepEqual(keysOf(host, `spec.hosts[${i}]`), ['role', 'ssh']);
    assert.ok(ROLES.includes(host.role as string), `spec.hosts[${i}].role ${String(host.role)}`);
    const ssh = host.ssh as Record<string, unknown>;
    assert.deepEqual(keysOf(ssh, `spec.hosts[${i}].ssh`), ['address', 'keyPath', 'user']);
    assert.match(ssh.address as string, /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(ssh.user, config.ssh.username);
    assert.equal(ssh.keyPath, `./azure-resources/${ID}-ssh-key`);
  });
  assert.deepEqual(keysOf(spec.k0s, 'spec.k0s'), ['config', 'dynamicConfig', 'version']);
  assert.equal(spec.k0s.version, config.software.k0s.version);
  assert.equal(spec.k0s.dynamicConfig, false);
  assert.deepEqual(spec.k0s.config, {
    spec: {
      network: {
        nodeLocalLoadBalancing: { enabled: true, type: 'EnvoyProxy' },
        provider: 'calico',
        calico: { ipAutodetectionMethod: 'can-reach=8.8.8.8', envVars: { FELIX_IGNORELOOSERPF: 'true' } },
      },
    },
  });
}

describe('k0sctl config', () => {
  it('renders the documented 1 + 1 example exactly', () => {
    const keyPath = `./azure-resources/${ID}-ssh-key`;
    assert.deepEqual(render(defaultConfig()), {
      apiVersion: 'k0sctl.k0sproject.io/v1beta1',
      kind: 'Cluster',
      metadata: { name: ID },
      spec: {
        hosts: [
          { ssh: { address: '192.168.100.11', user: 'k0rdent', keyPath }, role: 'controller+worker' },
          { ssh: { address: '192.168.100.12', user: 'k0rdent', keyPath }, role: 'worker' },
        ],
        k0s: {
          version: 'v1.33.2+k0s.0',
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
    });
  });

  const topologies = [
    { controllers: 1, workers: 0, roles: ['controller+worker'] },
    { controllers: 1, workers: 2, roles: ['controller+worker', 'worker', 'worker'] },
    { controllers: 2, workers: 2, roles: ['controller', 'controller+worker', 'worker', 'worker'] },
    {
      controllers: 3,
      workers: 2,
      roles: ['controller', 'controller+worker', 'controller+worker', 'worker', 'worker'],
    },
  ];
  for (const t of topologies) {
    it(`gives ${t.controllers} controller(s) and ${t.workers} worker(s) the roles of the Bash tool, in the documented shape`, () => {
      const config = configWith(t.controllers, t.workers);
      const names = namesFor(ID, config);
      const doc = render(config);
      assertClusterShape(doc, config);
      const hosts = (doc.spec as { hosts: { ssh: { address: string }; role: string }[] }).hosts;
      assert.deepEqual(
        hosts.map((h) => h.role),
        t.roles
      );
      assert.deepEqual(
        hosts.map((h) => h.ssh.address),
        names.hosts.map((h) => h.wireguardIp)
      );
      assert.deepEqual(
        k0sRoles(names),
        names.hosts.map((h, i) => ({ host: h.name, address: h.wireguardIp, role: t.roles[i] }))
      );
    });
  }

  it('takes the k0s version and the SSH user from the config', () => {
    const config = defaultConfig();
    config.software.k0s.version = 'v1.32.6+k0s.0';
    config.ssh.username = 'azureuser';
    const doc = render(config);
    assertClusterShape(doc, config);
    assert.equal((doc.spec as { k0s: { version: string } }).k0s.version, 'v1.32.6+k0s.0');
  });

  it('reads the same under YAML 1.1, as k0sctl (Go) does: a boolean dynamicConfig, string env values', () => {
    const config = configWith(3, 2);
    const doc = parse(renderK0sctlConfig(namesFor(ID, config), config), { version: '1.1' }) as Record<
      string,
      unknown
    >;
    assertClusterShape(doc, config);
  });
});
