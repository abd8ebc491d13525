/**
 * WireGuard configuration files as `wg-quick` reads them, and `wg show` output. Shared by the emulated
 * `wg`/`wg-quick` commands, the laptop tunnels and the machines' `wg0`.
 */
import net from 'node:net';
import { wireguardPublicKey } from '../../../src/hosts/keys';
import { cidrHas, ipv4Number, networkOf } from '../../../src/config/cidr';
import type { WireguardInterfaceShow } from './types';

/** One `[Peer]` of a config. */
export interface WireguardPeerConfig {
  publicKey: string;
  presharedKey?: string;
  allowedIps: string[];
  endpoint?: { host: string; port: number };
  persistentKeepalive?: number;
  /** Line of its `[Peer]` header. */
  line: number;
}

/** A parsed `wg-quick` config. */
export interface WireguardConfig {
  privateKey: string;
  addresses: string[];
  listenPort?: number;
  mtu?: number;
  dns: string[];
  peers: WireguardPeerConfig[];
}

/** One thing wrong with a config, at a line (0 for the file as a whole). */
export interface ConfigProblem {
  line: number;
  message: string;
}

/** Interface names Linux and `wg-quick` accept. */
const INTERFACE_NAME = /^[a-zA-Z0-9_=+.-]{1,15}$/;

/** True for an interface name `wg-quick` accepts: 1 to 15 of `a-zA-Z0-9_=+.-`. */
export function validInterfaceName(name: string): boolean {
  return INTERFACE_NAME.test(name);
}

/** True for a WireGuard key: the canonical base64 of 32 bytes. */
export function isWireguardKey(value: string): boolean {
  if (!/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(value)) return false;
  return Buffer.from(value, 'base64').length === 32;
}

function isIp(text: string): boolean {
  return net.isIPv4(text) || net.isIPv6(text);
}

/** An address with a prefix length (`10.8.0.1/32`, `fd00::1/128`), or undefined when malformed. */
function cidrOf(text: string, bareAllowed: boolean): string | undefined {
  const [ip = '', len, ...rest] = text.split('/');
  if (rest.length > 0 || !isIp(ip)) return undefined;
  const max = net.isIPv4(ip) ? 32 : 128;
  if (len === undefined) return bareAllowed ? `${ip}/${max}` : undefined;
  if (!/^\d{1,3}$/.test(len) || Number(len) > max) return undefined;
  return `${ip}/${Number(len)}`;
}

/** Parses `ip:port` or `[ipv6]:port`. */
function endpointOf(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || host === undefined || !isIp(host) || port < 1 || port > 65535) return undefined;
  return { host, port };
}

function portOf(text: string, min: number): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= 65535 ? n : undefined;
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

const INTERFACE_KEYS = [
  'PrivateKey',
  'ListenPort',
  'FwMark',
  'Address',
  'DNS',
  'MTU',
  'Table',
  'PreUp',
  'PostUp',
  'PreDown',
  'PostDown',
  'SaveConfig',
];
const PEER_KEYS = ['PublicKey', 'PresharedKey', 'AllowedIPs', 'Endpoint', 'PersistentKeepalive'];

interface Section {
  kind: 'Interface' | 'Peer';
  line: number;
  entries: Map<string, { value: string; line: number }[]>;
}

/**
 * Parses a `wg-quick` config, checking every line: section headers, `Key = Value` pairs, the keys each
 * section allows (case-insensitive, as `wg` reads them) and their values. The config comes back only when
 * there is no problem.
 */
