import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { brokerConfig } from '../../framework/broker/broker-config';
import { PaperBroker } from '../../framework/broker/paper-broker';
import { candleAt } from '../../framework/core/candle';
import { OrderExecutor } from '../../framework/execution/executor';
import type { OrderRecord } from '../../framework/execution/orders-journal';
import { ReconciliationLoop } from '../../framework/execution/reconcile-loop';
import { createExchange } from '../../framework/feeds/live/exchange';
import { replayCandles } from '../../framework/feeds/replay';
import { startSimulator } from '../../framework/sim/simulator';

// A hand sale larger than the paper position (issue 12, reconciliation): the run's exchange holding is above its paper
// position (the paper broker could not afford all of an all-in entry the exchange filled: its fill price carries 1 bp of
// slippage over the deciding close, and the few USDT of difference are below the exchange's minimum order value, so
// they stay), and a person sells the whole holding by hand. The real paper broker, executor and reconciliation loop, on
// the simulator's account through real ccxt: the paper trade closes as closed_on_exchange, the whole sale is counted off
// the run's holding (the run and the account agree again), the part beyond the paper position is reported and never
// traded, and the next entry leaves the account holding exactly the paper position.
const H1 = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' } as const;
const KEY = { apiKey: 'beyond-key', secret: 'beyond-secret' };
const CANDLES = replayCandles('datasets', H1);
const scratch = mkdtempSync(path.join(tmpdir(), 'sold-beyond-paper-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Base quantities in Binance's unit, 10⁻⁸: exact integers. */
const units = (quantity: number): number => Math.round(quantity * 1e8);

/**
 * The first candle after `from` whose next candle opens at its close: an all-in paper entry decided on that close and
 * filled 1 bp dearer misses ≈ 0.0001 × 10 000 USDT = 1 USDT of it (two or three 0.00001 BTC lots at 45 000 USDT), less
 * than the 5 USDT minimum order value.
 */
function flatOpenAfter(from: number): number {
  for (let i = 0; i + 3 < CANDLES.openTime.length; i += 1) {
    if (CANDLES.openTime[i]! >= from && CANDLES.open[i + 1] === CANDLES.close[i]) return i;
  }
  throw new Error('no candle opening at the previous close in the 1h dataset');
}

describe('a hand sale larger than the paper position', () => {
  it('closes the paper trade as closed_on_exchange, counts the whole sale off the run\'s holding, reports the rest, trades none of it', async () => {
    const start = Date.UTC(2021, 2, 1, 10, 30);
    const sim = await startSimulator({
      markets: [{ symbol: H1.symbol, timeframe: H1.timeframe, candles: CANDLES }],
      startTime: start,
      speed: 0,
      account: { ...KEY, balances: { USDT: 100_000 } },
    });
    const exchange = createExchange('binance', { urls: sim, enableRateLimit: false, credentials: KEY });
    const dir = mkdtempSync(path.join(scratch, 'run-'));
    const executor = new OrderExecutor({ venue: exchange, symbol: H1.symbol, strategy: 'beyond', dir });
    try {
      const amountStep = await executor.start();
      // All in: the entry is sized on the close and filled 1 bp dearer at the next open.
      const broker = new PaperBroker(brokerConfig({ initialCash: 10_000, stake: { fraction: 1 }, slippageBps: 1, amountStep: amountStep!, strategyKey: 'beyond' }));
      broker.addOrderListener(executor.listener);
      const i = flatOpenAfter(Date.UTC(2021, 1, 1));
      const candle = (k: number) => candleAt(CANDLES, i + k);

      broker.onCandle(candle(0));
      expect(broker.submit({ action: 'enter_long' }, candle(0))).toEqual({ acted: true });
      await executor.flush(); // the exchange fills the whole order
      const bought = executor.held;
      broker.onCandle(candle(1)); // the paper fills what its cash pays for at the dearer price
      await executor.flush(); // the difference is below 5 USDT: left for the position's next order
      const paper = broker.position!.quantity;
      expect(units(paper)).toBeLessThan(units(bought));
      expect(units(sim.account.balance('BTC').free)).toBe(units(bought));

      // A person sells the whole holding on the exchange.
      const sale = sim.account.trade({ symbol: H1.symbol, side: 'sell', quantity: bought });
      const ordersBefore = sim.account.orders.filter((o) => !o.manual).length;
      let reconnects = 0;
      const loop = new ReconciliationLoop({
        exchange, symbol: H1.symbol, base: 'BTC', broker, executor, dir, strategy: 'beyond',
        intervalMs: 3_600_000, now: () => sim.clock(), reconnects: () => reconnects,
      });
      await loop.start((task) => task()); // finds the sale: the whole holding, more than the paper position
      broker.onCandle(candle(2)); // the paper trade closes at the sale's price
      await executor.flush();
      reconnects += 1;
      await loop.beforeCandle(); // another pass: in sync, nothing more found

      expect(broker.position).toBeNull();
      expect(broker.trades).toHaveLength(1);
      expect(broker.trades[0]).toMatchObject({ exitReason: 'closed_on_exchange', exitPrice: sale.price, quantity: paper });
      expect(units(executor.held)).toBe(0);
      expect(units(sim.account.balance('BTC').free)).toBe(0);
      const events = readFileSync(path.join(dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const mismatches = events.filter((e) => e['type'] === 'position_mismatch');
      expect(mismatches.map((e) => e['finding'])).toEqual(['closed_on_exchange', 'sold_beyond_paper']);
      expect(units(mismatches[0]!['closedQuantity'] as number)).toBe(units(bought));
      expect(mismatches[1]).toMatchObject({ price: sale.price, clientOrderId: null, held: 0 });
      expect(units(mismatches[1]!['beyondPaper'] as number)).toBe(units(bought) - units(paper));
      const reconciled = readFileSync(path.join(dir, 'orders.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as OrderRecord).filter((r) => r.request === 'reconcile');
      expect(reconciled.map((r) => [units(r.filled!), r.held])).toEqual([[units(bought), 0]]);
      // Never traded: the run sent no order for the sale.
      expect(sim.account.orders.filter((o) => !o.manual)).toHaveLength(ordersBefore);

      // The next entry: the account holds exactly the paper position (no phantom holding left to under-buy by).
      expect(broker.submit({ action: 'enter_long', size: { quote: 1_000 } }, candle(2))).toEqual({ acted: true });
      await executor.flush();
      broker.onCandle(candle(3));
      await executor.flush();
      expect(units(sim.account.balance('BTC').free)).toBe(units(broker.position!.quantity));
      await loop.stop();
    } finally {
      executor.close();
      await exchange.close();
      await sim.stop();
    }
  }, 60_000);
});
