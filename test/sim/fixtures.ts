/**
 * Real candles for the simulator tests, read from ../shared/data (see its SOURCES.md).
 *
 * @module
 */

import { readFileSync } from 'node:fs';
import type { CandleBatch } from '../../framework/core/candle';
import { allocateBatch, sourceCode } from '../../framework/core/candle';
import { SHARED_DATA } from '../support/shared-data';

/** The shared data folder. */
export const DATA_DIR = SHARED_DATA;

/** A raw OHLCV row as in the freqtrade JSON files: `[openTime, open, high, low, close, volume]`. */
export type OhlcvRow = [number, number, number, number, number, number];

/** Reads a freqtrade OHLCV JSON file (e.g. `BTC_USDT-5m.json`) as rows. */
export function readRows(file: string): OhlcvRow[] {
  return JSON.parse(readFileSync(`${DATA_DIR}/${file}`, 'utf8')) as OhlcvRow[];
}

/** Rows as a CandleBatch (source `import`, receivedAt unknown). */
export function rowsToBatch(rows: readonly OhlcvRow[]): CandleBatch {
  const batch = allocateBatch(rows.length);
  rows.forEach(([t, o, h, l, c, v], i) => {
    batch.openTime[i] = t;
    batch.open[i] = o;
    batch.high[i] = h;
    batch.low[i] = l;
    batch.close[i] = c;
    batch.volume[i] = v;
    batch.receivedAt[i] = Number.NaN;
    batch.source[i] = sourceCode('import');
  });
  return batch;
}
