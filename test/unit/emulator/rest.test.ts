/** ARM wire protocol of the emulator over raw HTTPS: status codes, paths, auth, lists and LROs. */
import assert from 'node:assert/strict';
import type { ArmEmulator } from '../../../emulator/src/arm';
import { startArmEmulator } from '../../../emulator/src/arm';
import { SUB, bodies, errorCode, putGroup, putOk, q, raw, resPath, rgPath, sleep } from './helpers';

const VNET = 'Microsoft.Network/virtualNetworks';
const SSH = 'Microsoft.Compute/sshPublicKeys';

function header(
  res: { headers: Record<string, string | string[] | undefined> },
  name: string
): string | undefined {
  const value = res.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

describe('ARM emulator wire protocol', () => {
  let emu: ArmEmulator;

  before(async () => {
    emu = await startArmEmulator();
  });
  after(async () => {
    await emu.close();
  });
  beforeEach(() => {
    emu.reset();
    emu.setLro({});
  });

  describe('resource groups', () => {
    it('answers PUT with 201 when created and 200 when updated, keeping one group', async () => {
      const created = await raw(emu, 'PUT', q(rgPath('rg1')), {
        body: { location: 'East US', tags: { a: '1' } },
      });
      assert.equal(created.status, 201);
      assert.deepEqual(created.json, {
        id: `/subscriptions/${SUB}/resourceGroups/rg1`,
        name: 'rg1',
        type: 'Microsoft.Resources/resourceGroups',
        location: 'eastus',
        tags: { a: '1' },
        properties: { provisioningState: 'Succeeded' },
      });
      const updated = await raw(emu, 'PUT', q(rgPath('rg1')), {
        body: { location: 'eastus', tags: { a: '2' } },
      });
      assert.equal(updated.status, 200);
      assert.deepEqual((updated.json as { tags: unknown }).tags, { a: '2' });
      assert.equal(emu.resources().length, 1);
    });

    it('answers a method a resource group does not serve with 405 naming the method', async () => {
      await putGroup(emu, 'rg1', 'eastus');
      const res = await raw(emu, 'POST', q(rgPath('rg1')), { body: {} });
      assert.equal(res.status, 405);
      assert.equal(errorCode(res), 'MethodNotAllowed');
      assert.match(JSON.stringify(res.json), /does not support http method 'POST'/);
    });

    it('refuses to move an existing group to another location', async () => {
      await putGroup(emu, 'rg1', 'eastus');
      const res = await raw(emu, 'PUT', q(rgPath('rg1')), { body: { location: 'westeurope' } });
      assert.equal(res.status, 400);
      assert.equal(errorCode(res), 'InvalidResourceGroupLocation');
    });

    it('replaces the tags on PATCH', async () => {
      await raw(emu, 'PUT', q(rgPath('rg1')), { body: { location: 'eastus', tags: { a: '1' } } });
      const res = await raw(emu, 'PATCH', q(rgPath('rg1')), { body: { tags: { b: '2' } } });
      assert.equal(res.status, 200);
      assert.deepEqual((res.json as { tags: unknown }).tags, { b: '2' });
    });

    const headCases = [
      { what: 'an existing group', create: true, path: rgPath('rg-head'), status: 204 },
      {
        what: 'an existing group in lower-case resourcegroups',
        create: true,
        path: `/subscriptions/${SUB}/resourcegroups/RG-HEAD`,
        status: 204,
      },
      { what: 'a missing group', create: false, path: rgPath('rg-head'), status: 404 },
    ];
    for (const { what, create, path, status } of headCases) {
      it(`answers HEAD for ${what} with ${status} and no body`, async () => {
        if (create) await putGroup(emu, 'rg-head');
        const res = await raw(emu, 'HEAD', q(path));
        assert.equal(res.status, status);
        assert.equal(res.text, '');
      });
    }

    it('deletes a group as an LRO: 202 with Location, 202 while deleting, then 200 and gone', async () => {
      emu.setLro({ perType: { 'Microsoft.Resources/resourceGroups': 1_000 } });
      await putGroup(emu, 'rg-del');
      const del = await raw(emu, 'DELETE', q(rgPath('rg-del')));
      assert.equal(del.status, 202);
      const location = header(del, 'location') ?? '';
      assert.match(
        location,
        new RegExp(`^${emu.endpoint}/subscriptions/${SUB}/operationresults/[0-9a-f-]+\\?api-version=`)
      );
      assert.equal(header(del, 'retry-after'), '0');
      const during = await raw(emu, 'GET', q(rgPath('rg-del')));
      assert.equal(
        (during.json as { properties: { provisioningState: string } }).properties.provisioningState,
        'Deleting'
      );
      assert.equal((await raw(emu, 'GET', location)).status, 202);
      const again = await raw(emu, 'DELETE', q(rgPath('rg-del')));
      assert.equal(again.status, 202, 'deleting a group that is being deleted is fine');
      assert.equal(header(again, 'location'), location);
      const put = await raw(emu, 'PUT', q(resPath('rg-del', VNET, 'vnet')), { body: bodies.vnet });
      assert.equal(put.status, 409);
      assert.equal(errorCode(put), 'ResourceGroupBeingDeleted');
      await sleep(1_050);
      assert.equal((await raw(emu, 'GET', location)).status, 200);
      assert.equal((await raw(emu, 'GET', q(rgPath('rg-del')))).status, 404);
    });

    it('lists groups in value, also when there are none', async () => {
      const empty = await raw(emu, 'GET', q(`/subscriptions/${SUB}/resourcegroups`));
      assert.deepEqual(empty.json, { value: [] });
      await putGroup(emu, 'a');
      await putGroup(emu, 'b');
      const two = await raw(emu, 'GET', q(`/subscriptions/${SUB}/resourcegroups`));
      assert.deepEqual(
        (two.json as { value: Array<{ name: string }> }).value.map((g) => g.name),
        ['a', 'b']
      );
    });
  });

  describe('status codes', () => {
    const deleteMissing = [
      { what: 'a missing resource group', path: rgPath('nope'), status: 404, code: 'ResourceGroupNotFound' },
      { what: 'a missing virtual network', path: resPath('rg', VNET, 'nope'), status: 204, code: undefined },
      {
        what: 'a missing subnet',
        path: `${resPath('rg', VNET, 'vnet')}/subnets/nope`,
        status: 204,
        code: undefined,
      },
      { what: 'a missing SSH key', path: resPath('rg', SSH, 'nope'), status: 204, code: undefined },
      {
        what: 'a resource in a missing group',
        path: resPath('nope', VNET, 'vnet'),
        status: 404,
        code: 'ResourceGroupNotFound',
      },
    ];
    for (const { what, path, status, code } of deleteMissing) {
      it(`answers DELETE of ${what} with ${status}`, async () => {
        await putGroup(emu, 'rg');
        await putOk(emu, resPath('rg', VNET, 'vnet'), bodies.vnet);
        const res = await raw(emu, 'DELETE', q(path));
        assert.equal(res.status, status);
        assert.equal(errorCode(res), code);
      });
    }

    const notFound = [
      {
        what: 'PUT into a missing group',
        method: 'PUT',
        path: resPath('nope', VNET, 'vnet'),
        code: 'ResourceGroupNotFound',
      },
      {
        what: 'GET in a missing group',
        method: 'GET',
        path: resPath('nope', VNET, 'vnet'),
        code: 'ResourceGroupNotFound',
      },
      {
        what: 'GET of a missing resource',
        method: 'GET',
        path: resPath('rg', VNET, 'nope'),
        code: 'ResourceNotFound',
      },
      { what: 'GET of a missing group', method: 'GET', path: rgPath('nope'), code: 'ResourceGroupNotFound' },
      {
        what: 'PUT of a subnet of a missing VNet',
        method: 'PUT',
        path: `${resPath('rg', VNET, 'nope')}/subnets/s`,
        code: 'ResourceNotFound',
      },
    ];
    for (const { what, method, path, code } of notFound) {
      it(`answers ${what} with 404 ${code}`, async () => {
        await putGroup(emu, 'rg');
        const res = await raw(emu, method, q(path), { body: method === 'PUT' ? bodies.vnet : undefined });
        assert.equal(res.status, 404);
        assert.equal(errorCode(res), code);
        assert.equal(typeof (res.json as { error: { message: unknown } }).error.message, 'string');
      });
    }

    it('answers 401 AuthenticationFailed without a bearer token, and counts the request', async () => {
      const res = await raw(emu, 'GET', q(`/subscriptions/${SUB}/resourcegroups`), { auth: false });
      assert.equal(res.status, 401);
      assert.equal(errorCode(res), 'AuthenticationFailed');
      const basic = await raw(emu, 'GET', q(`/subscriptions/${SUB}/resourcegroups`), {
        auth: false,
        headers: { authorization: 'Basic Zm9vOmJhcg==' },
      });
      assert.equal(basic.status, 401);
      assert.equal(emu.counts().total, 2);
    });

    it('accepts any bearer token and any api-version, but requires one', async () => {
      await putGroup(emu, 'rg');
      const odd = await raw(emu, 'GET', `${rgPath('rg')}?api-version=1999-01-01-preview`, {
        auth: false,
        headers: { authorization: 'Bearer not-a-jwt' },
      });
      assert.equal(odd.status, 200);
      const none = await raw(emu, 'GET', rgPath('rg'));
      assert.equal(none.status, 400);
      assert.equal(errorCode(none), 'MissingApiVersionParameter');
    });

    it('refuses an unknown resource type with InvalidResourceType', async () => {
      await putGroup(emu, 'rg');
      const res = await raw(emu, 'PUT', q(resPath('rg', 'Microsoft.Storage/storageAccounts', 'sa')), {
        body: { location: 'eastus' },
      });
      assert.equal(res.status, 400);
      assert.equal(errorCode(res), 'InvalidResourceType');
    });

    it('refuses a body that is not JSON with InvalidRequestContent', async () => {
      await putGroup(emu, 'rg');
      const res = await raw(emu, 'PUT', q(resPath('rg', VNET, 'vnet')), {
        body: undefined,
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(res.status, 400);
      assert.equal(errorCode(res), 'InvalidRequestContent');
    });
  });

  describe('paths and names', () => {
    it('treats paths and names case-insensitively and keeps the casing of the first PUT', async () => {
      await raw(emu, 'PUT', q(`/subscriptions/${SUB}/resourcegroups/My-RG`), {
        body: { location: 'eastus' },
      });
      const vnet = await putOk(
        emu,
        `/SUBSCRIPTIONS/${SUB}/RESOURCEGROUPS/my-rg/PROVIDERS/microsoft.network/VIRTUALNETWORKS/Mixed-VNet`,
        bodies.vnet
      );
      assert.equal(
        (vnet.json as { id: string }).id,
        `/subscriptions/${SUB}/resourceGroups/My-RG/providers/Microsoft.Network/virtualNetworks/Mixed-VNet`
      );
      const got = await raw(emu, 'GET', q(resPath('MY-RG', VNET, 'mixed-vnet')));
      assert.equal(got.status, 200);
      assert.equal((got.json as { name: string }).name, 'Mixed-VNet');
      const again = await raw(
        emu,
        'PUT',
        q(resPath('my-rg', 'Microsoft.Network/VirtualNetworks', 'MIXED-VNET')),
        {
          body: bodies.vnet,
        }
      );
      assert.equal(again.status, 200, 'a PUT under another casing updates the same resource');
      const subnet = await raw(emu, 'GET', q(`${resPath('my-rg', VNET, 'mixed-vnet')}/SUBNETS/SUBNET`));
      assert.equal(subnet.status, 200);
      assert.equal(emu.resources().filter((r) => r.type === 'Microsoft.Network/virtualNetworks').length, 1);
      assert.equal((await raw(emu, 'HEAD', q(`/subscriptions/${SUB}/resourcegroups/MY-rg`))).status, 204);
    });

    it('serves any subscription, each with its own resources', async () => {
      await raw(emu, 'PUT', q('/subscriptions/sub-a/resourcegroups/rg'), { body: { location: 'eastus' } });
      assert.equal((await raw(emu, 'HEAD', q('/subscriptions/sub-a/resourcegroups/rg'))).status, 204);
      assert.equal((await raw(emu, 'HEAD', q('/subscriptions/sub-b/resourcegroups/rg'))).status, 404);
    });

    const lists = [
      { what: 'VNets of a group', path: `${rgPath('rg')}/providers/${VNET}` },
      { what: 'VMs of a group', path: `${rgPath('rg')}/providers/Microsoft.Compute/virtualMachines` },
      {
        what: 'VMs of the subscription',
        path: `/subscriptions/${SUB}/providers/Microsoft.Compute/virtualMachines`,
      },
      { what: 'disks of the subscription', path: `/subscriptions/${SUB}/providers/Microsoft.Compute/disks` },
      { what: 'resources of a group', path: `${rgPath('rg')}/resources` },
    ];
    for (const { what, path } of lists) {
      it(`lists ${what} in value, also when empty`, async () => {
        await putGroup(emu, 'rg');
        const res = await raw(emu, 'GET', q(path));
        assert.equal(res.status, 200);
        assert.deepEqual(res.json, { value: [] });
      });
    }

    it('lists subnets and security rules of their parent in value', async () => {
      await putGroup(emu, 'rg');
      await putOk(emu, resPath('rg', VNET, 'vnet'), bodies.vnet);
      await putOk(emu, resPath('rg', 'Microsoft.Network/networkSecurityGroups', 'nsg'), bodies.nsg);
      const subnets = await raw(emu, 'GET', q(`${resPath('rg', VNET, 'vnet')}/subnets`));
      assert.deepEqual(
        (subnets.json as { value: Array<{ name: string }> }).value.map((s) => s.name),
        ['subnet']
      );
      const rules = await raw(
        emu,
        'GET',
        q(`${resPath('rg', 'Microsoft.Network/networkSecurityGroups', 'nsg')}/securityRules`)
      );
      assert.deepEqual(
        (rules.json as { value: Array<{ name: string }> }).value.map((s) => s.name),
        ['AllowSSH']
      );
    });
  });

  describe('long-running operations', () => {
    it('shows Creating until the configured duration has passed, then Succeeded', async () => {
      emu.setLro({ defaultMs: 10_000, perType: { [VNET]: 500 } });
      await putGroup(emu, 'rg');
      const started = Date.now();
      const put = await raw(emu, 'PUT', q(resPath('rg', VNET, 'vnet')), { body: bodies.vnet });
      assert.equal(put.status, 201);
      assert.equal(
        (put.json as { properties: { provisioningState: string } }).properties.provisioningState,
        'Creating'
      );
      const asyncOp = header(put, 'azure-asyncoperation') ?? '';
      assert.match(
        asyncOp,
        new RegExp(
          `^${emu.endpoint}/subscriptions/${SUB}/providers/Microsoft.Network/locations/eastus/operations/[0-9a-f-]+\\?api-version=2025-05-01$`
        )
      );
      assert.equal(header(put, 'location'), undefined);
      const state = async () =>
        (
          (await raw(emu, 'GET', q(resPath('rg', VNET, 'vnet')))).json as {
            properties: { provisioningState: string };
          }
        ).properties.provisioningState;
      const status = async () => ((await raw(emu, 'GET', asyncOp)).json as { status: string }).status;
      assert.equal(await state(), 'Creating');
      assert.equal(await status(), 'InProgress');
      while (Date.now() - started < 550) await sleep(25);
      assert.equal(await status(), 'Succeeded');
      assert.equal(await state(), 'Succeeded');

      const update = await raw(emu, 'PUT', q(resPath('rg', VNET, 'vnet')), { body: bodies.vnet });
      assert.equal(update.status, 200);
      assert.equal(
        (update.json as { properties: { provisioningState: string } }).properties.provisioningState,
        'Updating'
      );
      assert.equal(await state(), 'Updating');
      await sleep(550);
      assert.equal(await state(), 'Succeeded');

      const del = await raw(emu, 'DELETE', q(resPath('rg', VNET, 'vnet')));
      assert.equal(del.status, 202);
      const result = header(del, 'location') ?? '';
      assert.match(
        result,
        /\/providers\/Microsoft\.Network\/locations\/eastus\/operationResults\/[0-9a-f-]+\?api-version=/
      );
      assert.match(header(del, 'azure-asyncoperation') ?? '', /\/operations\//);
      assert.equal(await state(), 'Deleting');
      assert.equal((await raw(emu, 'GET', result)).status, 202);
      await sleep(550);
      assert.equal((await raw(emu, 'GET', result)).status, 200);
      assert.equal((await raw(emu, 'GET', q(resPath('rg', VNET, 'vnet')))).status, 404);
    });

    it('sends the configured Retry-After on LRO answers and in-progress polls', async () => {
      const slow = await startArmEmulator({ lro: { defaultMs: 5_000 }, pollRetryAfterSeconds: 7 });
      try {
        await putGroup(slow, 'rg');
        const put = await raw(slow, 'PUT', q(resPath('rg', VNET, 'vnet')), { body: bodies.vnet });
        assert.equal(header(put, 'retry-after'), '7');
        const poll = await raw(slow, 'GET', header(put, 'azure-asyncoperation') ?? '');
        assert.equal(header(poll, 'retry-after'), '7');
      } finally {
        await slow.close();
      }
    });

    const conflicts = [
      { what: 'a PUT with another body while creating', method: 'PUT', changed: true, status: 409 },
      { what: 'a DELETE while creating', method: 'DELETE', changed: false, status: 409 },
      {
        what: 'a PUT with the same body while creating (a retry)',
        method: 'PUT',
        changed: false,
        status: 201,
      },
    ];
    for (const { what, method, changed, status } of conflicts) {
      it(`answers ${what} with ${status}`, async () => {
        emu.setLro({ defaultMs: 5_000 });
        await putGroup(emu, 'rg');
        const first = await raw(emu, 'PUT', q(resPath('rg', VNET, 'vnet')), { body: bodies.vnet });
        const body = changed
          ? { ...bodies.vnet, tags: { changed: 'yes' } }
          : method === 'PUT'
            ? bodies.vnet
            : undefined;
        const res = await raw(emu, method, q(resPath('rg', VNET, 'vnet')), { body });
        assert.equal(res.status, status);
        if (status === 409) assert.equal(errorCode(res), 'AnotherOperationInProgress');
        else assert.equal(header(res, 'azure-asyncoperation'), header(first, 'azure-asyncoperation'));
        assert.equal(emu.resources().filter((r) => r.type === VNET).length, 1);
      });
    }

    it('creates and deletes SSH public keys synchronously, without async headers', async () => {
      emu.setLro({ defaultMs: 5_000 });
      await putGroup(emu, 'rg');
      const put = await raw(emu, 'PUT', q(resPath('rg', SSH, 'key')), {
        body: { location: 'eastus', properties: { publicKey: 'ssh-rsa AAAA' } },
      });
      assert.equal(put.status, 201);
      assert.equal(header(put, 'azure-asyncoperation'), undefined);
      assert.deepEqual((put.json as { properties: unknown }).properties, { publicKey: 'ssh-rsa AAAA' });
      const del = await raw(emu, 'DELETE', q(resPath('rg', SSH, 'key')));
      assert.equal(del.status, 200);
      assert.equal((await raw(emu, 'GET', q(resPath('rg', SSH, 'key')))).status, 404);
    });

    it('keeps one delete operation when a DELETE is repeated while it runs', async () => {
      await putGroup(emu, 'rg');
      await putOk(emu, resPath('rg', VNET, 'vnet'), bodies.vnet);
      emu.setLro({ defaultMs: 5_000 });
      await raw(emu, 'GET', q(resPath('rg', VNET, 'vnet')));
      const first = await raw(emu, 'DELETE', q(resPath('rg', VNET, 'vnet')));
      const second = await raw(emu, 'DELETE', q(resPath('rg', VNET, 'vnet')));
      assert.equal(first.status, 202);
      assert.equal(second.status, 202);
      assert.equal(header(second, 'location'), header(first, 'location'));
      const put = await raw(emu, 'PUT', q(resPath('rg', VNET, 'vnet')), { body: bodies.vnet });
      assert.equal(put.status, 409);
    });
  });

  describe('tags', () => {
    const types = [
      { type: 'Microsoft.Network/networkSecurityGroups', body: bodies.nsg },
      { type: VNET, body: bodies.vnet },
      { type: 'Microsoft.Network/publicIPAddresses', body: bodies.pip },
      { type: SSH, body: { location: 'eastus', properties: { publicKey: 'ssh-rsa AAAA' } } },
    ];
    for (const { type, body } of types) {
      it(`stores and returns tags of ${type}, and replaces them on PATCH`, async () => {
        await putGroup(emu, 'rg');
        const put = await putOk(emu, resPath('rg', type, 'r1'), {
          ...body,
          tags: { 'k0rdent-deployment': 'abc' },
        });
        assert.deepEqual((put.json as { tags: unknown }).tags, { 'k0rdent-deployment': 'abc' });
        const got = await raw(emu, 'GET', q(resPath('rg', type, 'r1')));
        assert.deepEqual((got.json as { tags: unknown }).tags, { 'k0rdent-deployment': 'abc' });
        const patched = await raw(emu, 'PATCH', q(resPath('rg', type, 'r1')), { body: { tags: { x: 'y' } } });
        assert.equal(patched.status, 200);
        assert.deepEqual((patched.json as { tags: unknown }).tags, { x: 'y' });
        assert.deepEqual(emu.resources().find((r) => r.name === 'r1')?.tags, { x: 'y' });
      });
    }

    it('finds resources of the subscription by tag', async () => {
      await putGroup(emu, 'rg');
      await putOk(emu, resPath('rg', VNET, 'tagged'), { ...bodies.vnet, tags: { run: '1' } });
      await putOk(emu, resPath('rg', VNET, 'other'), { ...bodies.vnet, tags: { run: '2' } });
      const res = await raw(
        emu,
        'GET',
        q(
          `/subscriptions/${SUB}/resources?$filter=${encodeURIComponent("tagName eq 'run' and tagValue eq '1'")}`
        )
      );
      assert.deepEqual(
        (res.json as { value: Array<{ name: string }> }).value.map((r) => r.name),
        ['tagged']
      );
    });
  });
});
