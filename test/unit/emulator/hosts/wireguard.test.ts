/** WireGuard configs as the emulated wg-quick reads them, cloud-init as the machines read it, `wg show` text. */
import assert from 'node:assert/strict';
import { readCloudInit } from '../../../../emulator/src/hosts/cloud-init';
import {
  agoText,
  formatLatestHandshakes,
  formatShow,
  isWireguardKey,
  parseWireguardConfig,
  routedBy,
  validInterfaceName,
} from '../../../../emulator/src/hosts/wireguard';
import { generateWireguardKeyPair } from '../../../../src/hosts/keys';
import { renderCloudInit, renderLaptopConfig } from '../../../../src/hosts/wireguard-config';

const laptop = generateWireguardKeyPair();
const vm = generateWireguardKeyPair();

const config = (body: string) =>
  `[Interface]\nPrivateKey = ${laptop.privateKey}\nAddress = 10.8.0.1/32\n${body}`;

describe('host world: WireGuard configs', () => {
  it('reads the laptop config the deployment renders', () => {
    const text = renderLaptopConfig({
      deploymentId: 'k0rdent-abc',
      laptopPrivateKey: laptop.privateKey,
      laptopIp: '10.8.0.1',
      port: 51820,
      peers: [
        { host: 'k0s-controller-1', wireguardIp: '10.8.0.11', publicKey: vm.publicKey, endpoint: '20.1.2.3' },
      ],
    });
    const { config: parsed, problems } = parseWireguardConfig(text);
    assert.deepEqual(problems, []);
    assert.deepEqual(parsed, {
      privateKey: laptop.privateKey,
      addresses: ['10.8.0.1/32'],
      listenPort: undefined,
      mtu: undefined,
      dns: [],
      peers: [
        {
          publicKey: vm.publicKey,
          allowedIps: ['10.8.0.11/32'],
          endpoint: { host: '20.1.2.3', port: 51820 },
          persistentKeepalive: 25,
          line: 7,
        },
      ],
    });
  });

  const problemCases: [string, string, { line: number; message: RegExp }[]][] = [
    ['a line that is no pair', config('garbage\n'), [{ line: 4, message: /line unrecognized: `garbage'/ }]],
    [
      'a key before any section',
      `Foo = 1\n${config('')}`,
      [{ line: 1, message: /comes before any \[Interface\]/ }],
    ],
    [
      'an unknown section',
      config('[Tunnel]\nFoo = 1\n'),
      [{ line: 4, message: /unknown section `\[Tunnel\]'/ }],
    ],
    [
      'a peer key in [Interface]',
      config('Endpoint = 1.2.3.4:5\n'),
      [{ line: 4, message: /key `Endpoint' is not valid in \[Interface\]/ }],
    ],
    [
      'a short key',
      '[Interface]\nPrivateKey = abc=\nAddress = 10.0.0.1/32\n',
      [{ line: 2, message: /PrivateKey is not a key/ }],
    ],
    [
      'no private key',
      '[Interface]\nAddress = 10.0.0.1/32\n',
      [{ line: 1, message: /\[Interface\] has no PrivateKey/ }],
    ],
    [
      'no interface',
      `[Peer]\nPublicKey = ${vm.publicKey}\n`,
      [{ line: 0, message: /there is no \[Interface\] section/ }],
    ],
    [
      'an address without prefix',
      `[Interface]\nPrivateKey = ${laptop.privateKey}\nAddress = 10.0.0.1\n`,
      [{ line: 3, message: /Address `10\.0\.0\.1' is not an address with a prefix length/ }],
    ],
    [
      'a bad listen port',
      config('ListenPort = 70000\n'),
      [{ line: 4, message: /ListenPort `70000' is not a port number/ }],
    ],
    [
      'a peer without key',
      config('[Peer]\nAllowedIPs = 10.8.0.2/32\n'),
      [{ line: 4, message: /\[Peer\] has no PublicKey/ }],
    ],
    [
      'a hostname endpoint',
      config(`[Peer]\nPublicKey = ${vm.publicKey}\nEndpoint = vm.example.com:51820\n`),
      [{ line: 6, message: /Endpoint `vm\.example\.com:51820' is not ip:port/ }],
    ],
    [
      'a bad allowed ip',
      config(`[Peer]\nPublicKey = ${vm.publicKey}\nAllowedIPs = 10.8.0.2/33\n`),
      [{ line: 6, message: /AllowedIPs `10\.8\.0\.2\/33' is not an address or network/ }],
    ],
    [
      'the same peer twice',
      config(`[Peer]\nPublicKey = ${vm.publicKey}\n[Peer]\nPublicKey = ${vm.publicKey}\n`),
      [{ line: 7, message: /already the key of the \[Peer\] on line 4/ }],
    ],
    [
      'a second interface',
      config(`[Interface]\nPrivateKey = ${laptop.privateKey}\n`),
      [{ line: 4, message: /a second \[Interface\] section \(the first is on line 1\)/ }],
    ],
  ];
  for (const [title, text, expected] of problemCases) {
    it(`names the line of ${title}`, () => {
      const { config: parsed, problems } = parseWireguardConfig(text);
      assert.equal(parsed, undefined);
      assert.equal(problems.length, expected.length, JSON.stringify(problems));
      for (const [i, p] of expected.entries()) {
        assert.equal(problems[i]?.line, p.line);
        assert.match(problems[i]?.message ?? '', p.message);
      }
    });
  }

  it('reads keys case-insensitively, skips comments and accepts bare allowed addresses', () => {
    const { config: parsed, problems } = parseWireguardConfig(
      `[interface] # the laptop\nprivatekey=${laptop.privateKey}\naddress = 10.8.0.1/24, fd00::1/64\n` +
        `[PEER]\npublickey = ${vm.publicKey}\nallowedips = 10.8.0.2, 10.9.0.0/16\nendpoint = [2001:db8::1]:51820\n`
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(parsed?.addresses, ['10.8.0.1/24', 'fd00::1/64']);
    assert.deepEqual(parsed?.peers[0]?.allowedIps, ['10.8.0.2/32', '10.9.0.0/16']);
    assert.deepEqual(parsed?.peers[0]?.endpoint, { host: '2001:db8::1', port: 51820 });
  });

  it('checks keys, interface names and routes', () => {
    assert.equal(isWireguardKey(laptop.privateKey), true);
    assert.equal(isWireguardKey(laptop.privateKey.replace(/.=$/, 'B=')), false, 'not canonical base64');
    assert.equal(validInterfaceName('wgk0abc123'), true);
    assert.equal(validInterfaceName('wgk0-far-too-long'), false);
    assert.equal(validInterfaceName('wg/0'), false);
    assert.equal(routedBy(['10.8.0.0/24'], '10.8.0.11'), true);
    assert.equal(routedBy(['10.8.0.11/32'], '10.8.0.12'), false);
  });

  it('prints wg show as wg does', () => {
    const show = {
      interface: 'wgk0abc',
      publicKey: laptop.publicKey,
      listenPort: 40000,
      peers: [
        { publicKey: 'A'.repeat(43) + '=', allowedIps: ['10.8.0.12/32'], latestHandshake: 0 },
        {
          publicKey: vm.publicKey,
          endpoint: '20.1.2.3:51820',
          allowedIps: ['10.8.0.11/32'],
          latestHandshake: 1_700_000_000,
          persistentKeepalive: 25,
        },
      ],
    };
    assert.equal(
      formatShow(show, 1_700_000_065_500),
      [
        'interface: wgk0abc',
        `  public key: ${laptop.publicKey}`,
        '  private key: (hidden)',
        '  listening port: 40000',
        '',
        `peer: ${vm.publicKey}`,
        '  endpoint: 20.1.2.3:51820',
        '  allowed ips: 10.8.0.11/32',
        '  latest handshake: 1 minute, 5 seconds ago',
        '  persistent keepalive: every 25 seconds',
        '',
        `peer: ${'A'.repeat(43)}=`,
        '  allowed ips: 10.8.0.12/32',
        '',
      ].join('\n')
    );
    assert.equal(formatLatestHandshakes(show), `${'A'.repeat(43)}=\t0\n${vm.publicKey}\t1700000000\n`);
    assert.equal(agoText(0), 'Now');
    assert.equal(agoText(90061), '1 day, 1 hour, 1 minute, 1 second ago');
  });
});

describe('host world: cloud-init', () => {
  const host = {
    name: 'k0s-controller-1',
    role: 'controller' as const,
    zone: 1,
    size: 'x',
    wireguardIp: '10.8.0.11',
  };
  const rendered = renderCloudInit({
    host,
    hostPrivateKey: vm.privateKey,
    laptopPublicKey: laptop.publicKey,
    laptopIp: '10.8.0.1',
    port: 51820,
    sshUsername: 'k0rdent',
    sshPublicKey: 'ssh-rsa AAAA test',
  });
  const b64 = (text: string) => Buffer.from(text).toString('base64');

  it("finds the deployment's wg0.conf and that runcmd starts it", () => {
    const facts = readCloudInit(b64(rendered));
    assert.equal(facts.error, undefined);
    assert.equal(facts.wg0?.started, true);
    assert.equal(facts.wg0?.problem, undefined);
    assert.equal(facts.wg0?.config?.privateKey, vm.privateKey);
    assert.equal(facts.wg0?.config?.listenPort, 51820);
    assert.deepEqual(facts.wg0?.config?.addresses, ['10.8.0.11/32']);
    assert.deepEqual(
      facts.wg0?.config?.peers.map((p) => p.publicKey),
      [laptop.publicKey]
    );
  });

  it('tells a broken cloud-init from a broken wg0.conf', () => {
    assert.deepEqual(readCloudInit(undefined), {});
    assert.match(readCloudInit(b64('#!/bin/sh\necho hi\n')).error ?? '', /not a #cloud-config document/);
    assert.match(readCloudInit(b64('#cloud-config\nwrite_files: [\n')).error ?? '', /not valid YAML/);
    const badKey = readCloudInit(b64(rendered.replace(`PrivateKey = ${vm.privateKey}`, 'PrivateKey = nope')));
    assert.equal(badKey.error, undefined);
    assert.match(badKey.wg0?.problem ?? '', /^\/etc\/wireguard\/wg0\.conf:2: PrivateKey is not a key/);
    const noPackage = readCloudInit(b64(rendered.replace('- wireguard\n', '- curl\n')));
    assert.match(noPackage.wg0?.problem ?? '', /wg-quick: command not found/);
    const notStarted = readCloudInit(b64(rendered.replace(/runcmd:[\s\S]*?final_message/, 'final_message')));
    assert.equal(notStarted.wg0?.started, false);
  });
});
