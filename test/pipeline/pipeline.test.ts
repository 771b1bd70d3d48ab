import { describe, expect, it } from 'vitest';
import { CANDLE_SOURCES, type CandleBatch, type CandleSource } from '../../framework/core/candle';
import { InvalidCandleError, InvalidTimeframeError } from '../../framework/core/errors';
import type { RawCandle } from '../../framework/pipeline/normalize';
import { processCandles } from '../../framework/pipeline/pipeline';
import { mulberry32 } from '../../framework/core/rng';
import { expectSameRows } from '../store/source-data';
import { loadRows, rowsOf, shuffled, toBatch, utc, type OhlcvRow } from './realData';

const rows = loadRows('BTC_USDT-5m.json');
const where = 'BTC_USDT-5m.json';

function raw([openTime, open, high, low, close, volume]: OhlcvRow): RawCandle {
  return { openTime, open, high, low, close, volume };
}

function copyColumns(batch: CandleBatch): CandleBatch {
  return {
    openTime: batch.openTime.slice(),
    open: batch.open.slice(),
    high: batch.high.slice(),
    low: batch.low.slice(),
    close: batch.close.slice(),
    volume: batch.volume.slice(),
    receivedAt: batch.receivedAt.slice(),
    source: batch.source.slice(),
  };
}

describe('processCandles on clean real data', () => {
  it('returns the batch itself, reporting only the six maintenance gaps', () => {
    const batch = toBatch(rows);
    const result = processCandles(batch, '5m', { where });
    expect(result.candles).toBe(batch);
    expect(result.rejected).toEqual([]);
    expect(result.duplicates).toBe(0);
    expect(result.unsorted).toBe(0);
    expect(result.gaps.map((g) => g.missing)).toEqual([46, 12, 15, 18, 30, 56]);
  });

  it('gives the same candles from raw input, recording the default source', () => {
    const result = processCandles(rows.map(raw), '5m', { where, defaultSource: 'rest' });
    expectSameRows(rowsOf(result.candles), rows);
    expect(new Set(Array.from(result.candles.source, (s) => CANDLE_SOURCES[s]))).toEqual(new Set(['rest']));
    expect(result.candles.receivedAt.every(Number.isNaN)).toBe(true);
    expect(result.gaps).toHaveLength(6);
  });

  it('normalises raw candles with ISO open times and string numbers', () => {
    const slice = rows.slice(0, 50);
    const input = slice.map(([t, o, h, l, c, v]): RawCandle => ({
      openTime: new Date(t).toISOString().replace('.000Z', ''),
      open: String(o),
      high: String(h),
      low: String(l),
      close: String(c),
      volume: String(v),
      receivedAt: t + 300_000,
    }));
    const result = processCandles(input, '5m', { where });
    expect(rowsOf(result.candles)).toEqual(slice);
    expect(Array.from(result.candles.receivedAt)).toEqual(slice.map(([t]) => t + 300_000));
    expect(CANDLE_SOURCES[result.candles.source[0]!]).toBe('import');
  });
});

describe('processCandles de-duplication keeps the last version in input order', () => {
  const slice = rows.slice(1000, 1200);
  const target = 50;
  const [t, o, h, l, c, v] = slice[target]!;
  // A revision as a late REST backfill brings it: more volume, a different close within the range.
  const revised: OhlcvRow = [t, o, h, l, (h + l) / 2, v * 1.25];
  const expectedWithRevision = slice.map((r, i) => (i === target ? revised : r));

  it('replaces the original with a revised copy that comes later', () => {
    const input = [...slice, revised];
    const result = processCandles(toBatch(input), '5m', { where });
    expect(rowsOf(result.candles)).toEqual(expectedWithRevision);
    expect(result.duplicates).toBe(1);
    expect(result.unsorted).toBe(1);
    expect(result.gaps).toEqual([]);
  });

  it('keeps the original when the revised copy comes first', () => {
    const input = [revised, ...slice];
    const result = processCandles(toBatch(input), '5m', { where });
    expect(rowsOf(result.candles)).toEqual(slice);
    expect(result.duplicates).toBe(1);
    expect(result.unsorted).toBe(1);
  });

  it('handles an adjacent revision without sorting, keeping its provenance', () => {
    const input = [...slice.slice(0, target + 1), revised, ...slice.slice(target + 1)];
    const sources = input.map((_, i): CandleSource => (i === target + 1 ? 'rest' : 'websocket'));
    const result = processCandles(
      input.map((r, i) => ({ ...raw(r), source: sources[i]!, receivedAt: r[0] + 400_000 + i })),
      '5m',
      { where },
    );
    expect(rowsOf(result.candles)).toEqual(expectedWithRevision);
    expect(result.duplicates).toBe(1);
    expect(result.unsorted).toBe(0);
    expect(CANDLE_SOURCES[result.candles.source[target]!]).toBe('rest');
    expect(result.candles.receivedAt[target]).toBe(t + 400_000 + target + 1);
  });

  it('keeps the last of several versions', () => {
    const third: OhlcvRow = [t, o, h, l, c, v * 2];
    const input = [revised, ...slice.slice(0, 120), third, ...slice.slice(120), revised.slice() as OhlcvRow];
    const result = processCandles(toBatch(input), '5m', { where });
    expect(rowsOf(result.candles)).toEqual(expectedWithRevision);
    expect(result.duplicates).toBe(3);
  });
});

