/**
 * An optimisation trial keeps no trade record (the broker tallies trades as they close) and reuses its equity-curve
 * buffer from one trial to the next: neither may change a result. Checked on the shipped 15m BTC/USDT candles with
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
import MacdCrossover from '../../strategies/macd';

const BTC_15M = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' } as const;
const FILE = 'strategies/macd.ts';
const candles = replayCandles('datasets', BTC_15M);
const plugin = { module: (await import(path.resolve(FILE))) as Record<string, unknown>, file: FILE };

/** A full replay of `strategies/macd.ts` over the candles opening in `[from, to)`: trades and fills kept. */
async function fullReplay(from: number, to: number) {
  const span = sliceBatch(candles, lowerBound(candles.openTime, from), lowerBound(candles.openTime, to));
  const broker = new PaperBroker(brokerConfig());
  await new Engine({ strategy: new MacdCrossover(), broker, file: FILE, subscription: BTC_15M }).replay(span);
  return { broker, metrics: measureReplay(span, broker, BTC_15M.timeframe, 400), equity: Array.from(broker.equityCurve.equity) };
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
    const leanMetrics = measureReplay(candles, lean, BTC_15M.timeframe, 400);
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
});
