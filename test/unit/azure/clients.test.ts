import assert from 'node:assert/strict';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { RestError, createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import type { PipelineResponse } from '@azure/core-rest-pipeline';
import { ApplicationFailure } from '@temporalio/common';
import { ENDPOINT_GUARD_POLICY, buildArmClients, scopeFor } from '../../../src/azure/clients';
import { credentialFor, emulatorCredential } from '../../../src/azure/credentials';
import { classify, toArmFailure } from '../../../src/azure/errors';
import { ARM_RETRY_POLICY, retryAfterMs } from '../../../src/azure/retry';
import { AZURE_ENDPOINT, emulatorTarget } from '../../../src/azure/target';
import type { AzureTarget } from '../../../src/azure/target';
import type { EmulatorFixture } from './helpers';
import { FAST_RETRY, failure, scopeOf, startEmulator } from './helpers';

function recordingCredential(): TokenCredential & { scopes: string[] } {
  const scopes: string[] = [];
  return {
    scopes,
    getToken: (asked: string | string[]): Promise<AccessToken> => {
      scopes.push(...(Array.isArray(asked) ? asked : [asked]));
      return Promise.resolve({ token: 'recorded', expiresOnTimestamp: Date.now() + 3_600_000 });
    },
  };
}

function response(headers: Record<string, string>): PipelineResponse {
  return {
    status: 429,
    headers: createHttpHeaders(headers),
    request: createPipelineRequest({ url: 'https://example.invalid/' }),
  };
}

describe('ARM clients', () => {
  let emu: EmulatorFixture;
  before(async () => {
    emu = await startEmulator();
  });
  after(async () => {
    await emu.close();
  });

  it('sends both client generations to the endpoint with one token scope and our retry policy', async () => {
    const credential = recordingCredential();
    const clients = buildArmClients(emu.target, { credential, retry: FAST_RETRY });
    const rg = scopeOf('k0rdent-clients1').resourceGroup;
    await clients.resources.resourceGroups.createOrUpdate(rg, { location: 'westus2' });
    await assert.rejects(
      clients.network.virtualNetworks.get(rg, 'none'),
      (e: RestError) => e.statusCode === 404
    );
    await assert.rejects(
      clients.compute.virtualMachines.get(rg, 'none'),
      (e: RestError) => e.statusCode === 404
    );
    assert.deepEqual([...new Set(credential.scopes)], [`${AZURE_ENDPOINT}/.default`]);
    assert.ok(emu.arm.counts().total >= 3, 'the requests reached the emulator');
    for (const client of [clients.resources, clients.network, clients.compute]) {
      const names = client.pipeline.getOrderedPolicies().map((p) => p.name);
      assert.ok(names.includes(ARM_RETRY_POLICY), names.join(','));
      assert.ok(names.includes(ENDPOINT_GUARD_POLICY), names.join(','));
      assert.ok(!names.includes('defaultRetryPolicy'), names.join(','));
    }
  });

  it('asks Azure clouds for a token of their own ARM audience', () => {
    const azure: AzureTarget = {
      ...emu.target,
      cloud: 'azure',
      endpoint: 'https://management.usgovcloudapi.net',
    };
    assert.equal(scopeFor(azure), 'https://management.usgovcloudapi.net/.default');
    assert.equal(scopeFor(emu.target), 'https://management.azure.com/.default');
  });

  it('refuses an http, trailing-slash or unreadable-CA target as invalid config', () => {
    for (const endpoint of [
      'http://127.0.0.1:1',
      'https://127.0.0.1:1/',
      'https://127.0.0.1:1/arm',
      'not a url',
    ]) {
      assert.throws(
        () => buildArmClients({ ...emu.target, endpoint }, { credential: emulatorCredential }),
        failure('InvalidConfig', true)
      );
    }
    assert.throws(
      () => buildArmClients(emulatorTarget(emu.arm.endpoint, '/nonexistent/ca.pem')),
      failure('InvalidConfig', true, /\/nonexistent\/ca\.pem/)
    );
  });

  it('refuses a request that would leave the endpoint', async () => {
    const clients = buildArmClients(emu.target, { retry: FAST_RETRY });
    const request = createPipelineRequest({ url: 'https://management.azure.com/subscriptions' });
    await assert.rejects(
      clients.resources.pipeline.sendRequest(
        { sendRequest: () => Promise.reject(new Error('sent')) },
        request
      ),
      failure('InvalidConfig', true, /outside the configured ARM endpoint/)
    );
  });
});

describe('ARM credentials', () => {
  const target = (credential: AzureTarget['credential']): AzureTarget => ({
    cloud: 'azure',
    subscriptionId: '11111111-1111-1111-1111-111111111111',
    endpoint: AZURE_ENDPOINT,
    credential,
  });

  it('names every missing service principal variable, without any secret', () => {
    assert.throws(
      () =>
        credentialFor(target('service_principal'), {
          AZURE_CLIENT_ID: 'app',
          AZURE_CLIENT_SECRET: 's3cr3t-value',
        }),
      (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.type, 'InvalidConfig');
        assert.equal(err.nonRetryable, true);
        assert.match(err.message, /AZURE_TENANT_ID/);
        assert.doesNotMatch(err.message, /AZURE_CLIENT_ID|s3cr3t/);
        return true;
      }
    );
    assert.throws(
      () => credentialFor(target('service_principal'), {}),
      /AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET/
    );
  });

  it('picks the credential the target names', async () => {
    const env = { AZURE_TENANT_ID: 't', AZURE_CLIENT_ID: 'c', AZURE_CLIENT_SECRET: 's' };
    assert.equal(credentialFor(target('service_principal'), env).constructor.name, 'EnvironmentCredential');
    assert.equal(credentialFor(target('cli')).constructor.name, 'AzureCliCredential');
    assert.equal(credentialFor(target('default')).constructor.name, 'DefaultAzureCredential');
    const token = await credentialFor({ ...target('emulator'), cloud: 'emulator' }).getToken('x');
    assert.ok(token && token.expiresOnTimestamp > Date.now());
  });
});

