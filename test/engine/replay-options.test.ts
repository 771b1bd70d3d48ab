import { describe, expect, it } from 'vitest';
import { brokerConfig } from '../../framework/broker/broker-config';
import type { Order } from '../../framework/broker/orders';
import { PaperBroker } from '../../framework/broker/paper-broker';
import { measureReplay } from '../../framework/engine/backtest';
import { Engine } from '../../framework/engine/engine';
import { replayCandles } from '../../framework/feeds/replay';
import MacdCrossover from '../../strategies/macd';

const BTC_15M = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' } as const;
const candles = replayCandles('datasets', BTC_15M);

/** A replay of strategies/macd.ts with the given options, and what it left. */
async function replay(journal: boolean, keepFills: boolean) {
  const broker = new PaperBroker(brokerConfig(), { keepFills });
  const engine = new Engine({ strategy: new MacdCrossover(), broker, file: 'strategies/macd.ts', subscription: BTC_15M });
  await engine.replay(candles, { journal });
  const metrics = measureReplay(candles, broker, BTC_15M.timeframe, 400).metrics;
  return { engine, broker, metrics };
}

describe('a replay as an optimisation trial runs it (no signal journal, no fills kept, no order ids)', () => {
  it('trades, marks and scores exactly as the full replay, keeping neither', async () => {
    const full = await replay(true, true);
    const trial = await replay(false, false);
    expect(full.engine.journal.length).toBeGreaterThan(500);
    expect(full.broker.fills.length).toBe(2 * full.broker.trades.length);
    expect(trial.engine.journal.length).toBe(0);
    expect(trial.broker.fills).toEqual([]);
    expect(trial.broker.trades).toStrictEqual(full.broker.trades);
    expect(Array.from(trial.broker.equityCurve.equity)).toEqual(Array.from(full.broker.equityCurve.equity));
    expect(trial.metrics).toStrictEqual(full.metrics);
  });

  it('still tells order listeners every event', async () => {
    const events = (keepFills: boolean) => {
      const broker = new PaperBroker(brokerConfig(), { keepFills });
      const seen: string[] = [];
      broker.addOrderListener(({ order }) => seen.push(`${order.clientOrderId} ${order.status} ${order.filledQuantity}`));
      return { broker, seen };
    };
    const [kept, dropped] = [events(true), events(false)];
    for (const { broker } of [kept, dropped]) {
      const engine = new Engine({ strategy: new MacdCrossover(), broker, file: 'strategies/macd.ts', subscription: BTC_15M });
      await engine.replay(candles, { journal: false });
    }
    expect(kept.seen.length).toBeGreaterThan(1_000);
    expect(dropped.seen).toEqual(kept.seen);
    // Every fill is told as its order filled or partially filled (a buy that cash could not pay in full).
    expect(kept.seen.filter((e) => / (partially_)?filled /.test(e)).length).toBe(kept.broker.fills.length);
  });

  it('makes no client order id with orderIds: false, and otherwise the same orders, fills, trades and equity', async () => {
    const run = async (orderIds: boolean) => {
      const broker = new PaperBroker(brokerConfig(), { orderIds });
      const events: Order[] = [];
      broker.addOrderListener(({ order }) => events.push(order));
      const engine = new Engine({ strategy: new MacdCrossover(), broker, file: 'strategies/macd.ts', subscription: BTC_15M });
      await engine.replay(candles, { journal: false });
      const metrics = measureReplay(candles, broker, BTC_15M.timeframe, 400).metrics;
      return { broker, events, metrics };
    };
    const [withIds, without] = [await run(true), await run(false)];
    const idLess = <T extends { clientOrderId: string }>(records: readonly T[]) => records.map((r) => ({ ...r, clientOrderId: '' }));
    expect(withIds.events.length).toBeGreaterThan(2_000);
    expect(withIds.events.every((o) => /^cc[0-9a-f]{8}-[0-9a-z]+-[0-9a-z]+$/.test(o.clientOrderId))).toBe(true);
    expect(without.events.map((o) => o.clientOrderId)).toEqual(without.events.map(() => ''));
    expect(without.events).toStrictEqual(idLess(withIds.events));
    expect(without.broker.fills).toStrictEqual(idLess(withIds.broker.fills));
    expect(without.broker.trades).toStrictEqual(withIds.broker.trades);
    expect(Array.from(without.broker.equityCurve.equity)).toEqual(Array.from(withIds.broker.equityCurve.equity));
    expect(without.metrics).toStrictEqual(withIds.metrics);
  });
});
