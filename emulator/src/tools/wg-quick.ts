/**
 * Emulated `wg-quick up|down|strip <CONFIG_FILE|INTERFACE>`: reads and checks the config as wg-quick and
 * `wg setconf` would, then brings the laptop tunnel up or down in the emulator's world.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { formatProblems, parseWireguardConfig, validInterfaceName } from '../hosts/wireguard';
import type { ToolFaultRule } from '../hosts/types';
import type { ToolIO, ToolMain } from './client';
import { ToolError, crash, errorMessage, worldCall } from './client';
import { recorded } from './run';

const USAGE = (self: string) =>
  `Usage: ${self} [ up | down | strip ] [ CONFIG_FILE | INTERFACE ]\n\n` +
  '  CONFIG_FILE is a configuration file, whose filename is the interface name\n' +
  "  followed by `.conf'. Otherwise, INTERFACE is an interface name, with\n" +
  '  configuration found at /etc/wireguard/INTERFACE.conf.\n';

/** Where wg-quick looks for `<INTERFACE>.conf`. */
const SEARCH_PATHS = ['/etc/wireguard', '/usr/local/etc/wireguard'];

async function existsFile(file: string): Promise<boolean> {
  return fs.stat(file).then(
    (s) => s.isFile(),
    () => false
  );
}

/** The config file and interface an argument names, as wg-quick resolves them. */
async function resolveConfig(
  arg: string,
  cwd: string,
  mustExist: boolean
): Promise<{ file?: string; iface: string }> {
  let file = arg;
  if (validInterfaceName(arg)) {
    for (const dir of SEARCH_PATHS) {
      file = path.join(dir, `${arg}.conf`);
      if (await existsFile(file)) break;
    }
    if (!(await existsFile(file))) {
      if (!mustExist) return { iface: arg };
      throw new ToolError(`wg-quick: \`${file}' does not exist`);
    }
  }
  const absolute = path.resolve(cwd, file);
  if (!(await existsFile(absolute))) throw new ToolError(`wg-quick: \`${file}' does not exist`);
  const m = /(?:^|\/)([a-zA-Z0-9_=+.-]{1,15})\.conf$/.exec(absolute);
  if (!m?.[1])
    throw new ToolError('wg-quick: The config file must be a valid interface name, followed by .conf');
  return { file: absolute, iface: m[1] };
}

async function readChecked(io: ToolIO, file: string): Promise<string> {
  const stat = await fs.stat(file);
  const dirStat = await fs.stat(path.dirname(file));
  if ((stat.mode & dirStat.mode & 0o007) !== 0) io.stderr(`Warning: \`${file}' is world accessible\n`);
  return fs.readFile(file, 'utf8');
}

async function up(io: ToolIO, arg: string, fault: ToolFaultRule | undefined): Promise<number> {
  const { file, iface } = await resolveConfig(arg, io.cwd, true);
  const text = await readChecked(io, file ?? '');
  const { config, problems } = parseWireguardConfig(text);
  if (!config) throw new ToolError(`${formatProblems(file ?? iface, problems)}\nConfiguration parsing error`);
  const res = await worldCall(io, 'POST', '/world/wireguard/up', {
    interface: iface,
    config: text,
    file,
  });
  if (res.status === 409 && /already exists/.test(errorMessage(res)))
    throw new ToolError(`wg-quick: ${errorMessage(res)}`);
  io.stderr(`[#] ip link add ${iface} type wireguard\n[#] wg setconf ${iface} /dev/fd/63\n`);
  if (res.status !== 200) {
    io.stderr(`${errorMessage(res)}\n[#] ip link delete dev ${iface}\n`);
    return 1;
  }
  const answer = res.body as { addresses: string[]; routes: string[] };
  for (const address of answer.addresses)
    io.stderr(`[#] ip -${address.includes(':') ? 6 : 4} address add ${address} dev ${iface}\n`);
  io.stderr(`[#] ip link set mtu ${config.mtu ?? 1420} up dev ${iface}\n`);
  if (fault) crash(io, 'wg-quick', 'up');
  const routes = [...new Set(answer.routes)].sort(
    (a, b) => Number(b.split('/')[1]) - Number(a.split('/')[1])
  );
  for (const route of routes)
    io.stderr(`[#] ip -${route.includes(':') ? 6 : 4} route add ${route} dev ${iface}\n`);
  return 0;
}

async function down(io: ToolIO, arg: string, fault: ToolFaultRule | undefined): Promise<number> {
  const { file, iface } = await resolveConfig(arg, io.cwd, false);
  if (file) {
    const { config, problems } = parseWireguardConfig(await readChecked(io, file));
    if (!config) throw new ToolError(`${formatProblems(file, problems)}\nConfiguration parsing error`);
  }
  if (fault) crash(io, 'wg-quick', 'down');
  const res = await worldCall(io, 'POST', '/world/wireguard/down', { interface: iface });
  if (res.status !== 200) throw new ToolError(`wg-quick: ${errorMessage(res)}`);
  io.stderr(`[#] ip link delete dev ${iface}\n`);
  return 0;
}

async function strip(io: ToolIO, arg: string): Promise<number> {
  const { file } = await resolveConfig(arg, io.cwd, true);
  const text = await readChecked(io, file ?? '');
  const { config, problems } = parseWireguardConfig(text);
  if (!config) throw new ToolError(`${formatProblems(file ?? arg, problems)}\nConfiguration parsing error`);
  const quickOnly = /^\s*(Address|DNS|MTU|Table|PreUp|PostUp|PreDown|PostDown|SaveConfig)\s*=/i;
  io.stdout(
    text
      .split(/\r?\n/)
      .filter((line) => !quickOnly.test(line))
      .join('\n')
  );
  return 0;
}

/** The interface an argument names, for counting and fault matching before the file is read. */
function targetOf(arg: string): string {
  return path.basename(arg).replace(/\.conf$/, '');
}

/** The emulated `wg-quick`. */
export const wgQuick: ToolMain = async (io) => {
  const [command, arg, ...rest] = io.args;
  if (arg === undefined || rest.length > 0 || !['up', 'down', 'strip'].includes(command ?? '')) {
    io.stderr(USAGE('wg-quick'));
    return 1;
  }
  if (command === 'strip') return strip(io, arg);
  const verb = command === 'up' ? 'up' : 'down';
  return recorded(io, 'wg-quick', verb, targetOf(arg), (fault) =>
    verb === 'up' ? up(io, arg, fault) : down(io, arg, fault)
  );
};
