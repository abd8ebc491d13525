/**
 * IPv4 networks for config validation, the WireGuard address plan and the ARM emulator's subnets, on
 * ipaddr.js. Parsing reasons name what is wrong with the text; the arithmetic is the library's.
 */
import ipaddr from 'ipaddr.js';

const { IPv4 } = ipaddr;

/** A parsed IPv4 network: its address as an unsigned 32-bit number and its prefix length. */
export interface Ipv4Cidr {
  address: number;
  prefix: number;
}

/** The outcome of parsing CIDR text: the network, or why the text is not one. */
export type CidrParse = { ok: true; cidr: Ipv4Cidr } | { ok: false; reason: string };

const CIDR_SHAPE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

function toNumber(address: ipaddr.IPv4): number {
  return address.octets.reduce((n, octet) => n * 256 + octet, 0);
}

function fromNumber(address: number): ipaddr.IPv4 {
  return new IPv4([24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256));
}

/** The unsigned 32-bit number of a dotted-quad address, or undefined when the text is not one. */
export function ipv4Number(text: string): number | undefined {
  const t = text.trim();
  return IPv4.isValidFourPartDecimal(t) ? toNumber(IPv4.parse(t)) : undefined;
}

/** Dotted-quad text of an unsigned 32-bit address. */
export function formatIpv4(address: number): string {
  return fromNumber(address).toString();
}

/** `a.b.c.d/n` text of a network. */
export function formatCidr(cidr: Ipv4Cidr): string {
  return `${formatIpv4(cidr.address)}/${cidr.prefix}`;
}

/** How many addresses the network holds. */
export function cidrSize(cidr: Ipv4Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

/** Text as quoted in a reason: at most 60 characters, control characters escaped. */
function quoted(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

/** Parse `a.b.c.d/n`; the address must be the network address itself (no host bits set). */
export function parseCidr(text: string): CidrParse {
  const t = text.trim();
  const match = CIDR_SHAPE.exec(t);
  if (!match) return { ok: false, reason: `${quoted(text)} is not an IPv4 CIDR like 10.0.0.0/16` };
  for (const octet of match.slice(1, 5)) {
    if (Number(octet) > 255 || (octet.length > 1 && octet.startsWith('0'))) {
      return {
        ok: false,
        reason: `"${text}" has an invalid address part "${octet}" (0-255, no leading zeros)`,
      };
    }
  }
  if (Number(match[5]) > 32) return { ok: false, reason: `"${text}" has a prefix length over 32` };
  const [address, prefix] = IPv4.parseCIDR(t);
  const network = IPv4.networkAddressFromCIDR(t);
  if (network.toString() !== address.toString()) {
    return {
      ok: false,
      reason: `"${text}" has host bits set (did you mean ${network.toString()}/${prefix}?)`,
    };
  }
  return { ok: true, cidr: { address: toNumber(address), prefix } };
}

/** The network `a.b.c.d/n` names, host bits dropped as ARM does; undefined when the text is not one. */
export function networkOf(text: string): Ipv4Cidr | undefined {
  const t = text.trim();
  if (!IPv4.isValidCIDRFourPartDecimal(t)) return undefined;
  const [, prefix] = IPv4.parseCIDR(t);
  return { address: toNumber(IPv4.networkAddressFromCIDR(t)), prefix };
}

/** True when the address (an unsigned 32-bit number) lies in the network. */
export function cidrHas(cidr: Ipv4Cidr, address: number): boolean {
  return fromNumber(address).match(fromNumber(cidr.address), cidr.prefix);
}

/** True when every address of `inner` lies in `outer`. */
export function cidrContains(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
  return inner.prefix >= outer.prefix && cidrHas(outer, inner.address);
}

/** True when the two networks share at least one address. */
export function cidrOverlaps(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** The address `offset` places above the network address, as dotted-quad text. */
export function addressInNetwork(cidr: Ipv4Cidr, offset: number): string {
  return formatIpv4(cidr.address + offset);
}
