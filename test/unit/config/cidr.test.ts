import { strict as assert } from 'assert';
import {
  addressInNetwork,
  cidrContains,
  cidrHas,
  cidrOverlaps,
  cidrSize,
  formatCidr,
  formatIpv4,
  ipv4Number,
  networkOf,
  parseCidr,
} from '../../../src/config/cidr';
import type { Ipv4Cidr } from '../../../src/config/cidr';

function cidr(text: string): Ipv4Cidr {
  const parsed = parseCidr(text);
  assert.ok(parsed.ok, `${text} should parse`);
  return parsed.cidr;
}

describe('IPv4 CIDR helpers', () => {
  for (const text of ['10.0.0.0/16', '0.0.0.0/0', '192.168.100.0/24', '172.32.32.0/24', '10.1.2.3/32']) {
    it(`parses ${text} and prints it back`, () => {
      assert.equal(formatCidr(cidr(text)), text);
    });
  }

  const bad: [string, RegExp][] = [
    ['10.0.0.0', /is not an IPv4 CIDR/],
    ['10.0.0/16', /is not an IPv4 CIDR/],
    ['10.0.0.0/33', /prefix length over 32/],
    ['256.0.0.0/8', /invalid address part "256"/],
    ['10.01.0.0/16', /invalid address part "01"/],
    ['10.0.0.1/16', /host bits set \(did you mean 10\.0\.0\.0\/16\?\)/],
    ['fd00::/8', /is not an IPv4 CIDR/],
  ];
  for (const [text, reason] of bad) {
    it(`refuses ${text}`, () => {
      const parsed = parseCidr(text);
      assert.equal(parsed.ok, false);
      assert.match(parsed.ok ? '' : parsed.reason, reason);
    });
  }

  const relations: [string, string, boolean, boolean][] = [
    ['10.0.0.0/16', '10.0.1.0/24', true, true],
    ['10.0.1.0/24', '10.0.0.0/16', false, true],
    ['10.0.0.0/16', '10.1.0.0/24', false, false],
    ['10.0.0.0/16', '10.0.0.0/16', true, true],
    ['0.0.0.0/0', '192.168.1.0/24', true, true],
    ['192.168.100.0/24', '192.168.101.0/24', false, false],
  ];
  for (const [outer, inner, contains, overlaps] of relations) {
    it(`${outer} ${contains ? 'contains' : 'does not contain'} ${inner}${overlaps ? ', they overlap' : ', no overlap'}`, () => {
      assert.equal(cidrContains(cidr(outer), cidr(inner)), contains);
      assert.equal(cidrOverlaps(cidr(outer), cidr(inner)), overlaps);
    });
  }

  it('counts addresses up from the network address', () => {
    assert.equal(addressInNetwork(cidr('192.168.100.0/24'), 1), '192.168.100.1');
    assert.equal(addressInNetwork(cidr('192.168.100.0/24'), 254), '192.168.100.254');
    assert.equal(addressInNetwork(cidr('10.0.0.0/8'), 256), '10.0.1.0');
  });

  it('reads a network as ARM does, host bits dropped, and refuses what is no IPv4 network', () => {
    assert.deepEqual(networkOf('10.0.1.7/16'), cidr('10.0.0.0/16'));
    assert.deepEqual(networkOf(' 10.0.2.0/24 '), cidr('10.0.2.0/24'));
    for (const text of ['10.0.0.0', '10.0.0.0/33', '256.0.0.0/8', '10.01.0.0/16', 'fd00::/8', ''])
      assert.equal(networkOf(text), undefined, text);
  });

  it('turns addresses into numbers and back, and tells which network holds one', () => {
    assert.equal(ipv4Number('10.0.1.4'), 10 * 2 ** 24 + 256 + 4);
    assert.equal(ipv4Number('255.255.255.255'), 2 ** 32 - 1);
    for (const text of ['10.0.1', '10.0.1.256', '10.00.1.4', 'fd00::1'])
      assert.equal(ipv4Number(text), undefined, text);
    assert.equal(formatIpv4(2 ** 32 - 1), '255.255.255.255');
    assert.equal(cidrSize(cidr('10.0.2.0/24')), 256);
    assert.equal(cidrSize(cidr('0.0.0.0/0')), 2 ** 32);
    const subnet = cidr('10.0.2.0/24');
    assert.equal(cidrHas(subnet, ipv4Number('10.0.2.255') ?? 0), true);
    assert.equal(cidrHas(subnet, ipv4Number('10.0.3.0') ?? 0), false);
  });
});
