/** IPv4 and CIDR arithmetic for address allocation and subnet checks. */

/** An IPv4 network: first address and size, as unsigned integers. */
export interface Cidr {
  base: number;
  size: number;
}

/** The integer of a dotted IPv4 address, or undefined when it is not one. */
export function ipToInt(ip: string): number | undefined {
  const parts = ip.trim().split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** The dotted form of an IPv4 integer. */
export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** Parses `a.b.c.d/len`; undefined when malformed. The base is aligned to the prefix length. */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(text.trim());
  if (!m) return undefined;
  const ip = ipToInt(m[1] ?? '');
  const len = Number(m[2]);
  if (ip === undefined || len > 32) return undefined;
  const size = 2 ** (32 - len);
  return { base: Math.floor(ip / size) * size, size };
}

/** True when `inner` lies entirely within `outer`. */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  return inner.base >= outer.base && inner.base + inner.size <= outer.base + outer.size;
}

/** True when two networks share an address. */
export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}
