import { describe, expect, it } from 'vitest';
import { isoUtc } from '../../framework/core/time';
import { replayCandles } from '../../framework/feeds/replay';

describe('isoUtc', () => {
  it("gives Date's toISOString text for every open time of the shipped 1m candles and for arbitrary instants", () => {
    const { openTime } = replayCandles('datasets', { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' });
    const times = [...openTime, 0, 1, 999, 86_399_999, 86_400_000, -1, -86_400_001, 8.64e15, -8.64e15, 1.5, 951_782_400_000];
    // Deterministic instants with every millisecond, second and minute value, across centuries (LCG, Numerical Recipes).
    let seed = 12345;
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 1_664_525 + 1_013_904_223) % 2 ** 32;
      times.push(Math.floor((seed / 2 ** 32) * 8e12) - 1e12);
    }
    const wrong = times.filter((t) => isoUtc(t) !== new Date(t).toISOString());
    expect(wrong).toEqual([]);
    expect(times.length).toBeGreaterThan(60_000);
  });

  it('throws as toISOString does outside the range of Date', () => {
    expect(() => isoUtc(8.64e15 + 1)).toThrow(RangeError);
    expect(() => isoUtc(Number.NaN)).toThrow(RangeError);
  });
});
