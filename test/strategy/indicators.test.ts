import { BollingerBands, EMA, MACD, SMA } from 'technicalindicators';
import { describe, expect, it } from 'vitest';
import { alignFieldsToCandles, alignToCandles, streamToCandles } from '../../framework';
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