describe('ARM retry and error mapping', () => {
  it('reads Retry-After in seconds, as an HTTP date and from the ms headers', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(retryAfterMs(response({ 'retry-after': '7' }), now), 7_000);
    assert.equal(retryAfterMs(response({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }), now), 3_000);
    assert.equal(retryAfterMs(response({ 'retry-after-ms': '250' }), now), 250);
    assert.equal(retryAfterMs(response({ 'x-ms-retry-after-ms': '40' }), now), 40);
    assert.equal(retryAfterMs(response({}), now), undefined);
    assert.equal(retryAfterMs(response({ 'retry-after': 'soon' }), now), undefined);
  });

  const table: { info: Parameters<typeof classify>[0]; type: string }[] = [
    { info: { status: 401, code: 'AuthenticationFailed', message: 'no' }, type: 'AuthFailed' },
    { info: { status: 403, code: 'AuthorizationFailed', message: 'no' }, type: 'AuthFailed' },
    {
      info: { status: 409, code: 'OperationNotAllowed', message: 'exceeding approved quota' },
      type: 'QuotaExceeded',
    },
    { info: { status: 409, code: 'SkuNotAvailable', message: 'not here' }, type: 'QuotaExceeded' },
    { info: { code: 'QuotaExceeded', message: 'lro' }, type: 'QuotaExceeded' },
    { info: { status: 400, code: 'InvalidParameter', message: 'bad' }, type: 'InvalidRequest' },
    { info: { status: 400, code: 'InvalidResourceReference', message: 'bad' }, type: 'InvalidRequest' },
    { info: { status: 409, code: 'PropertyChangeNotAllowed', message: 'zones' }, type: 'InvalidRequest' },
    { info: { status: 400, code: 'NicInUse', message: 'busy' }, type: 'Conflict' },
    { info: { status: 404, code: 'ResourceNotFound', message: 'gone' }, type: 'NotFound' },
    { info: { status: 409, code: 'Conflict', message: 'busy' }, type: 'Conflict' },
    { info: { status: 429, code: 'TooManyRequests', message: 'slow' }, type: 'Throttled' },
    { info: { status: 503, code: 'ServiceUnavailable', message: 'down' }, type: 'ArmUnavailable' },
    { info: { code: 'AllocationFailed', message: 'lro' }, type: 'ArmOperationFailed' },
  ];
  for (const { info, type } of table) {
    it(`maps ${info.status ?? 'an LRO'} ${info.code} to ${type}`, () => {
      assert.equal(classify(info), type);
    });
  }

  it('types SDK errors, failed operations, dropped connections and credential errors once, with context', () => {
    const rest = new RestError('The value is bad.', { statusCode: 400, code: 'InvalidParameter' });
    const mapped = toArmFailure('create vnet k0rdent-x-vnet', rest);
    assert.ok(mapped instanceof ApplicationFailure);
    assert.equal(mapped.message, 'create vnet k0rdent-x-vnet: InvalidParameter: The value is bad.');
    assert.equal(mapped.nonRetryable, true);

    const lro = new Error(
      'The long-running operation has failed. ZonalAllocationFailed. No capacity in zone 2.'
    );
    const failed = toArmFailure('create vm k0s-worker-1', lro) as ApplicationFailure;
    assert.equal(failed.type, 'ArmOperationFailed');
    assert.equal(failed.nonRetryable, false);
    assert.equal(failed.message, 'create vm k0s-worker-1: ZonalAllocationFailed: No capacity in zone 2.');

    const dropped = toArmFailure('read nsg n', new RestError('socket hang up', { code: 'ECONNRESET' }));
    assert.equal((dropped as ApplicationFailure).type, 'ArmUnavailable');

    const signIn = Object.assign(new Error('az login first'), { name: 'CredentialUnavailableError' });
    const auth = toArmFailure('read resource group rg', signIn) as ApplicationFailure;
    assert.equal(auth.type, 'AuthFailed');
    assert.equal(auth.nonRetryable, true);

    const typed = ApplicationFailure.create({ type: 'ForeignResource', message: 'x', nonRetryable: true });
    assert.equal(toArmFailure('adopt nsg n', typed), typed);

    const controller = new AbortController();
    const reason = new Error('cancelled');
    controller.abort(reason);
    assert.equal(toArmFailure('read nsg n', rest, controller.signal), reason);
  });
});
