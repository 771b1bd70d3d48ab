/**
 * The span of a live run is exactly the candles it acted on, and the diff says what it did not compare:
 * - `candles.jsonl` lists only the candles the run acted on: a 15m run whose 1h informative feed stops (the exchange
 *   has no more 1h candles) keeps storing 15m candles durably, but cannot act on them (each waits for the 1h candle that
 *   closes with it) and never journals them;
 * - a replay signal on a candle inside the span that the run did not act on (the exchange had no candle there when the
 *   run read it) is listed as not acted live, with the proven reason, and not counted as a mismatch.
 * Real ccxt, the simulator on loopback playing the shipped datasets (edited: a 1h tape cut short, a 1m candle taken out).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batchFromCandles, candlesFromBatch, sliceBatch, type CandleBatch } from '../../framework/core/candle';
import { lowerBound } from '../../framework/core/search';
import { runLive } from '../../framework/engine/live';
import { replayCandles } from '../../framework/feeds/replay';
import { diffRun } from '../../framework/parity/diff';
import { readJournal } from '../../framework/report/journal';
import { readTradingJournal } from '../../framework/report/trading-journal';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';
import { readStoredCandles } from '../../framework/store/live-store';
import { waitFor } from '../feeds/support';
import { runCli } from '../support/cli';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const scratch = mkdtempSync(path.join(tmpdir(), 'not-acted-'));
const sims: Simulator[] = [];
afterAll(async () => {
  for (const sim of sims) await sim.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** The candles of `batch` opening before `to` (UTC epoch ms). */
const before = (batch: CandleBatch, to: number): CandleBatch => sliceBatch(batch, 0, lowerBound(batch.openTime, to));

describe('candles.jsonl lists only the candles the run acted on', () => {
  it('not those stored durably while the run waited for an informative candle that never came', async () => {
    const file = 'strategies/macd-trend-filter.ts';
    const start = Date.UTC(2021, 0, 10);
    const m15 = replayCandles('datasets', { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' });
    const h1 = replayCandles('datasets', { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' });
    // The exchange's last 1h candle opens at start + 2h. A 15m candle is acted on once the 1h candle that closed with
    // it (or before) has arrived: the one closing at start + 3h45 waits for the 1h candle of start + 2h45 … 3h45, which
    // never comes. The last candle acted on is therefore the one opening at start + 3h30.
    const lastActed = start + 3 * HOUR + 30 * MINUTE;
    const sim = await startSimulator({
      markets: [
        { symbol: 'BTC/USDT', timeframe: '15m', candles: m15 },
        { symbol: 'BTC/USDT', timeframe: '1h', candles: before(h1, start + 3 * HOUR) },
      ],
      startTime: start,
      speed: 6_000,
    });
    sims.push(sim);
    const storeRoot = path.join(scratch, 'store-informative');
    const abort = new AbortController();
    const running = runLive({
      file,
      simulator: { endpoints: { restUrl: sim.restUrl, wsUrl: sim.wsUrl }, speed: 6_000 },
      storeRoot,
      runsRoot: path.join(scratch, 'runs'),
      staleAfter: Number.POSITIVE_INFINITY,
      signal: abort.signal,
    });
    const stored = (): CandleBatch => readStoredCandles(storeRoot, { exchange: 'sim', symbol: 'BTC/USDT', timeframe: '15m' });
    try {
      // Five 15m candles after the last one acted on are in the run's write-ahead log: made durable while it waited.
      await waitFor(() => stored().openTime.filter((t) => t > lastActed).length >= 5, 'five 15m candles stored past the wait', 60_000);
    } finally {
      abort.abort();
    }
    const live = await running;
    const journal = readJournal(live.dir);
    const times = journal.candles.map((c) => c.openTime);
    expect(times.at(-1)).toBe(lastActed);
    expect(stored().openTime.filter((t) => t > lastActed).length).toBeGreaterThanOrEqual(5);
    // Exactly the candles acted on: those the broker checkpointed (one each, plus the close at the stop) and the run's own list.
    const checkpoints = readTradingJournal(live.dir).checkpoints.map((c) => c.time);
    expect([...times, lastActed]).toEqual(checkpoints);
    expect(times).toEqual(live.liveCandles.map((c) => c.openTime));
    const report = await diffRun(file, live.dir);
    expect(report.span!.last).toBe(lastActed);
    expect(report.unexplained).toBe(0);
  }, 120_000);
});

describe('replay signals on candles the live run did not act on', () => {
  it('are listed as not acted live with the proven reason, not counted as mismatches', async () => {
    const file = 'test/fixtures/strategies/every-candle-1m.ts';
    const start = Date.UTC(2021, 3, 21, 2, 0);
    const m1 = replayCandles('datasets', { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' });
    // The exchange has no candle at start + 20 min (the shipped datasets, which the replay reads, do).
    const hole = start + 20 * MINUTE;
    const tape = batchFromCandles(candlesFromBatch(before(m1, start + 2 * HOUR)).filter((c) => c.openTime !== hole));
    const sim = await startSimulator({ markets: [{ symbol: 'BTC/USDT', timeframe: '1m', candles: tape }], startTime: start, speed: 600 });
    sims.push(sim);
    const live = await runLive({
      file,
      simulator: { endpoints: { restUrl: sim.restUrl, wsUrl: sim.wsUrl }, speed: 600 },
      storeRoot: path.join(scratch, 'store-hole'),
      runsRoot: path.join(scratch, 'runs'),
      staleAfter: Number.POSITIVE_INFINITY,
      maxCandles: 30,
    });
    const acted = readJournal(live.dir).candles.map((c) => c.openTime);
    expect(acted[0]).toBeLessThan(hole);
    expect(acted.at(-1)).toBeGreaterThan(hole);
    expect(acted).not.toContain(hole);
    const report = await diffRun(file, live.dir);
    // every-candle-1m decides by the open time alone: at an even minute, enter long.
    expect(report.notActed).toEqual([
      {
        openTime: hole,
        replay: { action: 'enter_long', tag: 'even_minute' },
        reason: expect.stringMatching(/^never delivered to the run: not in its live store when it acted on the candle of 2021-04-21T02:21:00\.000Z/),
      },
    ]);
    expect(report.mismatches).toEqual([]);
    expect(report.matched).toBe(report.liveSignals);
    expect(report.unexplained).toBe(0);
    const { code, stdout } = await runCli('framework/cli/diff.ts', [file, '--run', live.dir]);
    expect(code).toBe(0);
    expect(stdout).toContain('replay signals on candles the run did not act on: 1 (not compared; 0 without a proven reason)');
    expect(stdout).toContain('2021-04-21T02:20:00.000Z  replay: enter_long (even_minute)  not acted live: never delivered to the run');
  }, 120_000);
});
