/** Host keys in an OpenSSH known_hosts file: recorded on first contact, verified ever after, forgotten on request. */
import { createHmac } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SshTarget } from './options';
import { SshError } from './options';

export interface KnownHostLine {
  marker?: string;
  hosts: string;
  type: string;
  key: Buffer;
}

/** The name of a host in known_hosts, as OpenSSH writes it. */
export function knownHostName(address: string, port = 22): string {
  return port === 22 ? address : `[${address}]:${port}`;
}

function parseKnownHostLine(line: string): KnownHostLine | undefined {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return undefined;
  const fields = trimmed.split(/\s+/);
  const marker = fields[0]?.startsWith('@') ? fields.shift() : undefined;
  const [hosts, type, key] = fields;
  if (hosts === undefined || type === undefined || key === undefined) return undefined;
  return { marker, hosts, type, key: Buffer.from(key, 'base64') };
}

/** Whether a known_hosts host field (plain names, or `|1|salt|hash` hashed ones) names `host`. */
function namesHost(hosts: string, host: string): boolean {
  const wanted = host.toLowerCase();
  return hosts.split(',').some((pattern) => {
    if (pattern.startsWith('|1|')) {
      const [, , salt, hash] = pattern.split('|');
      if (salt === undefined || hash === undefined) return false;
      const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(wanted).digest('base64');
      return digest === hash;
    }
    // Wildcard and negated patterns are never written by this module and are not honoured.
    return pattern.toLowerCase() === wanted;
  });
}

export async function readText(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function recordedKeys(text: string | undefined, host: string): KnownHostLine[] {
  return (text ?? '')
    .split('\n')
    .map(parseKnownHostLine)
    .filter((l): l is KnownHostLine => l !== undefined && l.marker === undefined && namesHost(l.hosts, host));
}

const fileQueues = new Map<string, Promise<unknown>>();

/** Runs `fn` after every earlier `fn` on the same file in this process has finished. */
async function serialized<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const key = path.resolve(file);
  const run = (fileQueues.get(key) ?? Promise.resolve()).then(fn, fn);
  const settled = run.catch(() => undefined);
  fileQueues.set(key, settled);
  try {
    return await run;
  } finally {
    if (fileQueues.get(key) === settled) fileQueues.delete(key);
  }
}

function keyType(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const length = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + length).toString('latin1');
}

export function mismatch(target: SshTarget, file: string): SshError {
  const host = knownHostName(target.address, target.port);
  return new SshError(
    `the host key of ${target.name} (${target.address}:${target.port}) does not match the one recorded ` +
      `in ${file}; if the machine was rebuilt, forget the old key with ` +
      `\`ssh-keygen -R '${host}' -f ${file}\` and connect again`,
    'host-key'
  );
}

/** Appends the host's key unless a key is recorded by now: the same one is fine, another is a mismatch. */
export async function recordHostKey(target: SshTarget, file: string, key: Buffer): Promise<void> {
  const host = knownHostName(target.address, target.port);
  await serialized(file, async () => {
    const text = await readText(file);
    const recorded = recordedKeys(text, host);
    if (recorded.some((l) => l.key.equals(key))) return;
    if (recorded.length > 0) throw mismatch(target, file);
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const separator = text !== undefined && text !== '' && !text.endsWith('\n') ? '\n' : '';
    await fs.appendFile(file, `${separator}${host} ${keyType(key)} ${key.toString('base64')}\n`, {
      mode: 0o600,
    });
    await fs.chmod(file, 0o600);
  });
}

/** Removes every key recorded for `address:port`, like `ssh-keygen -R`; a missing file is fine. */
export async function forgetHostKey(knownHostsFile: string, address: string, port = 22): Promise<void> {
  const host = knownHostName(address, port);
  await serialized(knownHostsFile, async () => {
    const text = await readText(knownHostsFile);
    if (text === undefined) return;
    const lines = text.split('\n');
    const kept = lines.filter((line) => {
      const parsed = parseKnownHostLine(line);
      return parsed === undefined || !namesHost(parsed.hosts, host);
    });
    if (kept.length === lines.length) return;
    const temp = `${knownHostsFile}.${process.pid}.tmp`;
    await fs.writeFile(temp, kept.join('\n'), { mode: 0o600 });
    await fs.rename(temp, knownHostsFile);
  });
}

// ---------------------------------------------------------------------------------------------------
// Connecting
