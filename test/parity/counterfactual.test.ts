/**
 * `npm run diff`'s explanations are proven by counterfactual replays: live runs of 1m strategies against the simulator
 * with faults, then the diff library call and the CLI.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLive, type LiveResult } from '../../framework/node/live';
import { replayCandles } from '../../framework/feeds/replay';
import { diffRun, type DiffReport } from '../../framework/parity/diff';
import type { FaultConfig } from '../../framework/sim/config';
import { readJournal } from '../../framework/report/journal';
import { LiveCandleStore } from '../../framework/store/live-store';
import { runCli } from '../support/cli';

/** A test that runs `npm run diff` as a child process: it replays the run from the origin, minutes on a loaded machine. */
const CLI_TIMEOUT_MS = 180_000;

const M1 = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' } as const;
const MINUTE = 60_000;
/** About a day of 1m history before the live run (the shipped 1m candles start on 2021-04-20 20:42). */
const START = Date.UTC(2021, 3, 22);
const scratch = mkdtempSync(path.join(tmpdir(), 'counterfactual-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function liveRun(file: string, name: string, faults: FaultConfig, maxCandles: number): Promise<LiveResult> {
  return runLive({
    file,
    // A 1m candle every 100 ms: slow enough for a loaded machine to keep up after its start.
    simulator: { start: START, speed: 600, faults },
    storeRoot: path.join(scratch, `store-${name}`),
    runsRoot: path.join(scratch, 'runs'),
    maxCandles,
  });
}

describe('a strategy that keeps a counter in its own fields, live with revision faults', () => {
  let live: LiveResult;
  let report: DiffReport;
  beforeAll(async () => {
    live = await liveRun('test/fixtures/strategies/counter-state.ts', 'counter', { revision: { rate: 0.1 } }, 60);
    // Whether the run re-read a revised candle before it stopped depends on the machine's speed: also store, as the
    // exchange's later versions, a volume revision of every 6th candle it acted on (volume, which it never reads).
    const store = LiveCandleStore.open(path.join(scratch, 'store-counter'), { ...M1, exchange: 'sim' });
    for (const [i, c] of readJournal(live.dir).candles.entries()) {
      if (i % 6 !== 5) continue;
      const { arrivedAt, ...candle } = c;
      await store.append({ ...candle, volume: candle.volume * 1.25, source: 'rest', receivedAt: arrivedAt! + 5 * MINUTE });
    }
    await store.close();
    report = await diffRun('test/fixtures/strategies/counter-state.ts', live.dir);
  }, 400_000);

  it('has its mismatches unexplained: no revision, missing candle or lookahead reproduces them', () => {
    // The replay counts from the origin, the live run from its first candle: they differ on about 22 candles in 49.
    expect(report.mismatches.length).toBeGreaterThan(5);
    expect(report.revisions.length).toBeGreaterThan(0);
    expect(report.unexplained).toBe(report.mismatches.length);
  });

  it('names the state kept in the strategy object as the likely cause, with the field', () => {
    for (const m of report.mismatches) {
      expect(m.hint).toMatch(/^state kept in the strategy object: .* \(fields that differ: count\)/);
    }
  });

  it('npm run diff exits 1 and prints the hint', async () => {
    const { code, stdout } = await runCli('framework/cli/diff.ts', ['test/fixtures/strategies/counter-state.ts', '--run', live.dir]);
    expect(code).toBe(1);
    expect(stdout).toContain(`${report.mismatches.length} mismatched (${report.mismatches.length} unexplained)`);
    expect(stdout).toContain('likely cause: state kept in the strategy object');
  }, CLI_TIMEOUT_MS);
});

describe('a clean strategy live under every fault, with planted revisions that change signals', () => {
  const candles = replayCandles('datasets', M1);
  let live: LiveResult;
  let report: DiffReport;
  const planted: { openTime: number; close: number }[] = [];
  beforeAll(async () => {
    // Every candle of the first two days with a body of more than 0.3% gets a revision whose close is its open: the run
    // acts on the WebSocket version (a signal), the store ends up with the revised one (no signal), for those of them
    // the run acts on and re-reads before it stops.
    for (let i = 0; i < candles.openTime.length && candles.openTime[i]! < START + 2 * 1_440 * MINUTE; i++) {
      if (candles.openTime[i]! >= START && Math.abs(candles.close[i]! / candles.open[i]! - 1) > 0.003) {
        planted.push({ openTime: candles.openTime[i]!, close: candles.open[i]! });
      }
    }
    live = await liveRun(
      'test/fixtures/strategies/candle-body-1m.ts',
      'clean',
      {
        drop: { rate: 0.002 },
        duplicate: { rate: 0.01 },
        outOfOrder: { rate: 0.01 },
        malformed: { rate: 0.005 },
        rest429: { rate: 0.02 },
        rest500: { rate: 0.02 },
        revision: { rate: 0.05, closes: planted },
      },
      150,
    );
    // Whether the run read a planted candle from the stream and re-read its revision before it stopped depends on the
    // machine's speed: the exchange's revision of the first three planted candles it acted on unrevised (a signal) is
    // also stored after the run, as a later run's re-read would store it.
    const plantedAt = new Map(planted.map((p) => [p.openTime, p.close]));
    const store = LiveCandleStore.open(path.join(scratch, 'store-clean'), { ...M1, exchange: 'sim' });
    const unrevised = readJournal(live.dir).candles.filter((c) => plantedAt.has(c.openTime) && c.close !== plantedAt.get(c.openTime));
    for (const { arrivedAt, ...candle } of unrevised.slice(0, 3)) {
      await store.append({ ...candle, close: plantedAt.get(candle.openTime)!, source: 'rest', receivedAt: arrivedAt! + 5 * MINUTE });
    }
    await store.close();
    report = await diffRun('test/fixtures/strategies/candle-body-1m.ts', live.dir);
  }, 400_000);

  it('exits 0: every mismatch explained by a counterfactual that reproduces the live signal', async () => {
    expect(report.unexplained).toBe(0);
    const { code, stdout } = await runCli('framework/cli/diff.ts', ['test/fixtures/strategies/candle-body-1m.ts', '--run', live.dir]);
    expect(code).toBe(0);
    expect(stdout).toContain('(0 unexplained)');
  }, CLI_TIMEOUT_MS);

  it('explains the planted revisions as revisions, and the version the run saw gives its signal by the rule itself', () => {
    const revised = report.mismatches.filter((m) => m.cause.kind === 'revision');
    expect(revised.length).toBeGreaterThan(0);
    const plantedAt = new Map(planted.map((p) => [p.openTime, p.close]));
    for (const m of revised) {
      if (m.cause.kind !== 'revision') continue;
      expect(m.cause.candle.openTime).toBe(m.openTime);
      expect(m.cause.candle.after.close).toBe(plantedAt.get(m.openTime));
    }
    for (const m of report.mismatches) {
      expect(m.hint).toBeUndefined();
      if (m.cause.kind !== 'revision') continue;
      // candle-body-1m signals on a body over ±0.2%: worked out here from the candle the run saw.
      const { before } = m.cause.candle;
      const body = before.close / before.open - 1;
      const expected = body > 0.002 ? 'enter_long' : body < -0.002 ? 'exit_long' : null;
      expect(m.live?.action ?? null).toBe(expected);
    }
  });
});
