/**
 * Test helpers: the real Binance candle files of ../shared/data, loaded straight from their JSON (not through the
 * pipeline or the store, whose behaviour the tests check), and a seeded random number generator.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allocateBatch, sourceCode, type CandleBatch, type CandleSource } from '../../framework/core/candle';
import { SHARED_DATA } from '../support/shared-data';

export const DATA_DIR = SHARED_DATA;

/** One row of the OHLCV JSON files: `[open_time_ms, open, high, low, close, base_volume]`. */
export type OhlcvRow = [number, number, number, number, number, number];

export function loadRows(file: string): OhlcvRow[] {
  return JSON.parse(readFileSync(join(DATA_DIR, file), 'utf8')) as OhlcvRow[];
}

export function toBatch(rows: readonly OhlcvRow[], source: CandleSource = 'import'): CandleBatch {
  const batch = allocateBatch(rows.length);
  rows.forEach(([t, o, h, l, c, v], i) => {
    batch.openTime[i] = t;
    batch.open[i] = o;
    batch.high[i] = h;
    batch.low[i] = l;
    batch.close[i] = c;
    batch.volume[i] = v;
    batch.receivedAt[i] = Number.NaN;
    batch.source[i] = sourceCode(source);
  });
  return batch;
}

export function rowsOf(batch: CandleBatch): OhlcvRow[] {
  return Array.from(batch.openTime, (t, i) => [
    t,
    batch.open[i]!,
    batch.high[i]!,
    batch.low[i]!,
    batch.close[i]!,
    batch.volume[i]!,
  ]);
}

/** A Fisher–Yates shuffle of a copy of `items`. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** `Date.UTC` with a 1-based month, for readable expected open times. */
export function utc(year: number, month: number, day: number, hour = 0, minute = 0): number {
  return Date.UTC(year, month - 1, day, hour, minute);
}