export function parseWireguardConfig(
  text: string,
  opts: { requireAddress?: boolean } = {}
): { config?: WireguardConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const sections: Section[] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = i + 1;
    const stripped = raw.replace(/#.*$/, '').trim();
    if (stripped === '') continue;
    const header = /^\[(.*)\]$/.exec(stripped);
    if (header) {
      const name = (header[1] ?? '').trim().toLowerCase();
      if (name === 'interface') sections.push({ kind: 'Interface', line, entries: new Map() });
      else if (name === 'peer') sections.push({ kind: 'Peer', line, entries: new Map() });
      else {
        problems.push({ line, message: `unknown section \`${stripped}'; only [Interface] and [Peer] exist` });
        sections.push({ kind: 'Peer', line: -line, entries: new Map() });
      }
      continue;
    }
    const eq = stripped.indexOf('=');
    if (eq <= 0) {
      problems.push({
        line,
        message: `line unrecognized: \`${stripped}' is not a section header nor Key = Value`,
      });
      continue;
    }
    const keyText = stripped.slice(0, eq).trim();
    const value = stripped.slice(eq + 1).trim();
    const section = sections[sections.length - 1];
    if (!section) {
      problems.push({ line, message: `key \`${keyText}' comes before any [Interface] or [Peer] section` });
      continue;
    }
    if (section.line < 0) continue;
    const allowed = section.kind === 'Interface' ? INTERFACE_KEYS : PEER_KEYS;
    const key = allowed.find((k) => k.toLowerCase() === keyText.toLowerCase());
    if (!key) {
      problems.push({
        line,
        message: `key \`${keyText}' is not valid in [${section.kind}]; valid keys: ${allowed.join(', ')}`,
      });
      continue;
    }
    if (value === '') {
      problems.push({ line, message: `${key} has no value` });
      continue;
    }
    const seen = section.entries.get(key) ?? [];
    seen.push({ value, line });
    section.entries.set(key, seen);
  }

  const interfaces = sections.filter((s) => s.kind === 'Interface');
  if (interfaces.length === 0) problems.push({ line: 0, message: 'there is no [Interface] section' });
  for (const extra of interfaces.slice(1))
    problems.push({
      line: extra.line,
      message: `a second [Interface] section (the first is on line ${interfaces[0]?.line})`,
    });
  const last = (s: Section, key: string) => s.entries.get(key)?.at(-1);
  const all = (s: Section, key: string) => s.entries.get(key) ?? [];

  let privateKey = '';
  const addresses: string[] = [];
  const dns: string[] = [];
  let listenPort: number | undefined;
  let mtu: number | undefined;
  const iface = interfaces[0];
  if (iface) {
    const pk = last(iface, 'PrivateKey');
    if (!pk) problems.push({ line: iface.line, message: '[Interface] has no PrivateKey' });
    else if (!isWireguardKey(pk.value))
      problems.push({
        line: pk.line,
        message: 'PrivateKey is not a key: it must be 32 bytes of base64 (44 characters)',
      });
    else privateKey = pk.value;
    for (const a of all(iface, 'Address')) {
      for (const item of list(a.value)) {
        const cidr = cidrOf(item, false);
        if (cidr) addresses.push(cidr);
        else
          problems.push({
            line: a.line,
            message: `Address \`${item}' is not an address with a prefix length, like 10.8.0.1/32`,
          });
      }
    }
    if (addresses.length === 0 && all(iface, 'Address').length === 0 && opts.requireAddress !== false)
      problems.push({ line: iface.line, message: '[Interface] has no Address' });
    const lp = last(iface, 'ListenPort');
    if (lp) {
      listenPort = portOf(lp.value, 0);
      if (listenPort === undefined)
        problems.push({ line: lp.line, message: `ListenPort \`${lp.value}' is not a port number 0..65535` });
    }
    const m = last(iface, 'MTU');
    if (m) {
      mtu = /^\d+$/.test(m.value) ? Number(m.value) : undefined;
      if (mtu === undefined || mtu < 576 || mtu > 65535)
        problems.push({ line: m.line, message: `MTU \`${m.value}' is not a number 576..65535` });
    }
    for (const d of all(iface, 'DNS')) dns.push(...list(d.value));
    const fw = last(iface, 'FwMark');
    if (fw && fw.value !== 'off' && !/^(0x[0-9a-fA-F]{1,8}|\d{1,10})$/.test(fw.value))
      problems.push({ line: fw.line, message: `FwMark \`${fw.value}' is not a number or off` });
  }

  const peers: WireguardPeerConfig[] = [];
  const firstLineOf = new Map<string, number>();
  for (const s of sections.filter((x) => x.kind === 'Peer' && x.line > 0)) {
    const peer: WireguardPeerConfig = { publicKey: '', allowedIps: [], line: s.line };
    const pub = last(s, 'PublicKey');
    if (!pub) problems.push({ line: s.line, message: '[Peer] has no PublicKey' });
    else if (!isWireguardKey(pub.value))
      problems.push({
        line: pub.line,
        message: 'PublicKey is not a key: it must be 32 bytes of base64 (44 characters)',
      });
    else if (firstLineOf.has(pub.value))
      problems.push({
        line: pub.line,
        message: `PublicKey is already the key of the [Peer] on line ${firstLineOf.get(pub.value)}`,
      });
    else {
      peer.publicKey = pub.value;
      firstLineOf.set(pub.value, s.line);
    }
    const psk = last(s, 'PresharedKey');
    if (psk && !isWireguardKey(psk.value))
      problems.push({ line: psk.line, message: 'PresharedKey is not a key: it must be 32 bytes of base64' });
    else if (psk) peer.presharedKey = psk.value;
    for (const a of all(s, 'AllowedIPs')) {
      for (const item of list(a.value)) {
        const cidr = cidrOf(item, true);
        if (cidr) peer.allowedIps.push(cidr);
        else problems.push({ line: a.line, message: `AllowedIPs \`${item}' is not an address or network` });
      }
    }
    const ep = last(s, 'Endpoint');
    if (ep) {
      peer.endpoint = endpointOf(ep.value);
      if (!peer.endpoint)
        problems.push({ line: ep.line, message: `Endpoint \`${ep.value}' is not ip:port (port 1..65535)` });
    }
    const ka = last(s, 'PersistentKeepalive');
    if (ka && ka.value !== 'off') {
      peer.persistentKeepalive = portOf(ka.value, 0);
      if (peer.persistentKeepalive === undefined)
        problems.push({
          line: ka.line,
          message: `PersistentKeepalive \`${ka.value}' is not off or 0..65535`,
        });
    }
    peers.push(peer);
  }
  problems.sort((a, b) => a.line - b.line);
  if (problems.length > 0) return { problems };
  return { config: { privateKey, addresses, listenPort, mtu, dns, peers }, problems };
}

