import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientOrderId, type Order, type OrderEvent, type OrderReason, type OrderSide } from '../../framework/broker/orders';
import { OrderExecutor } from '../../framework/execution/executor';
import { SpotShortError } from '../../framework/execution/mirrored';
import type { BinanceKlineTap } from '../../framework/feeds/live/binance-tap';
import { createExchange } from '../../framework/feeds/live/exchange';
import { replayCandles } from '../../framework/feeds/replay';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';

// The executor against the simulator through real ccxt on loopback, driven by the order events a paper broker emits
// (written out here so that each case's arithmetic can be done by hand). BTC/USDT's amount step on the simulator is
// 0.000001 BTC (its LOT_SIZE stepSize); ccxt truncates to it.
const H1 = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' } as const;
const credentials = { apiKey: 'exec-key', secret: 'exec-secret' };
const T0 = Date.UTC(2021, 2, 1, 9);
const scratch = mkdtempSync(path.join(tmpdir(), 'executor-'));
let sim: Simulator;
let exchange: BinanceKlineTap;

beforeAll(async () => {
  sim = await startSimulator({
    markets: [{ symbol: H1.symbol, timeframe: H1.timeframe, candles: replayCandles('datasets', H1) }],
    startTime: Date.UTC(2021, 2, 1, 10, 30),
    speed: 0,
    account: credentials,
  });
  exchange = createExchange('binance', { urls: sim, enableRateLimit: false, credentials });
});

