/**
 * Helpers of the data tests: the real candles as plain rows (read from ../shared/data, not through the store), and a
 * logger whose records the test can read.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Candle, CandleBatch } from '../../framework/core/candle';
import type { Logger } from '../../framework/core/logger';
import { loadJsonCandles } from '../support/shared-data';

/** Binance BTC/USDT 5m, 2020-12-01 → 2021-07-17, as shipped in ../shared/data. */
export const BTC_5M: readonly Candle[] = loadJsonCandles('BTC_USDT-5m.json');

/** The candles with an open time in `[from, to)`. */
export function slice(candles: readonly Candle[], from: number, to: number): Candle[] {
  return candles.filter((c) => c.openTime >= from && c.openTime < to);
}

/**
 * The 15m candles of {@link BTC_5M} worked out here, independently of the resampler: the 5m candles grouped by
 * 15-minute bucket; a full bucket (3 candles) makes a candle (volume summed, not rounded), the open times of the
 * others are `dropped`.
 */
export function btc15mFrom5m(): { readonly expected: Candle[]; readonly dropped: number[] } {
  const bucketMs = 15 * 60_000;
  const buckets = new Map<number, Candle[]>();
  for (const c of BTC_5M) {
    const bucket = c.openTime - (c.openTime % bucketMs);
    buckets.set(bucket, [...(buckets.get(bucket) ?? []), c]);
  }
  const expected: Candle[] = [];
  const dropped: number[] = [];
  for (const [openTime, parts] of buckets) {
    if (parts.length < 3) {
      dropped.push(openTime);
      continue;
    }
    expected.push({
      openTime,
      open: parts[0]!.open,
      high: Math.max(...parts.map((p) => p.high)),
      low: Math.min(...parts.map((p) => p.low)),
      close: parts[2]!.close,
      volume: parts.reduce((s, p) => s + p.volume, 0),
    });
  }
  return { expected, dropped };
}

/** A batch's OHLCV rows as plain candles, to compare with `toEqual`. */
export function rowsOf(batch: CandleBatch): Candle[] {
  return Array.from(batch.openTime, (openTime, i) => ({
    openTime,
    open: batch.open[i]!,
    high: batch.high[i]!,
    low: batch.low[i]!,
    close: batch.close[i]!,
    volume: batch.volume[i]!,
  }));
}

/** Missing-candle runs of sorted open times, counted the plain way: `[first missing, last missing, count]`. */
export function plainGaps(openTimes: readonly number[], tfMs: number): [number, number, number][] {
  const gaps: [number, number, number][] = [];
  for (let i = 1; i < openTimes.length; i++) {
    const missing = (openTimes[i]! - openTimes[i - 1]!) / tfMs - 1;
    if (missing > 0) gaps.push([openTimes[i - 1]! + tfMs, openTimes[i]! - tfMs, missing]);
  }
  return gaps;
}

/** A pino logger at `debug` that keeps every record it writes. */
export function capturingLogger(): { readonly logger: Logger; readonly records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line !== '') records.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug', base: null }, sink), records };
}
