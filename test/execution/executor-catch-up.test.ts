import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerConfig } from '../../framework/broker/broker-config';
import type { OrderEvent } from '../../framework/broker/orders';
import { PaperBroker } from '../../framework/broker/paper-broker';
import { candleAt } from '../../framework/core/candle';
import { OrderExecutor } from '../../framework/execution/executor';
import type { OrderRecord } from '../../framework/execution/orders-journal';
import { createExchange } from '../../framework/feeds/live/exchange';
import { replayCandles } from '../../framework/feeds/replay';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';

// A live run journals a candle's paper decisions (trading.jsonl) before their exchange orders go out. Killed between
// the two, it restarts with paper events the exchange never saw: OrderExecutor.catchUp sends what the restored paper
// position still asks for (once), and counts off a hand sale booked on paper but not yet off the holding (never sold
// again). The real paper broker on real 1h candles makes the events; the simulator's account through real ccxt.
const H1 = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' } as const;
const KEY = { apiKey: 'catch-up-key', secret: 'catch-up-secret' };
const CANDLES = replayCandles('datasets', H1);
const I = CANDLES.openTime.indexOf(Date.UTC(2021, 1, 1)); // any candle: a 0.01% stop triggers on the fill candle
const scratch = mkdtempSync(path.join(tmpdir(), 'executor-catch-up-'));
let sim: Simulator;
const units = (quantity: number): number => Math.round(quantity * 1e8);

beforeAll(async () => {
  sim = await startSimulator({
    markets: [{ symbol: H1.symbol, timeframe: H1.timeframe, candles: CANDLES }],
    startTime: Date.UTC(2021, 2, 1, 10, 30),
    speed: 0,
    account: { ...KEY, balances: { USDT: 100_000 } },
  });
});

afterAll(async () => {
  await sim.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** A paper broker on the market's lot step whose order events are kept, one list per candle (a checkpoint's). */
function paper(amountStep: number): { broker: PaperBroker; perCandle: OrderEvent[][] } {
  const broker = new PaperBroker(brokerConfig({ amountStep, strategyKey: 'catch-up' }));
  const perCandle: OrderEvent[][] = [];
  broker.addOrderListener((event) => perCandle.at(-1)!.push(event));
  return { broker, perCandle };
}

describe('OrderExecutor.catchUp after a kill between a checkpoint and its orders', () => {
  it('sends the stop-loss the exchange never saw, once, under its client order id; a second restart sends nothing', async () => {
    const dir = mkdtempSync(path.join(scratch, 'run-'));
    const exchange = createExchange('binance', { urls: sim, enableRateLimit: false, credentials: KEY });
    try {
      const first = new OrderExecutor({ venue: exchange, symbol: H1.symbol, strategy: 'catch-up', dir });
      const { broker, perCandle } = paper((await first.start())!);
      perCandle.push([]);
      broker.onCandle(candleAt(CANDLES, I));
      broker.submit({ action: 'enter_long', size: { quote: 1_000 }, stopLoss: 0.0001 }, candleAt(CANDLES, I));
      for (const event of perCandle[0]!) first.listener(event);
      await first.flush(); // candle 0 checkpointed, then its entry sent
      perCandle.push([]);
      broker.onCandle(candleAt(CANDLES, I + 1)); // the entry fills and its stop triggers; checkpointed, then killed
      first.close();
      const stop = perCandle[1]!.find((e) => e.order.reason === 'stop_loss')!.order;
      expect(broker.position).toBeNull();
      expect(units(first.held)).toBe(units(stop.quantity));

      const events = perCandle.flat();
      const second = new OrderExecutor({ venue: exchange, symbol: H1.symbol, strategy: 'catch-up', dir });
      await second.start();
      second.catchUp(events);
      await second.flush();
      second.close();
      const third = new OrderExecutor({ venue: exchange, symbol: H1.symbol, strategy: 'catch-up', dir });
      await third.start();
      third.catchUp(events);
      await third.flush();
      third.close();

      const orders = sim.account.orders.filter((o) => !o.manual).map((o) => [o.clientOrderId, o.side, units(o.executedQuantity)]);
      const entry = events[0]!.order;
      expect(orders).toEqual([
        [entry.clientOrderId, 'BUY', units(entry.quantity)],
        [stop.clientOrderId, 'SELL', units(stop.quantity)],
      ]);
      expect(units(sim.account.balance('BTC').free)).toBe(0);
      expect(third.held).toBe(0);
    } finally {
      await exchange.close();
    }
  });

  it('counts a hand sale booked on paper off the holding, sells nothing, and does it once', async () => {
    const dir = mkdtempSync(path.join(scratch, 'run-'));
    const exchange = createExchange('binance', { urls: sim, enableRateLimit: false, credentials: KEY });
    const btcBefore = units(sim.account.balance('BTC').free);
    const ordersBefore = sim.account.orders.length;
    try {
      const first = new OrderExecutor({ venue: exchange, symbol: H1.symbol, strategy: 'catch-up', dir });
      const { broker, perCandle } = paper((await first.start())!);
      perCandle.push([]);
      broker.onCandle(candleAt(CANDLES, I));
      broker.submit({ action: 'enter_long', size: { quote: 1_000 } }, candleAt(CANDLES, I));
      for (const event of perCandle[0]!) first.listener(event);
      await first.flush();
      const bought = first.held;
      const sale = sim.account.trade({ symbol: H1.symbol, side: 'sell', quantity: bought }); // by hand
      broker.closeOnExchange(bought, sale.price); // as reconciliation hands it over
      perCandle.push([]);
      broker.onCandle(candleAt(CANDLES, I + 1)); // the entry fills, the sale closes it; checkpointed, then killed
      first.close();
      expect(broker.trades.map((t) => t.exitReason)).toEqual(['closed_on_exchange']);

      for (let restart = 0; restart < 2; restart += 1) {
        const next = new OrderExecutor({ venue: exchange, symbol: H1.symbol, strategy: 'catch-up', dir });
        await next.start();
        next.catchUp(perCandle.flat());
        await next.flush();
        next.close();
        expect(next.held).toBe(0);
      }
      expect(sim.account.orders.length - ordersBefore).toBe(2); // the run's entry and the hand sale, nothing else
      expect(units(sim.account.balance('BTC').free)).toBe(btcBefore);
      const records = readFileSync(path.join(dir, 'orders.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as OrderRecord);
      expect(records.filter((r) => r.request === 'reconcile').map((r) => units(r.amount))).toEqual([units(bought)]);
    } finally {
      await exchange.close();
    }
  });
});