describe('processCandles orders out-of-order input', () => {
  const slice = rows.slice(30_000, 32_000);

  it('sorts a seeded shuffle of real candles back into the original', () => {
    const input = shuffled(slice, mulberry32(42));
    let drops = 0;
    for (let i = 1; i < input.length; i++) if (input[i]![0] < input[i - 1]![0]) drops++;
    const batch = toBatch(input);
    const before = copyColumns(batch);
    const result = processCandles(batch, '5m', { where });
    expect(rowsOf(result.candles)).toEqual(slice);
    expect(result.unsorted).toBe(drops);
    expect(result.duplicates).toBe(0);
    expect(result.gaps).toEqual([]);
    expect(batch).toEqual(before); // input left untouched
  });

  it('sorts and de-duplicates a shuffle that holds every candle twice', () => {
    const input = shuffled([...slice, ...slice], mulberry32(7));
    const result = processCandles(input.map(raw), '5m', { where });
    expect(rowsOf(result.candles)).toEqual(slice);
    expect(result.duplicates).toBe(slice.length);
  });
});

describe('processCandles rejects invalid rows and invents nothing', () => {
  const slice = rows.slice(5000, 5100);

  it('drops invalid batch rows, saying where and why', () => {
    const bad: OhlcvRow[] = [
      [slice[10]![0] + 60_000, 1, 2, 0.5, 1.5, 3], // off the 5m grid
      [slice[20]![0], 100, 90, 95, 100, 1], // high below open
    ];
    const input = [...slice.slice(0, 11), bad[0]!, ...slice.slice(11, 21), bad[1]!, ...slice.slice(21)];
    const result = processCandles(toBatch(input), '5m', { where });
    expect(rowsOf(result.candles)).toEqual(slice);
    expect(result.rejected.map((r) => r.index)).toEqual([11, 22]);
    expect(result.rejected[0]!.reason).toMatch(/^BTC_USDT-5m.json row 11: openTime \d+ \(.*\) is not aligned to the 5m timeframe \(its candles open at multiples of 5m from 1970-01-01 00:00 UTC\)$/);
    expect(result.rejected[1]!.reason).toBe('BTC_USDT-5m.json row 22: high 90 is below max(open 100, close 100)');
    expect(result.rejected[1]!.value).toMatchObject({ openTime: slice[20]![0], open: 100, high: 90 });
    // The invalid row sharing an open time with a valid one is not a duplicate.
    expect(result.duplicates).toBe(0);
  });

  it('rejects raw rows that cannot be normalised instead of throwing', () => {
    const input: RawCandle[] = slice.map(raw);
    input.splice(3, 0, { ...raw(slice[3]!), openTime: 'not a time' });
    input.splice(7, 0, { ...raw(slice[7]!), volume: 'lots' });
    const result = processCandles(input, '5m', { where: 'ws frame' });
    expect(rowsOf(result.candles)).toEqual(slice);
    expect(result.rejected.map((r) => [r.index, r.reason])).toEqual([
      [3, 'ws frame row 3: openTime: invalid timestamp "not a time": expected epoch ms, epoch seconds, an ISO 8601 string or a Date'],
      [7, 'ws frame row 7: invalid volume "lots": expected a number or a numeric string'],
    ]);
    expect(result.rejected[0]!.value).toBe(input[3]);
  });

  it('reports gaps but fills nothing', () => {
    const holes = slice.filter((_, i) => i % 10 !== 5);
    const result = processCandles(toBatch(holes), '5m', { where });
    expect(rowsOf(result.candles)).toEqual(holes);
    expect(result.gaps).toEqual(
      slice.flatMap(([time], i) => (i % 10 === 5 ? [{ start: time, end: time, missing: 1 }] : [])),
    );
  });

  it('handles empty input', () => {
    const result = processCandles([], '5m', { where });
    expect(result.candles.openTime.length).toBe(0);
    expect(result.gaps).toEqual([]);
  });
});

describe('processCandles errors', () => {
  it('throws on a batch with unequal columns, naming it', () => {
    const batch = { ...toBatch(rows.slice(0, 10)), volume: new Float64Array(9) };
    expect(() => processCandles(batch, '5m', { where: 'partition 2020-12' })).toThrow(InvalidCandleError);
    expect(() => processCandles(batch, '5m', { where: 'partition 2020-12' })).toThrow(
      'partition 2020-12: column volume has 9 rows but openTime has 10',
    );
  });

  it('throws on an invalid timeframe', () => {
    expect(() => processCandles(toBatch(rows.slice(0, 10)), '5 minutes', { where })).toThrow(InvalidTimeframeError);
  });

  it('checks alignment against the given timeframe', () => {
    const result = processCandles(toBatch(rows.slice(0, 24)), '1h', { where });
    expect(Array.from(result.candles.openTime)).toEqual([utc(2020, 12, 1, 0), utc(2020, 12, 1, 1)]);
    expect(result.rejected).toHaveLength(22);
  });
});
