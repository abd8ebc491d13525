/** How an emulated tool command reports itself to the world: one start, one end, and the fault it was dealt. */
import { hostname } from 'node:os';
import type { ToolFaultRule, ToolName } from '../hosts/types';
import type { ToolIO } from './client';
import { diedMidway, toolEnd, toolStart } from './client';

/**
 * Runs one tool command between `toolStart` and `toolEnd`. A `fail` fault throws out of `toolStart`
 * before anything is done (the world answered that call, so no end is reported); a `crash` fault is
 * handed to `body`, which acts on its first half and then calls `crash()`. A process that dies mid-way
 * (crashed or killed) reports no end; any other failure is reported as a failed end and rethrown.
 */
export async function recorded(
  io: ToolIO,
  tool: ToolName,
  command: string,
  target: string | undefined,
  body: (crashFault: ToolFaultRule | undefined) => Promise<number>
): Promise<number> {
  const fault = await toolStart(io, tool, command, target);
  let code: number;
  try {
    code = await body(fault);
  } catch (err) {
    if (!diedMidway(err)) await toolEnd(io, tool, command, false).catch(() => undefined);
    throw err;
  }
  await toolEnd(io, tool, command, code === 0);
  return code;
}

/** A holder name for locks and pending operations: which run of which tool. */
export function holderName(io: ToolIO, tool: string, command: string): string {
  return `${tool} ${command} (pid ${io.pid} on ${hostname()})`;
}
