/**
 * Test helpers that read the real candles in `../shared/data` (beside the checkout), independently of the
 * framework's own code paths.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Candle } from '../../framework/core/candle';

/** The folder of real exchange data shared beside the checkout. */
export const SHARED_DATA = path.resolve(import.meta.dirname, '../../../shared/data');

/** The candles of a `[open_time_ms, o, h, l, c, v]` JSON file in `../shared/data`, e.g. `BTC_USDT-1h.json`. */
export function loadJsonCandles(file: string): Candle[] {
  const rows = JSON.parse(readFileSync(path.join(SHARED_DATA, file), 'utf8')) as number[][];
  return rows.map(([openTime, open, high, low, close, volume]) => ({
    openTime: openTime!,
    open: open!,
    high: high!,
    low: low!,
    close: close!,
    volume: volume!,
  }));
}
