import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { brokerConfig, type BrokerConfig } from '../../framework/broker/broker-config';
import type { OrderEvent } from '../../framework/broker/orders';
import { PaperBroker } from '../../framework/broker/paper-broker';
import { roundDownToStep } from '../../framework/broker/sizing';
import type { Candle } from '../../framework/core/candle';
import type { Signal } from '../../framework/strategy/signal';

const HOUR = 3_600_000;
const T0 = Date.UTC(2021, 0, 1);

/** Candle number `i` (hourly from T0). */
function c(i: number, open: number, high: number, low: number, close: number): Candle {
  return { openTime: T0 + i * HOUR, open, high, low, close, volume: 1 };
}

/** A flat candle at one price. */
function at(i: number, price: number): Candle {
  return c(i, price, price, price, price);
}

function broker(partial: Partial<BrokerConfig>): { b: PaperBroker; events: OrderEvent[] } {
  const b = new PaperBroker(brokerConfig(partial));
  const events: OrderEvent[] = [];
  b.addOrderListener((e) => events.push(e));
  return { b, events };
}

/** Feeds candles in order; `signals[i]` is submitted on the close of candle i. */
function run(b: PaperBroker, candles: Candle[], signals: Record<number, Signal>): void {
  candles.forEach((candle, i) => {
    b.onCandle(candle);
    const s = signals[i];
    if (s !== undefined) b.submit(s, candle);
  });
}

/** The client order id format, written out independently of the broker: `cc` + sha256(key)[0..8] + base-36 parts. */
function expectedId(key: string, decidedAt: number, counter: number): string {
  return `cc${createHash('sha256').update(key).digest('hex').slice(0, 8)}-${(decidedAt / 1000).toString(36)}-${counter.toString(36)}`;
}

