/**
 * Weekly, 3-day and monthly candles as the exchanges define them, on real data: daily candles rolled up from the
 * shipped BTC/USDT 1h candles, then 3d, 1w and 1M buckets; their open times checked against Binance's facts
 * (computed here with `Date`, not with the framework's grid), then validated, stored, resampled as a dataset, replayed
 * by a strategy, and played by the simulator to a live feed through real ccxt.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batchLength, sliceBatch, type CandleBatch, type StoredCandle } from '../../framework/core/candle';
import type { Subscription } from '../../framework/core/subscription';
import { bucketOpenTime, isAligned, nextOpenTime, timeframeGrid } from '../../framework/core/timeframe';
import { resampleDataset } from '../../framework/data/resample-dataset';
import { runBacktest } from '../../framework/engine/backtest';
import { createExchange } from '../../framework/feeds/live/exchange';
import { LiveFeed } from '../../framework/feeds/live/live-feed';
import { ClosedCandleDetector } from '../../framework/pipeline/closed-candles';
import { findGaps } from '../../framework/pipeline/gaps';
import { processCandles } from '../../framework/pipeline/pipeline';
import { resampleCandles } from '../../framework/pipeline/resample';
import { startSimulator } from '../../framework/sim/simulator';
import { readDataset, writeCandles } from '../../framework/store/partitions';
import { waitFor } from '../feeds/support';
import { loadRows, toBatch, type OhlcvRow } from '../pipeline/realData';

const DAY = 86_400_000;
/** Binance's first BTC/USDT candles (its market opened on Thursday 2017-08-17): the exchange's own open times. */
const BINANCE_FIRST_3D = Date.UTC(2017, 7, 17); // 1502928000000
const BINANCE_FIRST_1W = Date.UTC(2017, 7, 14); // 1502668800000, the Monday before
const BINANCE_FIRST_1M = Date.UTC(2017, 7, 1); // 1501545600000

