import { describe, expect, it } from 'vitest';
import { Portfolio, type StrategySnapshot } from '../../framework/portfolio/portfolio';

const T = Date.UTC(2021, 4, 19);
const H = 3_600_000;
const snap = (strategyId: string, time: number, equity: number, positions: StrategySnapshot['positions'] = [], realisedPnl = 0): StrategySnapshot => ({
  strategyId,
  time,
  equity,
  cash: equity - positions.reduce((s, p) => s + p.quantity * p.markPrice, 0),
  realisedPnl,
  unrealisedPnl: 0,
  positions,
});

describe('Portfolio', () => {
  it('sums equity and PnL, and counts a shared asset once per strategy that holds it (no double counting)', () => {
    const p = new Portfolio();
    // macd-a holds 0.1 BTC, macd-b 0.2 BTC and rsi 1.5 ETH, marked at 40,000 and 2,500 USDT.
    p.update(snap('macd-a', T, 10_000, [{ symbol: 'BTC/USDT', quantity: 0.1, markPrice: 40_000 }], 120));
    p.update(snap('macd-b', T, 5_000, [{ symbol: 'BTC/USDT', quantity: 0.2, markPrice: 40_000 }], -30));
    p.update(snap('rsi', T, 8_000, [{ symbol: 'ETH/USDT', quantity: 1.5, markPrice: 2_500 }]));
    const { total, strategies } = p.status();
    expect(total.equity).toBe(23_000); // 10,000 + 5,000 + 8,000
    expect(total.realisedPnl).toBe(90); // 120 − 30
    // BTC: 0.1 + 0.2 = 0.3 BTC (0.30000000000000004 in binary floating point), valued 4,000 + 8,000 = 12,000 USDT.
    expect(total.exposure['BTC']!.quantity).toBeCloseTo(0.3, 15);
    expect(total.exposure['BTC']!.value).toBe(12_000);
    expect(total.exposure['ETH']).toEqual({ quantity: 1.5, value: 3_750 }); // 1.5 × 2,500
    // cash = equity − position value: 6,000 + (−3,000) + 4,250.
    expect(total.cash).toBe(7_250);
    expect(strategies.map((s) => s.strategyId)).toEqual(['macd-a', 'macd-b', 'rsi']);
  });

  it('tracks the drawdown of the summed equity, which can be smaller than the strategies’ own', () => {
    const p = new Portfolio();
    p.update(snap('a', T, 10_000));
    p.update(snap('b', T, 10_000)); // sum 20,000: the peak
    p.update(snap('a', T + H, 8_000)); // sum 18,000: 10% below the peak; a's own drawdown 20%
    p.update(snap('b', T + H, 11_000)); // sum 19,000
    p.update(snap('a', T + 2 * H, 9_500)); // sum 20,500: a new peak
    p.update(snap('b', T + 2 * H, 9_225)); // sum 18,725: 1 − 18,725 / 20,500 = 8.66%
    const { total, strategies } = p.status();
    expect(total.equity).toBe(18_725);
    expect(total.maxDrawdown).toBeCloseTo(0.1, 12); // the deepest was the 10% at T + 1h
    expect(strategies.find((s) => s.strategyId === 'a')!.maxDrawdown).toBeCloseTo(0.2, 12); // 8,000 / 10,000
    expect(strategies.find((s) => s.strategyId === 'b')!.maxDrawdown).toBeCloseTo(1 - 9_225 / 11_000, 12);
  });

  it("takes the state closed at the stop after its candle's, once", () => {
    const p = new Portfolio();
    p.update(snap('a', T, 10_500, [{ symbol: 'BTC/USDT', quantity: 0.1, markPrice: 35_000 }]));
    // The stop closes the position at the same candle's close, paying a fee of 3.5: a later state of that candle.
    expect(p.update({ ...snap('a', T, 10_496.5, [], -3.5), closedAtStop: true })).toBe(true);
    expect(p.update({ ...snap('a', T, 10_000), closedAtStop: true })).toBe(false); // redelivered: ignored
    expect(p.status().total).toMatchObject({ equity: 10_496.5, exposure: {} });
  });

  it('ignores a snapshot older than the one it holds (a redelivered message)', () => {
    const p = new Portfolio();
    expect(p.update(snap('a', T + H, 10_500))).toBe(true);
    expect(p.update(snap('a', T, 10_000))).toBe(false);
    expect(p.update(snap('a', T + H, 10_000))).toBe(false);
    expect(p.status().total.equity).toBe(10_500);
  });
});
