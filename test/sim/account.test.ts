import { afterEach, describe, expect, it } from 'vitest';
import type { Exchange } from 'ccxt';
import { createExchange } from '../../framework/feeds/live/exchange';
import { replayCandles } from '../../framework/feeds/replay';
import type { SimulatorAccount } from '../../framework/sim/account';
import type { FaultConfig } from '../../framework/sim/config';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';

// Real candles (datasets/binance/BTC_USDT/1h), a frozen exchange clock at 2021-03-01 10:30 UTC, real ccxt on loopback.
const H1 = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' } as const;
const CANDLES = replayCandles('datasets', H1);
const START = Date.UTC(2021, 2, 1, 10, 30);
/** The account's total holding of `asset` as ccxt's fetchBalance reports it. */
async function held(ex: Exchange, asset: string): Promise<number | undefined> {
  return (await ex.fetchBalance())[asset]?.total;
}

const KEY = { apiKey: 'acct-key-5c1e9b', secret: 'acct-secret-77d0f3a2' };

const open: { sim: Simulator; clients: Exchange[] }[] = [];
afterEach(async () => {
  for (const { sim, clients } of open.splice(0)) {
    for (const c of clients) await c.close();
    await sim.stop();
  }
});

async function setUp(account: Partial<SimulatorAccount> = {}, faults: FaultConfig = {}, clients = 1) {
  const sim = await startSimulator({
    markets: [{ symbol: H1.symbol, timeframe: H1.timeframe, candles: CANDLES }],
    startTime: START,
    speed: 0,
    faults,
    account: { ...KEY, balances: { USDT: 10_000 }, ...account },
  });
  const exchanges = Array.from({ length: clients }, () =>
    createExchange('binance', { urls: sim, enableRateLimit: false, credentials: KEY }) as unknown as Exchange,
  );
  open.push({ sim, clients: exchanges });
  for (const ex of exchanges) await ex.loadMarkets();
  return { sim, ex: exchanges[0]!, others: exchanges.slice(1) };
}

/** The latest price the exchange shows publicly: the close of its newest kline over REST. */
async function lastPrice(ex: Exchange): Promise<number> {
  const rows = await ex.fetchOHLCV('BTC/USDT', '1h', undefined, 1);
  return rows.at(-1)![4]!;
}

const round8 = (x: number): number => Math.round(x * 1e8) / 1e8;

/** Index of the first hourly candle opening at or after 11:00 on 2021-03-01 whose close is below `price`. */
function firstCloseBelow(price: number): number {
  const from = CANDLES.openTime.indexOf(Date.UTC(2021, 2, 1, 11));
  for (let i = from; i < CANDLES.openTime.length; i += 1) if (CANDLES.close[i]! < price) return i;
  throw new Error(`no close below ${price} in the dataset`);
}