/** Problems as `<file>:<line>: message` lines. */
export function formatProblems(file: string, problems: ConfigProblem[]): string {
  return problems.map((p) => `${file}${p.line > 0 ? `:${p.line}` : ''}: ${p.message}`).join('\n');
}

/** Checks a config sent as JSON (the parsed form); throws with the reason when it is not one. */
export function checkParsedConfig(value: unknown): WireguardConfig {
  const c = value as Partial<WireguardConfig> | null;
  if (c === null || typeof c !== 'object')
    throw new Error('config must be the text of the file or its parsed form');
  if (typeof c.privateKey !== 'string' || !isWireguardKey(c.privateKey))
    throw new Error('config.privateKey must be 32 bytes of base64');
  if (!Array.isArray(c.addresses) || c.addresses.some((a) => typeof a !== 'string' || !cidrOf(a, false)))
    throw new Error('config.addresses must be addresses with a prefix length');
  if (c.listenPort !== undefined && (typeof c.listenPort !== 'number' || !Number.isInteger(c.listenPort)))
    throw new Error('config.listenPort must be an integer');
  if (!Array.isArray(c.peers)) throw new Error('config.peers must be an array');
  const peers = c.peers.map((p: Partial<WireguardPeerConfig>, i) => {
    if (typeof p.publicKey !== 'string' || !isWireguardKey(p.publicKey))
      throw new Error(`config.peers[${i}].publicKey must be 32 bytes of base64`);
    if (!Array.isArray(p.allowedIps) || p.allowedIps.some((a) => typeof a !== 'string' || !cidrOf(a, true)))
      throw new Error(`config.peers[${i}].allowedIps must be addresses or networks`);
    const endpoint =
      p.endpoint === undefined
        ? undefined
        : endpointOf(
            `${String(p.endpoint.host).includes(':') ? `[${p.endpoint.host}]` : p.endpoint.host}:${p.endpoint.port}`
          );
    if (p.endpoint !== undefined && !endpoint)
      throw new Error(`config.peers[${i}].endpoint must be { host: <ip>, port: 1..65535 }`);
    return {
      publicKey: p.publicKey,
      allowedIps: p.allowedIps.map((a) => cidrOf(a, true) ?? a),
      endpoint,
      persistentKeepalive: typeof p.persistentKeepalive === 'number' ? p.persistentKeepalive : undefined,
      line: typeof p.line === 'number' ? p.line : 0,
    };
  });
  return {
    privateKey: c.privateKey,
    addresses: c.addresses,
    listenPort: c.listenPort,
    mtu: typeof c.mtu === 'number' ? c.mtu : undefined,
    dns: Array.isArray(c.dns) ? c.dns.filter((d) => typeof d === 'string') : [],
    peers,
  };
}

