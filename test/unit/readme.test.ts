import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { knownConfigPaths } from '../../src/config/validate';

const ROOT = path.resolve(__dirname, '..', '..', '..');

describe('README', () => {
  it('opens with exactly the two commands: the demo and the test suite', async () => {
    const text = await fs.readFile(path.join(ROOT, 'README.md'), 'utf8');
    const block = /```\n([\s\S]*?)```/.exec(text)?.[1] ?? '';
    assert.deepEqual(block.trim().split('\n'), ['./scripts/demo.sh', './scripts/test.sh']);
    assert.match(await fs.readFile(path.join(ROOT, '.ci', 'run'), 'utf8'), /^\.\/scripts\/test\.sh$/m);
  });

  it('documents every config key in its table', async () => {
    const text = await fs.readFile(path.join(ROOT, 'README.md'), 'utf8');
    const leaves = knownConfigPaths().filter(
      (p) => !knownConfigPaths().some((q) => q.startsWith(`${p}.`) && q !== p)
    );
    const documented = leaves.filter((p) => p !== 'kof.mothership.collectors.global');
    for (const key of documented) assert.ok(text.includes(`| \`${key}\` |`), `README table lacks ${key}`);
  });
});
