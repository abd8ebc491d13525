/** The emulated k0sctl, kubectl, helm and az as child processes, against a cluster part behind HTTPS. */
import assert from 'node:assert/strict';
import { parse, stringify } from 'yaml';
import type { ToolRun } from './harness';
import { ToolHarness } from './harness';

const KCM = 'oci://ghcr.io/k0rdent/kcm/charts/kcm';
const SUBSCRIPTION = '/subscriptions/00000000-0000-0000-0000-000000000000';

const IDENTITY_DOCS = [
  {
    apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta1',
    kind: 'AzureClusterIdentity',
    metadata: { name: 'azure-cluster-identity', namespace: 'kcm-system' },
    spec: {
      type: 'ServicePrincipal',
      clientID: 'app',
      tenantID: 'tenant',
      clientSecret: { name: 's', namespace: 'kcm-system' },
      allowedNamespaces: {},
    },
  },
  {
    apiVersion: 'k0rdent.mirantis.com/v1beta1',
    kind: 'Credential',
    metadata: { name: 'azure-cluster-credential', namespace: 'kcm-system' },
    spec: {
      identityRef: {
        apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta1',
        kind: 'AzureClusterIdentity',
        name: 'azure-cluster-identity',
        namespace: 'kcm-system',
      },
    },
  },
  {
    apiVersion: 'k0rdent.mirantis.com/v1beta1',
    kind: 'ClusterDeployment',
    metadata: { name: 'regional', namespace: 'kcm-system' },
    spec: {
      template: 'azure-standalone-cp-1-0-8',
      credential: 'azure-cluster-credential',
      config: { location: 'southeastasia' },
    },
  },
];

function yamlDocs(docs: unknown[]): string {
  return docs.map((d) => stringify(d)).join('---\n');
}

