/** The pure parts of the search: ranges, samplers and the deflated Sharpe ratio, against values worked out by hand. */
import { describe, expect, it } from 'vitest';
import { deflatedSharpe, normalQuantile } from '../../framework/optimize/overfitting';
import { createSampler, haltonPoint } from '../../framework/optimize/samplers';
import { walkForwardWindows } from '../../framework/optimize/windows';
import { timeframeGrid } from '../../framework/core/timeframe';
import { choice, float, inRange, int, parseRange, valueAt } from '../../framework/strategy/parameters';

describe('parameter ranges', () => {
  it('accept the values of the range only', () => {
    const slow = int(10, 60, { step: 2 });
    expect([10, 26, 60].map((v) => inRange(v, slow))).toEqual([true, true, true]);
    expect([9, 11, 62, 26.5, '26'].map((v) => inRange(v, slow))).toEqual([false, false, false, false, false]);
    expect(inRange(9, choice([5, 9, 12]))).toBe(true);
    expect(inRange(0.05, float(0.01, 0.1, { step: 0.01 }))).toBe(true);
    expect(inRange(0.055, float(0.01, 0.1, { step: 0.01 }))).toBe(false);
  });

  it('map the unit interval onto equal cells of an int range', () => {
    // int(10, 60, step 2) has 26 values: cell k = [k/26, (k+1)/26) holds 10 + 2k.
    expect(valueAt(int(10, 60, { step: 2 }), 0)).toBe(10);
    expect(valueAt(int(10, 60, { step: 2 }), 8.5 / 26)).toBe(26);
    expect(valueAt(int(10, 60, { step: 2 }), 0.999999)).toBe(60);
    expect(valueAt(choice(['a', 'b', 'c']), 0.5)).toBe('b');
  });

  it('parse command-line ranges of the declared kind', () => {
    expect(parseRange('fast', '5..20', int(4, 30), 12)).toEqual(int(5, 20));
    expect(parseRange('slow', '10..40:5', int(10, 60, { step: 2 }), 26)).toEqual(int(10, 40, { step: 5 }));
    expect(parseRange('signal', '5,9', undefined, 9)).toEqual(choice([5, 9]));
    expect(parseRange('fast', '20..5', int(4, 30), 12)).toMatch(/low ≤ high/);
    expect(parseRange('fast', 'a..b', int(4, 30), 12)).toMatch(/expected low\.\.high/);
  });
});

describe('samplers', () => {
  it('Halton: radical inverses in bases 2 and 3', () => {
    // n = 1..4 in base 2: 0.1, 0.01, 0.11, 0.001 → 1/2, 1/4, 3/4, 1/8; in base 3: 0.1, 0.2, 0.01, 0.11 → 1/3, 2/3, 1/9, 4/9.
    expect([1, 2, 3, 4].map((n) => haltonPoint(n, 2))).toEqual([[1 / 2, 1 / 3], [1 / 4, 2 / 3], [3 / 4, 1 / 9], [1 / 8, 4 / 9]]);
  });

  it('grid: every combination once', () => {
    const ranges = [int(1, 3), choice(['a', 'b'])];
    const grid = createSampler({ name: 'grid', ranges, trials: 100, seed: 1, window: 0, gridPoints: 5 });
    expect(grid.trials).toBe(6);
    const values = Array.from({ length: 6 }, (_, i) => grid.point(i, []).map((u, d) => valueAt(ranges[d]!, u)).join(''));
    expect(values.sort()).toEqual(['1a', '1b', '2a', '2b', '3a', '3b']);
  });

  it('TPE: the same seed and history give the same point; after start-up it samples near the good trials', () => {
    const options = { name: 'tpe' as const, ranges: [float(0, 1)], trials: 50, seed: 3, window: 0, gridPoints: 5 };
    const history = Array.from({ length: 40 }, (_, i) => ({ point: [i / 40], score: -Math.abs(i / 40 - 0.8) }));
    const a = createSampler(options).point(40, history);
    expect(createSampler(options).point(40, history)).toEqual(a);
    expect(createSampler({ ...options, seed: 4 }).point(40, history)).not.toEqual(a);
    // The best 4 trials (γ(40) = ⌈0.1 · 40⌉) lie in [0.75, 0.85]: the proposals of 20 trials cluster there.
    const proposals = Array.from({ length: 20 }, (_, i) => createSampler(options).point(40 + i, history)[0]!);
    const near = proposals.filter((x) => x > 0.6 && x < 1).length;
    expect(near).toBeGreaterThanOrEqual(16);
  });
});

describe('walk-forward windows', () => {
  it('cut the candles into windows + 1 spans; each window is scored on the next span', () => {
    const openTime = Array.from({ length: 10 }, (_, i) => i * 60_000);
    const [w0, w1] = walkForwardWindows(openTime, timeframeGrid('1m'), 2, false, 2);
    // 10 candles / 3 spans = 3 candles each, the last span taking the remainder: [0,3) [3,6) [6,10).
    expect([w0!.inSample.start, w0!.inSample.end, w0!.outOfSample.start, w0!.outOfSample.end]).toEqual([0, 3, 3, 6]);
    expect([w1!.inSample.start, w1!.outOfSample.end, w1!.outOfSample.to]).toEqual([3, 10, 600_000]);
    const anchored = walkForwardWindows(openTime, timeframeGrid('1m'), 2, true, 2);
    expect(anchored[1]!.inSample.start).toBe(0);
    expect(() => walkForwardWindows(openTime, timeframeGrid('1m'), 4, false, 3)).toThrow(/fewer than the 3 needed/);
  });

  it('end the last span at the next open time on the grid: the 1st of the next month for 1M', () => {
    // Twelve monthly candles of 2021; the last span ends where January 2022 opens (a nominal month of 30.42 days
    // after 2021-12-01 would end it on 2021-12-31 10:00, leaving December's candle half outside its own span).
    const openTime = Array.from({ length: 12 }, (_, m) => Date.UTC(2021, m, 1));
    const [w0, w1] = walkForwardWindows(openTime, timeframeGrid('1M'), 2, false, 2);
    expect([w0!.outOfSample.from, w0!.outOfSample.to]).toEqual([Date.UTC(2021, 4, 1), Date.UTC(2021, 8, 1)]);
    expect(w1!.outOfSample.to).toBe(Date.UTC(2022, 0, 1));
  });
});

describe('deflated Sharpe ratio', () => {
  it('reproduces the example of Bailey & López de Prado (2014)', () => {
    // §4 of the paper: N = 100 trials with V[SR_n] = 0.5 (annualised, 250 days), the chosen SR = 2.5 annualised over
    // T = 1,250 daily returns with skewness −3 and kurtosis 10 → SR0 = 0.1132, DSR = 0.9004 (also by Python's
    // statistics.NormalDist: 0.900397). Trials with that variance: 50 at +a, 50 at −a, a² = V · 99 / 100.
    const a = Math.sqrt((0.5 / 250) * 0.99);
    const trialSharpes = Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? a : -a));
    const dsr = deflatedSharpe({ sharpe: 2.5 / Math.sqrt(250), trialSharpes, observations: 1250, skewness: -3, kurtosis: 10 });
    expect(dsr).toBeCloseTo(0.900397, 5);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 6);
  });
});
