/** Crash-safe file writes: a reader sees the old file or the new one, never a torn one. */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';

/** Options of writeFileAtomic. */
export interface AtomicWriteOptions {
  /** Permission bits of the file (e.g. 0o600); default: those of the file it replaces, else 0o666 minus umask. */
  mode?: number;
  /** Test hook: runs after the temp file is complete and synced, just before the rename. */
  beforeRename?: (tempPath: string) => void | Promise<void>;
}

/** The file's text, or undefined when it does not exist. */
export async function readTextIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** True for an ENOENT error. */
export function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

/** Name of a temp file next to `file`; `tempFilePattern` recognises it. */
function tempNameFor(file: string): string {
  return path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  );
}

/** Matches the names of temp files writeFileAtomic leaves behind when killed before its rename. */
export function tempFilePattern(targetBaseName: string): RegExp {
  const escaped = targetBaseName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^\\.${escaped}\\.\\d+\\.[0-9a-f]{8}\\.tmp$`);
}

/**
 * Writes `content` to `file` through a synced temp file renamed over it, creating the parent directory.
 * Does nothing when the file already holds exactly this content (its mtime stays), except fixing the mode
 * when one is asked for. Returns true when the file changed.
 */
export async function writeFileAtomic(
  file: string,
  content: string | Uint8Array,
  options: AtomicWriteOptions = {}
): Promise<boolean> {
  const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
  const current = await statIfExists(file);
  if (current?.isFile()) {
    const existing = await fs.readFile(file);
    if (existing.equals(data)) {
      if (options.mode === undefined || (current.mode & 0o777) === options.mode) return false;
      await fs.chmod(file, options.mode);
      return true;
    }
  }
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  const mode = options.mode ?? (current ? current.mode & 0o777 : undefined);
  const temp = tempNameFor(file);
  try {
    const handle = await fs.open(temp, 'wx', mode ?? 0o666);
    try {
      await handle.writeFile(data);
      // The umask may have narrowed the bits given to open.
      if (mode !== undefined) await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await options.beforeRename?.(temp);
    await fs.rename(temp, file);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
  await syncDirectory(dir);
  return true;
}

/** Stat of `file`, or undefined when it does not exist. */
async function statIfExists(file: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(file);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Makes the rename durable; some file systems refuse to sync a directory, which is harmless here. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Best effort: the data itself was synced before the rename.
  } finally {
    await handle?.close();
  }
}
