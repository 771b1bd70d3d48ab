import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clientOrderId, type Order } from '../../framework/broker/orders';
import type { ExecutionLimits } from '../../framework/execution/decisions';
import { OrderExecutor } from '../../framework/execution/executor';
import type { OrderRecord } from '../../framework/execution/orders-journal';
import type { BinanceKlineTap } from '../../framework/feeds/live/binance-tap';
import { createExchange } from '../../framework/feeds/live/exchange';
import { replayCandles } from '../../framework/feeds/replay';
import type { FaultConfig } from '../../framework/sim/config';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';

// The order path's failures, each injected by the simulator (or a refused connection) and met by real ccxt over
// loopback: what reaches the exchange, what the account holds afterwards, and what orders.jsonl / events.jsonl say.
const H1 = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' } as const;
const credentials = { apiKey: 'faults-key', secret: 'faults-secret' };
const T0 = Date.UTC(2021, 2, 1, 9);
const scratch = mkdtempSync(path.join(tmpdir(), 'executor-faults-'));
const limits: Partial<ExecutionLimits> = { retryDelayMs: 50, queryDelayMs: 50 };
const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

interface Scenario {
  readonly sim: Simulator;
  readonly exchange: BinanceKlineTap;
  readonly executor: OrderExecutor;
  readonly dir: string;
}

async function scenario(faults: FaultConfig): Promise<Scenario> {
  const sim = await startSimulator({
    markets: [{ symbol: H1.symbol, timeframe: H1.timeframe, candles: replayCandles('datasets', H1) }],
    startTime: Date.UTC(2021, 2, 1, 10, 30),
    speed: 0,
    account: credentials,
    faults,
  });
  const exchange = createExchange('binance', { urls: sim, enableRateLimit: false, credentials });
  exchange.timeout = 1_500; // the client's own timeout: what makes a withheld answer ambiguous
  cleanups.push(async () => {
    await exchange.close();
    await sim.stop();
  });
  const dir = mkdtempSync(path.join(scratch, 'run-'));
  const executor = new OrderExecutor({ venue: exchange, symbol: 'BTC/USDT', strategy: 'faults', dir, limits });
  await executor.start();
  return { sim, exchange, executor, dir };
}

function entry(quantity: number, counter = 0): Order {
  return {
    clientOrderId: clientOrderId('faults', T0, counter),
    side: 'buy',
    type: 'market',
    reason: 'entry',
    quantity,
    decidedAt: T0,
    status: 'accepted',
    filledQuantity: 0,
    averagePrice: Number.NaN,
  };
}

function lines<T>(file: string): T[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as T);
}

/** The outcome lines of orders.jsonl (without the `sending` line written before each order goes out). */
function outcomes(dir: string): OrderRecord[] {
  return lines<OrderRecord>(path.join(dir, 'orders.jsonl')).filter((r) => r.status !== 'sending');
}

/** What the exchange holds in BTC, asked through ccxt. */
async function btc(exchange: BinanceKlineTap): Promise<number> {
  const balance = await exchange.fetchBalance();
  return (balance.total as unknown as Record<string, number | undefined>)['BTC'] ?? 0;
}