describe('PaperBroker: scaling in', () => {
  it('averages the entry price over the entry and an add (quantity-weighted, fees separate)', () => {
    const { b } = broker({ feeRate: 0.001, stake: { quote: 1_000 } });
    run(b, [at(0, 100), at(1, 100), c(2, 80, 92, 80, 90)], {
      0: { action: 'enter_long' },
      1: { action: 'enter_long' }, // no add flag: ignored, as before
    });
    expect(b.ignoredSignals.map((s) => s.reason)).toEqual(['already long']);
    // entry sized at close 100: 1000 / (100 × 1.001) = 9.99000999; cost 999.000999 + fee 0.999001 = 1000
    expect(b.position?.quantity).toBeCloseTo(9.990009990, 9);
    expect(b.cash).toBeCloseTo(9_000, 9);
    const add = c(3, 80, 80, 80, 80);
    b.submit({ action: 'enter_long', add: true }, c(2, 80, 92, 80, 90)); // decided at close 90
    b.onCandle(add);
    // add sized at close 90: 1000 / (90 × 1.001) = 11.10001110; filled at 80: cost 888.000888 + fee 0.888001
    const q1 = 9.990009990009991;
    const q2 = 11.100011100011101;
    expect(b.position?.quantity).toBeCloseTo(q1 + q2, 9); // 21.09002109
    // average = (9.99000999 × 100 + 11.10001110 × 80) / 21.09002109 = (999.000999 + 888.000888) / 21.09002109
    //         = 1887.001887 / 21.09002109 = 89.4736842...
    expect(b.position?.averageEntryPrice).toBeCloseTo(89.473684211, 8);
    expect(b.cash).toBeCloseTo(9_000 - 888.000888 - 0.888000888, 6); // 8111.111111
    expect(b.fills.map((f) => f.reason)).toEqual(['entry', 'add']);
    expect(b.position?.openedAt).toBe(T0 + HOUR); // the first entry's fill
    // marked at close 80: 21.09002109 × 80 = 1687.201687 → equity 9798.312798
    expect(b.equity).toBeCloseTo(8_111.111111 + 1_687.201687, 5);
    expect(b.trades).toEqual([]);
  });

  it('runs a DCA sequence: three fixed-quote buys, half sold, the rest sold; one round trip', () => {
    const { b } = broker({ feeRate: 0.001 });
    const dca: Signal = { action: 'enter_long', add: true, size: { quote: 100 } };
    run(b, [c(0, 100, 100, 100, 100), c(1, 100, 100, 50, 50), c(2, 50, 50, 25, 25), c(3, 25, 40, 25, 40), c(4, 40, 60, 40, 60), at(5, 60)], {
      0: dca, // add while flat = an entry
      1: dca,
      2: dca,
      3: { action: 'exit_long', size: { fraction: 0.5 } },
      4: { action: 'exit_long', tag: 'done' },
    });
    // buys filled at the deciding closes (open = previous close): 100 / (p × 1.001) for p = 100, 50, 25
    //   = 0.999000999 + 1.998001998 + 3.996003996 = 6.993006993 units; each costs 99.9000999 + fee 0.0999001 = 100
    //   → cash 9700; notional 299.7002997, average 299.7002997 / 6.993006993 = 42.857142857 (= 3 / (1/100+1/50+1/25))
    // half (3.4965034965) sold at 40: 139.86013986 − fee 0.13986014 → cash 9839.72027972
    // the rest sold at 60: 209.79020979 − fee 0.20979021 → cash 10049.30069930
    expect(b.fills.map((f) => [f.reason, f.side])).toEqual([
      ['entry', 'buy'],
      ['add', 'buy'],
      ['add', 'buy'],
      ['partial_exit', 'sell'],
      ['exit', 'sell'],
    ]);
    expect(b.fills[3]?.quantity).toBeCloseTo(3.4965034965, 9);
    expect(b.position).toBeNull();
    expect(b.cash).toBeCloseTo(10_049.3006993, 6);
    expect(b.trades).toHaveLength(1);
    const t = b.trades[0]!;
    expect(t).toMatchObject({ side: 'long', entryTime: T0 + HOUR, exitTime: T0 + 5 * HOUR, exitReason: 'signal', exitTag: 'done' });
    expect(t.quantity).toBeCloseTo(6.993006993, 9);
    expect(t.entryPrice).toBeCloseTo(42.857142857, 8);
    // exit price = (139.86013986 + 209.79020979) / 6.993006993 = 50
    expect(t.exitPrice).toBeCloseTo(50, 9);
    // fees 0.2997003 + 0.13986014 + 0.20979021 = 0.64935065; pnl = 6.993006993 × (50 − 42.857142857) − 0.64935065
    //   = 49.95004995 − 0.64935065 = 49.3006993 (= final cash − 10000)
    expect(t.fees).toBeCloseTo(0.64935065, 8);
    expect(t.pnl).toBeCloseTo(49.3006993, 6);
    expect(t.returnFraction).toBeCloseTo(49.3006993 / 300, 9); // committed: 299.7002997 + fees 0.2997003 = 300
  });
});

