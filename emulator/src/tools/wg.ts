/**
 * Emulated `wg`: `show` (`interfaces`, `all`, `<iface>`, with a field like `latest-handshakes`) answered
 * from the emulator's laptop tunnels; `genkey` and `pubkey` computed locally as the real tool does.
 */
import { generateWireguardKeyPair, wireguardPublicKey } from '../../../src/hosts/keys';
import type { WireguardInterfaceShow } from '../hosts/types';
import { formatShow, formatShowField } from '../hosts/wireguard';
import type { ToolIO, ToolMain } from './client';
import { ToolError, crash, errorMessage, worldCall } from './client';
import { recorded } from './run';

const USAGE =
  'Usage: wg <cmd> [<args>]\n\n' +
  'Available subcommands:\n' +
  '  show: Shows the current configuration and device information\n' +
  '  genkey: Generates a new private key and writes it to stdout\n' +
  '  pubkey: Reads a private key from stdin and writes a public key to stdout\n' +
  "You may pass `--help' to any of these subcommands to view usage.\n";

const SHOW_USAGE =
  'Usage: wg show { <interface> | all | interfaces } [public-key | listen-port | peers | endpoints | ' +
  'allowed-ips | latest-handshakes | persistent-keepalive]\n';

async function interfaces(io: ToolIO): Promise<string[]> {
  const res = await worldCall(io, 'GET', '/world/wireguard/show');
  if (res.status !== 200) throw new ToolError(`wg: ${errorMessage(res)}`);
  return (res.body as { interfaces: string[] }).interfaces;
}

async function showOf(io: ToolIO, iface: string): Promise<WireguardInterfaceShow> {
  const res = await worldCall(io, 'GET', `/world/wireguard/show?interface=${encodeURIComponent(iface)}`);
  if (res.status === 404) throw new ToolError(errorMessage(res));
  if (res.status !== 200) throw new ToolError(`wg: ${errorMessage(res)}`);
  return res.body as WireguardInterfaceShow;
}

async function show(io: ToolIO, args: string[]): Promise<number> {
  const [what = 'all', field, ...rest] = args;
  if (rest.length > 0 || what === '--help' || what === '-h') {
    io.stderr(SHOW_USAGE);
    return 1;
  }
  if (what === 'interfaces') {
    if (field !== undefined) {
      io.stderr(SHOW_USAGE);
      return 1;
    }
    const names = await interfaces(io);
    io.stdout(names.length > 0 ? `${names.join(' ')}\n` : '');
    return 0;
  }
  const shows =
    what === 'all'
      ? await Promise.all((await interfaces(io)).map((i) => showOf(io, i)))
      : [await showOf(io, what)];
  const now = Date.now();
  if (field === undefined) {
    io.stdout(shows.map((s) => formatShow(s, now)).join('\n'));
    return 0;
  }
  const texts = shows.map((s) => formatShowField(s, field, what === 'all'));
  if (texts.some((t) => t === undefined)) {
    io.stderr(`Invalid parameters: \`${field}'\n${SHOW_USAGE}`);
    return 1;
  }
  io.stdout(texts.join(''));
  return 0;
}

/** The emulated `wg`. */
export const wg: ToolMain = async (io) => {
  const [command = 'show', ...args] = io.args;
  switch (command) {
    case 'show': {
      const target = args[0] === 'all' || args[0] === 'interfaces' ? undefined : args[0];
      return recorded(io, 'wg', 'show', target, async (fault) => {
        // A crash of `wg show` has no first half: it dies before printing.
        if (fault) crash(io, 'wg', 'show');
        return show(io, args);
      });
    }
    case 'genkey':
      io.stdout(`${generateWireguardKeyPair().privateKey}\n`);
      return 0;
    case 'pubkey': {
      try {
        io.stdout(`${wireguardPublicKey((await io.stdin()).trim())}\n`);
        return 0;
      } catch {
        throw new ToolError('wg: Key is not the correct length or format');
      }
    }
    case '--version':
    case 'version':
      io.stdout('wireguard-tools v1.0.20210914 - https://git.zx2c4.com/wireguard-tools/ (emulated)\n');
      return 0;
    case '--help':
    case '-h':
    case 'help':
      io.stdout(USAGE);
      return 0;
    default:
      io.stderr(`Invalid subcommand: \`${command}'\n${USAGE}`);
      return 1;
  }
};
