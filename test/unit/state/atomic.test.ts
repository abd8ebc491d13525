import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readTextIfExists, tempFilePattern, writeFileAtomic } from '../../../src/state/atomic';
import { tempDir } from './fixtures';

const ATOMIC_MODULE = path.resolve(__dirname, '../../../src/state/atomic.js');

/** Names of the temp files writeFileAtomic left next to `target`. */
async function strayTemps(target: string): Promise<string[]> {
  const pattern = tempFilePattern(path.basename(target));
  return (await fs.readdir(path.dirname(target))).filter((n) => pattern.test(n));
}

/** Resolves once `ms` have passed. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('writeFileAtomic', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(async () => cleanup());

  it('writes a new file, creating its parent folders, and says it wrote', async () => {
    const target = path.join(dir, 'a', 'b', 'state.yaml');
    assert.equal(await writeFileAtomic(target, 'x: 1\n'), true);
    assert.equal(await fs.readFile(target, 'utf8'), 'x: 1\n');
    assert.deepEqual(await strayTemps(target), []);
  });

  it('leaves a file with the same content alone, mtime included', async () => {
    const target = path.join(dir, 'state.yaml');
    await writeFileAtomic(target, 'x: 1\n', { mode: 0o644 });
    const before = await fs.stat(target);
    await sleep(20);
    assert.equal(await writeFileAtomic(target, 'x: 1\n', { mode: 0o644 }), false);
    const after = await fs.stat(target);
    assert.equal(after.mtimeMs, before.mtimeMs);
    assert.equal(after.ino, before.ino);
  });

  it('replaces a file whose content differs', async () => {
    const target = path.join(dir, 'state.yaml');
    await writeFileAtomic(target, 'x: 1\n');
    assert.equal(await writeFileAtomic(target, 'x: 2\n'), true);
    assert.equal(await fs.readFile(target, 'utf8'), 'x: 2\n');
  });

  it('applies the requested mode whatever the umask', async () => {
    const target = path.join(dir, 'state.yaml');
    const old = process.umask(0o077);
    try {
      await writeFileAtomic(target, 'x: 1\n', { mode: 0o644 });
    } finally {
      process.umask(old);
    }
    assert.equal((await fs.stat(target)).mode & 0o777, 0o644);
  });

  it('fixes the mode of a file that already has the content', async () => {
    const target = path.join(dir, 'state.yaml');
    await writeFileAtomic(target, 'secret\n', { mode: 0o644 });
    assert.equal(await writeFileAtomic(target, 'secret\n', { mode: 0o600 }), true);
    assert.equal((await fs.stat(target)).mode & 0o777, 0o600);
  });

  it('keeps the mode of the file it replaces when no mode is given', async () => {
    const target = path.join(dir, 'state.yaml');
    await writeFileAtomic(target, 'a\n', { mode: 0o600 });
    await writeFileAtomic(target, 'b\n');
    assert.equal((await fs.stat(target)).mode & 0o777, 0o600);
  });

  it('removes its temp file and keeps the old content when the write fails before the rename', async () => {
    const target = path.join(dir, 'state.yaml');
    await writeFileAtomic(target, 'old\n');
    await assert.rejects(
      writeFileAtomic(target, 'new\n', {
        beforeRename: () => {
          throw new Error('disk on fire');
        },
      }),
      /disk on fire/
    );
    assert.equal(await fs.readFile(target, 'utf8'), 'old\n');
    assert.deepEqual(await strayTemps(target), []);
  });

  it('leaves the old file intact when the writing process is killed between write and rename', async () => {
    const target = path.join(dir, 'deployment-state.yaml');
    const oldContent = Buffer.from('deployment_id: "k0rdent-q7m2xk4p"\nstatus: "in_progress"\n');
    const newContent = 'deployment_id: "k0rdent-q7m2xk4p"\nstatus: "completed"\n';
    await fs.writeFile(target, oldContent);
    const script = `
      const { writeFileAtomic } = require(${JSON.stringify(ATOMIC_MODULE)});
      writeFileAtomic(process.argv[1], process.argv[2], {
        beforeRename: (temp) => {
          process.stdout.write('ready ' + temp + '\\n');
          setInterval(() => {}, 1000);
          return new Promise(() => {});
        },
      });
    `;
    const child = spawn(process.execPath, ['-e', script, target, newContent], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal))
    );
    try {
      const tempPath = await new Promise<string>((resolve, reject) => {
        let out = '';
        let err = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const line = /^ready (.+)\n/.exec(out);
          if (line?.[1]) resolve(line[1]);
        });
        child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
        child.on('exit', () => reject(new Error(`writer exited before the rename hook: ${err}`)));
      });
      assert.equal(
        await fs.readFile(tempPath, 'utf8'),
        newContent,
        'the new content was written to the temp file'
      );

      child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL');

      assert.ok((await fs.readFile(target)).equals(oldContent), 'target still holds the old bytes');
      assert.deepEqual(await strayTemps(target), [path.basename(tempPath)]);
      assert.equal(await writeFileAtomic(target, newContent), true);
      assert.equal(await fs.readFile(target, 'utf8'), newContent);
      await fs.rm(tempPath);
      assert.deepEqual(await strayTemps(target), []);
    } finally {
      // A failed assertion must not leave the blocked writer running (it would keep mocha alive).
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});

describe('readTextIfExists', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(async () => cleanup());

  it('returns the text of a file and undefined for a missing one', async () => {
    await fs.writeFile(path.join(dir, 'a'), 'hello');
    assert.equal(await readTextIfExists(path.join(dir, 'a')), 'hello');
    assert.equal(await readTextIfExists(path.join(dir, 'missing')), undefined);
  });

  it('fails on a path it cannot read as a file', async () => {
    await assert.rejects(readTextIfExists(dir), { code: 'EISDIR' });
  });
});