describe('PaperBroker: scaling out', () => {
  it('books a partial exit into the round trip: exit price averaged, pnl realised at the last exit', () => {
    const { b } = broker({ feeRate: 0.001 });
    run(b, [at(0, 100), c(1, 100, 110, 100, 110), c(2, 120, 120, 100, 100), at(3, 90)], {
      0: { action: 'enter_long', tag: 'in' },
      1: { action: 'exit_long', size: { fraction: 0.25 }, tag: 'quarter' },
      2: { action: 'exit_long', tag: 'rest' },
    });
    // entry: 10000 / (100 × 1.001) = 99.9000999 at 100 → cash 0
    // a quarter, 24.975024975, sold at 120: 2997.002997 − fee 2.997003 → cash 2994.005994; position 74.925074925
    expect(b.fills[1]).toMatchObject({ reason: 'partial_exit', side: 'sell', price: 120 });
    expect(b.fills[1]?.quantity).toBeCloseTo(24.975024975, 9);
    // the rest sold at 90: 6743.256743 − fee 6.743257 → cash 9730.519481
    expect(b.cash).toBeCloseTo(9_730.519481, 5);
    const t = b.trades[0]!;
    expect(b.trades).toHaveLength(1);
    expect(t).toMatchObject({ entryTag: 'in', exitTag: 'rest', exitReason: 'signal', entryPrice: 100 });
    expect(t.quantity).toBeCloseTo(99.9000999, 7);
    expect(t.exitPrice).toBeCloseTo(97.5, 9); // (24.975 × 120 + 74.925 × 90) / 99.9 = (3000 + 6750) / 100
    // fees 9.990010 + 2.997003 + 6.743257 = 19.730270; pnl = 99.9000999 × (97.5 − 100) − 19.730270 = −269.480519
    expect(t.fees).toBeCloseTo(19.73027, 5);
    expect(t.pnl).toBeCloseTo(-269.480519, 5);
    expect(b.cash).toBeCloseTo(10_000 + t.pnl, 6);
  });

  it('keeps the position through a partial exit: same average price, same stop, smaller quantity', () => {
    const { b } = broker({ feeRate: 0 });
    run(b, [at(0, 100), c(1, 100, 101, 99, 100), at(2, 110)], {
      0: { action: 'enter_long', stopLoss: 0.1 },
      1: { action: 'exit_long', size: { quote: 2_500 } }, // 2500 / close 100 = 25 units
    });
    expect(b.position).toMatchObject({ side: 'long', quantity: 75, averageEntryPrice: 100, stopPrice: 90 });
    expect(b.account.position).toMatchObject({ quantity: 75, unrealisedPnl: 750 }); // 75 × (110 − 100)
  });
});

describe('PaperBroker: stops on a scaled position', () => {
  const entry: Signal = { action: 'enter_long', size: { quote: 5_000 }, stopLoss: 0.1 };
  const candles = [at(0, 100), c(1, 100, 100, 95, 95), c(2, 95, 96, 93, 94), c(3, 94, 94, 92, 93)];

  it('resets the stop from the new average when the add carries stopLoss, and fills it there', () => {
    const { b } = broker({ feeRate: 0 });
    run(b, candles, { 0: entry, 1: { action: 'enter_long', add: true, size: { quote: 5_000 }, stopLoss: 0.05 } });
    // entry 5000 / 100 = 50 units at 100 (stop 90); add sized at close 95: min(5000, cash 5000) / 95 = 52.631578947
    // filled at 95 → 102.631578947 units, average 10000 / 102.631578947 = 97.435897436, stop 0.95 × avg = 92.564102564
    // candle 2's low 93 stays above it; candle 3's low 92 reaches it: filled at 92.564102564
    const t = b.trades[0]!;
    expect(t).toMatchObject({ exitReason: 'stop_loss', exitTime: T0 + 3 * HOUR });
    expect(t.quantity).toBeCloseTo(102.631578947, 8);
    expect(t.entryPrice).toBeCloseTo(97.435897436, 8);
    expect(t.exitPrice).toBeCloseTo(92.564102564, 8);
    expect(t.pnl).toBeCloseTo(-500, 8); // 102.63 × (92.564 − 97.436) = 0.95 × 10000 − 10000
    expect(b.cash).toBeCloseTo(9_500, 8);
    expect(b.fills.map((f) => [f.reason, f.quantity])).toEqual([
      ['entry', 50],
      ['add', expect.closeTo(52.631578947, 8)],
      ['stop_loss', expect.closeTo(102.631578947, 8)],
    ]);
  });

  it('keeps the stop when the add carries none', () => {
    const { b } = broker({ feeRate: 0 });
    run(b, candles, { 0: entry, 1: { action: 'enter_long', add: true, size: { quote: 5_000 } } });
    expect(b.position?.stopPrice).toBe(90); // the entry's 100 × 0.9; lows 93 and 92 never reach it
    expect(b.position?.averageEntryPrice).toBeCloseTo(97.435897436, 8);
    expect(b.trades).toEqual([]);
  });
});