afterAll(async () => {
  await exchange.close();
  await sim.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** A paper order as the broker makes it: the `counter`-th of the candle opening `hours` after T0. */
function paper(reason: OrderReason, side: OrderSide, quantity: number, hours: number, counter = 0, type: Order['type'] = 'market', status: Order['status'] = 'accepted'): Order {
  return {
    clientOrderId: clientOrderId('executor-test', T0 + hours * 3_600_000, counter),
    side,
    type,
    reason,
    quantity,
    decidedAt: T0 + hours * 3_600_000,
    status,
    filledQuantity: status === 'filled' ? quantity : 0,
    averagePrice: Number.NaN,
  };
}

function lines<T>(file: string): T[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as T);
}

describe('OrderExecutor: every paper fill becomes an exchange order sized from what the exchange filled', () => {
  it('entry, its fill event, a DCA add, a partial exit, a working stop, the stop\'s fill, the report\'s close', async () => {
    const dir = mkdtempSync(path.join(scratch, 'run-'));
    const executor = new OrderExecutor({ venue: exchange, symbol: 'BTC/USDT', strategy: 'executor-test', dir });
    await executor.start();
    const before = sim.orders.length;
    const entry = paper('entry', 'buy', 0.0123456, 0);
    const add = paper('add', 'buy', 0.005, 1);
    const partial = paper('partial_exit', 'sell', 0.0086728, 2);
    const stop = paper('stop_loss', 'sell', 0.0086728, 3, 0, 'stop');
    const events: OrderEvent[] = [
      // buy 0.0123456 truncated to the step: 0.012345; held 0.012345
      { order: entry, targetQuantity: 0.0123456 },
      // the same target once the paper order filled: 0.0000006 left, below the step: nothing sent
      { order: { ...entry, status: 'filled', filledQuantity: 0.0123456 }, targetQuantity: 0.0123456 },
      // target 0.0173456: 0.0173456 − 0.012345 = 0.0050006 → buy 0.005; held 0.017345
      { order: add, targetQuantity: 0.0173456 },
      // target 0.0086728: 0.017345 − 0.0086728 = 0.0086722 → sell 0.008672; held 0.008673
      { order: partial, targetQuantity: 0.0086728 },
      // a working stop stays on paper: nothing sent
      { order: stop, targetQuantity: 0.0086728 },
      // the stop triggered and filled on paper: target 0 → sell the 0.008673 held
      { order: { ...stop, status: 'filled', filledQuantity: 0.0086728 }, targetQuantity: 0 },
      // the report's end-of-run close is not mirrored
      { order: paper('end_of_data', 'buy', 1, 4), targetQuantity: 1 },
    ];
    for (const event of events) executor.listener(event);
    await executor.flush();
    executor.close();

    const sent = sim.orders.slice(before);
    expect(sent.map((o) => [o.side, o.quantity])).toEqual([['BUY', 0.012345], ['BUY', 0.005], ['SELL', 0.008672], ['SELL', 0.008673]]);
    expect(executor.held).toBe(0);
    const journal = lines<{ clientOrderId: string; orderId: string; filled: number; held: number; reason: string; status: string; failure: unknown }>(path.join(dir, 'orders.jsonl'));
    // each order's line written before it went out, then its answer
    expect(journal.map((r) => r.status)).toEqual(['sending', 'closed', 'sending', 'closed', 'sending', 'closed', 'sending', 'closed']);
    const records = journal.filter((r) => r.status !== 'sending');
    expect(records.map((r) => [r.clientOrderId, r.orderId, r.filled, r.reason, r.failure])).toEqual([
      [entry.clientOrderId, String(sent[0]!.orderId), 0.012345, 'entry', null],
      [add.clientOrderId, String(sent[1]!.orderId), 0.005, 'add', null],
      [partial.clientOrderId, String(sent[2]!.orderId), 0.008672, 'partial_exit', null],
      [stop.clientOrderId, String(sent[3]!.orderId), 0.008673, 'stop_loss', null],
    ]);
    expect(records.map((r) => r.held)).toEqual([0.012345, 0.017345, 0.008673, 0]);
    const events2 = lines<{ type: string; clientOrderId: string; strategy: string; symbol: string; average: number }>(path.join(dir, 'events.jsonl'));
    expect(events2.map((e) => [e.type, e.clientOrderId, e.strategy, e.symbol])).toEqual(
      records.map((r) => ['trade_executed', r.clientOrderId, 'executor-test', 'BTC/USDT']),
    );
    expect(events2.map((e) => e.average)).toEqual(sent.map((o) => o.price));
  });

  it('a difference worth less than the minimum order value (5 USDT) is not sent, and goes with the next order', async () => {
    const dir = mkdtempSync(path.join(scratch, 'run-'));
    const executor = new OrderExecutor({ venue: exchange, symbol: 'BTC/USDT', strategy: 'executor-test', dir });
    await executor.start();
    const before = sim.orders.length;
    const entry = paper('entry', 'buy', 0.02, 0);
    const exit = paper('exit', 'sell', 0.01997, 1);
    executor.listener({ order: entry, targetQuantity: 0.02 });
    // the paper fill could afford only 0.01997: 0.00003 BTC at ~45,000 USDT is ~1.4 USDT, below the NOTIONAL minimum
    executor.listener({ order: { ...entry, status: 'cancelled', filledQuantity: 0.01997 }, targetQuantity: 0.01997 });
    // the exit sells all the run holds, the 0.00003 with it
    executor.listener({ order: exit, targetQuantity: 0 });
    await executor.flush();
    executor.close();
    expect(sim.orders.slice(before).map((o) => [o.clientOrderId, o.side, o.quantity])).toEqual([
      [entry.clientOrderId, 'BUY', 0.02],
      [exit.clientOrderId, 'SELL', 0.02],
    ]);
    const records = lines<{ clientOrderId: string; amount: number; status: string; failure: { classification: string; message: string } | null }>(path.join(dir, 'orders.jsonl')).filter((r) => r.status !== 'sending');
    expect(records.map((r) => [r.clientOrderId, r.amount, r.failure?.classification ?? null])).toEqual([
      [entry.clientOrderId, 0.02, null],
      [`${entry.clientOrderId}r1`, 0.00003, 'not_sent'],
      [exit.clientOrderId, 0.02, null],
    ]);
    expect(records[1]!.failure!.message).toMatch(/^0.00003 BTC ≈ \d+\.\d\d USDT is below the market's minimum order value 5 USDT: left for the next order$/);
  });

  it('a short on spot stops the run with one clear line naming the strategy and the flag', () => {
    const executor = new OrderExecutor({ venue: exchange, symbol: 'BTC/USDT', strategy: 'executor-test', dir: mkdtempSync(path.join(scratch, 'run-')) });
    const short = paper('entry', 'sell', 0.01, 0);
    expect(() => executor.listener({ order: short, targetQuantity: -0.01 })).toThrow(SpotShortError);
    expect(() => executor.listener({ order: short, targetQuantity: -0.01 })).toThrow(
      /^--real-orders: strategy "executor-test" opened a short \(entry sell decided on the candle of 2021-03-01T09:00:00.000Z\), but a spot account cannot short/,
    );
  });
});
