import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuild } from '../../bin/build.mjs';
import { Supervisor } from '../../framework/supervisor/supervisor';

/**
 * Start-up slots, with real worker processes (test/fixtures/workers/healthy.ts, forked from the framework's build as
 * under the npm scripts: `CANDLECRAFT_BUILD` is set for this file; test/supervisor/supervisor.test.ts forks its workers
 * under tsx): with `maxStarting` workers loading at once, the next is forked only once one of them has sent its first
 * heartbeat, so that a node of many strategies on few cores does not fork them all together (each then loads slower
 * than the start-up timeout and the supervisor kills and restarts them all, over and over). The order of events is asserted, never durations.
 */
const trace: string[] = [];
const supervisors: Supervisor[] = [];
const previousBuild = process.env['CANDLECRAFT_BUILD'];
beforeAll(async () => void (process.env['CANDLECRAFT_BUILD'] = await ensureBuild()));
afterAll(async () => {
  await Promise.all(supervisors.map((s) => s.stopAll()));
  if (previousBuild === undefined) delete process.env['CANDLECRAFT_BUILD'];
  else process.env['CANDLECRAFT_BUILD'] = previousBuild;
});

function supervised(maxStarting: number): Supervisor {
  const supervisor = new Supervisor({
    maxStarting,
    heartbeatIntervalMs: 200,
    onEvent: (e) => {
      if (e.type === 'worker_started') trace.push(`fork ${e.id}`);
    },
    onMessage: (id, message) => {
      if (message.type === 'ready') trace.push(`ready ${id}`);
    },
    onStderr: () => undefined,
  });
  supervisors.push(supervisor);
  return supervisor;
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 240_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${trace.join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('supervisor start-up slots', () => {
  it('one slot: each worker is forked after the previous one said ready, in start order', async () => {
    const supervisor = supervised(1);
    for (const id of ['a', 'b', 'c']) supervisor.start({ id, module: 'test/fixtures/workers/healthy.ts', heapMb: 128 });
    // Queued workers count as running (they will be forked), with no process yet.
    expect(supervisor.status().map((w) => [w.id, w.state, w.pid === null])).toEqual([
      ['a', 'running', false],
      ['b', 'running', true],
      ['c', 'running', true],
    ]);
    await until(() => trace.length === 6, 'three workers forked and ready');
    expect(trace).toEqual(['fork a', 'ready a', 'fork b', 'ready b', 'fork c', 'ready c']);

    // A worker stopped while it waits for a slot is never forked.
    trace.length = 0;
    await supervisor.stopAll();
    const queued = supervised(1);
    queued.start({ id: 'd', module: 'test/fixtures/workers/healthy.ts', heapMb: 128 });
    queued.start({ id: 'e', module: 'test/fixtures/workers/healthy.ts', heapMb: 128 });
    await queued.stop('e');
    await until(() => trace.includes('ready d'), 'd ready');
    await new Promise((r) => setTimeout(r, 500));
    expect(trace).toEqual(['fork d', 'ready d']);
    expect(queued.status().find((w) => w.id === 'e')!.state).toBe('stopped');
  });

  it('three slots: all three are forked before any is ready', async () => {
    trace.length = 0;
    const supervisor = supervised(3);
    for (const id of ['f', 'g', 'h']) supervisor.start({ id, module: 'test/fixtures/workers/healthy.ts', heapMb: 128 });
    await until(() => trace.length === 6, 'three workers forked and ready');
    expect(trace.slice(0, 3)).toEqual(['fork f', 'fork g', 'fork h']);
  });
});