/** The public key of a config's interface. */
export function configPublicKey(config: WireguardConfig): string {
  return wireguardPublicKey(config.privateKey);
}

/** True when `address` (an IPv4 address) lies in one of the networks. */
export function routedBy(networks: string[], address: string): boolean {
  const ip = ipv4Number(address);
  if (ip === undefined) return networks.some((n) => n === `${address}/128`);
  return networks.some((n) => {
    const cidr = networkOf(n);
    return cidr !== undefined && cidrHas(cidr, ip);
  });
}

/** `ip:port` of an endpoint, brackets around IPv6. */
export function endpointText(endpoint: { host: string; port: number }): string {
  return `${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
}

// ---- wg show --------------------------------------------------------------------------------------

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** How `wg` says how long ago something was: `Now`, `1 minute, 5 seconds ago`. */
export function agoText(seconds: number): string {
  if (seconds <= 0) return 'Now';
  const parts: string[] = [];
  const units: [number, string][] = [
    [365 * 24 * 3600, 'year'],
    [24 * 3600, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
    [1, 'second'],
  ];
  let left = seconds;
  for (const [size, unit] of units) {
    const n = Math.floor(left / size);
    left -= n * size;
    if (n > 0) parts.push(plural(n, unit));
  }
  return `${parts.join(', ')} ago`;
}

/** `wg show <iface>` in its human form (no colours, as when not on a terminal). */
export function formatShow(show: WireguardInterfaceShow, nowMs: number): string {
  const out = [
    `interface: ${show.interface}`,
    `  public key: ${show.publicKey}`,
    '  private key: (hidden)',
    `  listening port: ${show.listenPort}`,
  ];
  const peers = [...show.peers].sort((a, b) => b.latestHandshake - a.latestHandshake);
  for (const peer of peers) {
    out.push('', `peer: ${peer.publicKey}`);
    if (peer.endpoint) out.push(`  endpoint: ${peer.endpoint}`);
    out.push(`  allowed ips: ${peer.allowedIps.length > 0 ? peer.allowedIps.join(', ') : '(none)'}`);
    if (peer.latestHandshake > 0)
      out.push(`  latest handshake: ${agoText(Math.floor(nowMs / 1000) - peer.latestHandshake)}`);
    if (peer.persistentKeepalive)
      out.push(`  persistent keepalive: every ${plural(peer.persistentKeepalive, 'second')}`);
  }
  return `${out.join('\n')}\n`;
}

/** `wg show <iface> latest-handshakes`: `<peer public key>\t<unix seconds>` per peer. */
export function formatLatestHandshakes(show: WireguardInterfaceShow, withInterface = false): string {
  return show.peers
    .map((p) => `${withInterface ? `${show.interface}\t` : ''}${p.publicKey}\t${p.latestHandshake}\n`)
    .join('');
}

/** The other one-field forms of `wg show <iface> <field>`; undefined for an unknown field. */
export function formatShowField(
  show: WireguardInterfaceShow,
  field: string,
  withInterface = false
): string | undefined {
  const prefix = withInterface ? `${show.interface}\t` : '';
  switch (field) {
    case 'latest-handshakes':
      return formatLatestHandshakes(show, withInterface);
    case 'public-key':
      return `${prefix}${show.publicKey}\n`;
    case 'listen-port':
      return `${prefix}${show.listenPort}\n`;
    case 'peers':
      return show.peers.map((p) => `${prefix}${p.publicKey}\n`).join('');
    case 'endpoints':
      return show.peers.map((p) => `${prefix}${p.publicKey}\t${p.endpoint ?? '(none)'}\n`).join('');
    case 'allowed-ips':
      return show.peers
        .map(
          (p) => `${prefix}${p.publicKey}\t${p.allowedIps.length > 0 ? p.allowedIps.join(' ') : '(none)'}\n`
        )
        .join('');
    case 'persistent-keepalive':
      return show.peers
        .map((p) => `${prefix}${p.publicKey}\t${p.persistentKeepalive ? p.persistentKeepalive : 'off'}\n`)
        .join('');
    default:
      return undefined;
  }
}
