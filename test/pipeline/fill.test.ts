import { describe, expect, it } from 'vitest';
import { CANDLE_SOURCES } from '../../framework/core/candle';
import { fillGaps } from '../../framework/pipeline/fill';
import { findGaps } from '../../framework/pipeline/gaps';
import { loadRows, rowsOf, toBatch, utc, type OhlcvRow } from './realData';

const FIVE = 300_000;
const rows = loadRows('BTC_USDT-5m.json');

describe('fillGaps', () => {
  // Real candles around the 2020-12-25 maintenance: 12 candles missing after 01:55.
  const before = rows.findIndex(([t]) => t === utc(2020, 12, 25, 1, 55));
  const slice = rows.slice(before - 20, before + 20);

  it("'none' leaves the gaps and returns the batch itself", () => {
    const batch = toBatch(slice);
    expect(fillGaps(batch, '5m', 'none')).toBe(batch);
  });

  it("'previous-close' adds flat zero-volume candles at the previous close", () => {
    const batch = toBatch(slice, 'rest');
    const filled = fillGaps(batch, '5m', 'previous-close');
    const lastClose = rows[before]![4];
    const flat: OhlcvRow[] = Array.from({ length: 12 }, (_, k) => [
      utc(2020, 12, 25, 2, 0) + k * FIVE,
      lastClose,
      lastClose,
      lastClose,
      lastClose,
      0,
    ]);
    expect(rowsOf(filled)).toEqual([...slice.slice(0, 21), ...flat, ...slice.slice(21)]);
    expect(Array.from(filled.receivedAt.subarray(21, 33)).every(Number.isNaN)).toBe(true);
    expect(new Set(Array.from(filled.source, (s) => CANDLE_SOURCES[s]))).toEqual(new Set(['rest']));
    expect(rowsOf(batch)).toEqual(slice); // input untouched
  });

  it('makes the whole real 5m file continuous, keeping every real candle', () => {
    const filled = fillGaps(toBatch(rows), '5m', 'previous-close');
    const first = rows[0]![0];
    const last = rows.at(-1)![0];
    expect(filled.openTime.length).toBe((last - first) / FIVE + 1);
    expect(findGaps(filled.openTime, '5m')).toEqual([]);
    // Each real candle sits at slot (openTime - first) / 5m, unchanged.
    const changed = rows.filter(([t, o, h, l, c, v]) => {
      const i = (t - first) / FIVE;
      const got = [filled.openTime[i], filled.open[i], filled.high[i], filled.low[i], filled.close[i], filled.volume[i]];
      return got.join() !== [t, o, h, l, c, v].join();
    });
    expect(changed).toEqual([]);
    expect(filled.openTime.length - rows.length).toBe(46 + 12 + 15 + 18 + 30 + 56);
  });

  it('returns the batch itself when there is no gap', () => {
    const batch = toBatch(rows.slice(100, 200));
    expect(fillGaps(batch, '5m', 'previous-close')).toBe(batch);
  });
});
