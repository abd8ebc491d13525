/** The cluster part through its routes: k0s, objects, Helm releases and service principals on a test clock. */
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { createClusterPart } from '../../../../emulator/src/hosts/cluster';
import type { ClusterPart, WorldResponse } from '../../../../emulator/src/hosts/types';
import { HOSTS, TestServices, call, errorOf, sshKeyPair } from './world';

const ID = 'k0rdent-q7m2xk4p';
const K0S = 'v1.33.2+k0s.0';
const KCM = 'oci://ghcr.io/k0rdent/kcm/charts/kcm';
const KOF = 'oci://ghcr.io/k0rdent/kof/charts';

interface Auth {
  server: string;
  token: string;
}

interface KubeObj {
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  status?: {
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    availableReplicas?: number;
    replicas?: number;
  };
}

function okBody<T>(res: WorldResponse): T {
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as T;
}

function ready(obj: KubeObj | undefined): string | undefined {
  return obj?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
}

describe('cluster part', () => {
  let publicKey: string;
  let services: TestServices;
  let part: ClusterPart;

  before(async () => {
    publicKey = (await sshKeyPair()).publicKey;
  });

  beforeEach(() => {
    services = new TestServices();
    services.addDeployment(ID, HOSTS, publicKey);
    part = createClusterPart(services);
  });

  const config = (holder: string, version = K0S) => ({
    name: ID,
    version,
    holder,
    hosts: HOSTS.map((h) => ({ address: h.address, user: 'k0rdent', role: h.role, publicKey })),
  });

  async function applyK0s(holder = 'k0sctl apply (test)'): Promise<void> {
    okBody(await call(part, 'POST', '/k0sctl/apply-begin', config(holder)));
    services.advance(services.times.k0sApplyMs);
    okBody(await call(part, 'POST', '/k0sctl/apply-finish', { name: ID, holder }));
  }

  async function kubeconfig(): Promise<Auth> {
    const { kubeconfig: text } = okBody<{ kubeconfig: string }>(
      await call(part, 'POST', '/k0sctl/kubeconfig', config('x'))
    );
    const doc = parse(text) as {
      clusters: { cluster: { server: string } }[];
      users: { user: { token: string } }[];
    };
    return { server: doc.clusters[0]?.cluster.server ?? '', token: doc.users[0]?.user.token ?? '' };
  }

  async function k0sCluster(): Promise<Auth> {
    await applyK0s();
    return kubeconfig();
  }

  const kube = (auth: Auth, op: string, body: Record<string, unknown>) =>
    call(part, 'POST', `/kube/${op}`, { auth, ...body });
  const helm = (auth: Auth, op: string, body: Record<string, unknown>) =>
    call(part, 'POST', `/helm/${op}`, { auth, ...body });

  async function get(
    auth: Auth,
    resource: string,
    name: string,
    namespace?: string
  ): Promise<KubeObj | undefined> {
    const res = okBody<{ items: KubeObj[] }>(await kube(auth, 'get', { resource, names: [name], namespace }));
    return res.items[0];
  }

  const helmBegin = (
    auth: Auth,
    release: string,
    namespace: string,
    chart: string,
    version: string,
    mode = 'upgrade-install',
    holder = `helm ${release}`
  ) =>
    helm(auth, 'begin', {
      release,
      namespace,
      chart,
      version,
      mode,
      holder,
      createNamespace: true,
      values: {},
    });

  async function helmInstall(
    auth: Auth,
    release: string,
    namespace: string,
    chart: string,
    version: string
  ): Promise<void> {
    okBody(await helmBegin(auth, release, namespace, chart, version));
    services.advance(services.times.helmInstallMs);
    okBody(await helm(auth, 'finish', { release, namespace, holder: `helm ${release}` }));
  }

  describe('k0s', () => {
    it('installs on apply-finish, counts once, and a repeated apply changes nothing', async () => {
      const begin = okBody<{ plan: string; k0sApplyMs: number }>(
        await call(part, 'POST', '/k0sctl/apply-begin', config('a'))
      );
      assert.equal(begin.plan, 'install');
      assert.equal(begin.k0sApplyMs, services.times.k0sApplyMs);
      assert.equal(part.k0sOn(ID, 'k0s-controller-1'), undefined, 'nothing is installed before the finish');
      services.advance(begin.k0sApplyMs);
      okBody(await call(part, 'POST', '/k0sctl/apply-finish', { name: ID, holder: 'a' }));
      assert.deepEqual(part.k0sOn(ID, 'k0s-controller-1'), { version: K0S, role: 'controller+worker' });
      assert.deepEqual(services.applied, { [`k0s:${ID}`]: 1 });
      assert.equal(services.locks.size, 0, 'the locks are freed');

      const again = okBody<{ plan: string }>(await call(part, 'POST', '/k0sctl/apply-begin', config('b')));
      assert.equal(again.plan, 'noop');
      const finish = okBody<{ changed: boolean }>(
        await call(part, 'POST', '/k0sctl/apply-finish', { name: ID, holder: 'b' })
      );
      assert.equal(finish.changed, false);
      assert.deepEqual(services.applied, { [`k0s:${ID}`]: 1 });
      assert.ok(services.changes > 0);
    });

    it('serves Nodes for kubelet hosts, Ready after nodeReadyMs, and the system namespaces', async () => {
      const auth = await k0sCluster();
      const nodes = okBody<{ items: KubeObj[] }>(
        await kube(auth, 'get', { resource: 'no', names: [] })
      ).items;
      assert.deepEqual(
        nodes.map((n) => n.metadata.name),
        ['k0s-controller-1', 'k0s-worker-1']
      );
      assert.deepEqual(nodes.map(ready), ['False', 'False']);
      assert.equal(nodes[0]?.metadata.labels?.['node-role.kubernetes.io/control-plane'], 'true');
      services.advance(services.times.nodeReadyMs);
      const later = okBody<{ items: KubeObj[] }>(
        await kube(auth, 'get', { resource: 'nodes', names: [] })
      ).items;
      assert.deepEqual(later.map(ready), ['True', 'True']);
      const ns = okBody<{ items: KubeObj[] }>(
        await kube(auth, 'get', { resource: 'namespaces', names: [] })
      ).items;
      assert.deepEqual(
        ns.map((n) => n.metadata.name),
        ['default', 'kube-node-lease', 'kube-public', 'kube-system']
      );
    });

    it('refuses a second apply while a host holds a lock, naming the host and the holder', async () => {
      okBody(await call(part, 'POST', '/k0sctl/apply-begin', config('k0sctl apply (pid 1)')));
      // the first run is killed here: no finish
      const refused = await call(part, 'POST', '/k0sctl/apply-begin', config('k0sctl apply (pid 2)'));
      assert.equal(refused.status, 409);
      assert.match(
        errorOf(refused).message,
        /192\.168\.100\.11:22: failed to acquire lock: .*k0sctl apply \(pid 1\).*k0s-controller-1/
      );
      assert.equal(services.lockOf(ID, 'k0s-worker-1'), 'k0sctl apply (pid 1)');
      // `sudo rm -f /run/lock/k0sctl` on each machine
      for (const h of HOSTS) services.setLock(ID, h.name, undefined);
      await applyK0s('k0sctl apply (pid 2)');
      assert.deepEqual(services.applied, { [`k0s:${ID}`]: 1 });
    });

    it('refuses hosts it cannot reach or log in to, as SSH does', async () => {
      services.cutOff.add('192.168.100.12');
      const cut = await call(part, 'POST', '/k0sctl/apply-begin', config('a'));
      assert.equal(cut.status, 503);
      assert.equal(errorOf(cut).message, '[ssh] 192.168.100.12:22: dial tcp 192.168.100.12:22: i/o timeout');
      services.cutOff.clear();

      const wrongUser = config('a');
      wrongUser.hosts[0] = { ...(wrongUser.hosts[0] as (typeof wrongUser.hosts)[number]), user: 'root' };
      const denied = await call(part, 'POST', '/k0sctl/apply-begin', wrongUser);
      assert.equal(denied.status, 401);
      assert.match(errorOf(denied).message, /unable to authenticate/);

      const otherKey = (await sshKeyPair()).publicKey;
      const wrongKey = config('a');
      wrongKey.hosts[1] = { ...(wrongKey.hosts[1] as (typeof wrongKey.hosts)[number]), publicKey: otherKey };
      assert.equal((await call(part, 'POST', '/k0sctl/apply-begin', wrongKey)).status, 401);

      const stranger = config('a');
      stranger.hosts[1] = {
        ...(stranger.hosts[1] as (typeof stranger.hosts)[number]),
        address: '192.168.100.99',
      };
      assert.equal((await call(part, 'POST', '/k0sctl/apply-begin', stranger)).status, 503);
      assert.equal(services.locks.size, 0, 'a refused apply takes no lock');
    });

    it('refuses a downgrade and upgrades in place', async () => {
      await applyK0s();
      const down = await call(part, 'POST', '/k0sctl/apply-begin', config('b', 'v1.32.6+k0s.0'));
      assert.equal(down.status, 400);
      assert.match(errorOf(down).message, /downgrade/);
      const up = okBody<{ plan: string }>(
        await call(part, 'POST', '/k0sctl/apply-begin', config('c', 'v1.33.3+k0s.0'))
      );
      assert.equal(up.plan, 'upgrade');
      okBody(await call(part, 'POST', '/k0sctl/apply-finish', { name: ID, holder: 'c' }));
      assert.equal(part.k0sOn(ID, 'k0s-worker-1')?.version, 'v1.33.3+k0s.0');
      assert.equal(services.applied[`k0s:${ID}`], 2);
    });

    it('has no kubeconfig before k0s is installed', async () => {
      const res = await call(part, 'POST', '/k0sctl/kubeconfig', config('x'));
      assert.equal(res.status, 404);
      assert.match(errorOf(res).message, /admin\.conf: No such file or directory/);
    });

    it('reset empties the cluster and retires the token', async () => {
      const auth = await k0sCluster();
      await helmInstall(auth, 'kcm', 'kcm-system', KCM, '1.1.1');
      okBody(await call(part, 'POST', '/k0sctl/reset-begin', { ...config('r'), version: undefined }));
      okBody(await call(part, 'POST', '/k0sctl/reset-finish', { name: ID, holder: 'r' }));
      assert.equal(part.k0sOn(ID, 'k0s-controller-1'), undefined);
      assert.equal(services.locks.size, 0);
      const res = await kube(auth, 'get', { resource: 'namespaces', names: [] });
      assert.equal(res.status, 503);
      assert.match(errorOf(res).message, /connection to the server 192\.168\.100\.11:6443 was refused/);
      await applyK0s('again');
      const fresh = await kubeconfig();
      assert.notEqual(fresh.token, auth.token);
      assert.equal((await kube(auth, 'get', { resource: 'ns', names: [] })).status, 401);
      const releases = okBody<unknown[]>(await helm(fresh, 'list', { all: true }));
      assert.deepEqual(releases, []);
    });
  });

  describe('API access', () => {
    it('answers 503 with the kubectl and Helm messages when the tunnel is down', async () => {
      const auth = await k0sCluster();
      services.cutOff.add('192.168.100.11');
      const k = await kube(auth, 'get', { resource: 'nodes', names: [] });
      assert.equal(k.status, 503);
      assert.equal(
        errorOf(k).message,
        'Unable to connect to the server: dial tcp 192.168.100.11:6443: i/o timeout'
      );
      const h = await helm(auth, 'status', { release: 'kcm', namespace: 'kcm-system' });
      assert.equal(h.status, 503);
      assert.equal(
        errorOf(h).message,
        'Kubernetes cluster unreachable: Get "https://192.168.100.11:6443/version": dial tcp 192.168.100.11:6443: i/o timeout'
      );
      const install = await helmBegin(auth, 'kcm', 'kcm-system', KCM, '1.1.1', 'install');
      assert.match(errorOf(install).message, /^INSTALLATION FAILED: Kubernetes cluster unreachable/);
    });

    it('answers 401 to an unknown token and refuses a server that is not a controller', async () => {
      const auth = await k0sCluster();
      const bad = await kube({ ...auth, token: 'not-a-token' }, 'get', { resource: 'nodes', names: [] });
      assert.equal(bad.status, 401);
      assert.equal(errorOf(bad).message, 'error: You must be logged in to the server (Unauthorized)');
      const worker = await kube({ ...auth, server: 'https://192.168.100.12:6443' }, 'get', {
        resource: 'nodes',
        names: [],
      });
      assert.equal(worker.status, 503);
      assert.match(errorOf(worker).message, /was refused/);
    });
  });

  describe('objects', () => {
    it('applies created, configured and unchanged, counting only real changes', async () => {
      const auth = await k0sCluster();
      const cm = (value: string) => ({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'settings', namespace: 'kof' },
        data: { a: value },
      });
      const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kof' } };
      const first = okBody<{ results: unknown[] }>(await kube(auth, 'apply', { documents: [ns, cm('1')] }));
      assert.deepEqual(
        first.results.map(
          (r) => (r as { ref: string; action: string }).ref + ' ' + (r as { action: string }).action
        ),
        ['namespace/kof created', 'configmap/settings created']
      );
      const same = okBody<{ results: { action: string }[] }>(
        await kube(auth, 'apply', { documents: [cm('1')] })
      );
      assert.equal(same.results[0]?.action, 'unchanged');
      const changed = okBody<{ results: { action: string }[] }>(
        await kube(auth, 'apply', { documents: [cm('2')] })
      );
      assert.equal(changed.results[0]?.action, 'configured');
      assert.equal(services.applied[`object:${ID}:ConfigMap:kof/settings`], 2);
      assert.equal(services.applied[`object:${ID}:Namespace:/kof`], 1);
      assert.equal((await get(auth, 'cm', 'settings', 'kof'))?.data?.a, '2');
    });

    it('reports unknown kinds, missing namespaces and NotFound as kubectl prints them', async () => {
      const auth = await k0sCluster();
      const res = okBody<{ results: { error?: string }[] }>(
        await kube(auth, 'apply', {
          documents: [
            {
              apiVersion: 'k0rdent.mirantis.com/v1beta1',
              kind: 'ClusterDeployment',
              metadata: { name: 'r', namespace: 'kcm-system' },
              spec: { template: 't' },
            },
            {
              apiVersion: 'v1',
              kind: 'Secret',
              metadata: { name: 's', namespace: 'nowhere' },
              stringData: { a: 'b' },
            },
          ],
          source: 'STDIN',
        })
      );
      assert.equal(
        res.results[0]?.error,
        'error: resource mapping not found for name: "r" namespace: "kcm-system" from "STDIN": no matches for kind "ClusterDeployment" in version "k0rdent.mirantis.com/v1beta1"\nensure CRDs are installed first'
      );
      assert.equal(
        res.results[1]?.error,
        'Error from server (NotFound): error when creating "STDIN": namespaces "nowhere" not found'
      );
      const unknown = await kube(auth, 'get', { resource: 'management', names: ['kcm'] });
      assert.equal(errorOf(unknown).message, `error: the server doesn't have a resource type "management"`);
      const missing = okBody<{ notFound: string[] }>(
        await kube(auth, 'get', { resource: 'secrets', names: ['nope'], namespace: 'default' })
      );
      assert.deepEqual(missing.notFound, ['Error from server (NotFound): secrets "nope" not found']);
    });

    it('deletes with cascade, honours ignore-not-found, labels with overwrite rules', async () => {
      const auth = await k0sCluster();
      okBody(await kube(auth, 'create-namespace', { name: 'kof' }));
      const dup = await kube(auth, 'create-namespace', { name: 'kof' });
      assert.equal(
        errorOf(dup).message,
        'Error from server (AlreadyExists): namespaces "kof" already exists'
      );
      okBody(
        await kube(auth, 'apply', {
          documents: [
            {
              apiVersion: 'v1',
              kind: 'Secret',
              metadata: { name: 's', namespace: 'kof' },
              stringData: { k: 'v' },
            },
          ],
        })
      );
      assert.equal((await get(auth, 'secret', 's', 'kof'))?.data?.k, Buffer.from('v').toString('base64'));

      const labelled = okBody<{ message: string }>(
        await kube(auth, 'label', { resource: 'ns', name: 'kof', labels: { 'istio-injection': 'enabled' } })
      );
      assert.equal(labelled.message, 'namespace/kof labeled');
      const conflict = await kube(auth, 'label', {
        resource: 'namespace',
        name: 'kof',
        labels: { 'istio-injection': 'disabled' },
      });
      assert.equal(
        errorOf(conflict).message,
        "error: 'istio-injection' already has a value (enabled), and --overwrite is false"
      );
      const forced = okBody<{ message: string }>(
        await kube(auth, 'label', {
          resource: 'namespace',
          name: 'kof',
          labels: { 'istio-injection': 'disabled' },
          overwrite: true,
        })
      );
      assert.equal(forced.message, 'namespace/kof labeled');

      const gone = okBody<{ results: unknown[] }>(
        await kube(auth, 'delete', { resource: 'namespace', names: ['kof'] })
      );
      assert.deepEqual(gone.results, [{ deleted: 'namespace "kof" deleted' }]);
      assert.equal(await get(auth, 'secret', 's', 'kof'), undefined, 'the namespace took its secret along');
      const again = okBody<{ results: unknown[] }>(
        await kube(auth, 'delete', { resource: 'ns', names: ['kof'] })
      );
      assert.deepEqual(again.results, [
        { error: 'Error from server (NotFound): namespaces "kof" not found' },
      ]);
      const ignored = okBody<{ results: unknown[] }>(
        await kube(auth, 'delete', { resource: 'ns', names: ['kof'], ignoreNotFound: true })
      );
      assert.deepEqual(ignored.results, [{ ignored: 'kof' }]);
    });

    it('makes Deployments available after nodeReadyMs', async () => {
      const auth = await k0sCluster();
      services.advance(services.times.nodeReadyMs);
      okBody(
        await kube(auth, 'apply', {
          documents: [
            {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              metadata: { name: 'csi-azuredisk-controller', namespace: 'kube-system' },
              spec: {
                replicas: 2,
                selector: { matchLabels: { app: 'csi' } },
                template: {
                  metadata: { labels: { app: 'csi' } },
                  spec: { containers: [{ name: 'c', image: 'x' }] },
                },
              },
            },
          ],
        })
      );
      const before = await get(auth, 'deploy', 'csi-azuredisk-controller', 'kube-system');
      assert.equal(before?.status?.availableReplicas, 0);
      services.advance(services.times.nodeReadyMs);
      const after = await get(auth, 'deployments.apps', 'csi-azuredisk-controller', 'kube-system');
      assert.equal(after?.status?.availableReplicas, 2);
      const pods = okBody<{ items: KubeObj[] }>(
        await kube(auth, 'get', {
          resource: 'pods',
          names: [],
          namespace: 'kube-system',
          labelSelector: 'app=csi',
        })
      ).items;
      assert.equal(pods.length, 2);
    });
  });

  describe('Helm and k0rdent', () => {
    it('runs the install flow: kcm, Management Ready after its delay, Credential, ClusterDeployment Ready with its kubeconfig secret', async () => {
      const auth = await k0sCluster();
      const begin = okBody<{ action: string; revision: number }>(
        await helmBegin(auth, 'kcm', 'kcm-system', KCM, '1.1.1')
      );
      assert.deepEqual([begin.action, begin.revision], ['install', 1]);
      const pending = okBody<{ info: { status: string } }>(
        await helm(auth, 'status', { release: 'kcm', namespace: 'kcm-system' })
      );
      assert.equal(pending.info.status, 'pending-install');
      assert.equal(
        (await kube(auth, 'get', { resource: 'managements', names: ['kcm'] })).status,
        404,
        'no CRDs before the finish'
      );
      services.advance(services.times.helmInstallMs);
      const done = okBody<{
        release: {
          version: number;
          info: { status: string };
          chart: { metadata: { name: string; version: string } };
        };
      }>(await helm(auth, 'finish', { release: 'kcm', namespace: 'kcm-system', holder: 'helm kcm' }));
      assert.equal(done.release.info.status, 'deployed');
      assert.deepEqual(done.release.chart.metadata, {
        ...done.release.chart.metadata,
        name: 'kcm',
        version: '1.1.1',
      });
      assert.equal(services.applied[`helm:${ID}:kcm-system/kcm`], 1);

      assert.equal(ready(await get(auth, 'management', 'kcm')), 'False');
      services.advance(services.times.managementReadyMs);
      assert.equal(ready(await get(auth, 'managements.k0rdent.mirantis.com', 'kcm')), 'True');
      for (const crd of [
        'azureclusteridentities.infrastructure.cluster.x-k8s.io',
        'clusterprofiles.config.projectsveltos.io',
      ])
        assert.ok(await get(auth, 'crd', crd), crd);
      assert.ok(await get(auth, 'clustertemplate', 'azure-standalone-cp-1-0-8', 'kcm-system'));

      const cd = {
        apiVersion: 'k0rdent.mirantis.com/v1beta1',
        kind: 'ClusterDeployment',
        metadata: { name: 'regional', namespace: 'kcm-system' },
        spec: {
          template: 'azure-standalone-cp-1-0-8',
          credential: 'azure-cluster-credential',
          config: { location: 'southeastasia' },
        },
      };
      okBody(
        await kube(auth, 'apply', {
          documents: [
            {
              apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta1',
              kind: 'AzureClusterIdentity',
              metadata: { name: 'azure-cluster-identity', namespace: 'kcm-system' },
              spec: {
                type: 'ServicePrincipal',
                clientID: 'x',
                tenantID: 'y',
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
            cd,
          ],
        })
      );
      const provisioning = await get(auth, 'clusterdeployment', 'regional', 'kcm-system');
      assert.equal(ready(provisioning), 'False');
      assert.equal(provisioning?.status?.conditions?.[0]?.reason, 'Provisioning');
      assert.equal(await get(auth, 'secret', 'regional-kubeconfig', 'kcm-system'), undefined);
      services.advance(services.times.clusterDeploymentReadyMs);
      assert.equal(ready(await get(auth, 'clusterdeployments', 'regional', 'kcm-system')), 'True');
      const secret = await get(auth, 'secret', 'regional-kubeconfig', 'kcm-system');
      const kubeconfigText = Buffer.from(secret?.data?.value ?? '', 'base64').toString('utf8');
      assert.match(kubeconfigText, /server: https:\/\/regional\.southeastasia\.cloudapp\.azure\.com:6443/);
    });

    it('keeps a ClusterDeployment whose template does not exist not Ready, with the reason', async () => {
      const auth = await k0sCluster();
      await helmInstall(auth, 'kcm', 'kcm-system', KCM, '1.1.1');
      okBody(
        await kube(auth, 'apply', {
          documents: [
            {
              apiVersion: 'k0rdent.mirantis.com/v1beta1',
              kind: 'ClusterDeployment',
              metadata: { name: 'c', namespace: 'kcm-system' },
              spec: { template: 'nope', credential: 'none' },
            },
          ],
        })
      );
      services.advance(services.times.clusterDeploymentReadyMs * 2);
      const cd = await get(auth, 'clusterdeployment', 'c', 'kcm-system');
      assert.deepEqual([ready(cd), cd?.status?.conditions?.[0]?.reason], ['False', 'TemplateNotFound']);
      assert.equal(await get(auth, 'secret', 'c-kubeconfig', 'kcm-system'), undefined);
    });

    it('refuses a new operation while a release is pending, and uninstall repairs it', async () => {
      const auth = await k0sCluster();
      okBody(await helmBegin(auth, 'kcm', 'kcm-system', KCM, '1.1.1', 'upgrade-install', 'killed run'));
      // the run is killed: the release stays pending-install
      const upgrade = await helmBegin(auth, 'kcm', 'kcm-system', KCM, '1.1.1');
      assert.equal(upgrade.status, 409);
      assert.equal(
        errorOf(upgrade).message,
        'UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress'
      );
      const install = await helmBegin(auth, 'kcm', 'kcm-system', KCM, '1.1.1', 'install');
      assert.equal(
        errorOf(install).message,
        'INSTALLATION FAILED: cannot re-use a name that is still in use'
      );
      const listed = okBody<{ status: string }[]>(
        await helm(auth, 'list', { namespace: 'kcm-system', statuses: ['pending'] })
      );
      assert.deepEqual(
        listed.map((r) => r.status),
        ['pending-install']
      );
      assert.deepEqual(
        okBody(await helm(auth, 'list', { namespace: 'kcm-system' })),
        [],
        'helm list hides pending releases by default'
      );
      okBody(await helm(auth, 'uninstall', { release: 'kcm', namespace: 'kcm-system' }));
      await helmInstall(auth, 'kcm', 'kcm-system', KCM, '1.1.1');
      assert.equal(services.applied[`helm:${ID}:kcm-system/kcm`], 1);
    });

    it('counts an upgrade only when the chart version or values change', async () => {
      const auth = await k0sCluster();
      await helmInstall(auth, 'kcm', 'kcm-system', KCM, '1.1.1');
      await helmInstall(auth, 'kcm', 'kcm-system', KCM, 'v1.1.1');
      const status = okBody<{ version: number }>(
        await helm(auth, 'status', { release: 'kcm', namespace: 'kcm-system' })
      );
      assert.equal(status.version, 2, 'a repeat is still a revision');
      assert.equal(services.applied[`helm:${ID}:kcm-system/kcm`], 1);
      await helmInstall(auth, 'kcm', 'kcm-system', KCM, '1.2.0');
      assert.equal(services.applied[`helm:${ID}:kcm-system/kcm`], 2);
    });

    it('fails kof-mothership while the VictoriaMetrics webhook is not ready, then installs it', async () => {
      const auth = await k0sCluster();
      await helmInstall(auth, 'kcm', 'kcm-system', KCM, '1.1.1');
      await helmInstall(auth, 'kof-operators', 'kof', `${KOF}/kof-operators`, '1.1.0');
      const early = await helmBegin(auth, 'kof-mothership', 'kof', `${KOF}/kof-mothership`, '1.1.0');
      assert.equal(early.status, 500);
      assert.match(
        errorOf(early).message,
        /^1 error occurred:\n\t\* Internal error occurred: failed calling webhook "vmalertmanager\.victoriametrics\.com"/
      );
      const failed = okBody<{ info: { status: string; description: string } }>(
        await helm(auth, 'status', { release: 'kof-mothership', namespace: 'kof' })
      );
      assert.equal(failed.info.status, 'failed');
      assert.match(failed.info.description, /failed calling webhook "vmalertmanager\.victoriametrics\.com"/);
      services.advance(services.times.webhookReadyMs);
      const retry = okBody<{ action: string; revision: number }>(
        await helmBegin(auth, 'kof-mothership', 'kof', `${KOF}/kof-mothership`, '1.1.0')
      );
      assert.deepEqual([retry.action, retry.revision], ['upgrade', 2]);
      services.advance(services.times.helmInstallMs);
      okBody(
        await helm(auth, 'finish', {
          release: 'kof-mothership',
          namespace: 'kof',
          holder: 'helm kof-mothership',
        })
      );
      assert.ok(await get(auth, 'vmcluster', 'cluster', 'kof'));
    });

    it('fails a chart whose kinds have no CRD, before recording the release', async () => {
      const auth = await k0sCluster();
      const res = await helmBegin(auth, 'kof-mothership', 'kof', `${KOF}/kof-mothership`, '1.1.0');
      assert.equal(res.status, 400);
      assert.match(
        errorOf(res).message,
        /^unable to build kubernetes objects from release manifest: resource mapping not found .*\nensure CRDs are installed first$/
      );
      assert.equal((await helm(auth, 'status', { release: 'kof-mothership', namespace: 'kof' })).status, 404);
    });

    it('answers unknown charts, versions and namespaces as Helm does', async () => {
      const auth = await k0sCluster();
      const chart = await helmBegin(auth, 'x', 'kof', `${KOF}/kof-nothing`, '1.1.0');
      assert.equal(
        errorOf(chart).message,
        'failed to perform "FetchReference" on source: ghcr.io/k0rdent/kof/charts/kof-nothing:1.1.0: not found'
      );
      const version = await helmBegin(auth, 'kcm', 'kcm-system', KCM, '9.9.9');
      assert.match(errorOf(version).message, /kcm:9\.9\.9: not found/);
      const noNs = await helm(auth, 'begin', {
        release: 'kcm',
        namespace: 'kcm-system',
        chart: KCM,
        version: '1.1.1',
        mode: 'install',
        holder: 'h',
        values: {},
      });
      assert.equal(
        errorOf(noNs).message,
        'INSTALLATION FAILED: create: failed to create: namespaces "kcm-system" not found'
      );
    });

    it('uninstalling kcm removes what it brought, custom objects included', async () => {
      const auth = await k0sCluster();
      await helmInstall(auth, 'kcm', 'kcm-system', KCM, '1.1.1');
      okBody(
        await kube(auth, 'apply', {
          documents: [
            {
              apiVersion: 'k0rdent.mirantis.com/v1beta1',
              kind: 'Credential',
              metadata: { name: 'c', namespace: 'kcm-system' },
              spec: {},
            },
          ],
        })
      );
      const res = okBody<{ message: string }>(
        await helm(auth, 'uninstall', { release: 'kcm', namespace: 'kcm-system' })
      );
      assert.equal(res.message, 'release "kcm" uninstalled');
      assert.equal((await kube(auth, 'get', { resource: 'credentials', names: ['c'] })).status, 404);
      assert.equal(await get(auth, 'crd', 'managements.k0rdent.mirantis.com'), undefined);
      assert.equal(await get(auth, 'namespace', 'projectsveltos'), undefined);
      assert.ok(await get(auth, 'namespace', 'kcm-system'), 'the release namespace stays');
    });
  });

  describe('service principals', () => {
    it('creates, resets on a repeat create, lists, resets credentials and deletes', async () => {
      const created = okBody<{ appId: string; password: string; tenant: string; created: boolean }>(
        await call(part, 'POST', '/az/sp/create-for-rbac', {
          displayName: 'k0rdent-x-sp',
          role: 'contributor',
          scopes: ['/subscriptions/00000000-0000-0000-0000-000000000000'],
        })
      );
      assert.equal(created.created, true);
      const again = okBody<{ appId: string; password: string; created: boolean }>(
        await call(part, 'POST', '/az/sp/create-for-rbac', { displayName: 'k0rdent-x-sp' })
      );
      assert.deepEqual([again.appId, again.created], [created.appId, false]);
      assert.notEqual(again.password, created.password);
      assert.deepEqual(services.applied, { 'sp:k0rdent-x-sp': 1 });
      const listed = okBody<Record<string, unknown>[]>(
        await call(part, 'GET', '/az/sp/list', undefined, 'displayName=k0rdent-x-sp')
      );
      assert.equal(listed.length, 1);
      assert.equal(JSON.stringify(listed).includes(created.password), false, 'a list never shows a password');
      const reset = okBody<{ appId: string; password: string }>(
        await call(part, 'POST', '/az/sp/credential-reset', { id: created.appId })
      );
      assert.equal(reset.appId, created.appId);
      okBody(await call(part, 'POST', '/az/sp/delete', { id: created.appId }));
      assert.deepEqual(
        okBody(await call(part, 'GET', '/az/sp/list', undefined, 'displayName=k0rdent-x-sp')),
        []
      );
      const missing = await call(part, 'GET', '/az/sp/show', undefined, `id=${created.appId}`);
      assert.equal(missing.status, 404);
      const account = okBody<{ id: string }>(await call(part, 'GET', '/az/account'));
      assert.equal(account.id, '00000000-0000-0000-0000-000000000000');
      const role = await call(part, 'POST', '/az/sp/create-for-rbac', {
        displayName: 'y',
        role: 'Wizard',
        scopes: [],
      });
      assert.equal(errorOf(role).message, "Role 'Wizard' doesn't exist.");
    });
  });

  describe('persistence', () => {
    it('dump and load carry k0s, objects, releases and principals; reset forgets them', async () => {
      const auth = await k0sCluster();
      await helmInstall(auth, 'kcm', 'kcm-system', KCM, '1.1.1');
      okBody(await call(part, 'POST', '/az/sp/create-for-rbac', { displayName: 'sp' }));
      const dumped = JSON.parse(JSON.stringify(part.dump())) as unknown;
      const copy = createClusterPart(services);
      copy.load(dumped);
      const status = okBody<{ info: { status: string } }>(
        await copy.handle('POST', '/helm/status', new URLSearchParams(), {
          auth,
          release: 'kcm',
          namespace: 'kcm-system',
        })
      );
      assert.equal(status.info.status, 'deployed');
      assert.deepEqual(copy.k0sOn(ID, 'k0s-worker-1'), { version: K0S, role: 'worker' });
      assert.equal(
        okBody<unknown[]>(await copy.handle('GET', '/az/sp/list', new URLSearchParams(), undefined)).length,
        1
      );
      copy.reset();
      assert.equal(copy.k0sOn(ID, 'k0s-worker-1'), undefined);
      assert.throws(() => copy.load({ version: 7 }), /not a version 1 dump/);
    });
  });
});
