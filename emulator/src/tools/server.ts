/**
 * The emulator's side of the emulated tools: a Unix socket on which each tool process (the small native
 * program in `native/`, started by the phases as the real tool would be) hands over its command, and the
 * emulator runs that tool's module in-process against its world, streaming the output back. A process
 * that goes away mid-run stops its run where it was, as a killed tool stops.
 */
import { promises as fs } from 'node:fs';
import net from 'node:net';
import type { ToolIO, WorldCall } from './client';
import { ToolKilled } from './client';
import { runTool } from './dispatch';

/** A running tool server. */
export interface ToolServer {
  socketPath: string;
  /** Tool commands run so far. */
  runs(): number;
  close(): Promise<void>;
}

/** A request frame's fields: tool, cwd, pid, argc, args..., envc, env... */
interface ToolRequest {
  tool: string;
  cwd: string;
  pid: number;
  args: string[];
  env: NodeJS.ProcessEnv;
}

function parseRequest(payload: Buffer): ToolRequest | undefined {
  const fields = payload.toString('utf8').split('\0');
  const [tool, cwd, pid, argc] = fields;
  const nArgs = Number(argc);
  if (!tool || cwd === undefined || !Number.isInteger(nArgs) || nArgs < 0) return undefined;
  const args = fields.slice(4, 4 + nArgs);
  const nEnv = Number(fields[4 + nArgs]);
  if (args.length !== nArgs || !Number.isInteger(nEnv)) return undefined;
  const env: NodeJS.ProcessEnv = {};
  for (const entry of fields.slice(5 + nArgs, 5 + nArgs + nEnv)) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return { tool, cwd, pid: Number(pid), args, env };
}

function frame(type: string, data: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(data.length, 1);
  return Buffer.concat([head, data]);
}

/** Serves one tool process on `socket`. */
function serve(socket: net.Socket, world: WorldCall, onRun: () => void): void {
  const gone = new AbortController();
  let buffered = Buffer.alloc(0);
  let started = false;
  let stdin: { chunks: Buffer[]; resolve: (text: string) => void; reject: (err: Error) => void } | undefined;
  let input: Promise<string> | undefined;

  const send = (type: string, data?: Buffer) => {
    if (!socket.destroyed) socket.write(frame(type, data));
  };
  const alive = <T>(p: Promise<T>): Promise<T> =>
    gone.signal.aborted
      ? Promise.reject(new ToolKilled())
      : p.then((v) => (gone.signal.aborted ? Promise.reject(new ToolKilled()) : v));

  const start = (request: ToolRequest) => {
    onRun();
    const io: ToolIO = {
      args: request.args,
      cwd: request.cwd,
      env: request.env,
      pid: request.pid,
      stdin: () =>
        (input ??= new Promise<string>((resolve, reject) => {
          stdin = { chunks: [], resolve, reject };
          send('S');
        })),
      stdout: (text) => send('O', Buffer.from(text, 'utf8')),
      stderr: (text) => send('E', Buffer.from(text, 'utf8')),
      world: (method, route, body) => alive(world(method, route, body)),
      sleep: (ms) =>
        alive(
          new Promise<void>((resolve, reject) => {
            const timer = setTimeout(resolve, Math.max(0, ms));
            gone.signal.addEventListener(
              'abort',
              () => {
                clearTimeout(timer);
                reject(new ToolKilled());
              },
              { once: true }
            );
          })
        ),
    };
    void runTool(request.tool, io).then((code) => {
      if (code === undefined || socket.destroyed) return;
      const exit = Buffer.alloc(4);
      exit.writeUInt32BE(code >>> 0);
      send('X', exit);
      socket.end();
    });
  };

  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 5) {
      const length = buffered.readUInt32BE(1);
      if (buffered.length < 5 + length) return;
      const type = String.fromCharCode(buffered[0] ?? 0);
      const payload = buffered.subarray(5, 5 + length);
      buffered = buffered.subarray(5 + length);
      if (type === 'R' && !started) {
        started = true;
        const request = parseRequest(payload);
        if (request) start(request);
        else socket.destroy();
      } else if (type === 'I' && stdin) {
        stdin.chunks.push(Buffer.from(payload));
      } else if (type === 'i' && stdin) {
        stdin.resolve(Buffer.concat(stdin.chunks).toString('utf8'));
        stdin = undefined;
      } else {
        socket.destroy();
      }
    }
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    gone.abort();
    stdin?.reject(new ToolKilled());
  });
}

/** Listens on `socketPath` (a stale socket file there is replaced) and runs tool commands against `world`. */
export async function startToolServer(socketPath: string, world: WorldCall): Promise<ToolServer> {
  await fs.rm(socketPath, { force: true });
  let runs = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serve(socket, world, () => runs++);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  return {
    socketPath,
    runs: () => runs,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }).then(() => fs.rm(socketPath, { force: true }))),
  };
}