const scratch = mkdtempSync(path.join(tmpdir(), 'timeframes-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The shipped 1h candles up to the last whole day (the file ends 2021-07-17 20:00), straight from the JSON. */
const hourly: OhlcvRow[] = loadRows('BTC_USDT-1h.json').filter(([t]) => t < Date.UTC(2021, 6, 17));

/**
 * The reference aggregation, written here without the framework: groups the 1h rows by `key(openTime)` and gives
 * each group's [open time, open, high, low, close, volume] in time order.
 */
function rollUp(rows: readonly OhlcvRow[], key: (t: number) => number): OhlcvRow[] {
  const groups = new Map<number, OhlcvRow[]>();
  for (const row of rows) {
    const k = key(row[0]);
    groups.set(k, [...(groups.get(k) ?? []), row]);
  }
  return [...groups].map(([k, g]) => [
    k,
    g[0]![1],
    Math.max(...g.map((r) => r[2])),
    Math.min(...g.map((r) => r[3])),
    g.at(-1)![4],
    g.reduce((sum, r) => sum + r[5], 0),
  ]);
}

const dayOf = (t: number): number => t - (t % DAY);
/** Monday 00:00 UTC of the week of `t`, from the calendar (getUTCDay: 0 = Sunday, 1 = Monday). */
const mondayOf = (t: number): number => dayOf(t) - ((new Date(t).getUTCDay() + 6) % 7) * DAY;
/** The 3-day candle of `t`: whole 3-day steps from Binance's 2017-08-17 candle. */
const threeDayOf = (t: number): number => BINANCE_FIRST_3D + Math.floor((t - BINANCE_FIRST_3D) / (3 * DAY)) * 3 * DAY;
const monthOf = (t: number): number => Date.UTC(new Date(t).getUTCFullYear(), new Date(t).getUTCMonth(), 1);

function rowsOf(batch: CandleBatch): OhlcvRow[] {
  return Array.from(batch.openTime, (t, i) => [t, batch.open[i]!, batch.high[i]!, batch.low[i]!, batch.close[i]!, batch.volume[i]!]);
}

/** Expects `actual` to be `expected` (from {@link rollUp}), volumes to 1e-6 (the resampler rounds them to 8 decimals). */
function expectCandles(actual: CandleBatch, expected: readonly OhlcvRow[]): void {
  const rows = rowsOf(actual);
  expect(rows.map((r) => r.slice(0, 5))).toEqual(expected.map((r) => r.slice(0, 5)));
  for (const [i, r] of rows.entries()) expect(r[5]).toBeCloseTo(expected[i]![5], 6);
}

// 1h → 1d keeping days that lack hours: the exchange's maintenance gaps (e.g. 2020-12-21) leave hours missing, and
// Binance's daily candle of such a day is made of the hours that traded.
const daily = resampleCandles(toBatch(hourly), '1h', '1d', { incomplete: 'keep' }).candles;
const threeDay = resampleCandles(daily, '1d', '3d').candles;
const weekly = resampleCandles(daily, '1d', '1w').candles;
const monthly = resampleCandles(daily, '1d', '1M').candles;

describe('exchange timeframes: the grid', () => {
  it("puts Binance's first BTC/USDT 3d, 1w and 1M candles where Binance does", () => {
    const listing = Date.UTC(2017, 7, 17, 4); // the market's first hour
    expect(bucketOpenTime(listing, '3d')).toBe(BINANCE_FIRST_3D);
    expect(bucketOpenTime(listing, '1w')).toBe(BINANCE_FIRST_1W);
    expect(new Date(BINANCE_FIRST_1W).getUTCDay()).toBe(1);
    expect(bucketOpenTime(listing, '1M')).toBe(BINANCE_FIRST_1M);
    // Days since the epoch ≡ 1 (mod 3): 2017-08-17 is day 17395 = 3·5798 + 1.
    expect((BINANCE_FIRST_3D / DAY) % 3).toBe(1);
    expect(isAligned(BINANCE_FIRST_3D - DAY, '3d')).toBe(false);
    expect(isAligned(Date.UTC(2017, 7, 17), '1w')).toBe(false); // a Thursday: where the epoch's weeks open
  });

  it('gives calendar months their own lengths', () => {
    expect(nextOpenTime(Date.UTC(2020, 1, 1), '1M')).toBe(Date.UTC(2020, 2, 1)); // 29 days, leap year
    expect(nextOpenTime(Date.UTC(2021, 1, 1), '1M')).toBe(Date.UTC(2021, 2, 1)); // 28 days
    expect(nextOpenTime(Date.UTC(2020, 11, 1), '1M')).toBe(Date.UTC(2021, 0, 1)); // over the year
    expect(timeframeGrid('1M').previousOpen(Date.UTC(2021, 0, 1))).toBe(Date.UTC(2020, 11, 1));
    expect(bucketOpenTime(Date.UTC(2021, 1, 28, 23, 59), '1M')).toBe(Date.UTC(2021, 1, 1));
    expect(isAligned(Date.UTC(2021, 1, 2), '1M')).toBe(false);
    expect(() => timeframeGrid('1Y')).toThrow('invalid timeframe "1Y"');
  });
});

describe('exchange timeframes: resampling real candles', () => {
  it('rolls 1h up to 1d, 3d, 1w and 1M as an independent aggregation does', () => {
    expectCandles(daily, rollUp(hourly, dayOf));
    // Whole buckets only: the first 3d bucket (2020-11-29) and the first week (Monday 2020-11-30) start before the data.
    const complete = (key: (t: number) => number, days: (k: number) => number): OhlcvRow[] =>
      rollUp(hourly, key).filter(([k]) => new Set(hourly.map(([t]) => dayOf(t)).filter((d) => key(d) === k)).size === days(k));
    expectCandles(threeDay, complete(threeDayOf, () => 3));
    expectCandles(weekly, complete(mondayOf, () => 7));
    expectCandles(monthly, complete(monthOf, (k) => (nextMonth(k) - k) / DAY));
  });

  it('opens 3d candles on days ≡ 1 mod 3, weeks on Mondays, months on the 1st', () => {
    expect(threeDay.openTime[0]).toBe(Date.UTC(2020, 11, 2)); // 2017-08-17 + 401 × 3 days
    expect(Array.from(threeDay.openTime).every((t) => (t / DAY) % 3 === 1)).toBe(true);
    expect(weekly.openTime[0]).toBe(Date.UTC(2020, 11, 7)); // 2020-12-01 was a Tuesday
    expect(Array.from(weekly.openTime).every((t) => new Date(t).getUTCDay() === 1 && t % DAY === 0)).toBe(true);
    expect(Array.from(monthly.openTime)).toEqual([0, 1, 2, 3, 4, 5, 6].map((m) => Date.UTC(2020, 11 + m, 1)));
    expect(batchLength(weekly)).toBe(31); // 2020-12-07 … 2021-07-05
  });
});

function nextMonth(t: number): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

describe('exchange timeframes: validation, store and gaps', () => {
  it('accepts real weekly, 3-day and monthly candles and rejects them off the grid', () => {
    for (const [timeframe, batch] of [['3d', threeDay], ['1w', weekly], ['1M', monthly]] as const) {
      const result = processCandles(batch, timeframe, { where: `BTC/USDT ${timeframe}` });
      expect(result.rejected).toEqual([]);
      expect(batchLength(result.candles)).toBe(batchLength(batch));
    }
    // The same weeks counted from the epoch (Thursdays), as the framework used to align them: all refused.
    const thursdays = resampleCandles(daily, '1d', '7d').candles;
    expect(new Date(thursdays.openTime[0]!).getUTCDay()).toBe(4);
    const refused = processCandles(thursdays, '1w', { where: 'BTC/USDT 1w' });
    expect(batchLength(refused.candles)).toBe(0);
    expect(refused.rejected[0]!.reason).toContain('is not aligned to the 1w timeframe (its candles open on Mondays at 00:00 UTC)');
  });

  it('stores them in monthly partitions, reads them back, and finds a missing month as a gap', () => {
    const root = path.join(scratch, 'store');
    for (const [timeframe, batch] of [['3d', threeDay], ['1w', weekly], ['1M', monthly]] as const) {
      const subscription: Subscription = { exchange: 'binance', symbol: 'BTC/USDT', timeframe };
      writeCandles(root, subscription, batch);
      expect(rowsOf(readDataset(root, subscription))).toEqual(rowsOf(batch));
      expect(findGaps(batch.openTime, timeframe)).toEqual([]);
    }
    const withoutMarch = Float64Array.from(monthly.openTime).filter((t) => t !== Date.UTC(2021, 2, 1));
    expect(findGaps(withoutMarch, '1M')).toEqual([{ start: Date.UTC(2021, 2, 1), end: Date.UTC(2021, 2, 1), missing: 1 }]);
    const weeks = Float64Array.from(weekly.openTime).filter((_, i) => i !== 3 && i !== 4);
    expect(findGaps(weeks, '1w')).toEqual([{ start: weekly.openTime[3]!, end: weekly.openTime[4]!, missing: 2 }]);
  });

  it('resamples a stored daily dataset to 1w as `npm run data -- resample` does', () => {
    const root = path.join(scratch, 'resample');
    const daySubscription: Subscription = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1d' };
    writeCandles(root, daySubscription, daily);
    const result = resampleDataset(root, daySubscription, '1w');
    expect(result.candles).toBe(batchLength(weekly));
    expect(rowsOf(readDataset(root, result.target))).toEqual(rowsOf(weekly));
    expect(() => resampleDataset(root, { ...daySubscription, timeframe: '1w' }, '1M')).toThrow(/cannot resample 1w to 1M/);
  });
});

describe('exchange timeframes: replay and metrics', () => {
  const root = path.join(scratch, 'replay');
  const strategy = path.resolve(import.meta.dirname, '../fixtures/strategies/candle-direction.ts');

  it.each([
    ['3d', threeDay, 365 / 3],
    ['1w', weekly, 365 / 7],
    ['1M', monthly, 12],
  ] as const)('replays a strategy on %s candles, annualised by its periods a year', async (timeframe, batch, perYear) => {
    writeCandles(root, { exchange: 'binance', symbol: 'BTC/USDT', timeframe }, batch);
    const run = await runBacktest({ file: strategy, params: { timeframe }, datasetsRoot: root, runsRoot: path.join(scratch, 'runs') });
    const { time, equity } = run.broker.equityCurve;
    expect(Array.from(time)).toEqual(Array.from(batch.openTime));
    expect(run.summary.metrics.trades).toBeGreaterThan(0);
    // Entries fill at the next candle's open: every trade's entry is a candle open time of the grid.
    for (const trade of run.broker.trades) expect(isAligned(trade.entryTime, timeframe)).toBe(true);
    // Sharpe as quantstats computes it: mean / sample std of the per-candle returns × √(periods per year).
    const returns = Array.from(equity.subarray(1), (e, i) => e / equity[i]! - 1);
    const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
    const std = Math.sqrt(returns.reduce((a, r) => a + (r - mean) ** 2, 0) / (returns.length - 1));
    expect(run.summary.metrics.sharpe).toBeCloseTo((mean / std) * Math.sqrt(perYear), 9);
  });
});

describe('exchange timeframes: live', () => {
  it('detects monthly candles closed by the calendar, not by a fixed length', () => {
    const detector = new ClosedCandleDetector({ timeframe: '1M', where: 'BTC/USDT 1M', lastEmittedOpenTime: Date.UTC(2021, 0, 1) });
    const candle = (i: number): { openTime: number; open: number; high: number; low: number; close: number; volume: number } => ({
      openTime: monthly.openTime[i]!,
      open: monthly.open[i]!,
      high: monthly.high[i]!,
      low: monthly.low[i]!,
      close: monthly.close[i]!,
      volume: monthly.volume[i]!,
    });
    // February 2021 has 28 days: on March 1st 00:00:06 it is closed (past the 5 s grace), a 30-day month would not be.
    const emitted = detector.confirm({
      rows: [candle(2)],
      requestedFrom: Date.UTC(2021, 1, 1),
      exchangeNow: Date.UTC(2021, 2, 1, 0, 0, 6),
      startedBefore: Number.NEGATIVE_INFINITY,
      receivedAt: Date.UTC(2021, 2, 1, 0, 0, 6),
    });
    expect(emitted.map((c) => c.openTime)).toEqual([Date.UTC(2021, 1, 1)]);
    expect(detector.nextOpenTime).toBe(Date.UTC(2021, 2, 1));
    expect(detector.missingRange(Date.UTC(2021, 3, 1, 0, 0, 6))).toEqual({ from: Date.UTC(2021, 2, 1), to: Date.UTC(2021, 2, 1) });
    expect(detector.missingRange(Date.UTC(2021, 2, 31, 23))).toBeNull();
  });

  it.each([
    ['1w', weekly],
    ['1M', monthly],
  ] as const)('plays %s candles on the simulator to a live feed over real ccxt, each once, closed', async (timeframe, batch) => {
    // A manual exchange clock (speed 0), moved to a candle's close only once the feed has emitted the one before:
    // the feed never falls behind, however slow the machine.
    const n = batchLength(batch);
    const sim = await startSimulator({ markets: [{ symbol: 'BTC/USDT', timeframe, candles: batch }], startTime: batch.openTime[2]! + DAY, speed: 0 });
    const exchange = createExchange('binance', { urls: sim });
    const emitted: StoredCandle[] = [];
    const feed = new LiveFeed({
      exchange,
      subscription: { exchange: 'binance', symbol: 'BTC/USDT', timeframe },
      lastStoredOpenTime: batch.openTime[0]!,
      onCandle: (c) => void emitted.push(c),
      clockResyncIntervalMs: 20, // the feed sees each clock move within 20 ms (rate 1: a few ms of drift)
      monitorIntervalMs: 50,
      backoff: { baseMs: 5, maxMs: 100 },
    });
    try {
      // Over REST ccxt asks for the exchange's own interval; the simulator answers on Binance's grid.
      const rows = await exchange.fetchOHLCV('BTC/USDT', timeframe, batch.openTime[0], 3);
      expect(rows.map((r) => r[0])).toEqual(Array.from(batch.openTime.subarray(0, 3)));
      await feed.start();
      await waitFor(() => emitted.length >= 1, 'the backfill');
      for (let i = 2; i < n; i++) {
        sim.advanceTo(nextMonthOrWeek(timeframe, batch.openTime[i]!));
        await waitFor(() => emitted.length >= i || feed.status().state === 'failed', `the ${timeframe} candle #${i}`);
      }
      expect(feed.status().state).not.toBe('failed');
      expect(rowsOf(candlesOf(emitted))).toEqual(rowsOf(sliceBatch(batch, 1, n)));
      // REST until the stream is subscribed (timing: one or two candles), then every candle closed on the stream.
      const firstWs = emitted.findIndex((c) => c.source === 'websocket');
      expect(firstWs).toBeGreaterThanOrEqual(1);
      expect(firstWs).toBeLessThanOrEqual(3);
      expect(emitted.slice(firstWs).every((c) => c.source === 'websocket')).toBe(true);
    } finally {
      await feed.stop();
      await exchange.close();
      await sim.stop();
    }
  });
});

/** The close of a candle, from the calendar: a week later, or the 1st of the next month. */
function nextMonthOrWeek(timeframe: '1w' | '1M', openTime: number): number {
  return timeframe === '1w' ? openTime + 7 * DAY : nextMonth(openTime);
}

function candlesOf(candles: readonly StoredCandle[]): CandleBatch {
  const batch = toBatch(candles.map((c) => [c.openTime, c.open, c.high, c.low, c.close, c.volume]));
  return batch;
}
