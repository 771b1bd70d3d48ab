import { describe, expect, it } from 'vitest';
import type { Trade } from '../../framework/broker/types';
import { FrameworkError } from '../../framework/core/errors';
import { computeMetrics, type MetricsInput, YEAR_MS } from '../../framework/report/metrics';
import { loadJsonCandles } from '../support/shared-data';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2021, 0, 1);

function trade(pnl: number, returnFraction: number): Trade {
  return { side: 'long', entryTime: T0, entryPrice: 1, exitTime: T0 + HOUR, exitPrice: 1, quantity: 1, fees: 0, pnl, returnFraction, exitReason: 'signal' };
}

function input(equity: number[], overrides: Partial<MetricsInput> = {}): MetricsInput {
  return {
    equity,
    time: equity.map((_, i) => T0 + i * HOUR),
    timeframe: '1h',
    trades: [],
    firstOpen: 100,
    lastClose: 150,
    exposedCandles: 0,
    ...overrides,
  };
}

describe('computeMetrics on hand-checkable curves', () => {
  it('computes returns, Sharpe, Sortino, drawdown on equity 100 → 110 → 99 → 120 (1h)', () => {
    const m = computeMetrics(input([100, 110, 99, 120], { exposedCandles: 2 }));
    // r = [0.1, −0.1, 0.2121212]; mean 0.0707071; sample std √(0.0499972 / 2) = 0.1581090
    // Sharpe = 0.0707071 / 0.1581090 × √8760 (= 93.59487) = 41.85604
    expect(m.sharpe).toBeCloseTo(41.85604, 4);
    // downside deviation √((0.1²) / 3) = 0.0577350 → Sortino = 0.0707071 / 0.0577350 × 93.59487 = 114.62399
    expect(m.sortino).toBeCloseTo(114.62399, 4);
    expect(m.startEquity).toBe(100);
    expect(m.endEquity).toBe(120);
    expect(m.totalReturn).toBeCloseTo(0.2, 12);
    // peak 110 (t1) → trough 99: 10%; back above 110 at t3 → 2 h under water
    expect(m.maxDrawdown).toBeCloseTo(0.1, 12);
    expect(m.maxDrawdownDuration).toBe(2 * HOUR);
    expect(m.exposure).toBe(0.5);
    expect(m.buyAndHoldReturn).toBeCloseTo(0.5, 12); // 150 / 100 − 1
    // span 4 h = 4/8760 years: CAGR = 1.2^2190 − 1 ≈ 2.5523e173; Calmar = CAGR / 0.1
    expect(m.cagr / 2.552283097e173).toBeCloseTo(1, 8);
    expect(m.calmar! / 2.552283097e174).toBeCloseTo(1, 8);
  });

  it('uses span = last open + timeframe − first open, 365-day years, for CAGR', () => {
    // 1d candles, first at day 0, last at day 364 → span 365 days = 1 year; 100 → 200 doubles: CAGR 100%
    const m = computeMetrics({ ...input([100, 200]), time: [T0, T0 + 364 * DAY], timeframe: '1d' });
    expect(m.cagr).toBeCloseTo(1, 12);
    // 2 years of doubling-per-year: 100 → 400 over 730 days → CAGR 100%
    const two = computeMetrics({ ...input([100, 400]), time: [T0, T0 + 729 * DAY], timeframe: '1d' });
    expect(two.cagr).toBeCloseTo(1, 12);
  });

  it('measures an unrecovered drawdown to the last candle and ignores flat stretches at the peak', () => {
    const m = computeMetrics(input([100, 100, 100, 90, 95]));
    expect(m.maxDrawdown).toBeCloseTo(0.1, 12);
    expect(m.maxDrawdownDuration).toBe(2 * HOUR); // from the last candle at the peak (t2) to the end (t4)
    const flat = computeMetrics(input([100, 100, 100]));
    expect(flat).toMatchObject({ maxDrawdown: 0, maxDrawdownDuration: 0, sharpe: null, sortino: null, calmar: null, totalReturn: 0, cagr: 0 });
  });

  it('gives null Sharpe/Sortino when undefined: one candle, no downside', () => {
    expect(computeMetrics(input([100]))).toMatchObject({ sharpe: null, sortino: null });
    const up = computeMetrics(input([100, 101, 103]));
    expect(up.sortino).toBeNull();
    expect(up.sharpe).not.toBeNull();
  });

  it('computes trade statistics: win rate, profit factor, expectancy', () => {
    const m = computeMetrics(input([100, 100], { trades: [trade(100, 0.1), trade(-50, -0.05), trade(30, 0.03)] }));
    expect(m.trades).toBe(3);
    expect(m.winRate).toBeCloseTo(2 / 3, 12);
    expect(m.profitFactor).toBeCloseTo(2.6, 12); // 130 / 50
    expect(m.expectancy).toBeCloseTo(80 / 3, 12); // 26.667 quote per trade
    expect(m.expectancyFraction).toBeCloseTo(0.08 / 3, 12);
    expect(computeMetrics(input([100, 100], { trades: [trade(10, 0.01)] })).profitFactor).toBe(Number.POSITIVE_INFINITY);
    expect(computeMetrics(input([100, 100]))).toMatchObject({ trades: 0, winRate: null, profitFactor: null, expectancy: null, expectancyFraction: null });
  });

  it('gives the same bits as one pass per sum, in candle order, on a real equity curve', () => {
    // Holding 1 BTC over Binance BTC/USDT 1h (../shared/data): equity = the close, 5,500 returns of either sign, many
    // drawdowns. The reference is the definitions written out, a pass per sum, each summing in
    // candle order, as computeMetrics' passes must (its result is compared bit for bit, not to a tolerance).
    const equity = loadJsonCandles('BTC_USDT-1h.json').map((c) => c.close);
    const time = equity.map((_, i) => T0 + i * HOUR);
    const returns = equity.slice(1).map((e, i) => e / equity[i]! - 1);
    let sum = 0;
    for (const r of returns) sum += r;
    const mean = sum / returns.length;
    let squares = 0;
    for (const r of returns) squares += (r - mean) * (r - mean);
    let downsideSquares = 0;
    for (const r of returns) if (r < 0) downsideSquares += r * r;
    const annualise = Math.sqrt(YEAR_MS / HOUR);
    let [peak, peakTime, worst, longest] = [equity[0]!, time[0]!, 0, 0];
    for (let i = 1; i < equity.length; i++) {
      if (equity[i]! >= peak) [peak, peakTime] = [equity[i]!, time[i]!];
      else [worst, longest] = [Math.max(worst, 1 - equity[i]! / peak), Math.max(longest, time[i]! - peakTime)];
    }
    expect(returns.filter((r) => r < 0).length).toBeGreaterThan(2000);
    const m = computeMetrics(input(equity, { time }));
    expect(m.sharpe).toBe((mean / Math.sqrt(squares / (returns.length - 1))) * annualise);
    expect(m.sortino).toBe((mean / Math.sqrt(downsideSquares / returns.length)) * annualise);
    expect(m.maxDrawdown).toBe(worst);
    expect(m.maxDrawdownDuration).toBe(longest);
  });

  it('rejects inconsistent input with a FrameworkError', () => {
    expect(() => computeMetrics(input([]))).toThrow(/equity curve is empty/);
    expect(() => computeMetrics({ ...input([1, 2]), time: [T0] })).toThrow(FrameworkError);
    expect(() => computeMetrics(input([1, 2], { exposedCandles: 3 }))).toThrow(/exposedCandles 3/);
    expect(() => computeMetrics(input([1, 2], { timeframe: '1Y' }))).toThrow(/invalid timeframe/);
  });
});