describe('PaperBroker: orders, client order ids and order events', () => {
  it('reverses with two orders decided on one candle: ids 0 and 1, targets −100 once accepted', () => {
    const key = 'test:abc';
    const { b, events } = broker({ feeRate: 0, strategyKey: key });
    run(b, [at(0, 100), c(1, 100, 110, 100, 110), c(2, 120, 120, 110, 115)], { 0: { action: 'enter_long' }, 1: { action: 'enter_short', tag: 'S' } });
    // long: 10000 / 100 = 100 units at 100. On candle 1's close (110): reversal sells the 100 held, the entry sells
    // equity 11000 / 110 = 100 more. At candle 2's open (120): long sold (pnl 100 × 20 = 2000), short opened at 120.
    expect(events.map((e) => [e.order.reason, e.order.status, e.order.clientOrderId, e.targetQuantity])).toEqual([
      ['entry', 'accepted', expectedId(key, T0, 0), 100],
      ['entry', 'filled', expectedId(key, T0, 0), 100],
      ['reversal', 'accepted', expectedId(key, T0 + HOUR, 0), 0],
      ['entry', 'accepted', expectedId(key, T0 + HOUR, 1), -100],
      ['reversal', 'filled', expectedId(key, T0 + HOUR, 0), -100],
      ['entry', 'filled', expectedId(key, T0 + HOUR, 1), -100],
    ]);
    expect(events[4]?.order).toMatchObject({ side: 'sell', quantity: 100, filledQuantity: 100, averagePrice: 120, decidedAt: T0 + HOUR, tag: 'S' });
    expect(b.trades[0]).toMatchObject({ exitReason: 'reversal', pnl: 2_000, exitTag: 'S' });
    expect(b.position).toMatchObject({ side: 'short', quantity: 100, averageEntryPrice: 120 });
    expect(b.fills.map((f) => f.clientOrderId)).toEqual([expectedId(key, T0, 0), expectedId(key, T0 + HOUR, 0), expectedId(key, T0 + HOUR, 1)]);
    // cash 10000 − 10000 + 12000 + 12000 = 24000; equity at close 115 = 24000 − 11500
    expect(b.equity).toBeCloseTo(12_500, 9);
  });

  it('fills what cash pays for when the open gaps up: partially filled, then cancelled for the rest', () => {
    const { b, events } = broker({ feeRate: 0 });
    run(b, [at(0, 100), c(1, 125, 125, 125, 125)], { 0: { action: 'enter_long' } });
    // sized at close 100: 10000 / 100 = 100 units; at the open 125 cash 10000 pays for 80
    expect(events.map((e) => [e.order.status, e.order.quantity, e.order.filledQuantity, e.targetQuantity])).toEqual([
      ['accepted', 100, 0, 100],
      ['partially_filled', 100, 80, 100],
      ['cancelled', 100, 80, 80],
    ]);
    expect(b.position?.quantity).toBe(80);
    expect(b.cash).toBe(0);
  });

  it('emits stop-loss orders as accepted then filled, numbered after the candle’s other orders', () => {
    const { b, events } = broker({ feeRate: 0, strategyKey: 'k' });
    run(b, [at(0, 100), c(1, 100, 100, 94, 96)], { 0: { action: 'enter_long', stopLoss: 0.05 } });
    expect(events.slice(2).map((e) => [e.order.reason, e.order.type, e.order.status, e.order.clientOrderId, e.targetQuantity])).toEqual([
      ['stop_loss', 'stop', 'accepted', expectedId('k', T0 + HOUR, 0), 0],
      ['stop_loss', 'stop', 'filled', expectedId('k', T0 + HOUR, 0), 0],
    ]);
  });

  it('cancels pending orders at the end of the data and closes with an end_of_data order', () => {
    const { b, events } = broker({ feeRate: 0 });
    run(b, [at(0, 100), at(1, 100)], { 0: { action: 'enter_long' }, 1: { action: 'exit_long' } });
    expect(b.account.openOrders.map((o) => o.reason)).toEqual(['exit']);
    b.closeAll(at(1, 100));
    expect(events.slice(-3).map((e) => [e.order.reason, e.order.status, e.targetQuantity])).toEqual([
      ['exit', 'cancelled', 100],
      ['end_of_data', 'accepted', 0],
      ['end_of_data', 'filled', 0],
    ]);
    expect(b.account.openOrders).toEqual([]);
  });
});