function expectOk(run: ToolRun): ToolRun {
  assert.equal(run.code, 0, `exit ${String(run.code)}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  return run;
}

function expectFail(run: ToolRun, code: number, stderr: RegExp | string): void {
  assert.equal(run.code, code, `stdout: ${run.stdout}\nstderr: ${run.stderr}`);
  if (typeof stderr === 'string') assert.ok(run.stderr.includes(stderr), `stderr was: ${run.stderr}`);
  else assert.match(run.stderr, stderr);
}

/** Runs `probe` until it says done, or fails after `ms`. */
async function eventually(ms: number, probe: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > end) assert.fail(`not done after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('emulated cluster tools', () => {
  let h: ToolHarness;

  beforeEach(async () => {
    h = new ToolHarness();
    Object.assign(h.services.times, {
      k0sApplyMs: 150,
      nodeReadyMs: 50,
      helmInstallMs: 80,
      managementReadyMs: 100,
      webhookReadyMs: 300,
      clusterDeploymentReadyMs: 150,
    });
    await h.start();
  });

  afterEach(async () => {
    await h.stop();
  });

  /** k0s installed and the kubeconfig written where the phases keep it. */
  async function clusterUp(): Promise<void> {
    expectOk(await h.run('k0sctl', ['apply', '--config', h.k0sctlConfig, '--disable-telemetry']));
    const kc = expectOk(await h.run('k0sctl', ['kubeconfig', '--config', h.k0sctlConfig]));
    await h.write(h.kubeconfig, kc.stdout);
  }

  const helmKcm = (verb: string[] = ['upgrade', '--install']) =>
    h.helm([
      ...verb,
      'kcm',
      KCM,
      '--version',
      '1.1.1',
      '-n',
      'kcm-system',
      '--create-namespace',
      '--timeout',
      '1500s',
    ]);

  describe('k0sctl', () => {
    it('applies the config the phases render, prints k0sctl progress, and its kubeconfig reaches the cluster', async () => {
      const apply = expectOk(
        await h.run('k0sctl', ['apply', '--config', h.k0sctlConfig, '--disable-telemetry'])
      );
      const controller = h.names.hosts[0]?.wireguardIp ?? '';
      assert.match(apply.stdout, /INFO ==> Running phase: Connect to hosts/);
      assert.ok(apply.stdout.includes(`INFO [ssh] ${controller}:22: connected`));
      assert.match(apply.stdout, /INFO k0s cluster version v1\.33\.2\+k0s\.0 is now installed/);
      assert.deepEqual(h.seen('k0sctl', 'apply'), [
        { kind: 'start', tool: 'k0sctl', command: 'apply', target: h.deploymentId },
        { kind: 'end', tool: 'k0sctl', command: 'apply', ok: true },
      ]);
      assert.deepEqual(h.services.applied, { [`k0s:${h.deploymentId}`]: 1 });

      const kc = expectOk(await h.run('k0sctl', ['kubeconfig', '--config', h.k0sctlConfig]));
      const doc = parse(kc.stdout) as {
        'current-context': string;
        clusters: { cluster: { server: string } }[];
      };
      assert.equal(doc['current-context'], h.deploymentId);
      assert.equal(doc.clusters[0]?.cluster.server, `https://${controller}:6443`);
      await h.write(h.kubeconfig, kc.stdout);

      const nodes = JSON.parse(expectOk(await h.kubectl(['get', 'nodes', '-o', 'json'])).stdout) as {
        kind: string;
        items: unknown[];
      };
      assert.deepEqual([nodes.kind, nodes.items.length], ['List', 2]);
      await eventually(2000, async () => / Ready /.test((await h.kubectl(['get', 'nodes'])).stdout));
      const viaEnv = await h.run('kubectl', ['get', 'ns', 'kube-system', '-o', 'name'], {
        env: { KUBECONFIG: h.kubeconfig },
      });
      assert.equal(expectOk(viaEnv).stdout, 'namespace/kube-system\n');

      const again = expectOk(await h.run('k0sctl', ['apply', '--config', h.k0sctlConfig]));
      assert.match(again.stdout, /Finished in/);
      assert.deepEqual(
        h.services.applied,
        { [`k0s:${h.deploymentId}`]: 1 },
        'a repeated apply changes nothing'
      );
    });

    it('validates the config and names every bad field, before telling the world anything', async () => {
      const bad = {
        apiVersion: 'k0sctl.k0sproject.io/v1beta2',
        kind: 'Cluster',
        metadata: { name: h.deploymentId },
        spec: {
          hosts: [
            {
              ssh: { address: 'controller-1', user: 'k0rdent', keyPath: './azure-resources/missing-key' },
              role: 'controller',
            },
            {
              ssh: { address: '192.168.100.12', user: 'k0rdent', keyPath: `./${h.names.sshPrivateKeyPath}` },
              role: 'boss',
            },
          ],
          k0s: { version: '1.33' },
        },
      };
      await h.write('bad.yaml', stringify(bad));
      const run = await h.run('k0sctl', ['apply', '--config', 'bad.yaml']);
      expectFail(run, 1, /^FATA configuration validation failed:/);
      for (const field of [
        'apiVersion: must be k0sctl.k0sproject.io/v1beta1',
        'spec.k0s.version: "1.33" is not a k0s version like v1.33.2+k0s.0',
        'spec.hosts[0].ssh.address: "controller-1" is not an IPv4 address',
        'spec.hosts[0].ssh.keyPath: open ./azure-resources/missing-key: no such file or directory',
        'spec.hosts[1].role: must be one of controller, worker, controller+worker, single',
      ])
        assert.ok(run.stderr.includes(field), `missing ${field} in ${run.stderr}`);

      await h.write(
        'pub.yaml',
        stringify({
          ...bad,
          apiVersion: 'k0sctl.k0sproject.io/v1beta1',
          spec: {
            ...bad.spec,
            k0s: { version: 'v1.33.2+k0s.0' },
            hosts: [
              { ssh: { address: '192.168.100.11', user: 'k0rdent', keyPath: 'bad.yaml' }, role: 'single' },
            ],
          },
        })
      );
      expectFail(
        await h.run('k0sctl', ['apply', '-c', 'pub.yaml']),
        1,
        'spec.hosts[0].ssh.keyPath: bad.yaml is not an unencrypted private key'
      );
      expectFail(
        await h.run('k0sctl', ['apply', '--config', 'nowhere.yaml']),
        1,
        'FATA failed to read config file nowhere.yaml'
      );
      expectFail(
        await h.run('k0sctl', ['apply', '--bogus']),
        1,
        /Incorrect Usage: flag provided but not defined: --bogus\nUsage: k0sctl/
      );
      expectFail(
        await h.run('k0sctl', ['reset', '--config', h.k0sctlConfig]),
        1,
        'FATA reset requires --force'
      );
      assert.deepEqual(h.calls, []);
    });

    it('a crashed apply keeps its locks, and the next apply is refused naming the host and the holder', async () => {
      h.faults.push({ match: { tool: 'k0sctl', command: 'apply' }, kind: 'crash' });
      const crashed = await h.run('k0sctl', ['apply', '--config', h.k0sctlConfig]);
      assert.equal(crashed.code, 137);
      assert.equal(h.services.locks.size, 2);
      const refused = await h.run('k0sctl', ['apply', '--config', h.k0sctlConfig]);
      expectFail(
        refused,
        1,
        /^FATA apply failed - log file saved to .*k0sctl\.log: \[ssh\] 192\.168\.100\.\d+:22: failed to acquire lock: another instance of k0sctl \(k0sctl apply \(pid \d+ on .+\)\)/
      );
      assert.match(refused.stdout, /INFO ==> Apply failed/);
      assert.deepEqual(
        h.seen('k0sctl', 'apply').map((c) => [c.kind, c.ok]),
        [
          ['start', undefined],
          ['start', undefined],
          ['end', false],
        ]
      );
      assert.equal(h.part.k0sOn(h.deploymentId, h.names.hosts[0]?.name ?? ''), undefined);
    });

    it('reset --force removes k0s; the old kubeconfig then finds no API server', async () => {
      await clusterUp();
      expectOk(await h.run('k0sctl', ['reset', '--config', h.k0sctlConfig, '--force']));
      expectFail(
        await h.kubectl(['get', 'nodes']),
        1,
        /The connection to the server 192\.168\.100\.\d+:6443 was refused/
      );
      expectFail(
        await h.run('k0sctl', ['kubeconfig', '--config', h.k0sctlConfig]),
        1,
        /admin\.conf: No such file or directory/
      );
    });
  });

  describe('helm and kubectl', () => {
    it('install kcm, wait for the Management, apply a ClusterDeployment and read its kubeconfig secret', async () => {
      await clusterUp();
      const install = expectOk(
        await h.helm([
          'upgrade',
          '--install',
          'kcm',
          KCM,
          '--version',
          '1.1.1',
          '-n',
          'kcm-system',
          '--create-namespace',
          '--wait',
          '--timeout',
          '1500s',
        ])
      );
      assert.match(install.stdout, /^Release "kcm" does not exist\. Installing it now\.\nNAME: kcm\n/);
      assert.match(install.stdout, /STATUS: deployed\nREVISION: 1\n/);
      assert.match(
        install.stderr,
        /^Pulled: ghcr\.io\/k0rdent\/kcm\/charts\/kcm:1\.1\.1\nDigest: sha256:[0-9a-f]{64}\n/
      );
      const status = JSON.parse(
        expectOk(await h.helm(['status', 'kcm', '-n', 'kcm-system', '-o', 'json'])).stdout
      ) as Record<string, unknown>;
      assert.deepEqual(
        {
          name: status.name,
          namespace: status.namespace,
          version: status.version,
          status: (status.info as { status: string }).status,
          chart: (status.chart as { metadata: { name: string; version: string } }).metadata.version,
        },
        { name: 'kcm', namespace: 'kcm-system', version: 1, status: 'deployed', chart: '1.1.1' }
      );

      const readyPath = `jsonpath={.status.conditions[?(@.type=="Ready")].status}`;
      await eventually(
        3000,
        async () => (await h.kubectl(['get', 'management', 'kcm', '-o', readyPath])).stdout === 'True'
      );
      expectOk(await h.kubectl(['get', 'crd', 'clusterprofiles.config.projectsveltos.io']));

      const first = expectOk(await h.kubectl(['apply', '-f', '-'], yamlDocs(IDENTITY_DOCS)));
      assert.equal(
        first.stdout,
        [
          'azureclusteridentity.infrastructure.cluster.x-k8s.io/azure-cluster-identity created',
          'credential.k0rdent.mirantis.com/azure-cluster-credential created',
          'clusterdeployment.k0rdent.mirantis.com/regional created',
          '',
        ].join('\n')
      );
      const second = expectOk(await h.kubectl(['apply', '-f', '-'], yamlDocs(IDENTITY_DOCS)));
      assert.equal(second.stdout.match(/ unchanged\n/g)?.length, 3);

      await eventually(
        3000,
        async () =>
          (await h.kubectl(['get', 'clusterdeployment', 'regional', '-n', 'kcm-system', '-o', readyPath]))
            .stdout === 'True'
      );
      const value = expectOk(
        await h.kubectl([
          'get',
          'secret',
          'regional-kubeconfig',
          '-n',
          'kcm-system',
          '-o',
          'jsonpath={.data.value}',
        ])
      ).stdout;
      assert.match(
        Buffer.from(value, 'base64').toString('utf8'),
        /server: https:\/\/regional\.southeastasia\.cloudapp\.azure\.com:6443/
      );

      const list = JSON.parse(expectOk(await h.helm(['list', '-A', '-o', 'json'])).stdout) as Record<
        string,
        string
      >[];
      assert.deepEqual(
        list.map((r) => [r.name, r.namespace, r.revision, r.status, r.chart]),
        [['kcm', 'kcm-system', '1', 'deployed', 'kcm-1.1.1']]
      );
      assert.deepEqual(
        h.seen('helm', 'upgrade').map((c) => c.kind),
        ['start', 'end']
      );
    });

    it('a crashed helm install stays pending; installs are refused until uninstall', async () => {
      await clusterUp();
      h.faults.push({ match: { tool: 'helm', command: 'upgrade', target: 'kcm' }, kind: 'crash' });
      assert.equal((await helmKcm()).code, 137);
      const pending = JSON.parse(
        expectOk(await h.helm(['status', 'kcm', '-n', 'kcm-system', '-o', 'json'])).stdout
      ) as { info: { status: string } };
      assert.equal(pending.info.status, 'pending-install');
      expectFail(
        await helmKcm(),
        1,
        'Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress'
      );
      expectFail(
        await helmKcm(['install']),
        1,
        'Error: INSTALLATION FAILED: cannot re-use a name that is still in use'
      );
      assert.equal(
        expectOk(await h.helm(['uninstall', 'kcm', '-n', 'kcm-system', '--wait'])).stdout,
        'release "kcm" uninstalled\n'
      );
      expectFail(await h.helm(['status', 'kcm', '-n', 'kcm-system']), 1, 'Error: release: not found');
      expectOk(await helmKcm(['install']));
    });

    it('kubectl and helm answer as the real tools when the kind, the object or the server is missing', async () => {
      await clusterUp();
      expectFail(
        await h.kubectl(['get', 'management', 'kcm', '-o', 'json']),
        1,
        `error: the server doesn't have a resource type "management"`
      );
      await h.write('cd.yaml', yamlDocs(IDENTITY_DOCS.slice(2)));
      expectFail(
        await h.kubectl(['apply', '-f', 'cd.yaml']),
        1,
        'error: resource mapping not found for name: "regional" namespace: "kcm-system" from "cd.yaml": no matches for kind "ClusterDeployment" in version "k0rdent.mirantis.com/v1beta1"\nensure CRDs are installed first'
      );
      expectFail(
        await h.kubectl(['get', 'ns', 'nope']),
        1,
        'Error from server (NotFound): namespaces "nope" not found'
      );
      assert.equal(expectOk(await h.kubectl(['delete', 'ns', 'nope', '--ignore-not-found'])).stdout, '');
      expectFail(
        await h.kubectl(['get', 'nodes', '--bogus']),
        1,
        "error: unknown flag: --bogus\nSee 'kubectl get --help' for usage."
      );
      expectFail(
        await h.helm(['upgrade', 'kcm']),
        1,
        /Error: "helm upgrade" requires 2 arguments\nUsage: {2}helm upgrade/
      );
      expectFail(
        await h.helm([
          'install',
          'x',
          'oci://ghcr.io/k0rdent/kof/charts/kof-nothing',
          '--version',
          '1.1.0',
          '-n',
          'kof',
          '--create-namespace',
        ]),
        1,
        'Error: INSTALLATION FAILED: failed to perform "FetchReference" on source: ghcr.io/k0rdent/kof/charts/kof-nothing:1.1.0: not found'
      );

      await h.write(
        'http.yaml',
        stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'c', cluster: { server: 'http://192.168.100.11:6443' } }],
          contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
          'current-context': 'c',
          users: [{ name: 'u', user: { token: 't' } }],
        })
      );
      expectFail(
        await h.run('kubectl', ['--kubeconfig', 'http.yaml', 'get', 'nodes']),
        1,
        /^error: invalid configuration: \[clusters\[c\]\.cluster\.server: "http:\/\/192\.168\.100\.11:6443" is not an https:\/\/ URL\]/
      );
      expectFail(
        await h.run('kubectl', ['get', 'nodes']),
        1,
        'The connection to the server localhost:8080 was refused'
      );

      const controller = h.names.hosts[0]?.wireguardIp ?? '';
      h.services.cutOff.add(controller);
      expectFail(
        await h.kubectl(['get', 'nodes']),
        1,
        `Unable to connect to the server: dial tcp ${controller}:6443: i/o timeout`
      );
      expectFail(
        await h.helm(['list']),
        1,
        `Error: Kubernetes cluster unreachable: Get "https://${controller}:6443/version": dial tcp ${controller}:6443: i/o timeout`
      );
      expectFail(
        await h.run('k0sctl', ['apply', '--config', h.k0sctlConfig]),
        1,
        `[ssh] ${controller}:22: dial tcp ${controller}:22: i/o timeout`
      );
    });

    it('kubectl creates and labels a namespace as kubectl prints it', async () => {
      await clusterUp();
      assert.equal(
        expectOk(await h.kubectl(['create', 'namespace', 'kof'])).stdout,
        'namespace/kof created\n'
      );
      expectFail(
        await h.kubectl(['create', 'namespace', 'kof']),
        1,
        'Error from server (AlreadyExists): namespaces "kof" already exists'
      );
      assert.equal(
        expectOk(await h.kubectl(['label', 'namespace', 'kof', 'istio-injection=enabled'])).stdout,
        'namespace/kof labeled\n'
      );
      expectFail(
        await h.kubectl(['label', 'namespace', 'kof', 'istio-injection=disabled']),
        1,
        "error: 'istio-injection' already has a value (enabled), and --overwrite is false"
      );
      expectOk(await h.kubectl(['label', 'namespace', 'kof', 'istio-injection=disabled', '--overwrite']));
      const ns = JSON.parse(expectOk(await h.kubectl(['get', 'namespace', 'kof', '-o', 'json'])).stdout) as {
        metadata: { labels: Record<string, string> };
      };
      assert.equal(ns.metadata.labels['istio-injection'], 'disabled');
      const table = expectOk(await h.kubectl(['get', 'ns'])).stdout;
      assert.match(table, /^NAME\s+STATUS\s+AGE\n/);
      assert.match(table, /\nkof\s+Active\s+\d+s\n/);
    });
  });

  describe('az', () => {
    it('prints the password only at create and reset; lists, shows and deletes', async () => {
      const account = JSON.parse(expectOk(await h.run('az', ['account', 'show', '-o', 'json'])).stdout) as {
        id: string;
        tenantId: string;
      };
      assert.equal(account.id, '00000000-0000-0000-0000-000000000000');
      const create = expectOk(
        await h.run('az', [
          'ad',
          'sp',
          'create-for-rbac',
          '--name',
          'k0rdent-x-sp',
          '--role',
          'contributor',
          '--scopes',
          SUBSCRIPTION,
          '-o',
          'json',
        ])
      );
      const sp = JSON.parse(create.stdout) as Record<string, string>;
      assert.deepEqual(Object.keys(sp), ['appId', 'displayName', 'password', 'tenant']);
      assert.equal(sp.tenant, account.tenantId);
      assert.ok(
        create.stderr.includes(`Creating 'contributor' role assignment under scope '${SUBSCRIPTION}'`)
      );
      const appId = expectOk(
        await h.run('az', [
          'ad',
          'sp',
          'list',
          '--display-name',
          'k0rdent-x-sp',
          '--query',
          '[0].appId',
          '-o',
          'tsv',
        ])
      ).stdout;
      assert.equal(appId, `${sp.appId ?? ''}\n`);
      const shown = expectOk(await h.run('az', ['ad', 'sp', 'show', '--id', sp.appId ?? '']));
      assert.equal(shown.stdout.includes(sp.password ?? '?'), false);
      const reset = JSON.parse(
        expectOk(await h.run('az', ['ad', 'sp', 'credential', 'reset', '--id', sp.appId ?? '', '-o', 'json']))
          .stdout
      ) as Record<string, string>;
      assert.deepEqual([reset.appId, Object.keys(reset)], [sp.appId, ['appId', 'password', 'tenant']]);
      expectOk(await h.run('az', ['ad', 'sp', 'delete', '--id', sp.appId ?? '']));
      expectFail(
        await h.run('az', ['ad', 'sp', 'delete', '--id', sp.appId ?? '']),
        3,
        /^ERROR: Resource '.*' does not exist/
      );
      assert.deepEqual(h.services.applied, { 'sp:k0rdent-x-sp': 1 });
    });

    it("a fail fault exits before acting; a command line argparse refuses exits 2, az's own checks 1, with a usage line", async () => {
      h.faults.push({
        match: { tool: 'az', command: 'ad sp create-for-rbac' },
        kind: 'fail',
        exitCode: 3,
        message: 'injected: AAD is down',
      });
      expectFail(
        await h.run('az', ['ad', 'sp', 'create-for-rbac', '--name', 'n']),
        3,
        'injected: AAD is down'
      );
      assert.equal(expectOk(await h.run('az', ['ad', 'sp', 'list', '--display-name', 'n'])).stdout, '[]\n');
      expectFail(
        await h.run('az', ['ad', 'sp', 'create-for-rbac', '--name', 'n', '--role', 'contributor']),
        1,
        /role assignments, specify both --role and --scopes\.\nusage: az ad sp create-for-rbac/
      );
      expectFail(
        await h.run('az', ['ad', 'sp', 'delete']),
        2,
        /the following arguments are required: --id\nusage: az ad sp delete --id ID/
      );
      expectFail(
        await h.run('az', ['ad', 'sp', 'frobnicate']),
        2,
        "ERROR: 'frobnicate' is misspelled or not recognized by the system."
      );
    });
  });
});
