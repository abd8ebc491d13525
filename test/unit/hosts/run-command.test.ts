import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CommandError, runCommand } from '../../../src/hosts/run-command';

const isCommandError = (kind: CommandError['kind']) => (err: unknown) =>
  err instanceof CommandError && err.kind === kind;

describe('runCommand', () => {
  it('keeps stdout, stderr and a non-zero exit code as a result', async () => {
    const result = await runCommand({ cmd: 'sh', args: ['-c', 'echo out; echo err >&2; exit 3'] });
    assert.deepEqual(result, { code: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('hands the command its stdin, environment and folder', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k0rdent-run-'));
    try {
      const result = await runCommand({
        cmd: 'sh',
        args: ['-c', 'read line; echo "$line $GREETING $(pwd)"'],
        stdin: 'hello\n',
        env: { GREETING: 'there' },
        cwd: dir,
      });
      assert.equal(result.stdout, `hello there ${await fs.realpath(dir)}\n`);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('hands each line to onOutput as it comes, the last one without its newline too', async () => {
    const lines: string[] = [];
    await runCommand({
      cmd: 'sh',
      args: ['-c', 'echo one; echo two >&2; printf three'],
      onOutput: (line, stream) => lines.push(`${stream}:${line}`),
    });
    assert.deepEqual(lines.sort(), ['stderr:two', 'stdout:one', 'stdout:three']);
  });

  it('says a missing command is not found', async () => {
    await assert.rejects(
      runCommand({ cmd: 'k0rdent-no-such-command', args: [] }),
      (err: unknown) => isCommandError('not-found')(err) && /command not found/.test((err as Error).message)
    );
  });

  it('kills a command when its signal aborts, and keeps what it printed', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const run = runCommand({
      cmd: 'sh',
      args: ['-c', 'echo started; exec sleep 30'],
      signal: controller.signal,
      onOutput: () => controller.abort(),
    });
    await assert.rejects(
      run,
      (err: unknown) =>
        isCommandError('cancelled')(err) && (err as CommandError).partial?.stdout === 'started\n'
    );
    assert.ok(Date.now() - started < 10_000, 'the sleep was killed, not waited for');
  });

  it('kills a command that outlasts its timeout, with SIGKILL when it ignores SIGTERM', async () => {
    await assert.rejects(
      runCommand({
        cmd: 'sh',
        args: ['-c', "trap '' TERM; while :; do sleep 0.1; done"],
        timeoutMs: 200,
        killGraceMs: 200,
      }),
      (err: unknown) =>
        isCommandError('timeout')(err) && /timed out after 200 ms/.test((err as Error).message)
    );
  });

  it('refuses at once when the signal has already aborted', async () => {
    await assert.rejects(
      runCommand({ cmd: 'sh', args: ['-c', 'exit 0'], signal: AbortSignal.abort() }),
      isCommandError('cancelled')
    );
  });

  it('runs many commands at once, each with its own output', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => runCommand({ cmd: 'sh', args: ['-c', `echo ${i}`] }))
    );
    assert.deepEqual(
      results.map((r) => r.stdout),
      Array.from({ length: 20 }, (_, i) => `${i}\n`)
    );
  });
});
