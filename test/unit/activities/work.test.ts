import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { beat, keepingAlive } from '../../../src/activities/work';

describe('activity heartbeats', () => {
  it('keeps heartbeating the last cursor while a silent wait runs, and stops after it', async () => {
    const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const value = await env.run(async () => {
      beat({ done: ['resource_group'] });
      return keepingAlive(new Promise((resolve) => setTimeout(() => resolve('key'), 300)), 50);
    });
    assert.equal(value, 'key');
    const during = beats.length;
    assert.ok(during >= 4, `only ${during} heartbeats in a 300 ms wait at 50 ms`);
    for (const b of beats) assert.deepEqual(b, { done: ['resource_group'] });
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(beats.length, during, 'heartbeats went on after the wait');
  });
});