describe('OrderExecutor on a faulty order path', () => {
  it('accept-then-timeout: resolved by looking the client order id up, never re-sent; exactly one order exists', async () => {
    const { exchange, executor, dir } = await scenario({ orderTimeout: { nth: [1] } });
    const order = entry(0.02);
    executor.listener({ order, targetQuantity: 0.02 });
    await executor.flush();
    const all = await exchange.fetchOrders('BTC/USDT');
    expect(all.map((o) => [o.clientOrderId, o.filled])).toEqual([[order.clientOrderId, 0.02]]);
    expect(await exchange.fetchMyTrades('BTC/USDT')).toHaveLength(1);
    expect(await btc(exchange)).toBe(0.02);
    expect(executor.held).toBe(0.02);
    const records = lines<OrderRecord>(path.join(dir, 'orders.jsonl'));
    // the line written before the order went out, the timeout, then the lookup that found it
    expect(records.map((r) => [r.request, r.clientOrderId, r.failure?.classification ?? null, r.status, r.filled])).toEqual([
      ['create', order.clientOrderId, null, 'sending', null],
      ['create', order.clientOrderId, 'ambiguous', null, null],
      ['fetch', order.clientOrderId, null, 'closed', 0.02],
    ]);
    expect(records[1]!.failure!.message).toContain('timed out');
    expect(lines<{ type: string }>(path.join(dir, 'events.jsonl')).map((e) => e.type)).toEqual(['trade_executed']);
  }, 30_000);

  it('rejection: classified and journaled, not retried; the next event drives the holding to its target again', async () => {
    const { exchange, executor, dir } = await scenario({ orderReject: { nth: [1] } });
    const first = entry(0.02);
    const second = { ...entry(0.02, 1), reason: 'add' as const };
    executor.listener({ order: first, targetQuantity: 0.02 });
    await executor.flush();
    expect(await btc(exchange)).toBe(0);
    // the paper position is 0.02 + 0.01: the exchange, holding nothing for the run, is sent all 0.03
    executor.listener({ order: second, targetQuantity: 0.03 });
    await executor.flush();
    expect(await btc(exchange)).toBe(0.03);
    const records = outcomes(dir);
    expect(records.map((r) => [r.clientOrderId, r.amount, r.failure?.classification ?? null])).toEqual([
      [first.clientOrderId, 0.02, 'rejected'],
      [second.clientOrderId, 0.03, null],
    ]);
    expect(records[0]!.failure!.message).toContain('-2010');
    const events = lines<{ type: string; classification?: string; clientOrderId: string }>(path.join(dir, 'events.jsonl'));
    expect(events.map((e) => [e.type, e.clientOrderId, e.classification ?? null])).toEqual([
      ['trade_failed', first.clientOrderId, 'rejected'],
      ['trade_executed', second.clientOrderId, null],
    ]);
  }, 30_000);

  it('429 on the order: waits out Retry-After, then sends the same client order id once', async () => {
    const { exchange, executor, dir } = await scenario({ order429: { nth: [1], retryAfterSec: 2 } });
    const order = entry(0.02);
    executor.listener({ order, targetQuantity: 0.02 });
    await executor.flush();
    const records = outcomes(dir);
    expect(records.map((r) => [r.clientOrderId, r.failure?.classification ?? null, r.failure?.retryAfterMs ?? null, r.filled])).toEqual([
      [order.clientOrderId, 'rate_limited', 2_000, null],
      [order.clientOrderId, null, null, 0.02],
    ]);
    expect(records[1]!.time - records[0]!.time).toBeGreaterThanOrEqual(2_000);
    expect((await exchange.fetchOrders('BTC/USDT')).map((o) => o.clientOrderId)).toEqual([order.clientOrderId]);
  }, 30_000);

  it('partial fill: a follow-up order with a derived client id completes the difference', async () => {
    const { exchange, executor, dir } = await scenario({ orderPartial: { nth: [1], fillFraction: 0.5 } });
    const order = entry(0.0123);
    executor.listener({ order, targetQuantity: 0.0123 });
    await executor.flush();
    // 0.0123 × 0.5 = 0.00615 filled, the rest expired; the follow-up asks 0.0123 − 0.00615 = 0.00615
    const all = await exchange.fetchOrders('BTC/USDT');
    expect(all.map((o) => [o.clientOrderId, o.status, o.filled])).toEqual([
      [order.clientOrderId, 'expired', 0.00615],
      [`${order.clientOrderId}r1`, 'closed', 0.00615],
    ]);
    expect(await btc(exchange)).toBe(0.0123);
    expect(executor.held).toBe(0.0123);
    expect(outcomes(dir).map((r) => r.paperClientOrderId)).toEqual([order.clientOrderId, order.clientOrderId]);
  }, 30_000);

  it('connection refused: not sent, re-sent within the bound, then given up as not_sent', async () => {
    const { exchange } = await scenario({});
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const dead = createExchange('binance', { urls: { restUrl: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/ws` }, enableRateLimit: false, credentials });
    cleanups.push(() => dead.close());
    dead.setMarkets(exchange.markets);
    const dir = mkdtempSync(path.join(scratch, 'run-'));
    const executor = new OrderExecutor({ venue: dead, symbol: 'BTC/USDT', strategy: 'faults', dir, limits: { ...limits, maxSends: 2 } });
    const order = entry(0.02);
    executor.listener({ order, targetQuantity: 0.02 });
    await executor.flush();
    expect(outcomes(dir).map((r) => [r.clientOrderId, r.failure?.classification])).toEqual([
      [order.clientOrderId, 'not_sent'],
      [order.clientOrderId, 'not_sent'],
    ]);
    const events = lines<{ type: string; classification: string; message: string }>(path.join(dir, 'events.jsonl'));
    expect(events.map((e) => [e.type, e.classification])).toEqual([['trade_failed', 'not_sent']]);
    expect(events[0]!.message).toContain('ECONNREFUSED');
    expect(executor.held).toBe(0);
  }, 30_000);
});
