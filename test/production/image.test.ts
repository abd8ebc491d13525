import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { NO_LOCAL_WORLD } from '../../src/local-world';
import { ROOT, startServer, stopServer } from '../integration/harness';

const run = promisify(execFile);

/** One stage of the Dockerfile as this test builds it: a folder standing for the image's file system. */
interface Stage {
  root: string;
  workdir: string;
  env: Record<string, string>;
  cmd?: string[];
}

/** The Dockerfile's instructions, continuation lines joined and comments dropped. */
async function instructions(): Promise<string[]> {
  const text = await fs.readFile(path.join(ROOT, 'Dockerfile'), 'utf8');
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/**
 * Builds the Dockerfile with no Docker engine: each stage is a folder, COPY copies from the repository
 * (or from an earlier stage), RUN runs in the stage's working folder with this machine's Node.js (the
 * same release the base image pins). Returns the last stage.
 */
async function buildImage(into: string): Promise<Stage> {
  const stages = new Map<string, Stage>();
  let stage: Stage | undefined;
  for (const line of await instructions()) {
    const [op, ...words] = line.split(/\s+/);
    const rest = line.slice((op ?? '').length).trim();
    if (op === 'FROM') {
      const name = words[2] ?? `stage${stages.size}`;
      stage = { root: path.join(into, name), workdir: '/', env: {} };
      await fs.mkdir(stage.root, { recursive: true });
      stages.set(name, stage);
      continue;
    }
    assert.ok(stage, `${line}: before any FROM`);
    const current = stage;
    const inStage = (p: string) =>
      path.join(current.root, path.isAbsolute(p) ? p : path.join(current.workdir, p));
    if (op === 'WORKDIR') {
      stage.workdir = rest;
      await fs.mkdir(inStage('.'), { recursive: true });
    } else if (op === 'ENV') {
      const [key, value] = rest.split('=');
      stage.env[key ?? ''] = value ?? '';
    } else if (op === 'COPY') {
      const from = words[0]?.startsWith('--from=') ? stages.get(words[0].slice('--from='.length)) : undefined;
      const args = from ? words.slice(1) : words;
      const dest = inStage(args[args.length - 1] ?? '.');
      for (const src of args.slice(0, -1)) {
        const source = from ? path.join(from.root, src) : path.join(ROOT, src);
        const target = dest.endsWith('/') || args.length > 2 ? path.join(dest, path.basename(src)) : dest;
        await fs.mkdir(path.dirname(target), { recursive: true });
        await fs.cp(source, target, { recursive: true, verbatimSymlinks: true });
      }
    } else if (op === 'RUN') {
      await run('sh', ['-c', rest], {
        cwd: inStage('.'),
        env: { ...process.env, ...stage.env },
        maxBuffer: 64 * 1024 * 1024,
      });
    } else if (op === 'CMD') {
      stage.cmd = JSON.parse(rest) as string[];
    } else if (op !== 'USER') {
      assert.fail(`this test does not know the Dockerfile instruction ${op}`);
    }
  }
  assert.ok(stage, 'the Dockerfile has a stage');
  return stage;
}

/** Every file under `dir`, relative to it. */
async function files(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

describe('the worker image', function () {
  this.timeout(900_000);
  let dir: string;
  let image: Stage;
  let app: string;

  before(async function () {
    this.timeout(900_000);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-image-'));
    image = await buildImage(dir);
    app = path.join(image.root, image.workdir);
  });

  after(async () => {
    await stopServer();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('holds the product and no emulator code', async () => {
    const built = await files(path.join(app, 'dist'));
    assert.ok(built.includes(path.join('src', 'cli', 'main.js')), 'the CLI is built');
    assert.ok(built.includes('workflow-bundle.js'), 'the workflow bundle is built');
    assert.deepEqual(
      built.filter((f) => !f.startsWith(`src${path.sep}`) && f !== 'workflow-bundle.js'),
      [],
      'nothing but the product under dist/'
    );
    for (const f of built.filter((name) => name.endsWith('.js'))) {
      const text = await fs.readFile(path.join(app, 'dist', f), 'utf8');
      assert.doesNotMatch(text, /require\([^)]*emulator/, `${f} requires nothing of the emulator`);
    }
  });

  it('refuses --cloud emulator in one line, saying the emulator is not installed', async () => {
    const folder = path.join(dir, 'deployment');
    const out = await run(
      process.execPath,
      [
        path.join(app, 'bin', 'k0rdent-deploy'),
        'deploy',
        '--cloud',
        'emulator',
        '--config',
        path.join(app, 'config', 'k0rdent-default.yaml'),
        '--dir',
        folder,
      ],
      { cwd: app, env: { ...process.env, ...image.env } }
    ).then(
      () => assert.fail('deploy --cloud emulator succeeded without the emulator'),
      (err: { code?: number; stderr?: string }) => err
    );
    assert.equal(out.code, 2);
    assert.equal(out.stderr?.trim(), `--cloud emulator: ${NO_LOCAL_WORLD}`);
    await assert.rejects(fs.access(folder), 'nothing was made for the deployment');
  });

  it('runs its command, a worker, against a Temporal server', async () => {
    const s = await startServer();
    const [cmd, ...args] = image.cmd ?? [];
    assert.equal(cmd, 'node');
    const worker = spawn(process.execPath, args, {
      cwd: app,
      env: { ...process.env, ...image.env, TEMPORAL_ADDRESS: s.address, K0RDENT_TASK_QUEUE: 'image-test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    worker.stdout.on('data', (b: Buffer) => (output += b.toString()));
    worker.stderr.on('data', (b: Buffer) => (output += b.toString()));
    try {
      const deadline = Date.now() + 60_000;
      while (!output.includes('worker polling task queue image-test')) {
        assert.ok(worker.exitCode === null, `the worker exited: ${output}`);
        assert.ok(Date.now() < deadline, `the worker did not start: ${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      worker.kill('SIGTERM');
    }
  });
});
