/** Runs one emulated tool command by name: `wg`, `wg-quick`, `k0sctl`, `helm`, `kubectl` or `az`. */
import { az } from './az';
import type { ToolIO, ToolMain } from './client';
import { ToolCrashed, ToolError, ToolKilled } from './client';
import { helm } from './helm';
import { k0sctl } from './k0sctl';
import { kubectl } from './kubectl';
import { wg } from './wg';
import { wgQuick } from './wg-quick';

/** The emulated tools by the name their process is started under. */
export const TOOLS: Record<string, ToolMain> = { wg, 'wg-quick': wgQuick, k0sctl, helm, kubectl, az };

/** Exit code of a process killed by SIGKILL, as a shell reports it. */
const KILLED_EXIT = 137;

/**
 * Runs `tool` with `io` and answers its exit code, printing what the real tool would print on the way
 * out; undefined when the tool's process was killed from outside and there is no one left to answer.
 */
export async function runTool(tool: string, io: ToolIO): Promise<number | undefined> {
  const run = Object.hasOwn(TOOLS, tool) ? TOOLS[tool] : undefined;
  if (!run) {
    io.stderr(`emulated tools: unknown tool ${tool}; known: ${Object.keys(TOOLS).join(', ')}\n`);
    return 2;
  }
  try {
    return await run(io);
  } catch (err) {
    if (err instanceof ToolKilled) return undefined;
    if (err instanceof ToolCrashed) {
      io.stderr(`${err.message}\n`);
      return KILLED_EXIT;
    }
    if (err instanceof ToolError) {
      io.stderr(err.message.endsWith('\n') ? err.message : `${err.message}\n`);
      return err.exitCode;
    }
    io.stderr(`${tool}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}
