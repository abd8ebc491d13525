/** Entry of the emulated tools: `node main.js <tool> args...`, run through the shims in `bin/`. */
import { az } from './az';
import type { ToolIO, ToolMain } from './client';
import { ToolError } from './client';
import { helm } from './helm';
import { k0sctl } from './k0sctl';
import { kubectl } from './kubectl';
import { wg } from './wg';
import { wgQuick } from './wg-quick';

const TOOLS: Record<string, ToolMain> = { wg, 'wg-quick': wgQuick, k0sctl, helm, kubectl, az };

async function main(): Promise<number> {
  const [tool, ...args] = process.argv.slice(2);
  const run = tool === undefined ? undefined : TOOLS[tool];
  if (!run) {
    process.stderr.write(
      `emulated tools: unknown tool ${tool ?? '(none)'}; known: ${Object.keys(TOOLS).join(', ')}\n`
    );
    return 2;
  }
  let input: Promise<string> | undefined;
  const io: ToolIO = {
    args,
    cwd: process.cwd(),
    env: process.env,
    stdin: () =>
      (input ??= new Promise<string>((resolve, reject) => {
        const chunks: Buffer[] = [];
        process.stdin.on('data', (c: Buffer) => chunks.push(c));
        process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        process.stdin.on('error', reject);
      })),
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  };
  try {
    return await run(io);
  } catch (err) {
    if (err instanceof ToolError) {
      io.stderr(err.message.endsWith('\n') ? err.message : `${err.message}\n`);
      return err.exitCode;
    }
    io.stderr(`${tool}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exitCode = 1;
  }
);
