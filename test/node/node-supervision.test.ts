/**
 * The supervisor inside the real node (`runNode`: the simulator, the connector side, the in-process bus, forked
 * workers): beside a healthy strategies/macd.ts, a strategy whose onData never returns and one that allocates without
 * bound (a 160 MB heap). Each bad one is restarted once (the policy allows one restart), ends the same way again and
 * is marked failed with an alert; the healthy one keeps its first process and its run replays to the same signals.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, expect, it } from 'vitest';
import { parseNodeConfig } from '../../framework/node/config';
import { runNode } from '../../framework/node/node';
import { diffRun } from '../../framework/parity/diff';

const scratch = mkdtempSync(path.join(tmpdir(), 'node-supervision-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

it('restarts a looping and an allocating strategy by policy, then fails them with an alert; the healthy run is intact', { timeout: 400_000 }, async () => {
  const config = parseNodeConfig(
    {
      strategies: [
        { id: 'healthy', file: 'strategies/macd.ts', allocation: { quote: 5000 } },
        { id: 'loops', file: 'test/fixtures/strategies/loops-live.ts', allocation: { quote: 2500 } },
        { id: 'allocates', file: 'test/fixtures/strategies/allocates-live.ts', allocation: { quote: 2500 }, heapMb: 160 },
      ],
    },
    'test',
  );
  const records: { level: number; msg: string; strategy?: string; reason?: string }[] = [];
  const logger = pino({ level: 'info', base: null }, { write: (line: string) => void records.push(JSON.parse(line) as (typeof records)[number]) });
  const result = await runNode({
    config,
    datasetsRoot: 'datasets',
    storeRoot: path.join(scratch, 'store'),
    runsRoot: path.join(scratch, 'runs'),
    simulator: { start: Date.UTC(2021, 0, 10), speed: 3_000 }, // a 15m candle every 300 ms
    staleAfter: Number.POSITIVE_INFINITY, // on a loaded machine: every candle traded, the replay is the reference
    maxCandles: 60,
    supervisor: { policy: { maxRestarts: 1, windowMs: 600_000, baseDelayMs: 50, maxDelayMs: 200 }, heartbeatTimeoutMs: 10_000, onStderr: () => undefined },
    logger,
    logLevel: 'warn',
  });

  const workers = new Map(result.workers.map((w) => [w.id, w]));
  expect(workers.get('healthy')).toMatchObject({ state: 'stopped', restarts: 0 });
  const ended = (id: string): string[] => records.filter((r) => r.strategy === id && r.msg.startsWith(`${id}: worker `)).map((r) => r.msg);
  // Near its heap limit V8 collects garbage back to back before it aborts; on a loaded machine that can stop the
  // heartbeats for longer than the timeout first, and the supervisor kills the worker as blocked (seen in CI at load
  // 30). Either way it is restarted by policy and then failed; the heap limit itself is checked below.
  const ends: readonly (readonly [string, RegExp])[] = [
    ['loops', /^loops: worker missed its heartbeats \(blocked event loop\) and was killed$/],
    ['allocates', /^allocates: worker (ran out of memory at its heap limit|missed its heartbeats \(blocked event loop\) and was killed)$/],
  ];
  for (const [id, end] of ends) {
    expect(workers.get(id)).toMatchObject({ state: 'failed', restarts: 1 });
    expect(ended(id)).toEqual([expect.stringMatching(end), expect.stringMatching(end)]);
    // The alert: published on system.alert and logged as an error.
    expect(records.filter((r) => r.level === 50 && r.strategy === id)).toMatchObject([{ msg: `${id}: failed, not restarted`, reason: expect.stringContaining('restarts') }]);
  }
  expect(ended('healthy')).toEqual(['healthy: worker finished (exit code 0)']);
  // The configured heap limit, not the default 512 MB: 32 MB more per candle reach 160 MB within 5 candles per process,
  // 512 MB only after 16. The count varies with the machine's load (9 alone, 11 in a loaded full run; why a process
  // acted on more than 5 was not isolated): the bound is twice the limit's 5 a process, still under the default's 2 × 16.
  const allocated = readdirSync(path.join(scratch, 'runs', 'allocates')).map((run) => readFileSync(path.join(scratch, 'runs', 'allocates', run, 'candles.jsonl'), 'utf8'));
  expect(allocated.join('').split('\n').length - 1).toBeLessThanOrEqual(2 * 10);

  const runs = readdirSync(path.join(scratch, 'runs', 'healthy'));
  expect(runs).toHaveLength(1);
  const diff = await diffRun('strategies/macd.ts', path.join(scratch, 'runs', 'healthy', runs[0]!));
  expect(diff.span).not.toBeNull();
  expect(diff.liveSignals).toBeGreaterThan(0);
  expect(diff.unexplained).toBe(0); // npm run diff exits 0
  expect(diff.mismatches).toEqual([]);
});
