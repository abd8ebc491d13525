/** What a machine's cloud-init (the VM's `customData`) sets up: whether it runs, and its WireGuard `wg0`. */
import { parse } from 'yaml';
import type { WireguardConfig } from './wireguard';
import { parseWireguardConfig } from './wireguard';

/** Path of the WireGuard config cloud-init writes. */
export const WG0_PATH = '/etc/wireguard/wg0.conf';

/** What the machine makes of its cloud-init. */
export interface CloudInitFacts {
  /** Why cloud-init itself fails (`status: error`), if it does. */
  error?: string;
  /** The `wg0.conf` it writes, if any. */
  wg0?: {
    config?: WireguardConfig;
    /** Why `wg-quick@wg0` cannot start, if it cannot. */
    problem?: string;
    /** `runcmd` starts (or enables now) `wg-quick@wg0`. */
    started: boolean;
  };
}

function obj(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function commandText(entry: unknown): string {
  if (Array.isArray(entry)) return entry.map(String).join(' ');
  return typeof entry === 'string' ? entry : '';
}

function startsWireguard(runcmd: unknown): boolean {
  if (!Array.isArray(runcmd)) return false;
  return runcmd.some((entry) => {
    const line = commandText(entry);
    return (
      /\bsystemctl\s+(start|restart)\s+(\S+\s+)*wg-quick@wg0\b/.test(line) ||
      (/\bsystemctl\s+enable\b/.test(line) && /--now\b/.test(line) && /wg-quick@wg0\b/.test(line)) ||
      /\bwg-quick\s+up\s+(wg0|\/etc\/wireguard\/wg0\.conf)\b/.test(line)
    );
  });
}

function installsWireguard(packages: unknown): boolean {
  return (
    Array.isArray(packages) &&
    packages.some((p: unknown) => {
      const name: unknown = Array.isArray(p) ? (p as unknown[])[0] : p;
      return name === 'wireguard' || name === 'wireguard-tools';
    })
  );
}

/** Reads a VM's `customData` (base64 of a `#cloud-config` document). */
export function readCloudInit(customData: string | undefined): CloudInitFacts {
  if (customData === undefined || customData === '') return {};
  const text = Buffer.from(customData, 'base64').toString('utf8');
  if (!text.startsWith('#cloud-config')) {
    return { error: 'user data is not a #cloud-config document; this machine runs no other kind' };
  }
  let doc: Record<string, unknown>;
  try {
    doc = obj(parse(text)) ?? {};
  } catch (err) {
    return { error: `#cloud-config is not valid YAML: ${(err as Error).message}` };
  }
  const files = Array.isArray(doc.write_files) ? doc.write_files : [];
  const entry = files.map(obj).find((f) => f?.path === WG0_PATH);
  if (!entry) return {};
  let content = typeof entry.content === 'string' ? entry.content : '';
  const encoding = typeof entry.encoding === 'string' ? entry.encoding.toLowerCase() : 'text/plain';
  if (encoding === 'b64' || encoding === 'base64') content = Buffer.from(content, 'base64').toString('utf8');
  else if (encoding !== 'text/plain')
    return { error: `write_files ${WG0_PATH}: encoding ${encoding} is not supported by this machine` };
  const started = startsWireguard(doc.runcmd);
  if (!installsWireguard(doc.packages)) {
    return {
      wg0: { started, problem: 'wg-quick: command not found (the cloud-init installs no wireguard package)' },
    };
  }
  const { config, problems } = parseWireguardConfig(content, { requireAddress: true });
  if (!config) {
    return {
      wg0: {
        started,
        problem: problems.map((p) => `${WG0_PATH}${p.line > 0 ? `:${p.line}` : ''}: ${p.message}`).join('; '),
      },
    };
  }
  return { wg0: { started, config } };
}