describe('PaperBroker: amountStep (lot size)', () => {
  it('rounds every order quantity down to the step; an exit size that rounds to 0 is ignored', () => {
    const { b } = broker({ feeRate: 0.001, amountStep: 0.001, stake: { quote: 1_000 } });
    const price = at(0, 30_000);
    b.onCandle(price);
    b.submit({ action: 'enter_long' }, price);
    // 1000 / (30000 × 1.001) = 0.0333000333 → 0.033; cost 990 + fee 0.99 → cash 9009.01
    b.onCandle(at(1, 30_000));
    expect(b.position?.quantity).toBe(0.033);
    expect(b.cash).toBeCloseTo(9_009.01, 9);
    b.submit({ action: 'exit_long', size: { fraction: 0.5 } }, at(1, 30_000)); // 0.0165 → 0.016, leaves 0.017
    b.onCandle(at(2, 30_000));
    expect(b.position?.quantity).toBe(0.017);
    b.submit({ action: 'exit_long', size: { fraction: 0.99 } }, at(2, 30_000)); // 0.01683 → 0.016, leaves one step
    b.onCandle(at(3, 30_000));
    expect(b.position?.quantity).toBe(0.001);
    expect(b.submit({ action: 'exit_long', size: { fraction: 0.5 } }, at(3, 30_000))).toEqual({
      acted: false,
      reason: 'exit size {"fraction":0.5} rounds to 0 of the 0.001 held',
    });
    b.submit({ action: 'exit_long', size: { quote: 5_000 } }, at(3, 30_000)); // more than held: exits all
    b.onCandle(at(4, 30_000));
    expect(b.fills.map((f) => [f.reason, f.quantity])).toEqual([
      ['entry', 0.033],
      ['partial_exit', 0.016],
      ['partial_exit', 0.016],
      ['exit', 0.001],
    ]);
    expect(b.trades[0]?.quantity).toBe(0.033);
  });

  it('rounds down on the step grid without float noise', () => {
    expect(roundDownToStep(0.3, 0.1)).toBe(0.3); // 0.3 / 0.1 = 2.9999999999999996 in floats
    expect(roundDownToStep(0.0333000333, 0.00001)).toBe(0.0333);
    expect(roundDownToStep(0.12345, undefined)).toBe(0.12345);
    expect(roundDownToStep(0.0009, 0.001)).toBe(0);
  });
});

describe('PaperBroker: the account view', () => {
  it('shows position, open orders, equity and cash, and cannot be written', () => {
    const { b } = broker({ feeRate: 0 });
    b.onCandle(at(0, 100));
    b.submit({ action: 'enter_long', stopLoss: 0.1, takeProfit: 0.2 }, at(0, 100));
    const view = b.account;
    expect(view.position).toBeNull();
    expect(view.openOrders).toHaveLength(1);
    expect(view.openOrders[0]).toMatchObject({ side: 'buy', reason: 'entry', quantity: 100, decidedAt: T0 });
    b.onCandle(c(1, 100, 104, 99, 103));
    expect(view.position).toEqual({
      side: 'long',
      quantity: 100,
      averageEntryPrice: 100,
      stopPrice: 90,
      takeProfitPrice: expect.closeTo(120, 9),
      openedAt: T0 + HOUR,
      unrealisedPnl: 300, // 100 × (103 − 100)
    });
    expect(view.equity).toBe(10_300);
    expect(view.cash).toBe(0);
    expect(() => {
      (view as { cash: number }).cash = 1e9;
    }).toThrow(TypeError);
    expect(() => {
      (view.position as { quantity: number }).quantity = 0;
    }).toThrow(TypeError);
    expect(() => (view.openOrders as unknown[]).push({})).toThrow(TypeError);
    expect(b.cash).toBe(0);
    expect(b.position?.quantity).toBe(100);
  });
});
