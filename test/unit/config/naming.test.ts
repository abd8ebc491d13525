import { strict as assert } from 'assert';
import { existsSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { defaultConfig } from '../../../src/config/defaults';
import {
  SYSTEM_IDENTITY_SOURCES,
  deployerIdentity,
  generateClusterId,
  namesFor,
  readClusterId,
  readOrCreateClusterId,
  sanitizeTagValue,
} from '../../../src/config/naming';
import type { IdentitySources } from '../../../src/config/naming';
import type { K0rdentConfig } from '../../../src/config/types';
import { isDeploymentId } from '../../../src/workflows/messages';
import { tempDir } from './helpers';

const ID = 'k0rdent-q7m2xk4p';

describe('config naming', () => {
  describe('namesFor', () => {
    it('derives every name of a 1 + 1 deployment as the Bash tool does', () => {
      assert.deepEqual(namesFor(ID, defaultConfig()), {
        deploymentId: ID,
        suffix: 'q7m2xk4p',
        resourceGroup: 'k0rdent-q7m2xk4p-resgrp',
        vnet: 'k0rdent-q7m2xk4p-vnet',
        subnet: 'k0rdent-q7m2xk4p-subnet',
        nsg: 'k0rdent-q7m2xk4p-nsg',
        sshKeyResource: 'k0rdent-q7m2xk4p-admin',
        sshPrivateKeyPath: 'azure-resources/k0rdent-q7m2xk4p-ssh-key',
        sshPublicKeyPath: 'azure-resources/k0rdent-q7m2xk4p-ssh-key.pub',
        knownHostsFile: 'azure-resources/k0rdent-q7m2xk4p-known_hosts',
        wireguardDir: 'wireguard',
        cloudInitDir: 'cloud-init-yaml',
        laptopWireguardConfig: 'wireguard/wgk0q7m2xk4p.conf',
        wireguardInterface: 'wgk0q7m2xk4p',
        k0sctlConfig: 'k0sctl-config/k0rdent-q7m2xk4p-k0sctl.yaml',
        kubeconfig: 'k0sctl-config/k0rdent-q7m2xk4p-kubeconfig',
        servicePrincipal: 'k0rdent-q7m2xk4p-cluster-deployment-sp',
        kofRegionalCluster: 'kof-regional-q7m2xk4p-southeastasia',
        laptopWireguardIp: '192.168.100.1',
        hosts: [
          {
            name: 'k0s-controller-1',
            role: 'controller',
            zone: 1,
            size: 'Standard_B2s',
            wireguardIp: '192.168.100.11',
          },
          {
            name: 'k0s-worker-1',
            role: 'worker',
            zone: 1,
            size: 'Standard_B2s',
            wireguardIp: '192.168.100.12',
          },
        ],
      });
    });

    it('plans 3 + 3 hosts: controllers first, zones in turn, addresses from .11', () => {
      const config = defaultConfig();
      config.cluster.controllers = { count: 3, zones: [1, 2, 3] };
      config.cluster.workers = { count: 3, zones: [3, 2] };
      config.vm_sizing.controller.size = 'Standard_DS2_v2';
      config.vm_sizing.worker.size = 'Standard_DS4_v2';
      config.network.wireguard_network = '172.32.32.0/24';
      const names = namesFor(ID, config);
      assert.equal(names.laptopWireguardIp, '172.32.32.1');
      assert.deepEqual(
        names.hosts.map((host) => [host.name, host.role, host.zone, host.size, host.wireguardIp]),
        [
          ['k0s-controller-1', 'controller', 1, 'Standard_DS2_v2', '172.32.32.11'],
          ['k0s-controller-2', 'controller', 2, 'Standard_DS2_v2', '172.32.32.12'],
          ['k0s-controller-3', 'controller', 3, 'Standard_DS2_v2', '172.32.32.13'],
          ['k0s-worker-1', 'worker', 3, 'Standard_DS4_v2', '172.32.32.14'],
          ['k0s-worker-2', 'worker', 2, 'Standard_DS4_v2', '172.32.32.15'],
          ['k0s-worker-3', 'worker', 3, 'Standard_DS4_v2', '172.32.32.16'],
        ]
      );
    });

    it('plans no worker hosts for zero workers', () => {
      const config = defaultConfig();
      config.cluster.workers.count = 0;
      assert.deepEqual(
        namesFor(ID, config).hosts.map((host) => host.name),
        ['k0s-controller-1']
      );
    });

    it('gives the last of 244 hosts .254', () => {
      const config = defaultConfig();
      config.cluster.controllers.count = 3;
      config.cluster.workers.count = 241;
      const hosts = namesFor(ID, config).hosts;
      assert.equal(hosts.length, 244);
      assert.equal(hosts[243]?.wireguardIp, '192.168.100.254');
      assert.equal(hosts[243]?.name, 'k0s-worker-241');
    });

    const regional: [string, Partial<K0rdentConfig['kof']['regional']>, string][] = [
      [
        'the default name in the regional location',
        { location: 'westeurope' },
        'kof-regional-q7m2xk4p-westeurope',
      ],
      ['cluster_name when set', { cluster_name: 'my-regional' }, 'my-regional'],
    ];
    for (const [what, change, expected] of regional) {
      it(`names the KOF regional cluster with ${what}`, () => {
        const config = defaultConfig();
        Object.assign(config.kof.regional, change);
        assert.equal(namesFor(ID, config).kofRegionalCluster, expected);
      });
    }

    it('refuses an id that is not a cluster id', () => {
      assert.throws(() => namesFor('k0rdent-UPPER123', defaultConfig()), /is not of the form k0rdent-/);
    });
  });

  describe('generateClusterId', () => {
    it('makes ids of the cluster-id form, different each time', () => {
      const ids = new Set(Array.from({ length: 50 }, () => generateClusterId()));
      assert.equal(ids.size, 50);
      for (const id of ids) {
        assert.match(id, /^k0rdent-[a-z0-9]{8}$/);
        assert.ok(isDeploymentId(id));
      }
    });

    it('maps random bytes onto a-z0-9', () => {
      const bytes = Buffer.from([0, 25, 26, 35, 36, 61, 62, 251]);
      assert.equal(
        generateClusterId(() => bytes),
        'k0rdent-az09az09'
      );
    });

    it('draws again for bytes that would bias the alphabet', () => {
      const draws = [Buffer.from([252, 255, 0, 1, 2]), Buffer.from([253, 3, 4, 5, 6, 7, 254])];
      let call = 0;
      const id = generateClusterId(() => draws[call++] ?? Buffer.alloc(0));
      assert.equal(id, 'k0rdent-abcdefgh');
      assert.equal(call, 2);
    });

    it('gives up on a random source that never yields usable bytes', () => {
      assert.throws(() => generateClusterId((n) => Buffer.alloc(n, 255)), /random source/);
    });
  });

  describe('readOrCreateClusterId', () => {
    let dir: string;
    let cleanup: () => void;
    beforeEach(() => ({ dir, cleanup } = tempDir()));
    afterEach(() => cleanup());

    it('creates .clusterid with a new id, then reads the same id back', async () => {
      const first = await readOrCreateClusterId(dir);
      assert.equal(first.created, true);
      assert.ok(isDeploymentId(first.id));
      assert.equal(readFileSync(path.join(dir, '.clusterid'), 'utf8'), `${first.id}\n`);
      const second = await readOrCreateClusterId(dir);
      assert.deepEqual(second, { id: first.id, created: false });
    });

    it('creates the deployment folder when it does not exist yet', async () => {
      const nested = path.join(dir, 'deployments', 'one');
      const { created } = await readOrCreateClusterId(nested);
      assert.equal(created, true);
      assert.ok(existsSync(path.join(nested, '.clusterid')));
    });

    it('reads an existing id without creating one when there is none', async () => {
      assert.equal(await readClusterId(dir), undefined);
      assert.equal(existsSync(path.join(dir, '.clusterid')), false);
      writeFileSync(path.join(dir, '.clusterid'), `${ID}\n`);
      assert.equal(await readClusterId(dir), ID);
    });

    it('reads an id written by the Bash tool, surrounding whitespace and all', async () => {
      writeFileSync(path.join(dir, '.clusterid'), `  ${ID}\n\n`);
      assert.deepEqual(await readOrCreateClusterId(dir), { id: ID, created: false });
    });

    const corrupt: [string, string, RegExp][] = [
      ['a wrong id', 'k0rdent-TOOLONG123', /"k0rdent-TOOLONG123" is not a cluster id/],
      ['another tool’s content', 'my-cluster\n', /"my-cluster" is not a cluster id/],
      ['nothing', '\n', /the file is empty/],
      ['binary data, escaped', '\u0000\u0001k0rdent\n', /"\\u0000\\u0001k0rdent" is not a cluster id/],
      ['a long line, cut short', `k0rdent-${'a'.repeat(5000)}`, /"k0rdent-a{29}\.\.\." is not a cluster id/],
    ];
    for (const [what, content, says] of corrupt) {
      it(`refuses a .clusterid holding ${what}, naming the file and leaving it alone`, async () => {
        const file = path.join(dir, '.clusterid');
        writeFileSync(file, content);
        await assert.rejects(readOrCreateClusterId(dir), (error: Error) => {
          assert.ok(error.message.startsWith(`${file}: `), error.message);
          assert.match(error.message, says);
          return true;
        });
        assert.equal(readFileSync(file, 'utf8'), content);
      });
    }
  });

  describe('deployerIdentity', () => {
    const sources = (over: Partial<IdentitySources> = {}): IdentitySources => ({
      gitEmail: () => undefined,
      hostname: () => 'laptop.corp.example.com',
      username: () => undefined,
      ...over,
    });
    const withOwner = (owner?: string): K0rdentConfig => {
      const config = defaultConfig();
      if (owner !== undefined) {
        config.metadata.owner = owner;
      }
      return config;
    };

    const cases: {
      name: string;
      owner?: string;
      env: NodeJS.ProcessEnv;
      over?: Partial<IdentitySources>;
      expected: string;
    }[] = [
      {
        name: 'metadata.owner first',
        owner: 'ops@example.com',
        env: { USER: 'jane' },
        over: { gitEmail: () => 'jane@example.com' },
        expected: 'ops@example.com',
      },
      {
        name: 'git user.email next',
        env: { USER: 'jane' },
        over: { gitEmail: () => 'jane@example.com' },
        expected: 'jane@example.com',
      },
      { name: '$USER at the short host name next', env: { USER: 'jane' }, expected: 'jane@laptop' },
      {
        name: 'the login name when $USER is unset',
        env: {},
        over: { username: () => 'root' },
        expected: 'root@laptop',
      },
      { name: 'unknown when nothing is known', env: {}, expected: 'unknown' },
      {
        name: 'the next source when the owner sanitises to nothing',
        owner: '<>!',
        env: { USER: 'jane' },
        expected: 'jane@laptop',
      },
      {
        name: 'a sanitised owner',
        owner: 'Jane Doe <jane+ops@example.com>',
        env: {},
        expected: 'Jane Doe janeops@example.com',
      },
    ];
    for (const c of cases) {
      it(`uses ${c.name}`, () => {
        assert.equal(deployerIdentity(withOwner(c.owner), c.env, sources(c.over)), c.expected);
      });
    }

    it('keeps only tag-safe characters, at most 256', () => {
      assert.equal(sanitizeTagValue('a/b\\c"d\'e;f:g@h.i_j-k l'), 'abcdef:g@h.i_j-k l');
      assert.equal(sanitizeTagValue('x'.repeat(300)).length, 256);
    });

    it('asks the real git, with the environment it is given', () => {
      const env = {
        ...process.env,
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: 'user.email',
        GIT_CONFIG_VALUE_0: 'ci-identity@example.org',
      };
      assert.equal(deployerIdentity(withOwner(), env), 'ci-identity@example.org');
      assert.equal(SYSTEM_IDENTITY_SOURCES.gitEmail({ ...env, PATH: '/nonexistent' }), undefined);
    });
  });
});
