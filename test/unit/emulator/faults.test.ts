/** Fault injection: each fault hits exactly as often as configured, is counted, and does what it says. */
import assert from 'node:assert/strict';
import type { ArmEmulator, FaultRule } from '../../../emulator/src/arm';
import { startArmEmulator } from '../../../emulator/src/arm';
import { FAST, bodies, errorCode, putGroup, q, raw, resPath, sdkClients } from './helpers';

const VNET = 'Microsoft.Network/virtualNetworks';
const PIP = 'Microsoft.Network/publicIPAddresses';

describe('ARM emulator fault injection', () => {
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
  });

  const statusFaults: Array<{
    name: string;
    rule: FaultRule;
    status: number;
    code: string;
    retryAfter?: string;
    message?: RegExp;
  }> = [
    {
      name: 'throttle with Retry-After',
      rule: { kind: 'throttle', retryAfterSeconds: 3 },
      status: 429,
      code: 'TooManyRequests',
      retryAfter: '3',
    },
    {
      name: 'throttle without Retry-After',
      rule: { kind: 'throttle' },
      status: 429,
      code: 'TooManyRequests',
    },
    { name: 'error 500', rule: { kind: 'error' }, status: 500, code: 'InternalServerError' },
    { name: 'error 503', rule: { kind: 'error', status: 503 }, status: 503, code: 'ServiceUnavailable' },
    { name: 'auth 401', rule: { kind: 'auth' }, status: 401, code: 'AuthenticationFailed' },
    { name: 'auth 403', rule: { kind: 'auth', status: 403 }, status: 403, code: 'AuthorizationFailed' },
    { name: 'quota', rule: { kind: 'quota' }, status: 409, code: 'OperationNotAllowed', message: /quota/ },
    { name: 'invalid', rule: { kind: 'invalid' }, status: 400, code: 'InvalidParameter' },
  ];
  for (const { name, rule, status, code, retryAfter, message } of statusFaults) {
    it(`${name}: answers ${status} ${code} exactly twice without applying the request, then lets it through`, async () => {
      emu.setFaults([{ ...rule, match: { method: 'PUT', type: VNET }, times: 2 }]);
      for (let i = 0; i < 2; i++) {
        const res = await raw(emu, 'PUT', q(resPath('rg', VNET, 'vnet')), { body: bodies.vnet });
        assert.equal(res.status, status);
        assert.equal(errorCode(res), code);
        assert.equal(res.headers['retry-after'], retryAfter);
        if (message) assert.match((res.json as { error: { message: string } }).error.message, message);
        assert.equal((await raw(emu, 'GET', q(resPath('rg', VNET, 'vnet')))).status, 404);
      }
      const through = await raw(emu, 'PUT', q(resPath('rg', VNET, 'vnet')), { body: bodies.vnet });
      assert.equal(through.status, 201);
      const counts = emu.counts();
      assert.deepEqual(counts.faults, { [rule.kind]: 2 });
      assert.equal(counts.byType[VNET]?.PUT, 3, 'faulted requests are counted as requests too');
    });
  }

  it('drop-before: destroys the connection without applying the request', async () => {
    emu.setFaults([{ kind: 'drop-before', match: { method: 'PUT' } }]);
    await assert.rejects(
      raw(emu, 'PUT', q(resPath('rg', VNET, 'vnet')), { body: bodies.vnet }),
      (err: NodeJS.ErrnoException) => ['ECONNRESET', 'EPIPE'].includes(err.code ?? '')
    );
    assert.equal((await raw(emu, 'GET', q(resPath('rg', VNET, 'vnet')))).status, 404);
    assert.equal((await raw(emu, 'PUT', q(resPath('rg', VNET, 'vnet')), { body: bodies.vnet })).status, 201);
    assert.deepEqual(emu.counts().faults, { 'drop-before': 1 });
  });

  it('drop-after: applies the request, then destroys the connection before answering', async () => {
    emu.setFaults([{ kind: 'drop-after', match: { method: 'PUT', type: VNET } }]);
    await assert.rejects(
      raw(emu, 'PUT', q(resPath('rg', VNET, 'vnet')), { body: bodies.vnet }),
      (err: NodeJS.ErrnoException) => err.code === 'ECONNRESET'
    );
    assert.equal((await raw(emu, 'GET', q(resPath('rg', VNET, 'vnet')))).status, 200);
    assert.equal(
      (await raw(emu, 'PUT', q(resPath('rg', VNET, 'vnet')), { body: bodies.vnet })).status,
      200,
      'the retry is an update of the resource the dropped request made'
    );
    assert.deepEqual(emu.counts().faults, { 'drop-after': 1 });
  });

  it('latency: delays the matching answers only, as many times as configured', async () => {
    emu.setFaults([
      {
        kind: 'latency',
        latencyMs: 500,
        match: { method: 'GET', type: 'Microsoft.Resources/resourceGroups' },
        times: 1,
      },
    ]);
    const timed = async () => {
      const start = Date.now();
      const res = await raw(emu, 'GET', q('/subscriptions/s/resourcegroups'));
      assert.equal(res.status, 200);
      return Date.now() - start;
    };
    assert.ok((await timed()) >= 490);
    assert.ok((await timed()) < 400);
    assert.deepEqual(emu.counts().faults, { latency: 1 });
  });

  it('latency combines with a status fault on the same request', async () => {
    emu.setFaults([
      { kind: 'latency', latencyMs: 200 },
      { kind: 'error', status: 503 },
    ]);
    const start = Date.now();
    const res = await raw(emu, 'GET', q('/subscriptions/s/resourcegroups'));
    assert.equal(res.status, 503);
    assert.ok(Date.now() - start >= 190);
    assert.deepEqual(emu.counts().faults, { latency: 1, error: 1 });
  });

  it('times -1 hits every matching request', async () => {
    emu.setFaults([{ kind: 'error', times: -1, match: { method: 'GET' } }]);
    for (let i = 0; i < 5; i++)
      assert.equal((await raw(emu, 'GET', q('/subscriptions/s/resourcegroups'))).status, 500);
    assert.equal(emu.counts().faults.error, 5);
  });

  const filters: Array<{ what: string; match: FaultRule['match']; hits: string[] }> = [
    { what: 'by name, case-insensitively', match: { name: 'VNET-B' }, hits: ['vnet-b'] },
    { what: 'by type', match: { type: 'microsoft.network/publicipaddresses' }, hits: ['pip'] },
    { what: 'by method, case-insensitively', match: { method: 'put' }, hits: ['vnet-a', 'vnet-b', 'pip'] },
    { what: 'by method, missing other methods', match: { method: 'delete' }, hits: [] },
  ];
  for (const { what, match, hits } of filters) {
    it(`matches requests ${what}`, async () => {
      emu.setFaults([{ kind: 'invalid', times: -1, match }]);
      const answers: Record<string, number> = {};
      for (const [type, name, body] of [
        [VNET, 'vnet-a', bodies.vnet],
        [VNET, 'vnet-b', bodies.vnet],
        [PIP, 'pip', bodies.pip],
      ] as const) {
        answers[name] = (await raw(emu, 'PUT', q(resPath('rg', type, name)), { body })).status;
      }
      for (const name of ['vnet-a', 'vnet-b', 'pip'])
        assert.equal(answers[name], hits.includes(name) ? 400 : 201, name);
    });
  }

  it('matches an LRO poll by the type and name of the resource its operation acts on', async () => {
    emu.setFaults([
      { kind: 'error', status: 503, match: { method: 'GET', type: VNET, name: 'vnet' }, times: -1 },
    ]);
    const put = await raw(emu, 'PUT', q(resPath('rg', VNET, 'vnet')), { body: bodies.vnet });
    const poll = await raw(emu, 'GET', String(put.headers['azure-asyncoperation']));
    assert.equal(poll.status, 503);
    assert.equal(emu.counts().pollsByType[VNET], 1);
  });

  it('refuses malformed rules and keeps the previous ones', async () => {
    emu.setFaults([{ kind: 'throttle' }]);
    const bad: unknown[] = [
      [{ kind: 'explode' }],
      [{ kind: 'error', status: 404 }],
      [{ kind: 'auth', status: 500 }],
      [{ kind: 'latency' }],
      [{ kind: 'throttle', times: 0 }],
      [{ kind: 'throttle', match: { path: '/x' } }],
    ];
    for (const rules of bad)
      assert.throws(() => emu.setFaults(rules as FaultRule[]), Error, JSON.stringify(rules));
    assert.equal((await raw(emu, 'GET', q('/subscriptions/s/resourcegroups'))).status, 429);
  });

  it('takes faults from the start options', async () => {
    const faulty = await startArmEmulator({ faults: [{ kind: 'error', status: 503, times: 1 }] });
    try {
      assert.equal((await raw(faulty, 'GET', q('/subscriptions/s/resourcegroups'))).status, 503);
      assert.equal((await raw(faulty, 'GET', q('/subscriptions/s/resourcegroups'))).status, 200);
    } finally {
      await faulty.close();
    }
  });

  describe('with the SDK retry policy', () => {
    it('retries throttles with Retry-After, 5xx and dropped connections transparently', async () => {
      const c = sdkClients(emu);
      emu.setFaults([
        { kind: 'throttle', retryAfterSeconds: 0, match: { method: 'PUT', type: VNET } },
        { kind: 'error', status: 503, match: { method: 'PUT', type: VNET } },
        { kind: 'drop-before', match: { method: 'PUT', type: VNET } },
      ]);
      const vnet = await c.network.virtualNetworks.beginCreateOrUpdateAndWait(
        'rg',
        'vnet',
        { location: 'eastus', addressSpace: { addressPrefixes: ['10.0.0.0/16'] } },
        FAST
      );
      assert.equal(vnet.provisioningState, 'Succeeded');
      const counts = emu.counts();
      assert.equal(counts.byType[VNET]?.PUT, 4);
      assert.deepEqual(counts.faults, { throttle: 1, error: 1, 'drop-before': 1 });
      assert.equal(counts.existing[VNET], 1);
    });

    it('retries a PUT dropped after it was applied and ends with one resource', async () => {
      const c = sdkClients(emu);
      emu.setFaults([{ kind: 'drop-after', match: { method: 'PUT', type: PIP } }]);
      const pip = await c.network.publicIPAddresses.beginCreateOrUpdateAndWait(
        'rg',
        'pip',
        { location: 'eastus', sku: { name: 'Standard' }, publicIPAllocationMethod: 'Static' },
        FAST
      );
      assert.equal(pip.provisioningState, 'Succeeded');
      assert.equal(emu.counts().byType[PIP]?.PUT, 2);
      assert.equal(emu.resources().filter((r) => r.type === PIP).length, 1);
    });

    const surfaced: Array<{ rule: FaultRule; statusCode: number; code: string }> = [
      { rule: { kind: 'throttle' }, statusCode: 429, code: 'TooManyRequests' },
      { rule: { kind: 'auth' }, statusCode: 401, code: 'AuthenticationFailed' },
      { rule: { kind: 'auth', status: 403 }, statusCode: 403, code: 'AuthorizationFailed' },
      { rule: { kind: 'quota' }, statusCode: 409, code: 'OperationNotAllowed' },
      { rule: { kind: 'invalid' }, statusCode: 400, code: 'InvalidParameter' },
    ];
    for (const { rule, statusCode, code } of surfaced) {
      it(`surfaces ${rule.kind}${rule.status ? ` ${rule.status}` : ''} as a RestError ${statusCode} ${code} after one request`, async () => {
        const c = sdkClients(emu);
        emu.setFaults([{ ...rule, match: { type: 'Microsoft.Compute/sshPublicKeys' } }]);
        await assert.rejects(
          c.compute.sshPublicKeys.create('rg', 'key', { location: 'eastus', publicKey: 'ssh-rsa AAAA' }),
          { statusCode, code }
        );
        assert.equal(emu.counts().byType['Microsoft.Compute/sshPublicKeys']?.PUT, 1);
      });
    }
  });
});
