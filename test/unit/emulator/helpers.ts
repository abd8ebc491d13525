/** Shared helpers of the ARM emulator tests: SDK clients on an emulator and raw HTTPS requests. */
import https from 'node:https';
import { ComputeManagementClient } from '@azure/arm-compute';
import { NetworkManagementClient } from '@azure/arm-network';
import { ResourceManagementClient } from '@azure/arm-resources';
import type { TokenCredential } from '@azure/core-auth';
import type { ArmEmulator } from '../../../emulator/src/arm';

/** Subscription the tests use (any subscription works). */
export const SUB = '11111111-2222-3333-4444-555555555555';

/** Api-version query the raw requests send. */
export const API = 'api-version=2025-05-01';

/** A credential that hands out a fake token, recording the scopes it was asked for. */
export function fakeCredential(scopes: string[] = []): TokenCredential {
  return {
    getToken: (scope) => {
      scopes.push(...(Array.isArray(scope) ? scope : [scope]));
      return Promise.resolve({ token: 'fake', expiresOnTimestamp: Date.now() + 3_600_000 });
    },
  };
}

/** The three SDK clients, pointed at the emulator with its CA and fast retries. */
export interface SdkClients {
  resources: ResourceManagementClient;
  network: NetworkManagementClient;
  compute: ComputeManagementClient;
}

/** SDK clients on an emulator; `maxRetries` bounds the SDK's own retry policy. */
export function sdkClients(emu: ArmEmulator, maxRetries = 3): SdkClients {
  const credential = fakeCredential();
  const options = {
    endpoint: emu.endpoint,
    tlsOptions: { ca: emu.caPem },
    retryOptions: { maxRetries, retryDelayInMs: 5, maxRetryDelayInMs: 20 },
  };
  return {
    resources: new ResourceManagementClient(credential, SUB, options),
    network: new NetworkManagementClient(credential, SUB, options),
    compute: new ComputeManagementClient(credential, SUB, options),
  };
}

/** Poller options that keep LRO tests fast. */
export const FAST = { updateIntervalInMs: 10 };

/** A raw HTTPS answer. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The parsed body (undefined when empty). */
  json: unknown;
}

/** Options of a raw request. */
export interface RawOptions {
  body?: unknown;
  /** Send `Authorization: Bearer fake` (default true). */
  auth?: boolean;
  headers?: Record<string, string>;
}

/** Sends one request to the emulator over HTTPS (no connection reuse); `path` may be absolute. */
export function raw(
  emu: Pick<ArmEmulator, 'endpoint' | 'caPem'>,
  method: string,
  path: string,
  opts: RawOptions = {}
): Promise<RawResponse> {
  const url = new URL(path, emu.endpoint);
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        ca: emu.caPem,
        agent: false,
        headers: {
          ...(opts.auth === false ? {} : { authorization: 'Bearer fake' }),
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }),
          ...opts.headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: text === '' ? undefined : (JSON.parse(text) as unknown),
          })
        );
      }
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** The ARM error code of an answer. */
export function errorCode(res: RawResponse): string | undefined {
  return (res.json as { error?: { code?: string } } | undefined)?.error?.code;
}

/** Path of a resource group. */
export function rgPath(rg: string): string {
  return `/subscriptions/${SUB}/resourceGroups/${rg}`;
}

/** Path of a provider resource in a resource group (`type` like 'Microsoft.Network/virtualNetworks'). */
export function resPath(rg: string, type: string, name: string): string {
  return `${rgPath(rg)}/providers/${type}/${name}`;
}

/** Adds the api-version query to a path. */
export function q(path: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}${API}`;
}

/** Creates a resource group through the raw API. */
export async function putGroup(
  emu: Pick<ArmEmulator, 'endpoint' | 'caPem'>,
  rg: string,
  location = 'eastus'
): Promise<void> {
  const res = await raw(emu, 'PUT', q(rgPath(rg)), { body: { location } });
  if (res.status !== 201 && res.status !== 200) throw new Error(`PUT group ${rg}: ${res.status} ${res.text}`);
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Bodies of the network resources the tests create through the raw API. */
export const bodies = {
  nsg: {
    location: 'eastus',
    properties: {
      securityRules: [
        {
          name: 'AllowSSH',
          properties: {
            protocol: 'Tcp',
            sourcePortRange: '*',
            destinationPortRange: '22',
            sourceAddressPrefix: '*',
            destinationAddressPrefix: '*',
            access: 'Allow',
            priority: 1010,
            direction: 'Inbound',
          },
        },
      ],
    },
  },
  vnet: {
    location: 'eastus',
    properties: {
      addressSpace: { addressPrefixes: ['10.240.0.0/16'] },
      subnets: [{ name: 'subnet', properties: { addressPrefix: '10.240.1.0/24' } }],
    },
  },
  pip: {
    location: 'eastus',
    sku: { name: 'Standard', tier: 'Regional' },
    properties: { publicIPAllocationMethod: 'Static', publicIPAddressVersion: 'IPv4' },
  },
  nic(rg: string, pip?: string, subnet = 'subnet') {
    return {
      location: 'eastus',
      properties: {
        ipConfigurations: [
          {
            name: 'ipconfig1',
            properties: {
              subnet: { id: `${resPath(rg, 'Microsoft.Network/virtualNetworks', 'vnet')}/subnets/${subnet}` },
              ...(pip
                ? { publicIPAddress: { id: resPath(rg, 'Microsoft.Network/publicIPAddresses', pip) } }
                : {}),
            },
          },
        ],
      },
    };
  },
  vm(rg: string, nic: string, deleteOption: 'Delete' | 'Detach' = 'Delete') {
    return {
      location: 'eastus',
      properties: {
        hardwareProfile: { vmSize: 'Standard_D2pls_v6' },
        storageProfile: {
          imageReference: { publisher: 'Debian', offer: 'debian-12', sku: '12-arm64', version: 'latest' },
          osDisk: { createOption: 'FromImage', diskSizeGB: 64, deleteOption },
        },
        osProfile: { computerName: nic, adminUsername: 'k0rdent', customData: 'I2Nsb3VkLWNvbmZpZwo=' },
        networkProfile: {
          networkInterfaces: [
            {
              id: resPath(rg, 'Microsoft.Network/networkInterfaces', nic),
              properties: { primary: true, deleteOption },
            },
          ],
        },
      },
    };
  },
};

/** PUTs a resource through the raw API and fails unless it is accepted (200/201). */
export async function putOk(
  emu: Pick<ArmEmulator, 'endpoint' | 'caPem'>,
  path: string,
  body: unknown
): Promise<RawResponse> {
  const res = await raw(emu, 'PUT', q(path), { body });
  if (res.status !== 201 && res.status !== 200) throw new Error(`PUT ${path}: ${res.status} ${res.text}`);
  return res;
}
