import { BollingerBands, EMA, MACD, SMA } from 'technicalindicators';
import { describe, expect, it } from 'vitest';
import { alignFieldsToCandles, alignToCandles, ema as emaColumn, streamToCandles } from '../../framework';
import { readDataset } from '../../framework/store/partitions';
import { referenceMacd } from '../support/macd';

const closes = Array.from(readDataset('datasets', { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' }).close.subarray(0, 5_000));

describe('alignFieldsToCandles', () => {
  it("gives technicalindicators' MACD fields as candle-aligned columns (NaN before each is defined)", () => {
    const macd = MACD.calculate({
      values: closes,
      fastPeriod: 12,
      slowPeriod: 26,
      signalPeriod: 9,
      SimpleMAOscillator: false,
      SimpleMASignal: false,
    });
    const columns = alignFieldsToCandles(macd, closes.length, ['MACD', 'signal', 'histogram']);
    const reference = referenceMacd(closes);
    expect(columns.MACD).toEqual(reference.macd);
    expect(columns.signal).toEqual(reference.signal);
    expect(columns.histogram).toEqual(reference.histogram);
    expect(Number.isNaN(columns.signal[32]!)).toBe(true);
    expect(Number.isFinite(columns.signal[33]!)).toBe(true);
  });

  it('equals alignToCandles of each field, for only the fields asked for', () => {
    const bands = BollingerBands.calculate({ values: closes, period: 20, stdDev: 2 });
    const columns = alignFieldsToCandles(bands, closes.length, ['upper', 'lower']);
    expect(Object.keys(columns)).toEqual(['upper', 'lower']);
    expect(columns.upper).toEqual(alignToCandles(bands.map((b) => b.upper), closes.length));
    expect(columns.lower).toEqual(alignToCandles(bands.map((b) => b.lower), closes.length));
    expect(columns.upper[closes.length - 1]).toBe(bands[bands.length - 1]!.upper);
  });

  it('rejects an output longer than the candles', () => {
    expect(() => alignFieldsToCandles([{ a: 1 }, { a: 2 }], 1, ['a'])).toThrow(/2 values for 1 candles/);
  });
});

describe('streamToCandles', () => {
  const ema = (period: number, values: ArrayLike<number>) => streamToCandles(new EMA({ period, values: [] }), values);

  it("as three EMAs equals technicalindicators' MACD.calculate bit for bit over every shipped 5m close", () => {
    const values = Array.from(readDataset('datasets', { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '5m' }).close);
    const fast = ema(12, values);
    const slow = ema(26, values);
    const macd = fast.map((f, i) => f - slow[i]!);
    const signal = ema(9, macd);
    const reference = alignFieldsToCandles(
      MACD.calculate({ values, fastPeriod: 12, slowPeriod: 26, signalPeriod: 9, SimpleMAOscillator: false, SimpleMASignal: false }),
      values.length,
      ['MACD', 'signal', 'histogram'],
    );
    expect(values.length).toBeGreaterThan(50_000);
    expect(macd).toEqual(reference.MACD);
    expect(signal).toEqual(reference.signal);
    expect(macd.map((m, i) => m - signal[i]!)).toEqual(reference.histogram);
  });

  it('is NaN during the look-back and equals calculate aligned to the candles after it', () => {
    const sma = streamToCandles(new SMA({ period: 20, values: [] }), closes);
    expect(sma).toHaveLength(closes.length);
    expect(sma.slice(0, 19).every(Number.isNaN)).toBe(true);
    expect(sma).toEqual(alignToCandles(SMA.calculate({ period: 20, values: closes }), closes.length));
  });

  it('does not feed NaN inputs: an indicator of an indicator starts where its input does', () => {
    const input = [Number.NaN, Number.NaN, ...closes.slice(0, 100)];
    const out = ema(10, input);
    expect(out.slice(0, 11).every(Number.isNaN)).toBe(true);
    expect(out.slice(2)).toEqual(ema(10, closes.slice(0, 100)));
  });
});

describe('ema', () => {
  const streamed = (period: number, values: ArrayLike<number>) => streamToCandles(new EMA({ period, values: [] }), values);
  /** Index of the first value whose bits differ (Object.is: NaN equals NaN, 0 differs from −0), or −1. */
  const firstDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
    if (a.length !== b.length) return Math.min(a.length, b.length);
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
    return -1;
  };
  const minutes = readDataset('datasets', { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' }).close;

  it.each([1, 2, 9, 12, 26, 200])("equals technicalindicators' streamed EMA(%i) bit for bit over every shipped 1m close", (period) => {
    expect(minutes.length).toBeGreaterThan(40_000);
    expect(firstDifference(emaColumn(minutes, period), streamed(period, minutes))).toBe(-1);
  });

  it('equals it over an oscillator with leading and scattered NaN (not fed, NaN out)', () => {
    const oscillator = Array.from(minutes, (c, i) => (i < 30 || i % 97 === 0 ? Number.NaN : c - minutes[i - 1]!));
    for (const period of [3, 9]) expect(firstDifference(emaColumn(oscillator, period), streamed(period, oscillator))).toBe(-1);
  });

  it('seeds with the simple average and then smooths with k = 2 / (period + 1) (by hand)', () => {
    // period 2, k = 2/3: seed (1 + 3) / 2 = 2; then (5 − 2) × 2/3 + 2 = 4; then (4 − 4) × 2/3 + 4 = 4.
    expect(Array.from(emaColumn([1, 3, 5, 4], 2))).toEqual([Number.NaN, 2, 4, 4]);
  });

  it("takes technicalindicators' path for a seed of 0: (value − 0) × k + 0 on the seeding value itself", () => {
    // period 3, k = 1/2: the seed of [1, 1, −2] is 0, which that library treats as no value and smooths at once:
    // (−2 − 0) × 1/2 + 0 = −1 (not the seed 0); then (3 − (−1)) × 1/2 + (−1) = 1.
    expect(Array.from(emaColumn([1, 1, -2, 3], 3))).toEqual([Number.NaN, Number.NaN, -1, 1]);
    for (const input of [[1, 1, -2, 3], [0, 0, 0, 8, 6], [-0, 0, 0, 1]]) {
      expect(firstDifference(emaColumn(input, 3), streamed(3, input))).toBe(-1);
    }
  });

  it('writes into the array given, which may be its input', () => {
    const expected = emaColumn(minutes, 12);
    const copy = Float64Array.from(minutes);
    expect(emaColumn(copy, 12, copy)).toBe(copy);
    expect(firstDifference(copy, expected)).toBe(-1);
    expect(() => emaColumn(minutes, 12, new Float64Array(3))).toThrow(`ema: out has 3 values for ${minutes.length} inputs`);
  });

  it('refuses a period that is not a positive integer', () => {
    expect(() => emaColumn([1, 2], 0)).toThrow(/period must be a positive integer, got 0/);
    expect(() => emaColumn([1, 2], 2.5)).toThrow(/got 2.5/);
  });
});
