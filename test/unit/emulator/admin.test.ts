/** The admin API under /admin and the in-process test helpers it mirrors. */
import assert from 'node:assert/strict';
import type { ArmEmulator, EmulatedResource } from '../../../emulator/src/arm';
import { startArmEmulator } from '../../../emulator/src/arm';
import { SUB, bodies, putGroup, putOk, q, raw, resPath, rgPath } from './helpers';

const VNET = 'Microsoft.Network/virtualNetworks';

describe('ARM emulator admin API', () => {
  let emu: ArmEmulator;

  before(async () => {
    emu = await startArmEmulator();
  });
  after(async () => {
    await emu.close();
  });
  beforeEach(async () => {
    emu.reset();
    emu.setLro({});
    await putGroup(emu, 'rg');
    await putOk(emu, resPath('rg', VNET, 'vnet'), bodies.vnet);
  });

  const admin = (method: string, path: string, body?: unknown) =>
    raw(emu, method, `/admin${path}`, { auth: false, body });

  it('lives on the same server under /admin', () => {
    assert.equal(emu.adminUrl, `${emu.endpoint}/admin`);
  });

  it('reports the counts without counting itself', async () => {
    const before = emu.counts();
    const res = await admin('GET', '/counts');
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, before);
    assert.equal(before.total, 2);
    assert.deepEqual(before.existing, {
      'Microsoft.Resources/resourceGroups': 1,
      [VNET]: 1,
      [`${VNET}/subnets`]: 1,
    });
    assert.equal(emu.counts().total, 2);
  });

  it('lists resources, optionally of one type', async () => {
    const all = (await admin('GET', '/resources')).json as EmulatedResource[];
    assert.deepEqual(all.map((r) => r.type).sort(), [
      VNET,
      `${VNET}/subnets`,
      'Microsoft.Resources/resourceGroups',
    ]);
    const vnets = (
      await admin('GET', `/resources?type=${encodeURIComponent('microsoft.network/virtualnetworks')}`)
    ).json as EmulatedResource[];
    assert.equal(vnets.length, 1);
    assert.deepEqual(
      { ...vnets[0], properties: undefined },
      {
        id: resPath('rg', VNET, 'vnet'),
        type: VNET,
        name: 'vnet',
        resourceGroup: 'rg',
        location: 'eastus',
        tags: {},
        provisioningState: 'Succeeded',
        properties: undefined,
      }
    );
  });

  it('sets faults that then hit ARM requests, and lists what is left of them', async () => {
    const put = await admin('PUT', '/faults', [
      { kind: 'error', status: 503, times: 2, match: { method: 'GET' } },
    ]);
    assert.equal(put.status, 200);
    assert.equal((await raw(emu, 'GET', q(rgPath('rg')))).status, 503);
    assert.deepEqual((await admin('GET', '/faults')).json, [
      { rule: { kind: 'error', status: 503, times: 2, match: { method: 'GET' } }, left: 1 },
    ]);
    assert.equal((await raw(emu, 'GET', q(rgPath('rg')))).status, 503);
    assert.equal((await raw(emu, 'GET', q(rgPath('rg')))).status, 200);
    assert.deepEqual((await admin('GET', '/faults')).json, []);
  });

  const badFaults: Array<{ what: string; body: unknown }> = [
    { what: 'not an array', body: { kind: 'error' } },
    { what: 'an unknown kind', body: [{ kind: 'meteor' }] },
    { what: 'no body', body: undefined },
  ];
  for (const { what, body } of badFaults) {
    it(`answers 400 to faults that are ${what}`, async () => {
      const res = await admin('PUT', '/faults', body);
      assert.equal(res.status, 400);
    });
  }

  it('sets LRO durations for operations started afterwards', async () => {
    const res = await admin('PUT', '/lro', { defaultMs: 60_000 });
    assert.equal(res.status, 200);
    assert.deepEqual((await admin('GET', '/lro')).json, { defaultMs: 60_000 });
    await putOk(emu, resPath('rg', VNET, 'slow'), bodies.vnet);
    const slow = emu.resources().find((r) => r.name === 'slow');
    assert.equal(slow?.provisioningState, 'Creating');
    assert.equal((await admin('PUT', '/lro', { defaultMs: -1 })).status, 400);
  });

  const removals = [
    { what: 'a resource', id: resPath('rg', VNET, 'vnet'), gone: [VNET, `${VNET}/subnets`] },
    { what: 'a subnet', id: `${resPath('rg', VNET, 'vnet')}/subnets/SUBNET`, gone: [`${VNET}/subnets`] },
    {
      what: 'a resource group and its contents',
      id: rgPath('RG'),
      gone: ['Microsoft.Resources/resourceGroups', VNET, `${VNET}/subnets`],
    },
  ];
  for (const { what, id, gone } of removals) {
    it(`deletes ${what} behind the client's back, without counting`, async () => {
      const before = emu.counts();
      const res = await admin('DELETE', `/resources?id=${encodeURIComponent(id)}`);
      assert.deepEqual([res.status, res.json], [200, { removed: true }]);
      const after = emu.counts();
      assert.equal(after.total, before.total);
      for (const type of gone) assert.equal(after.existing[type], undefined, type);
      assert.deepEqual([(await admin('DELETE', `/resources?id=${encodeURIComponent(id)}`)).status], [404]);
    });
  }

  it('removeResource is the same behind-the-back delete in process', () => {
    assert.equal(emu.removeResource(resPath('rg', VNET, 'VNET')), true);
    assert.equal(emu.removeResource(resPath('rg', VNET, 'vnet')), false);
    assert.equal(emu.counts().existing[VNET], undefined);
  });

  it('resets resources, counts and faults', async () => {
    emu.setFaults([{ kind: 'error', times: -1, match: { method: 'DELETE' } }]);
    const res = await admin('POST', '/reset');
    assert.equal(res.status, 200);
    assert.deepEqual(emu.resources(), []);
    assert.deepEqual(emu.counts(), {
      total: 0,
      requests: {},
      byType: {},
      writesByType: {},
      polls: 0,
      pollsByType: {},
      faults: {},
      existing: {},
    });
    assert.equal((await raw(emu, 'DELETE', q(rgPath('rg')))).status, 404, 'the fault is gone');
  });

  it('answers 404 to an unknown admin route', async () => {
    assert.equal((await admin('GET', '/nope')).status, 404);
    assert.equal((await admin('GET', '')).status, 200);
  });

  it('needs no bearer token while ARM routes do', async () => {
    assert.equal((await raw(emu, 'GET', '/admin/counts', { auth: false })).status, 200);
    assert.equal(
      (await raw(emu, 'GET', q(`/subscriptions/${SUB}/resourcegroups`), { auth: false })).status,
      401
    );
  });
});
