import { EMA } from 'technicalindicators';
import { describe, expect, it } from 'vitest';
import { referenceMacd } from '../support/macd';
import { analyseWarmup, type WarmupResult } from '../../framework/analysis/warmup';
import { sliceBatch } from '../../framework/core/candle';
import { replayCandles } from '../../framework/feeds/replay';
import { loadStrategy } from '../../framework/strategy/loader';
import MacdCrossover from '../../strategies/macd';
import RsiMeanReversion from '../../strategies/rsi-mean-reversion';

const BTC_15M = replayCandles('datasets', { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' });
const closes = Array.from(BTC_15M.close);

/** Indicator series by name, each as long as `values`, NaN-padded at the front. */
type Series = (values: number[]) => Record<string, number[]>;

const padded = (values: readonly (number | undefined)[], length: number): number[] =>
  [...Array<number>(length - values.length).fill(Number.NaN), ...values.map((v) => v ?? Number.NaN)];

const macdSeries: Series = (values) => {
  const { macd, signal, histogram } = referenceMacd(values);
  return {
    macd,
    macd_signal: signal,
    macd_hist: histogram,
  };
};

const agree = (a: number, b: number, tolerance: number): boolean =>
  (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= tolerance * Math.max(Math.abs(a), Math.abs(b));

/**
 * The warm-up each column needs, worked out directly: the indicator over each window of `span` closes starting at one
 * of the result's origins, compared row by row with the indicator over all closes; the warm-up is the number of earlier
 * candles of the first row after the last disagreement (null when that is beyond half the window).
 */
function neededByWindows(series: Series, result: WarmupResult, tolerance: number, exact: boolean): Record<string, number | null> {
  const whole = series(closes);
  const needed: Record<string, number | null> = Object.fromEntries(Object.keys(whole).map((name) => [name, 0]));
  for (const origin of result.origins) {
    const start = BTC_15M.openTime.indexOf(origin);
    const part = series(closes.slice(start, start + result.span));
    for (const [name, values] of Object.entries(part)) {
      let last = -1;
      values.forEach((v, j) => {
        const w = whole[name]![start + j]!;
        if (exact ? !Object.is(v, w) : !agree(v, w, tolerance)) last = j;
      });
      const here = last + 1 > result.span / 2 ? null : last + 1;
      needed[name] = needed[name] === null || here === null ? null : Math.max(needed[name]!, here);
    }
  }
  return needed;
}

describe('analyseWarmup', () => {
  it('measures the warm-up MACD 12/26/9 needs, as MACD on windows of the closes shows, and flags a shorter declared one', async () => {
    const strategy = new MacdCrossover();
    const result = await analyseWarmup(strategy, 'strategies/macd.ts', BTC_15M);
    expect(result.origins).toHaveLength(8);
    expect(result.span).toBe(8_192);
    const byName = Object.fromEntries(result.columns.map((c) => [c.name, c]));
    expect(Object.keys(byName)).toEqual(['macd', 'macd_signal', 'macd_hist']);

    const tolerant = neededByWindows(macdSeries, result, 1e-9, false);
    const exact = neededByWindows(macdSeries, result, 0, true);
    for (const name of ['macd', 'macd_signal', 'macd_hist']) {
      expect(byName[name]!.needed, name).toBe(tolerant[name]);
      expect(byName[name]!.neededExact, name).toBe(exact[name]);
      // The signal line exists from the 34th candle on (26 + 9 − 1 candles): at least 33 earlier candles are needed.
      expect(byName[name]!.needed!).toBeGreaterThanOrEqual(33);
      expect(byName[name]!.neededExact!).toBeGreaterThanOrEqual(byName[name]!.needed!);
      expect(byName[name]!.enough).toBe(strategy.warmup >= tolerant[name]!);
    }
    expect(result.needed).toBe(Math.max(...Object.values(tolerant).map(Number)));
    expect(result.enough).toBe(strategy.warmup >= result.needed!);

    // What the figure means, on windows ending at one candle: with `needed` earlier candles the histogram agrees with
    // the whole-history value; at the origin that set it, one candle fewer does not.
    const needed = byName['macd_hist']!.needed!;
    const start = result.origins
      .map((origin) => BTC_15M.openTime.indexOf(origin))
      .find((k) => {
        const part = macdSeries(closes.slice(k, k + needed)).macd_hist!;
        return !agree(part[needed - 1]!, macdSeries(closes).macd_hist![k + needed - 1]!, 1e-9);
      })!;
    const whole = macdSeries(closes).macd_hist!;
    expect(agree(macdSeries(closes.slice(start, start + needed + 1)).macd_hist![needed]!, whole[start + needed]!, 1e-9)).toBe(true);
  });

  it('reports the largest relative deviation after each number of earlier candles', async () => {
    const result = await analyseWarmup(new MacdCrossover(), 'test', BTC_15M, { lengths: [40, 1_000] });
    const whole = macdSeries(closes).macd!;
    let worstAfter40 = 0;
    for (const origin of result.origins) {
      const start = BTC_15M.openTime.indexOf(origin);
      const part = macdSeries(closes.slice(start, start + result.span)).macd!;
      for (let j = 40; j < part.length; j++) {
        const a = part[j]!;
        const b = whole[start + j]!;
        worstAfter40 = Math.max(worstAfter40, a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b)));
      }
    }
    const macd = result.columns.find((c) => c.name === 'macd')!;
    expect(macd.deviations).toEqual([
      { length: 40, maxRelative: worstAfter40 },
      { length: 1_000, maxRelative: 0 },
    ]);
    expect(worstAfter40).toBeGreaterThan(1e-6);
  });

  it('flags a 10-candle warm-up for an EMA of 200 closes', async () => {
    const { strategy, file } = await loadStrategy('test/fixtures/strategies/short-warmup.ts');
    const result = await analyseWarmup(strategy, file, BTC_15M);
    const emaSeries: Series = (values) => ({ ema: padded(EMA.calculate({ values, period: 200 }), values.length) });
    const expected = neededByWindows(emaSeries, result, 1e-9, false)['ema']!;
    expect(expected).toBeGreaterThan(199);
    expect(result.columns).toEqual([
      expect.objectContaining({ name: 'ema', needed: expected, enough: false }),
    ]);
    expect(result).toMatchObject({ declared: 10, needed: expected, enough: false });
  });

  it('finds that a running-sum SMA never matches bit for bit from a later start, while agreeing within 1e-9', async () => {
    const eth = replayCandles('datasets', { exchange: 'binance', symbol: 'ETH/USDT', timeframe: '1h' });
    const result = await analyseWarmup(new RsiMeanReversion(), 'test', eth);
    const sma = result.columns.find((c) => c.name === 'sma_trend')!;
    // 199 earlier candles make the first value of the 200-candle SMA; rounding of the running sum differs by start.
    expect(sma.needed).toBe(199);
    expect(sma.neededExact).toBeNull();
    expect(result.neededExact).toBeNull();
  });

  it('covers informative columns: the 1h EMA seen from 15m candles needs its warm-up in 15m candles', async () => {
    const { strategy, file } = await loadStrategy('strategies/macd-trend-filter.ts');
    const hourly = replayCandles('datasets', { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' });
    const result = await analyseWarmup(strategy, file, BTC_15M, { informative: new Map([['binance BTC/USDT 1h', hourly]]) });
    const names = result.columns.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['macd_hist', 'close_1h', 'ema_trend_1h']));
    // A shortened history's first 1h candle opens at or after its first 15m candle and closes at least 4 and at most
    // 7 fifteen-minute candles later (1h after a start on the hour, 1h45 after a start at :15); until then close_1h is
    // NaN where the whole history has a value.
    const close = result.columns.find((c) => c.name === 'close_1h')!;
    expect(close.needed).toBeGreaterThanOrEqual(4);
    expect(close.needed).toBeLessThanOrEqual(7);
    // The EMA-50 of 1h closes has no value for its first 50 hours (200 fifteen-minute candles), then forgets its seed
    // by a factor 49/51 per hour: from a seed off by ~1% to 1e-9 takes ln(1e-7)/ln(51/49) ≈ 400 hours, 1,600 candles
    // of 15m; more than the 800 candles the strategy declares.
    const ema = result.columns.find((c) => c.name === 'ema_trend_1h')!;
    expect(ema.needed).toBeGreaterThan(800);
    expect(ema.needed).toBeLessThan(4 * (50 + 600));
    expect(ema.enough).toBe(false);
  });

  it('rejects a bad tolerance, lengths beyond the span and too few candles', async () => {
    const strategy = new MacdCrossover();
    const few = sliceBatch(BTC_15M, 0, 1_000);
    await expect(analyseWarmup(strategy, 'test', few, { tolerance: -1 })).rejects.toThrow('tolerance must be a finite number ≥ 0, got -1');
    await expect(analyseWarmup(strategy, 'test', few, { lengths: [500] })).rejects.toThrow('lengths must be whole numbers in [0, 499], got 500');
    await expect(analyseWarmup(strategy, 'x.ts', sliceBatch(BTC_15M, 0, 3))).rejects.toThrow('x.ts: the warm-up analysis needs at least 4 candles, got 3');
  });
});
