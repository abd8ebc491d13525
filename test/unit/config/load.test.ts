import { strict as assert } from 'assert';
import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { DEFAULT_CONFIG, defaultConfig } from '../../../src/config/defaults';
import {
  ConfigError,
  loadConfigFile,
  parseConfig,
  resolveConfigPath,
  shippedDefaultConfigPath,
} from '../../../src/config/load';
import { kofSettingsIssues, knownConfigPaths, validateConfig } from '../../../src/config/validate';
import { repoRoot, tempDir } from './helpers';

const FILE = 'k0rdent.yaml';

/** The ConfigError `fn` throws (fails the test when it throws nothing or something else). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a ConfigError, nothing was thrown');
}

describe('config loading', () => {
  describe('defaults', () => {
    for (const [name, text] of [
      ['an empty file', ''],
      ['a file of comments', '# nothing here\n# at all\n'],
      ['an empty map', '{}\n'],
      ['empty sections', 'azure:\nnetwork:\ncluster:\n  controllers:\n'],
    ] as const) {
      it(`gives every default for ${name}`, () => {
        const { config, warnings } = parseConfig(text, FILE);
        assert.deepEqual(config, DEFAULT_CONFIG);
        assert.deepEqual(warnings, []);
      });
    }

    it('merges a partial file over the defaults key by key', () => {
      const { config } = parseConfig(
        'azure:\n  location: eastus\ncluster:\n  workers:\n    count: 2\n',
        FILE
      );
      const expected = defaultConfig();
      expected.azure.location = 'eastus';
      expected.cluster.workers.count = 2;
      assert.deepEqual(config, expected);
    });

    it('treats a key with no value as absent', () => {
      const { config } = parseConfig('azure:\n  location:\n  vm_image: ~\nkof:\n', FILE);
      assert.equal(config.azure.location, 'westus2');
      assert.equal(config.azure.vm_image, 'Debian:debian-12:12-gen2:latest');
      assert.deepEqual(config.kof, DEFAULT_CONFIG.kof);
    });

    it('hands out copies: changing a loaded config leaves the defaults alone', () => {
      const { config } = parseConfig('', FILE);
      config.cluster.controllers.zones.push(2);
      config.kof.mothership.collectors.global.extra = true;
      assert.deepEqual(DEFAULT_CONFIG.cluster.controllers.zones, [1]);
      assert.deepEqual(DEFAULT_CONFIG.kof.mothership.collectors.global, {});
      assert.ok(Object.isFrozen(DEFAULT_CONFIG.cluster.controllers.zones));
    });

    it('accepts the metadata keys, including owner and description', () => {
      const text =
        'metadata:\n  version: "2.0"\n  schema: k0rdent-config\n  description: test\n  owner: jane@example.com\n';
      const { config } = parseConfig(text, FILE);
      assert.deepEqual(config.metadata, {
        version: '2.0',
        schema: 'k0rdent-config',
        description: 'test',
        owner: 'jane@example.com',
      });
    });

    it('keeps a number written where text belongs as it was written', () => {
      const text =
        'metadata:\n  version: 1.10\nsoftware:\n  k0rdent:\n    version: 1.20\nkof:\n  regional:\n    root_volume_size: 64\n';
      const { config } = parseConfig(text, FILE);
      assert.equal(config.metadata.version, '1.10');
      assert.equal(config.software.k0rdent.version, '1.20');
      assert.equal(config.kof.regional.root_volume_size, '64');
    });

    it('ignores top-level x- keys, so anchors and merge keys can be used', () => {
      const text =
        'x-zones: &zones [1, 2, 3]\ncluster:\n  controllers:\n    count: 3\n    zones: *zones\n  workers:\n    <<: {count: 2}\n    zones: *zones\n';
      const { config } = parseConfig(text, FILE);
      assert.deepEqual(config.cluster, {
        controllers: { count: 3, zones: [1, 2, 3] },
        workers: { count: 2, zones: [1, 2, 3] },
      });
    });

    it('reads the optional orchestrator overrides', () => {
      const { config } = parseConfig('orchestrator:\n  heartbeat_seconds: 15\n  max_attempts: 7\n', FILE);
      assert.equal(config.orchestrator.heartbeat_seconds, 15);
      assert.equal(config.orchestrator.max_attempts, 7);
      assert.equal('heartbeat_seconds' in parseConfig('', FILE).config.orchestrator, false);
    });
  });

  describe('shipped files', () => {
    const root = repoRoot();

    for (const file of [
      'config/k0rdent-default.yaml',
      'config/examples/demo.yaml',
      'config/examples/production.yaml',
    ]) {
      it(`loads ${file} without issues or warnings`, () => {
        const { warnings } = loadConfigFile(path.join(root, file));
        assert.deepEqual(warnings, []);
      });
    }

    it('spells out every default in config/k0rdent-default.yaml, with exactly the values of DEFAULT_CONFIG', () => {
      const text = readFileSync(path.join(root, 'config/k0rdent-default.yaml'), 'utf8');
      assert.deepEqual(parse(text), DEFAULT_CONFIG);
      for (const optional of ['owner', 'description', 'heartbeat_seconds', 'max_attempts']) {
        assert.match(text, new RegExp(`^\\s*# ${optional}: `, 'm'), `${optional} is shown commented out`);
      }
    });

    it('finds the shipped default file from the compiled module', () => {
      assert.equal(shippedDefaultConfigPath(), path.join(root, 'config', 'k0rdent-default.yaml'));
    });

    it('demo.yaml turns KOF on with a 10 s heartbeat and the provisioning preset', () => {
      const { config } = loadConfigFile(path.join(root, 'config/examples/demo.yaml'));
      const expected = defaultConfig();
      expected.metadata.description = config.metadata.description;
      expected.kof.enabled = true;
      expected.orchestrator.heartbeat_seconds = 10;
      expected.timeouts.cloud_init_check_interval = 2;
      assert.deepEqual(config, expected);
    });

    it('production.yaml spreads 3 + 3 larger VMs over zones 1-3 with KOF on', () => {
      const { config } = loadConfigFile(path.join(root, 'config/examples/production.yaml'));
      assert.deepEqual(config.cluster, {
        controllers: { count: 3, zones: [1, 2, 3] },
        workers: { count: 3, zones: [1, 2, 3] },
      });
      assert.equal(config.vm_sizing.controller.size, 'Standard_DS2_v2');
      assert.equal(config.vm_sizing.worker.size, 'Standard_DS4_v2');
      assert.equal(config.network.wireguard_network, '172.32.32.0/24');
      assert.equal(config.kof.enabled, true);
      assert.equal(config.orchestrator.activity_preset, 'provisioning');
    });
  });

  describe('invalid files', () => {
    interface Case {
      name: string;
      yaml: string;
      path: string;
      /** Text the issue's message must contain. */
      says: string;
    }
    const cases: Case[] = [
      {
        name: 'a subscription id that is not a GUID',
        yaml: 'azure:\n  subscription_id: my-subscription\n',
        path: 'azure.subscription_id',
        says: 'a subscription GUID',
      },
      {
        name: 'an unknown credential kind',
        yaml: 'azure:\n  credential: password\n',
        path: 'azure.credential',
        says: 'cli',
      },
      {
        name: 'an unknown cloud',
        yaml: 'orchestrator:\n  cloud: aws\n',
        path: 'orchestrator.cloud',
        says: 'emulator',
      },
      {
        name: 'a list where text belongs',
        yaml: 'azure:\n  location: [westus2]\n',
        path: 'azure.location',
        says: 'must be text, got a list',
      },
      {
        name: 'a boolean where text belongs',
        yaml: 'ssh:\n  username: true\n',
        path: 'ssh.username',
        says: 'must be text',
      },
      {
        name: 'an empty name',
        yaml: 'vm_sizing:\n  worker:\n    size: ""\n',
        path: 'vm_sizing.worker.size',
        says: 'must not be empty',
      },
      {
        name: 'a misspelt key in a section',
        yaml: 'azure:\n  locaton: eastus\n',
        path: 'azure.locaton',
        says: 'unknown key (did you mean azure.location?)',
      },
      {
        name: 'a misspelt top-level section',
        yaml: 'netwrok:\n  vnet_prefix: 10.0.0.0/16\n',
        path: 'netwrok',
        says: 'did you mean network?',
      },
      {
        name: 'a misspelt key three levels down',
        yaml: 'cluster:\n  controllers:\n    zone: [1]\n',
        path: 'cluster.controllers.zone',
        says: 'did you mean cluster.controllers.zones?',
      },
      {
        name: 'a misspelt key four levels down',
        yaml: 'kof:\n  mothership:\n    collectors:\n      globl: {}\n',
        path: 'kof.mothership.collectors.globl',
        says: 'did you mean kof.mothership.collectors.global?',
      },
      {
        name: 'a key in the wrong section',
        yaml: 'location: eastus\n',
        path: 'location',
        says: 'did you mean azure.location or kof.regional.location?',
      },
      {
        name: 'a camelCase key',
        yaml: 'azure:\n  vmPriority: Spot\n',
        path: 'azure.vmPriority',
        says: 'did you mean azure.vm_priority?',
      },
      {
        name: 'an unknown metadata key',
        yaml: 'metadata:\n  author: me\n',
        path: 'metadata.author',
        says: 'unknown key (known keys here: version, schema, description, owner)',
      },
      {
        name: 'a section that is not a map',
        yaml: 'azure: westus2\n',
        path: 'azure',
        says: 'must be a map with the keys subscription_id, credential, location, vm_image',
      },
      {
        name: 'a CIDR without prefix length',
        yaml: 'network:\n  vnet_prefix: 10.0.0.0\n',
        path: 'network.vnet_prefix',
        says: 'is not an IPv4 CIDR',
      },
      {
        name: 'a CIDR with an octet over 255',
        yaml: 'network:\n  vnet_prefix: 10.300.0.0/16\n',
        path: 'network.vnet_prefix',
        says: 'invalid address part "300"',
      },
      {
        name: 'a CIDR with host bits set',
        yaml: 'network:\n  subnet_prefix: 10.0.1.7/24\n',
        path: 'network.subnet_prefix',
        says: 'did you mean 10.0.1.0/24?',
      },
      {
        name: 'a CIDR given as a number',
        yaml: 'network:\n  vnet_prefix: 10\n',
        path: 'network.vnet_prefix',
        says: 'must be an IPv4 CIDR',
      },
      {
        name: 'a subnet outside the vnet',
        yaml: 'network:\n  subnet_prefix: 10.1.0.0/24\n',
        path: 'network.subnet_prefix',
        says: 'is not inside network.vnet_prefix 10.0.0.0/16',
      },
      {
        name: 'a subnet larger than the vnet',
        yaml: 'network:\n  vnet_prefix: 10.0.0.0/16\n  subnet_prefix: 10.0.0.0/8\n',
        path: 'network.subnet_prefix',
        says: 'is not inside',
      },
      {
        name: 'a WireGuard network that is not a /24',
        yaml: 'network:\n  wireguard_network: 192.168.0.0/16\n',
        path: 'network.wireguard_network',
        says: 'must be a /24 network',
      },
      {
        name: 'a WireGuard network inside the vnet',
        yaml: 'network:\n  wireguard_network: 10.0.200.0/24\n',
        path: 'network.wireguard_network',
        says: 'overlaps network.vnet_prefix 10.0.0.0/16',
      },
      {
        name: 'zero controllers',
        yaml: 'cluster:\n  controllers:\n    count: 0\n',
        path: 'cluster.controllers.count',
        says: 'must be between 1 and 244, got 0',
      },
      {
        name: 'negative workers',
        yaml: 'cluster:\n  workers:\n    count: -1\n',
        path: 'cluster.workers.count',
        says: 'must be between 0 and 244, got -1',
      },
      {
        name: 'a fractional count',
        yaml: 'cluster:\n  workers:\n    count: 1.5\n',
        path: 'cluster.workers.count',
        says: 'must be a whole number, got 1.5',
      },
      {
        name: 'a quoted count',
        yaml: 'cluster:\n  controllers:\n    count: "3"\n',
        path: 'cluster.controllers.count',
        says: 'got the text "3" (remove the quotes)',
      },
      {
        name: 'more hosts than the WireGuard plan holds',
        yaml: 'cluster:\n  controllers:\n    count: 201\n  workers:\n    count: 44\n',
        path: 'cluster',
        says: '245 hosts',
      },
      {
        name: 'zone 4',
        yaml: 'cluster:\n  controllers:\n    zones: [4]\n',
        path: 'cluster.controllers.zones[0]',
        says: 'must be an availability zone 1, 2 or 3, got 4',
      },
      {
        name: 'zone "a"',
        yaml: 'cluster:\n  workers:\n    zones: [1, a]\n',
        path: 'cluster.workers.zones[1]',
        says: 'got the text "a"',
      },
      {
        name: 'zone 0',
        yaml: 'cluster:\n  workers:\n    zones: [0]\n',
        path: 'cluster.workers.zones[0]',
        says: 'got 0',
      },
      {
        name: 'an empty zone list',
        yaml: 'cluster:\n  workers:\n    zones: []\n',
        path: 'cluster.workers.zones',
        says: 'at least one availability zone',
      },
      {
        name: 'a zone that is not a list',
        yaml: 'cluster:\n  controllers:\n    zones: 1\n',
        path: 'cluster.controllers.zones',
        says: 'must be a list of availability zones',
      },
      {
        name: 'a zero timeout',
        yaml: 'timeouts:\n  ssh_connect: 0\n',
        path: 'timeouts.ssh_connect',
        says: 'must be between 1 and 604800, got 0',
      },
      {
        name: 'a negative retry count',
        yaml: 'timeouts:\n  verification_retries: -1\n',
        path: 'timeouts.verification_retries',
        says: 'must be between 0 and 100, got -1',
      },
      {
        name: 'a timeout longer than a week (Node timers would overflow and fire at once)',
        yaml: 'timeouts:\n  ssh_connect: 2500000\n',
        path: 'timeouts.ssh_connect',
        says: 'must be between 1 and 604800, got 2500000',
      },
      {
        name: 'VM creation minutes longer than a week',
        yaml: 'timeouts:\n  vm_creation_minutes: 10081\n',
        path: 'timeouts.vm_creation_minutes',
        says: 'must be between 1 and 10080',
      },
      {
        name: 'a retry delay longer than a week',
        yaml: 'kof:\n  mothership:\n    retry_delay_seconds: 604801\n',
        path: 'kof.mothership.retry_delay_seconds',
        says: 'must be between 0 and 604800',
      },
      {
        name: 'a retry count over 100',
        yaml: 'kof:\n  mothership:\n    install_retries: 101\n',
        path: 'kof.mothership.install_retries',
        says: 'must be between 1 and 100, got 101',
      },
      {
        name: 'a section written as an ordered map, instead of dropping what it holds',
        yaml: 'azure: !!omap [ {location: eastus} ]\n',
        path: 'azure',
        says: 'must be a map with the keys subscription_id, credential, location, vm_image, vm_priority, eviction_policy, got an ordered map (!!omap)',
      },
      {
        name: 'a whole file written as a set',
        yaml: '!!set {azure, network}\n',
        path: '',
        says: 'got a set (!!set)',
      },
      {
        name: 'zones written as a set',
        yaml: 'cluster:\n  workers:\n    zones: !!set {1, 2}\n',
        path: 'cluster.workers.zones',
        says: 'got a set (!!set)',
      },
      {
        name: 'a timestamp where text belongs',
        yaml: 'azure:\n  location: !!timestamp 2001-12-14\n',
        path: 'azure.location',
        says: 'must be text, got a timestamp',
      },
      {
        name: 'binary data where text belongs',
        yaml: 'azure:\n  location: !!binary aGVsbG8=\n',
        path: 'azure.location',
        says: 'must be text, got binary data',
      },
      {
        name: 'a timeout written as text',
        yaml: 'timeouts:\n  k0rdent_install_wait: 25m\n',
        path: 'timeouts.k0rdent_install_wait',
        says: 'must be a whole number, got the text "25m"',
      },
      {
        name: 'an unknown VM priority',
        yaml: 'azure:\n  vm_priority: Premium\n',
        path: 'azure.vm_priority',
        says: 'must be one of Regular, Spot, got "Premium"',
      },
      {
        name: 'an unknown eviction policy',
        yaml: 'azure:\n  eviction_policy: Destroy\n',
        path: 'azure.eviction_policy',
        says: 'must be one of Deallocate, Delete',
      },
      {
        name: 'kof.enabled as text',
        yaml: 'kof:\n  enabled: "yes"\n',
        path: 'kof.enabled',
        says: 'must be true or false, got the text "yes"',
      },
      {
        name: 'KOF on without a regional domain',
        yaml: 'kof:\n  enabled: true\n  regional:\n    domain: ""\n',
        path: 'kof.regional.domain',
        says: 'must be set when KOF is enabled',
      },
      {
        name: 'KOF on with a domain that is no DNS name',
        yaml: 'kof:\n  enabled: true\n  regional:\n    domain: my domain\n',
        path: 'kof.regional.domain',
        says: 'must be a DNS name',
      },
      {
        name: 'KOF on without an admin email',
        yaml: 'kof:\n  enabled: true\n  regional:\n    admin_email: " "\n',
        path: 'kof.regional.admin_email',
        says: 'must be set when KOF is enabled',
      },
      {
        name: 'KOF on with a bad admin email',
        yaml: 'kof:\n  enabled: true\n  regional:\n    admin_email: admin.example.com\n',
        path: 'kof.regional.admin_email',
        says: 'must be an email address',
      },
      {
        name: 'a regional cluster name Kubernetes refuses',
        yaml: 'kof:\n  regional:\n    cluster_name: Regional_1\n',
        path: 'kof.regional.cluster_name',
        says: 'must be a Kubernetes name',
      },
      {
        name: 'a root volume size with a unit',
        yaml: 'kof:\n  regional:\n    root_volume_size: 32GB\n',
        path: 'kof.regional.root_volume_size',
        says: 'a whole number of GB',
      },
      {
        name: 'collectors that are not a map',
        yaml: 'kof:\n  mothership:\n    collectors:\n      global: [a]\n',
        path: 'kof.mothership.collectors.global',
        says: 'must be a map, got a list',
      },
      {
        name: 'an unknown activity preset',
        yaml: 'orchestrator:\n  activity_preset: fast\n',
        path: 'orchestrator.activity_preset',
        says: 'must be one of provisioning, quick, got "fast"',
      },
      {
        name: 'a preset in the wrong case',
        yaml: 'orchestrator:\n  activity_preset: Quick\n',
        path: 'orchestrator.activity_preset',
        says: 'must be one of provisioning, quick',
      },
      {
        name: 'a key that no longer exists',
        yaml: 'orchestrator:\n  world: local\n',
        path: 'orchestrator.world',
        says: 'unknown key',
      },
      {
        name: 'parallel_vms 0',
        yaml: 'orchestrator:\n  parallel_vms: 0\n',
        path: 'orchestrator.parallel_vms',
        says: 'must be between 1 and 50, got 0',
      },
      {
        name: 'parallel_vms 51',
        yaml: 'orchestrator:\n  parallel_vms: 51\n',
        path: 'orchestrator.parallel_vms',
        says: 'must be between 1 and 50, got 51',
      },
      {
        name: 'an empty tunnel command',
        yaml: "orchestrator:\n  wireguard_up_command: ''\n",
        path: 'orchestrator.wireguard_up_command',
        says: 'must not be empty',
      },
      {
        name: 'a zero heartbeat',
        yaml: 'orchestrator:\n  heartbeat_seconds: 0\n',
        path: 'orchestrator.heartbeat_seconds',
        says: 'must be between 1 and 604800, got 0',
      },
      {
        name: 'a flag written as a number',
        yaml: 'orchestrator:\n  write_private_keys_to_state: 1\n',
        path: 'orchestrator.write_private_keys_to_state',
        says: 'must be true or false, got 1',
      },
      {
        name: 'an empty task queue',
        yaml: 'orchestrator:\n  task_queue: ""\n',
        path: 'orchestrator.task_queue',
        says: 'must not be empty',
      },
      {
        name: 'a task queue name the Temporal server refuses as too long',
        yaml: `orchestrator:\n  task_queue: ${'q'.repeat(1001)}\n`,
        path: 'orchestrator.task_queue',
        says: `at most 1000 characters, no control characters, got "${'q'.repeat(57)}..."`,
      },
      {
        name: 'a task queue name with a line break',
        yaml: 'orchestrator:\n  task_queue: "a\\nb"\n',
        path: 'orchestrator.task_queue',
        says: 'got "a\\nb"',
      },
      {
        name: 'a long unknown choice, quoted short',
        yaml: `azure:\n  credential: ${'x'.repeat(500)}\n`,
        path: 'azure.credential',
        says: `got "${'x'.repeat(57)}..."`,
      },
      {
        name: 'a long CIDR-like text, quoted short',
        yaml: `network:\n  vnet_prefix: 10.0.0.0/16${'a'.repeat(500)}\n`,
        path: 'network.vnet_prefix',
        says: `"10.0.0.0/16${'a'.repeat(46)}..." is not an IPv4 CIDR`,
      },
      {
        name: 'a YAML syntax error',
        yaml: 'azure:\n  location: [westus2\nnetwork: {}\n',
        path: 'line 3, column 1',
        says: 'YAML syntax error',
      },
      {
        name: 'a duplicated key',
        yaml: 'azure:\n  location: a\n  location: b\n',
        path: 'line 3, column 3',
        says: 'Map keys must be unique (near "location: b")',
      },
      {
        name: 'a top-level list',
        yaml: '- azure\n- network\n',
        path: '',
        says: 'the file must hold a map of sections (metadata, azure, network',
      },
      { name: 'a top-level scalar', yaml: 'westus2\n', path: '', says: 'got the text "westus2"' },
    ];

    for (const c of cases) {
      it(`refuses ${c.name}, naming ${c.path === '' ? 'the file' : c.path}`, () => {
        const error = configError(() => parseConfig(c.yaml, FILE));
        const issue = error.issues.find((candidate) => candidate.path === c.path);
        assert.ok(issue, `no issue at "${c.path}" in:\n${error.message}`);
        assert.ok(issue.message.includes(c.says), `"${issue.message}" does not say "${c.says}"`);
        const line = c.path === '' ? `${FILE}: ${issue.message}` : `${FILE}: ${c.path}: ${issue.message}`;
        assert.ok(
          error.message.split('\n').includes(line),
          `message lacks the line "${line}":\n${error.message}`
        );
        assert.equal(error.source, FILE);
      });
    }

    it('reports every issue at once, one line each, each starting with the file name', () => {
      const text = [
        'azure:',
        '  locaton: eastus',
        '  vm_priority: Premium',
        'cluster:',
        '  controllers:',
        '    count: 0',
        '    zones: [1, 5]',
        'orchestrator:',
        '  parallel_vms: 0',
      ].join('\n');
      const error = configError(() => parseConfig(text, 'config/mine.yaml'));
      assert.deepEqual(error.issues.map((issue) => issue.path).sort(), [
        'azure.locaton',
        'azure.vm_priority',
        'cluster.controllers.count',
        'cluster.controllers.zones[1]',
        'orchestrator.parallel_vms',
      ]);
      const lines = error.message.split('\n');
      assert.equal(lines.length, 5);
      for (const line of lines) {
        assert.ok(line.startsWith('config/mine.yaml: '), line);
      }
    });

    it('reports each YAML syntax error with its line', () => {
      const error = configError(() => parseConfig('a: 1\na: 2\nb:\n  - x\n  y: 1\n', FILE));
      assert.ok(error.issues.length >= 2, error.message);
      for (const issue of error.issues) {
        assert.match(issue.path, /^line \d+, column \d+$/);
      }
    });

    it('reports a key that is a collection as an issue, without a Node warning on stderr', async () => {
      const warnings: Error[] = [];
      const listener = (warning: Error) => warnings.push(warning);
      process.on('warning', listener);
      try {
        const error = configError(() => parseConfig('? [a]\n: b\n', FILE));
        assert.deepEqual(
          error.issues.map((issue) => issue.path),
          ['[ a ]']
        );
        // Node emits process warnings on a later tick.
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        process.off('warning', listener);
      }
      assert.deepEqual(
        warnings.map((warning) => warning.message),
        []
      );
    });

    it('checks the KOF settings on demand when KOF is switched on outside the file', () => {
      const config = defaultConfig();
      assert.deepEqual(kofSettingsIssues(config), []);
      config.kof.regional.domain = '';
      config.kof.regional.admin_email = 'nobody';
      assert.deepEqual(
        kofSettingsIssues(config).map((issue) => issue.path),
        ['kof.regional.domain', 'kof.regional.admin_email']
      );
      assert.deepEqual(
        validateConfig(config).issues,
        [],
        'KOF is off in the file, so the file itself is fine'
      );
    });
  });

  describe('warnings', () => {
    const cases: { name: string; yaml: string; warnings: string[] }[] = [
      { name: 'the defaults', yaml: '', warnings: [] },
      { name: 'three controllers', yaml: 'cluster:\n  controllers:\n    count: 3\n', warnings: [] },
      {
        name: 'no workers',
        yaml: 'cluster:\n  workers:\n    count: 0\n',
        warnings: [`${FILE}: cluster.workers.count: no workers: workloads have to run on the controllers`],
      },
      {
        name: 'two controllers',
        yaml: 'cluster:\n  controllers:\n    count: 2\n',
        warnings: [
          `${FILE}: cluster.controllers.count: 2 controllers: an even count tolerates no more failures than 1; use an odd number`,
        ],
      },
      {
        name: 'a lower-case Spot priority',
        yaml: 'azure:\n  vm_priority: spot\n',
        warnings: [
          `${FILE}: azure.vm_priority: "spot" read as "Spot"; write "Spot" (the Bash tool matches it exactly)`,
        ],
      },
      {
        name: 'a lower-case eviction policy',
        yaml: 'azure:\n  eviction_policy: delete\n',
        warnings: [
          `${FILE}: azure.eviction_policy: "delete" read as "Delete"; write "Delete" (the Bash tool matches it exactly)`,
        ],
      },
      {
        name: 'a YAML tag it does not know',
        yaml: 'azure:\n  location: !region eastus\n',
        warnings: [
          `${FILE}: line 2, column 13: YAML warning: Unresolved tag: !region (near "location: !region eastus")`,
        ],
      },
    ];
    for (const c of cases) {
      it(`${c.warnings.length === 0 ? 'gives no warning' : 'warns'} for ${c.name}`, () => {
        assert.deepEqual(parseConfig(c.yaml, FILE).warnings, c.warnings);
      });
    }

    it('normalises a lower-case priority while warning about it', () => {
      const { config } = parseConfig('azure:\n  vm_priority: spot\n  eviction_policy: delete\n', FILE);
      assert.equal(config.azure.vm_priority, 'Spot');
      assert.equal(config.azure.eviction_policy, 'Delete');
    });
  });

  describe('schema', () => {
    it('knows every key of the defaults', () => {
      const leaves: string[] = [];
      (function walk(value: unknown, prefix: string): void {
        if (
          value !== null &&
          typeof value === 'object' &&
          !Array.isArray(value) &&
          prefix !== 'kof.mothership.collectors.global'
        ) {
          for (const [key, child] of Object.entries(value)) {
            walk(child, prefix === '' ? key : `${prefix}.${key}`);
          }
        } else {
          leaves.push(prefix);
        }
      })(DEFAULT_CONFIG, '');
      const known = new Set(knownConfigPaths());
      assert.deepEqual(
        leaves.filter((leaf) => !known.has(leaf)),
        []
      );
      assert.ok(leaves.length > 50, `only ${leaves.length} keys found`);
    });
  });

  describe('loadConfigFile', () => {
    it('names a missing file', () => {
      const missing = path.join(repoRoot(), 'config', 'no-such-file.yaml');
      const error = configError(() => loadConfigFile(missing));
      assert.equal(error.message, `${missing}: no such file`);
    });

    it('names a directory given as the file', () => {
      const error = configError(() => loadConfigFile(path.join(repoRoot(), 'config')));
      assert.match(error.message, /config: is a directory, not a config file$/);
    });

    it('names the file in validation issues', () => {
      const { dir, cleanup } = tempDir();
      try {
        const file = path.join(dir, 'bad.yaml');
        writeFileSync(file, 'azure:\n  vm_priority: Premium\n');
        const error = configError(() => loadConfigFile(file));
        assert.ok(error.message.startsWith(`${file}: azure.vm_priority: `), error.message);
      } finally {
        cleanup();
      }
    });
  });

  describe('resolveConfigPath', () => {
    let dir: string;
    let cleanup: () => void;
    beforeEach(() => {
      ({ dir, cleanup } = tempDir());
      mkdirSync(path.join(dir, 'config'));
    });
    afterEach(() => cleanup());

    const write = (relative: string): string => {
      const file = path.join(dir, relative);
      writeFileSync(file, '{}\n');
      return file;
    };

    it('uses an explicit path, relative to the current directory', () => {
      const file = write('mine.yaml');
      assert.equal(resolveConfigPath('/nonexistent', path.relative(process.cwd(), file)), file);
      assert.equal(resolveConfigPath(dir, file), file);
    });

    it('uses an explicit path even when the folder has its own config', () => {
      write('config/k0rdent.yaml');
      const file = write('mine.yaml');
      assert.equal(resolveConfigPath(dir, file), file);
    });

    it('refuses an explicit path that does not exist, naming it', () => {
      write('config/k0rdent.yaml');
      const error = configError(() => resolveConfigPath(dir, 'missing/k0rdent.yaml'));
      assert.ok(error.message.startsWith('missing/k0rdent.yaml: no such file'), error.message);
    });

    it('prefers config/k0rdent.yaml over config/k0rdent-default.yaml', () => {
      const user = write('config/k0rdent.yaml');
      write('config/k0rdent-default.yaml');
      assert.equal(resolveConfigPath(dir), user);
    });

    it('falls back to config/k0rdent-default.yaml', () => {
      const fallback = write('config/k0rdent-default.yaml');
      assert.equal(resolveConfigPath(dir), fallback);
    });

    it('explains how to create a config when there is none', () => {
      const error = configError(() => resolveConfigPath(dir));
      const user = path.join(dir, 'config', 'k0rdent.yaml');
      const fallback = path.join(dir, 'config', 'k0rdent-default.yaml');
      assert.ok(error.message.includes(`neither ${user} nor ${fallback} exists`), error.message);
      assert.ok(
        error.message.includes(`cp ${path.join(repoRoot(), 'config', 'k0rdent-default.yaml')} ${user}`),
        error.message
      );
      assert.ok(error.message.includes('--config FILE'), error.message);
    });
  });
});
