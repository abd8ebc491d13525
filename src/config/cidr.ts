/**
 * IPv4 CIDR arithmetic for config validation and the WireGuard address plan. Pure code (no Node
 * built-ins), so it may be used anywhere.
 */

/** A parsed IPv4 network: its address as an unsigned 32-bit number and its prefix length. */
export interface Ipv4Cidr {
  address: number;
  prefix: number;
}

/** The outcome of parsing CIDR text: the network, or why the text is not one. */
export type CidrParse = { ok: true; cidr: Ipv4Cidr } | { ok: false; reason: string };

const CIDR_SHAPE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** The netmask of a prefix length as an unsigned 32-bit number. */
export function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Dotted-quad text of an unsigned 32-bit address. */
export function formatIpv4(address: number): string {
  return [24, 16, 8, 0].map((shift) => (address >>> shift) & 0xff).join('.');
}

/** `a.b.c.d/n` text of a network. */
export function formatCidr(cidr: Ipv4Cidr): string {
  return `${formatIpv4(cidr.address)}/${cidr.prefix}`;
}

/** Text as quoted in a reason: at most 60 characters, control characters escaped. */
function quoted(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

/** Parse `a.b.c.d/n`; the address must be the network address itself (no host bits set). */
export function parseCidr(text: string): CidrParse {
  const match = CIDR_SHAPE.exec(text.trim());
  if (!match) {
    return { ok: false, reason: `${quoted(text)} is not an IPv4 CIDR like 10.0.0.0/16` };
  }
  const parts = match.slice(1).map((part) => ({ text: part, value: Number(part) }));
  const octets = parts.slice(0, 4);
  const prefixPart = parts[4];
  if (prefixPart === undefined) {
    return { ok: false, reason: `${quoted(text)} is not an IPv4 CIDR like 10.0.0.0/16` };
  }
  for (const octet of octets) {
    if (octet.value > 255 || (octet.text.length > 1 && octet.text.startsWith('0'))) {
      return {
        ok: false,
        reason: `"${text}" has an invalid address part "${octet.text}" (0-255, no leading zeros)`,
      };
    }
  }
  if (prefixPart.value > 32) {
    return { ok: false, reason: `"${text}" has a prefix length over 32` };
  }
  const address = octets.reduce((acc, octet) => ((acc << 8) | octet.value) >>> 0, 0);
  const network = (address & prefixMask(prefixPart.value)) >>> 0;
  if (network !== address) {
    const fixed = formatCidr({ address: network, prefix: prefixPart.value });
    return { ok: false, reason: `"${text}" has host bits set (did you mean ${fixed}?)` };
  }
  return { ok: true, cidr: { address, prefix: prefixPart.value } };
}

/** True when every address of `inner` lies in `outer`. */
export function cidrContains(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
  return inner.prefix >= outer.prefix && (inner.address & prefixMask(outer.prefix)) >>> 0 === outer.address;
}

/** True when the two networks share at least one address. */
export function cidrOverlaps(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** The address `offset` places above the network address, as dotted-quad text. */
export function addressInNetwork(cidr: Ipv4Cidr, offset: number): string {
  return formatIpv4((cidr.address + offset) >>> 0);
}
