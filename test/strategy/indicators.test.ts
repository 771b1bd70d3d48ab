import { BollingerBands, MACD } from 'technicalindicators';
import { describe, expect, it } from 'vitest';
import { alignFieldsToCandles, alignToCandles } from '../../framework';
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
