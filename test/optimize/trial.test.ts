/**
 * An optimisation trial keeps no trade record (the broker tallies trades as they close) and reuses its equity-curve
 * buffer and its indicator columns from one trial to the next: none of it may change a result. Checked on the shipped 15m BTC/USDT candles with
 * `strategies/macd.ts` against a full replay (trades kept, a fresh broker per run).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { brokerConfig } from '../../framework/broker/broker-config';
import { PaperBroker } from '../../framework/broker/paper-broker';
import { sliceBatch } from '../../framework/core/candle';
import { lowerBound } from '../../framework/core/search';
import { measureReplay } from '../../framework/engine/backtest';
import { Engine } from '../../framework/engine/engine';
import { replayCandles } from '../../framework/feeds/replay';
import { runTrial } from '../../framework/optimize/trial';
import { strategyFromModule } from '../../framework/strategy/loader';
import MacdCrossover from '../../strategies/macd';

const BTC_15M = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' } as const;
const FILE = 'strategies/macd.ts';
const EMA_CROSS = 'test/fixtures/strategies/ema-cross-columns.ts';
const candles = replayCandles('datasets', BTC_15M);
const plugin = { module: (await import(path.resolve(FILE))) as Record<string, unknown>, file: FILE };

/**
 * A full replay of `strategies/macd.ts` (or the plugin `of`; with `params`, default its own) over the candles opening
 * in `[from, to)`: trades and fills kept, new indicator columns.
 */
async function fullReplay(from: number, to: number, params: Record<string, number> = {}, of = plugin) {
  const span = sliceBatch(candles, lowerBound(candles.openTime, from), lowerBound(candles.openTime, to));
  const broker = new PaperBroker(brokerConfig());
  const overrides = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
  const { strategy } = strategyFromModule(of.module, of.file, overrides);
  await new Engine({ strategy, broker, file: of.file, subscription: BTC_15M }).replay(span);
  return { broker, metrics: measureReplay(span, broker, BTC_15M.timeframe, strategy.warmup).metrics, equity: Array.from(broker.equityCurve.equity) };
}

const trial = (from: number, to: number) =>
  runTrial(plugin, { traded: candles, informative: new Map() }, { params: {}, from, to, equity: true }, brokerConfig());

describe('a trial', () => {
  const first = candles.openTime[0]!;
  const end = candles.openTime[candles.openTime.length - 1]! + 15 * 60_000;
  const middle = candles.openTime[Math.floor(candles.openTime.length / 2)]!;

  it('tallies the trades it does not keep exactly as the kept trades sum up', async () => {
    const full = await fullReplay(first, end);
    const lean = new PaperBroker(brokerConfig(), { keepFills: false, keepTrades: false });
    await new Engine({ strategy: new MacdCrossover(), broker: lean, file: FILE, subscription: BTC_15M }).replay(candles, { journal: false });
    const leanMetrics = measureReplay(candles, lean, BTC_15M.timeframe, 400).metrics;
    expect(full.broker.trades.length).toBeGreaterThan(500);
    expect(lean.trades).toEqual([]);
    // The tally, summed here by hand over the kept trades in their order.
    let [wins, grossProfit, grossLoss, pnl, returns] = [0, 0, 0, 0, 0];
    for (const t of full.broker.trades) {
      if (t.pnl > 0) [wins, grossProfit] = [wins + 1, grossProfit + t.pnl];
      else grossLoss -= t.pnl;
      pnl += t.pnl;
      returns += t.returnFraction;
    }
    expect(lean.tradeTally).toStrictEqual({ count: full.broker.trades.length, wins, grossProfit, grossLoss, pnl, returns });
    expect(leanMetrics).toStrictEqual(full.metrics);
    expect(Array.from(lean.equityCurve.equity)).toEqual(full.equity);
  });

  it('gives the full replay’s metrics and equity, whatever trial ran before it in the process', async () => {
    const whole = await trial(first, end);
    const half = await trial(middle, end); // a shorter curve into the buffer the longer one filled
    const again = await trial(first, end);
    const [fullWhole, fullHalf] = [await fullReplay(first, end), await fullReplay(middle, end)];
    expect(whole.metrics).toStrictEqual(fullWhole.metrics);
    expect(whole.equity?.equity).toEqual(fullWhole.equity);
    expect(half.metrics).toStrictEqual(fullHalf.metrics);
    expect(half.equity?.equity).toEqual(fullHalf.equity);
    expect(again).toStrictEqual(whole);
  });

  it('gives the moments of the returns its Sharpe ratio reads (after the warm-up), as a plain computation from its equity', async () => {
    const { metrics, moments, equity } = await trial(first, end);
    // Worked out here from the equity curve the trial returns: the simple returns from the 400th candle (the strategy's
    // warm-up, which the metrics leave out) on, their mean, sample deviation and population skewness and kurtosis.
    const curve = equity!.equity.slice(400);
    const returns = curve.slice(1).map((e, i) => e / curve[i]! - 1);
    const n = returns.length;
    const mean = returns.reduce((a, r) => a + r, 0) / n;
    const central = (k: number) => returns.reduce((a, r) => a + (r - mean) ** k, 0) / n;
    const [std, skewness, kurtosis] = [Math.sqrt((central(2) * n) / (n - 1)), central(3) / central(2) ** 1.5, central(4) / central(2) ** 2];
    expect(moments.count).toBe(n);
    for (const [actual, expected] of [[moments.mean, mean], [moments.std, std], [moments.skewness, skewness], [moments.kurtosis, kurtosis]] as const) {
      expect(Math.abs(actual / expected - 1)).toBeLessThan(1e-9);
    }
    // The Sharpe ratio per candle from the moments is the metrics' annualised one, un-annualised (√(candles per year)).
    expect(Math.abs(((moments.mean / moments.std) * Math.sqrt(365 * 96)) / metrics.sharpe! - 1)).toBeLessThan(1e-12);
  });

  it('computes its indicators into columns no other trial writes, run after other trials or at the same time', async () => {
    // A strategy whose onData reads two EMA columns made in populateColumns (a trial's pooled columns), with two
    // parameter sets whose columns differ: a column of one trial written by another (lent again while the first still
    // reads it, or two columns of one trial sharing memory) changes its trades. Trials started together each compute
    // their columns before any of them replays.
    const columnPlugin = { module: (await import(path.resolve(EMA_CROSS))) as Record<string, unknown>, file: EMA_CROSS };
    const [a, b] = [{ fast: 10, slow: 30 }, { fast: 3, slow: 150 }];
    const [fullA, fullB] = [await fullReplay(first, end, a, columnPlugin), await fullReplay(middle, end, b, columnPlugin)];
    expect(fullA.metrics.trades).toBeGreaterThan(100);
    expect(fullB.metrics.trades).toBeGreaterThan(100);
    const run = (from: number, params: Record<string, number>) =>
      runTrial(columnPlugin, { traded: candles, informative: new Map() }, { params, from, to: end, equity: true }, brokerConfig());
    const inTurn = [await run(first, a), await run(middle, b), await run(first, a), await run(middle, b)];
    const together = await Promise.all([run(first, a), run(middle, b), run(first, a), run(middle, b)]);
    for (const [trialRun, full] of [...inTurn, ...together].map((r, i) => [r, i % 2 === 0 ? fullA : fullB] as const)) {
      expect(trialRun.metrics).toStrictEqual(full.metrics);
      expect(trialRun.equity?.equity).toEqual(full.equity);
    }
  });
});
