/** Shared bits of the config tests: the repository root and throw-away folders. */
import { existsSync, mkdtempSync, rmSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

/** The repository root (the folder with package.json above the compiled test). */
export function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(`no package.json above ${__dirname}`);
    }
    dir = parent;
  }
  return dir;
}

/** A new empty folder under the OS temp dir; `cleanup()` removes it. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'k0rdent-config-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
