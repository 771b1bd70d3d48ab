import { afterAll, describe, expect, it } from 'vitest';
import { Supervisor, type SupervisorEvent } from '../../framework/supervisor/supervisor';

/**
 * The supervisor with real worker processes (forked under tsx): one healthy worker beside four that fail — an
 * uncaught exception, an endless loop, unbounded allocation, a plugin that cannot load. Assertions are on the events
 * and states, never on durations.
 */
const events: SupervisorEvent[] = [];
const stderr = new Map<string, string>();
const supervisor = new Supervisor({
  policy: { maxRestarts: 2, windowMs: 600_000, baseDelayMs: 50, maxDelayMs: 200 },
  heartbeatIntervalMs: 200,
  // Generous: a loaded machine must never make the healthy worker look stuck; the looping one never beats again.
  heartbeatTimeoutMs: 5_000,
  onEvent: (e) => events.push(e),
  onStderr: (id, text) => stderr.set(id, (stderr.get(id) ?? '') + text),
});
afterAll(() => supervisor.stopAll());

const of = (id: string): SupervisorEvent[] => events.filter((e) => e.id === id);
const ends = (id: string): string[] => of(id).flatMap((e) => (e.type === 'worker_ended' ? [e.end.kind] : []));

async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 240_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(events)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the supervisor with real worker processes', () => {
  it('restarts failing workers by policy, then marks them failed with an alert, while the healthy one runs on', async () => {
    for (const id of ['healthy', 'throws', 'loops', 'allocates', 'bad-plugin']) {
      supervisor.start({ id, module: `test/fixtures/workers/${id}.ts`, heapMb: id === 'allocates' ? 48 : 256 });
    }
    const failing = ['throws', 'loops', 'allocates', 'bad-plugin'];
    await until(() => failing.every((id) => of(id).some((e) => e.type === 'worker_failed')), 'every failing worker to be marked failed');

    // Each failing kind was recognised, restarted twice (maxRestarts 2) and then given up, with an alert.
    expect(ends('throws')).toEqual(['exited', 'exited', 'exited']);
    expect(ends('loops')).toEqual(['unresponsive', 'unresponsive', 'unresponsive']);
    expect(ends('allocates')).toEqual(['out_of_memory', 'out_of_memory', 'out_of_memory']);
    for (const id of ['throws', 'loops', 'allocates']) {
      expect(of(id).map((e) => e.type)).toEqual([
        'worker_started', 'worker_ended', 'worker_restarting',
        'worker_started', 'worker_ended', 'worker_restarting',
        'worker_started', 'worker_ended', 'worker_failed',
      ]);
    }
    expect(stderr.get('throws')).toContain('onData threw: boom');
    // A plugin that cannot load is not retried.
    expect(of('bad-plugin').map((e) => e.type)).toEqual(['worker_started', 'worker_ended', 'worker_failed']);
    expect(of('bad-plugin').find((e) => e.type === 'worker_failed')).toMatchObject({
      reason: expect.stringContaining('the plugin failed to load (not retried): test/fixtures/workers/no-such-strategy.ts'),
    });

    // The healthy worker was started once and is still running, on its first process.
    expect(of('healthy').map((e) => e.type)).toEqual(['worker_started']);
    const healthy = supervisor.status().find((s) => s.id === 'healthy')!;
    expect(healthy).toMatchObject({ state: 'running', restarts: 0 });
    expect(healthy.pid).toBe((of('healthy')[0] as { pid: number }).pid);
    expect(supervisor.status().filter((s) => s.state === 'failed').map((s) => s.id).sort()).toEqual(failing.sort());

    // A stop request: it finishes and exits 0, and is not restarted.
    await supervisor.stop('healthy');
    expect(ends('healthy')).toEqual(['stopped']);
    expect(supervisor.status().find((s) => s.id === 'healthy')!.state).toBe('stopped');
  }, 300_000);
});