describe('the simulator\'s account, through real ccxt', () => {
  it('moves balances by exactly quantity × fill price ± the quote commission, on both sides', async () => {
    const { ex } = await setUp();
    expect((await ex.fetchBalance()).total).toEqual({ USDT: 10_000 });
    const price = await lastPrice(ex);
    // The forming 10:00 candle after 2 of its 3 forming events: not its dataset close, but inside its range.
    expect(price).toBeGreaterThanOrEqual(CANDLES.low[CANDLES.openTime.indexOf(Date.UTC(2021, 2, 1, 10))]!);

    const buy = await ex.createOrder('BTC/USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'test-buy-1' });
    expect(buy).toMatchObject({ clientOrderId: 'test-buy-1', status: 'closed', filled: 0.01, average: price });
    // Cost 0.01 × price; commission 0.1% of it, in USDT (the simulator's documented deviation: never in BTC).
    const cost = round8(0.01 * price);
    const fee = round8(cost * 0.001);
    expect(buy.fee).toEqual({ currency: 'USDT', cost: fee });
    let balance = await ex.fetchBalance();
    expect(balance['BTC']?.total).toBe(0.01);
    expect(balance['USDT']?.total).toBeCloseTo(10_000 - cost - fee, 8);

    const sell = await ex.createOrder('BTC/USDT', 'market', 'sell', 0.004);
    expect(sell).toMatchObject({ status: 'closed', filled: 0.004, average: price });
    const proceeds = round8(0.004 * price);
    balance = await ex.fetchBalance();
    expect(balance['BTC']?.total).toBe(0.006); // 0.01 − 0.004: base holdings are exactly the quantities traded
    expect(balance['USDT']?.total).toBeCloseTo(10_000 - cost - fee + proceeds - round8(proceeds * 0.001), 8);

    const trades = await ex.fetchMyTrades('BTC/USDT');
    expect(trades.map((t) => [t.order, t.side, t.amount, t.price, t.fee?.cost])).toEqual([
      [buy.id, 'buy', 0.01, price, fee],
      [sell.id, 'sell', 0.004, price, round8(proceeds * 0.001)],
    ]);
  });

  it('refuses what Binance refuses: insufficient balance, off-step quantity, tiny notional; nothing moves', async () => {
    const { ex, sim } = await setUp();
    await expect(ex.createOrder('BTC/USDT', 'market', 'buy', 1)).rejects.toThrow('Account has insufficient balance for requested action.');
    await expect(ex.createOrder('BTC/USDT', 'market', 'sell', 0.001)).rejects.toThrow('Account has insufficient balance for requested action.');
    // 0.00001 BTC ≈ 0.5 USDT < the 5 USDT NOTIONAL minimum exchangeInfo announces.
    await expect(ex.createOrder('BTC/USDT', 'market', 'buy', 0.00001)).rejects.toThrow('Filter failure: NOTIONAL');
    // ccxt truncates amounts to the market's precision, so an off-step quantity only arrives by hand: 0.0100005 is not a
    // multiple of the 0.000001 step.
    expect(() => sim.account.trade({ symbol: 'BTC/USDT', side: 'buy', quantity: 0.0100005 })).toThrow('Filter failure: LOT_SIZE');
    // exchangeInfo lists only the types served: ccxt refuses a stop-limit order before sending it.
    await expect(ex.createOrder('BTC/USDT', 'limit', 'sell', 0.01, 40_000, { stopLossPrice: 41_000 })).rejects.toThrow('not allowed');
    expect(sim.orders).toEqual([]);
    expect((await ex.fetchBalance()).total).toEqual({ USDT: 10_000 });
  });

  it('buys for a quote amount (quoteOrderQty), rounded down to the lot step', async () => {
    const { ex } = await setUp();
    const price = await lastPrice(ex);
    const order = await ex.createOrder('BTC/USDT', 'market', 'buy', undefined as unknown as number, undefined, { cost: 100 });
    // 100 USDT / price, floored to the 0.000001 step of the 6-decimal volumes of the dataset.
    const quantity = Math.floor((100 / price) * 1e6) / 1e6;
    expect(order.filled).toBe(quantity);
    expect(await held(ex, 'BTC')).toBe(quantity);
  });

  it('a client order id: reused after its order filled, accepted as Binance does; refused with scope "all"', async () => {
    const binanceLike = await setUp();
    await binanceLike.ex.createOrder('BTC/USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'same-id' });
    await binanceLike.ex.createOrder('BTC/USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'same-id' });
    expect(binanceLike.sim.orders.map((o) => o.clientOrderId)).toEqual(['same-id', 'same-id']);

    const strict = await setUp({ clientOrderIdScope: 'all' });
    await strict.ex.createOrder('BTC/USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'same-id' });
    await expect(strict.ex.createOrder('BTC/USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'same-id' })).rejects.toThrow(
      '{"code":-2010,"msg":"Duplicate order sent."}',
    );
    expect(strict.sim.orders).toHaveLength(1);
    expect(await held(strict.ex, 'BTC')).toBe(0.01);
  });

  it('accept-then-timeout: ccxt times out, the order exists once, and fetchOrder by client id finds it filled', async () => {
    const { ex, sim } = await setUp({}, { orderTimeout: { nth: [1] } });
    ex.timeout = 1_500;
    await expect(ex.createOrder('BTC/USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'ambiguous-1' })).rejects.toThrow(
      expect.objectContaining({ name: 'RequestTimeout' }),
    );
    const found = await ex.fetchOrder('', 'BTC/USDT', { clientOrderId: 'ambiguous-1' });
    expect(found).toMatchObject({ clientOrderId: 'ambiguous-1', status: 'closed', filled: 0.01 });
    await expect(ex.fetchOrder('', 'BTC/USDT', { clientOrderId: 'never-sent' })).rejects.toThrow('Order does not exist.');
    expect(sim.orders.filter((o) => o.clientOrderId === 'ambiguous-1')).toHaveLength(1);
    expect(await held(ex, 'BTC')).toBe(0.01);
    expect(sim.stats.faults.orderTimeout).toBe(1);
  });

  it('a partial fill: status expired, filled < amount, balances move by the filled part only', async () => {
    const { ex } = await setUp({}, { orderPartial: { nth: [1], fillFraction: 0.3 } });
    const order = await ex.createOrder('BTC/USDT', 'market', 'buy', 0.01);
    expect(order).toMatchObject({ status: 'expired', amount: 0.01, filled: 0.003, remaining: 0.007 });
    expect(await held(ex, 'BTC')).toBe(0.003);
    expect((await ex.fetchOrder(order.id ?? '', 'BTC/USDT')).status).toBe('expired');
  });

  it('a rejection and a 429 with Retry-After on the order path execute nothing', async () => {
    const { ex, sim } = await setUp({}, { orderReject: { nth: [1] }, order429: { nth: [2], retryAfterSec: 7 } });
    // Signed request 1 (the first order) is rejected; signed request 2 (the second) gets the 429.
    await expect(ex.createOrder('BTC/USDT', 'market', 'buy', 0.01)).rejects.toThrow(expect.objectContaining({ name: 'InvalidOrder' }));
    await expect(ex.createOrder('BTC/USDT', 'market', 'buy', 0.01)).rejects.toThrow(expect.objectContaining({ name: 'DDoSProtection' }));
    expect(ex.last_response_headers?.['retry-after'] ?? ex.last_response_headers?.['Retry-After']).toBe('7');
    expect(sim.orders).toEqual([]);
    expect(await ex.createOrder('BTC/USDT', 'market', 'buy', 0.01)).toMatchObject({ status: 'closed', filled: 0.01 });
    expect(sim.stats.faults).toMatchObject({ orderReject: 1, order429: 1 });
  });

  it('a hand trade, in-process or from a second ccxt client, shows in the run\'s balance and myTrades', async () => {
    const { ex, others, sim } = await setUp({}, {}, 2);
    await ex.createOrder('BTC/USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'run-entry' });
    const byHand = sim.account.trade({ symbol: 'BTC/USDT', side: 'sell', quantity: 0.004 });
    expect(byHand).toMatchObject({ manual: true, status: 'FILLED', executedQuantity: 0.004 });
    await others[0]!.createOrder('BTC/USDT', 'market', 'sell', 0.002, undefined, { clientOrderId: 'person-2' });
    expect(await held(ex, 'BTC')).toBe(0.004); // 0.01 − 0.004 − 0.002
    const trades = await ex.fetchMyTrades('BTC/USDT', START);
    expect(trades.map((t) => [t.side, t.amount])).toEqual([['buy', 0.01], ['sell', 0.004], ['sell', 0.002]]);
    expect((await ex.fetchOrder('', 'BTC/USDT', { clientOrderId: byHand.clientOrderId })).filled).toBe(0.004);
    expect(() => sim.account.trade({ symbol: 'BTC/USDT', side: 'sell', quantity: 1 })).toThrow('Account has insufficient balance');
  });

  it('a resting LIMIT buy locks its quote, refuses a duplicate client id while open, and fills at its price when the market reaches it', async () => {
    const { ex, sim } = await setUp();
    const now = await lastPrice(ex);
    // 1% below the current price, on the cent tick; the first later hourly candle closing below it proves the market
    // trades there by its close. The order fills at its own price, not at the (lower) price that reached it.
    const limit = Math.floor(now * 0.99 * 100) / 100;
    const target = firstCloseBelow(limit);
    expect(limit).toBeLessThan(now);
    const order = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.01, limit, { clientOrderId: 'dip-buy' });
    expect(order.status).toBe('open');
    expect((await ex.fetchOpenOrders('BTC/USDT')).map((o) => o.clientOrderId)).toEqual(['dip-buy']);
    // Locked: 0.01 × limit + 0.1% commission.
    const lock = round8(round8(0.01 * limit) * 1.001);
    const balance = await ex.fetchBalance();
    expect(balance['USDT']?.used).toBeCloseTo(lock, 8);
    expect(balance['USDT']?.free).toBeCloseTo(10_000 - lock, 8);
    // Binance's rule: a client order id is unique among open orders.
    await expect(ex.createOrder('BTC/USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'dip-buy' })).rejects.toThrow('Duplicate order sent.');

    sim.advanceTo(CANDLES.openTime[target]! + 3_600_000); // the target candle has closed
    const filled = await ex.fetchOrder('', 'BTC/USDT', { clientOrderId: 'dip-buy' });
    expect(filled).toMatchObject({ status: 'closed', filled: 0.01, average: limit });
    expect(await held(ex, 'BTC')).toBe(0.01);
    expect(await held(ex, 'USDT')).toBeCloseTo(10_000 - lock, 8);
    expect(await ex.fetchOpenOrders('BTC/USDT')).toEqual([]);
    expect((await ex.fetchMyTrades('BTC/USDT')).map((t) => [t.order, t.price])).toEqual([[order.id, limit]]);
  });

  it('cancels a resting LIMIT sell and releases its base; a second cancel is an unknown order', async () => {
    const { ex } = await setUp({ balances: { USDT: 1_000, BTC: 0.05 } });
    const order = await ex.createOrder('BTC/USDT', 'limit', 'sell', 0.02, 99_999);
    expect((await ex.fetchBalance())['BTC']).toMatchObject({ free: 0.03, used: 0.02 });
    expect(await ex.cancelOrder(order.id ?? '', 'BTC/USDT')).toMatchObject({ status: 'canceled', filled: 0 });
    expect((await ex.fetchBalance())['BTC']).toMatchObject({ free: 0.05, used: 0 });
    await expect(ex.cancelOrder(order.id ?? '', 'BTC/USDT')).rejects.toThrow(expect.objectContaining({ name: 'OrderNotFound' }));
  });

  it('a STOP_LOSS sell rests until the price falls to its stop, then fills at the market\'s price there', async () => {
    const { ex, sim } = await setUp();
    await ex.createOrder('BTC/USDT', 'market', 'buy', 0.01);
    const now = await lastPrice(ex);
    await expect(ex.createOrder('BTC/USDT', 'market', 'sell', 0.01, undefined, { stopLossPrice: now + 100 })).rejects.toThrow(
      'Stop price would trigger immediately.',
    );
    // A stop a cent above the close of the first later candle closing 1% lower: that close triggers it at the latest.
    const target = firstCloseBelow(now * 0.99);
    const stop = Math.round((CANDLES.close[target]! + 0.01) * 100) / 100;
    expect(stop).toBeLessThan(now);
    const order = await ex.createOrder('BTC/USDT', 'market', 'sell', 0.01, undefined, { stopLossPrice: stop });
    expect(order.status).toBe('open');
    sim.advanceTo(CANDLES.openTime[target]! + 3_600_000);
    const done = await ex.fetchOrder(order.id ?? '', 'BTC/USDT');
    expect(done).toMatchObject({ status: 'closed', filled: 0.01, triggerPrice: stop });
    expect(done.average).toBeLessThanOrEqual(stop); // filled at the first price at or below the stop
    expect(await held(ex, 'BTC')).toBe(0);
  });
});
