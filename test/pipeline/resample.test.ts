import { describe, expect, it } from 'vitest';
import { sourceCode } from '../../framework/core/candle';
import { InvalidCandleError, InvalidTimeframeError } from '../../framework/core/errors';
import { resampleCandles } from '../../framework/pipeline/resample';
import { readDataset } from '../../framework/store/partitions';
import { batchRows, DATASETS, expectSameRows, groupResample, jsonRows, rowsToBatch, utc } from '../store/source-data';
import type { Row } from '../store/source-data';

const MINUTE = 60_000;

/** Same candle up to the floating-point rounding of a volume sum (the exchange sums decimals exactly). */
function sameCandle(a: Row, b: Row): boolean {
  return a.slice(0, 5).every((v, i) => v === b[i]) && Math.abs(a[5] - b[5]) <= 1e-9 * Math.max(1, Math.abs(b[5]));
}

/** Open times (ISO) of the rows of `ours` that differ from the row with the same open time in `theirs`. */
function differing(ours: readonly Row[], theirs: readonly Row[]): string[] {
  const byTime = new Map(theirs.map((r) => [r[0], r]));
  return ours.filter((r) => !sameCandle(r, byTime.get(r[0])!)).map((r) => new Date(r[0]).toISOString());
}

describe('resampleCandles on real Binance candles', () => {
  for (const symbol of ['BTC_USDT', 'ETH_USDT']) {
    it(`${symbol} 5m → 15m and 5m → 1h equal an independent group-by`, () => {
      const rows = jsonRows(`${symbol}-5m.json`);
      const to15 = resampleCandles(rowsToBatch(rows), '5m', '15m');
      expectSameRows(batchRows(to15.candles), groupResample(rows, 5 * MINUTE, 15 * MINUTE));
      expect(to15.candles.source.every((s) => s === sourceCode('resample'))).toBe(true);
      expect(to15.candles.receivedAt.every(Number.isNaN)).toBe(true);
      const to1h = resampleCandles(rowsToBatch(rows), '5m', '1h');
      expectSameRows(batchRows(to1h.candles), groupResample(rows, 5 * MINUTE, 60 * MINUTE));
      const keep = resampleCandles(rowsToBatch(rows), '5m', '1h', { incomplete: 'keep' });
      expectSameRows(batchRows(keep.candles), groupResample(rows, 5 * MINUTE, 60 * MINUTE, true));
    });

    it(`${symbol} 5m → 1h agrees with the shipped 1h file except where Binance revised candles`, () => {
      const hourly = batchRows(readDataset(DATASETS, { exchange: 'binance', symbol: symbol.replace('_', '/'), timeframe: '1h' }));
      const result = resampleCandles(rowsToBatch(jsonRows(`${symbol}-5m.json`)), '5m', '1h');
      // The six hours cut by maintenance (SOURCES.md) and the last hour of the 5m data (which ends at 21:05 or 21:10,
      // after the 1h file's last candle at 20:00) are incomplete, so dropped; every other hour of the 1h file is there.
      const incompleteHours = [
        '2020-12-21T14:00:00.000Z',
        '2021-02-11T03:00:00.000Z',
        '2021-03-06T03:00:00.000Z',
        '2021-04-20T04:00:00.000Z',
        '2021-04-25T04:00:00.000Z',
        '2021-04-25T08:00:00.000Z',
        '2021-07-17T21:00:00.000Z',
      ];
      expect(result.incomplete.map((t) => new Date(t).toISOString())).toEqual(incompleteHours);
      expect(result.candles.openTime.length).toBe(hourly.length - 6);
      // The 5m and 1h files were downloaded at different times; three hours of the revised period differ in volume.
      const revisedHours = ['2021-04-22T02:00:00.000Z', '2021-04-23T01:00:00.000Z', '2021-04-23T02:00:00.000Z'];
      expect(differing(batchRows(result.candles), hourly)).toEqual(revisedHours);
      // Kept, the maintenance hours equal what Binance itself reported for them: no trading happened in the gap.
      const kept = resampleCandles(rowsToBatch(jsonRows(`${symbol}-5m.json`)), '5m', '1h', { incomplete: 'keep' });
      const keptRows = batchRows(kept.candles);
      expect(keptRows.map((r) => r[0])).toEqual([...hourly.map((r) => r[0]), utc('2021-07-17T21:00:00Z')]);
      expect(differing(keptRows.slice(0, -1), hourly)).toEqual(revisedHours);
    });
  }

  it('BTC/USDT 1m → 5m agrees with the shipped 5m except in exactly the 16 buckets Binance revised', () => {
    const fiveMinute = batchRows(readDataset(DATASETS, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '5m' }));
    const result = resampleCandles(rowsToBatch(jsonRows('BTC_USDT-1m.json')), '1m', '5m');
    expect(result.candles.openTime.length).toBe(8582);
    const revised = [
      '2021-04-22T02:10:00.000Z',
      '2021-04-22T02:15:00.000Z',
      '2021-04-22T02:20:00.000Z',
      '2021-04-23T01:40:00.000Z',
      '2021-04-23T01:45:00.000Z',
      '2021-04-23T01:50:00.000Z',
      '2021-04-23T01:55:00.000Z',
      '2021-04-23T02:00:00.000Z',
      '2021-04-23T02:05:00.000Z',
      '2021-04-23T02:10:00.000Z',
      '2021-04-23T02:15:00.000Z',
      '2021-04-23T02:20:00.000Z',
      '2021-04-23T02:25:00.000Z',
      // 02:30 agrees: its candles were not revised.
      '2021-04-23T02:35:00.000Z',
      '2021-04-23T02:40:00.000Z',
      '2021-04-23T02:45:00.000Z',
    ];
    expect(differing(batchRows(result.candles), fiveMinute)).toEqual(revised);
  });

  it('drops or keeps the bucket cut by the 2020-12-21 maintenance (5m data stops after 14:05, resumes 18:00)', () => {
    const rows = jsonRows('BTC_USDT-5m.json').filter((r) => r[0] >= utc('2020-12-21T13:00:00Z') && r[0] < utc('2020-12-21T19:00:00Z'));
    expect(rows.map((r) => new Date(r[0]).toISOString().slice(11, 16))).toContain('14:05');
    expect(rows.find((r) => r[0] > utc('2020-12-21T14:05:00Z'))![0]).toBe(utc('2020-12-21T18:00:00Z'));
    const at1400 = utc('2020-12-21T14:00:00Z');
    const [c1400, c1405] = rows.filter((r) => r[0] === at1400 || r[0] === at1400 + 5 * MINUTE) as [Row, Row];

    const dropped = resampleCandles(rowsToBatch(rows), '5m', '15m');
    expect(dropped.incomplete).toEqual([at1400]);
    const droppedTimes = Array.from(dropped.candles.openTime, (t) => new Date(t).toISOString().slice(11, 16));
    expect(droppedTimes).toEqual(['13:00', '13:15', '13:30', '13:45', '18:00', '18:15', '18:30', '18:45']);

    const kept = resampleCandles(rowsToBatch(rows), '5m', '15m', { incomplete: 'keep' });
    expect(kept.incomplete).toEqual([at1400]);
    const keptRows = batchRows(kept.candles);
    expect(keptRows.map((r) => r[0])).toEqual([...dropped.candles.openTime.slice(0, 4), at1400, ...dropped.candles.openTime.slice(4)]);
    expect(keptRows[4]).toEqual([at1400, c1400[1], Math.max(c1400[2], c1405[2]), Math.min(c1400[3], c1405[3]), c1405[4], c1400[5] + c1405[5]]);
  });

  it('takes receivedAt as the latest known among the constituents', () => {
    const batch = rowsToBatch(jsonRows('ETH_USDT-5m.json').slice(0, 6));
    batch.receivedAt.set([Number.NaN, 1_606_780_900_000, 1_606_780_800_500, Number.NaN, Number.NaN, Number.NaN]);
    const { candles } = resampleCandles(batch, '5m', '15m');
    expect(Array.from(candles.receivedAt)).toEqual([1_606_780_900_000, Number.NaN]);
  });

  it('rejects timeframes that are not whole multiples, and unsorted or misaligned input', () => {
    const batch = rowsToBatch(jsonRows('BTC_USDT-5m.json').slice(0, 12));
    expect(() => resampleCandles(batch, '5m', '7m')).toThrow(InvalidTimeframeError);
    expect(() => resampleCandles(batch, '15m', '5m')).toThrow('cannot resample 15m to 5m: a 15m candle');
    expect(() => resampleCandles(batch, '3d', '1w')).toThrow(InvalidTimeframeError);
    expect(() => resampleCandles(batch, '1w', '1M')).toThrow(InvalidTimeframeError);
    const swapped = rowsToBatch(jsonRows('BTC_USDT-5m.json').slice(0, 12));
    swapped.openTime.set([swapped.openTime[3]!, swapped.openTime[2]!], 2);
    expect(() => resampleCandles(swapped, '5m', '15m')).toThrow(InvalidCandleError);
    expect(() => resampleCandles(batch, '15m', '1h')).toThrow('not aligned to 15m');
    expect(resampleCandles(rowsToBatch([]), '5m', '15m')).toEqual({ candles: rowsToBatch([]), incomplete: [] });
  });
});
