import { describe, expect, it } from 'vitest';
import { brokerConfig, DEFAULT_BROKER_CONFIG, type BrokerConfig } from '../../framework/broker/broker-config';
import { PaperBroker } from '../../framework/broker/paper-broker';
import type { Candle } from '../../framework/core/candle';
import { FrameworkError, InvalidCandleError } from '../../framework/core/errors';
import type { Signal } from '../../framework/strategy/signal';

const HOUR = 3_600_000;
const T0 = Date.UTC(2021, 0, 1);

/** Candle number `i` (hourly from T0). */
function c(i: number, open: number, high: number, low: number, close: number): Candle {
  return { openTime: T0 + i * HOUR, open, high, low, close, volume: 1 };
}

function broker(partial: Partial<BrokerConfig>): PaperBroker {
  return new PaperBroker(brokerConfig(partial));
}

/** Feeds candles in order; `signals[i]` is submitted on the close of candle i. */
function run(b: PaperBroker, candles: Candle[], signals: Record<number, Signal>): void {
  candles.forEach((candle, i) => {
    b.onCandle(candle);
    const s = signals[i];
    if (s !== undefined) b.submit(s, candle);
  });
}

describe('PaperBroker: fills, fees, slippage', () => {
  it('fills an entry at the next open and charges the fee on each fill (long round trip)', () => {
    const b = broker({ initialCash: 10_000, feeRate: 0.001, slippageBps: 0 });
    b.onCandle(c(0, 100, 100, 100, 100));
    expect(b.submit({ action: 'enter_long', tag: 'up' }, c(0, 100, 100, 100, 100))).toEqual({ acted: true });
    expect(b.position).toBeNull(); // nothing fills on the deciding candle
    b.onCandle(c(1, 110, 120, 105, 115));
    // sized at the deciding close 100: 10000 / (100 × 1.001) = 99.9000999, but the open gapped up to 110: cash pays
    // for 10000 / (110 × 1.001) = 90.818272636... only (partially filled, the rest cancelled);
    // notional 9990.00999, fee 9.99000999 → cash 0
    const qty = 10_000 / (110 * 1.001);
    expect(b.position).toMatchObject({ side: 'long', averageEntryPrice: 110, openedAt: T0 + HOUR, tag: 'up' });
    expect(b.position?.quantity).toBeCloseTo(90.818272636, 8);
    expect(b.fills[0]).toMatchObject({ side: 'buy', price: 110, reason: 'entry' });
    expect(b.fills[0]?.fee).toBeCloseTo(9.99000999, 7);
    expect(b.cash).toBeCloseTo(0, 9);
    // marked at close 115: 90.818272636 × 115 = 10444.101353
    expect(b.equity).toBeCloseTo(10_444.101353, 5);
    b.submit({ action: 'exit_long', tag: 'done' }, c(1, 110, 120, 105, 115));
    b.onCandle(c(2, 120, 121, 119, 120));
    // sell 90.818272636 at 120 = 10898.192716, fee 10.898193 → cash 10887.294524
    expect(b.cash).toBeCloseTo(10_887.294524, 5);
    expect(b.equity).toBe(b.cash);
    const t = b.trades[0]!;
    expect(t).toMatchObject({ side: 'long', entryTime: T0 + HOUR, exitTime: T0 + 2 * HOUR, entryPrice: 110, exitPrice: 120 });
    expect(t).toMatchObject({ exitReason: 'signal', entryTag: 'up', exitTag: 'done' });
    expect(t.quantity).toBeCloseTo(qty, 9);
    // fees 9.990010 + 10.898193 = 20.888203; pnl = 90.818273 × 10 − 20.888203 = 887.294524
    expect(t.fees).toBeCloseTo(20.888203, 5);
    expect(t.pnl).toBeCloseTo(887.294524, 5);
    // committed capital = notional + entry fee = 10000 → returnFraction 0.0887294524
    expect(t.returnFraction).toBeCloseTo(0.0887294524, 9);
  });

  it('applies slippage adversely: buys higher, sells lower (long and short)', () => {
    const b = broker({ feeRate: 0, slippageBps: 10 }); // 10 bps = 0.1%
    run(b, [c(0, 100, 100, 100, 100), c(1, 100, 100, 100, 100), c(2, 200, 200, 200, 200)], {
      0: { action: 'enter_long' },
      1: { action: 'exit_long' },
    });
    expect(b.fills.map((f) => [f.side, f.price])).toEqual([
      ['buy', expect.closeTo(100.1, 9)], // 100 × 1.001
      ['sell', expect.closeTo(199.8, 9)], // 200 × 0.999
    ]);
    const s = broker({ feeRate: 0, slippageBps: 10 });
    run(s, [c(0, 100, 100, 100, 100), c(1, 100, 100, 100, 100), c(2, 200, 200, 200, 200)], {
      0: { action: 'enter_short' },
      1: { action: 'exit_short' },
    });
    expect(s.fills.map((f) => [f.side, f.price])).toEqual([
      ['sell', expect.closeTo(99.9, 9)], // 100 × 0.999
      ['buy', expect.closeTo(200.2, 9)], // 200 × 1.001
    ]);
  });

  it('sizes a fixed quote stake so that notional + fee = stake, capped at equity; signal size overrides', () => {
    const b = broker({ feeRate: 0.001, stake: { quote: 1_000 } });
    run(b, [c(0, 50, 50, 50, 50), c(1, 50, 50, 50, 50)], { 0: { action: 'enter_long' } });
    // qty = 1000 / (50 × 1.001) = 19.98001998; notional 999.000999 + fee 0.999001 = 1000 → cash 9000
    expect(b.position?.quantity).toBeCloseTo(19.98001998, 8);
    expect(b.cash).toBeCloseTo(9_000, 9);

    const big = broker({ feeRate: 0, stake: { quote: 50_000 } });
    run(big, [c(0, 50, 50, 50, 50), c(1, 50, 50, 50, 50)], { 0: { action: 'enter_long' } });
    expect(big.position?.quantity).toBeCloseTo(200, 9); // capped at 10 000 equity / 50

    const half = broker({ feeRate: 0 });
    run(half, [c(0, 50, 50, 50, 50), c(1, 50, 50, 50, 50)], { 0: { action: 'enter_long', size: { fraction: 0.5 } } });
    expect(half.position?.quantity).toBeCloseTo(100, 9); // 5000 / 50
    expect(half.cash).toBeCloseTo(5_000, 9);
  });
});

describe('PaperBroker: short positions', () => {
  it('credits short proceeds to cash, marks −qty × close, and books the PnL net of fees', () => {
    const b = broker({ initialCash: 10_000, feeRate: 0.001 });
    run(b, [c(0, 100, 100, 100, 100), c(1, 100, 101, 89, 90)], { 0: { action: 'enter_short' } });
    // qty = 10000 / (100 × 1.001) = 99.9000999; cash = 10000 + 9990.00999 − 9.99001 = 19980.01998
    expect(b.position).toMatchObject({ side: 'short', averageEntryPrice: 100 });
    expect(b.position?.quantity).toBeCloseTo(99.9000999, 7);
    expect(b.cash).toBeCloseTo(19_980.01998, 5);
    // equity at close 90 = 19980.01998 − 99.9000999 × 90 = 10989.010989
    expect(b.equity).toBeCloseTo(10_989.010989, 5);
    expect(b.equityCurve.positionValue[1]).toBeCloseTo(-8_991.008991, 5);
    b.submit({ action: 'exit_short' }, c(1, 100, 101, 89, 90));
    b.onCandle(c(2, 80, 80, 80, 80));
    // buy back at 80: 7992.007992 + fee 7.992008 → cash 11980.01998; pnl = 99.9001 × 20 − 17.982018 = 1980.01998
    expect(b.cash).toBeCloseTo(11_980.01998, 5);
    expect(b.trades[0]?.pnl).toBeCloseTo(1_980.01998, 5);
    expect(b.trades[0]?.returnFraction).toBeCloseTo(0.198001998, 8);
  });

  it('reverses: an opposite entry closes the position (reason reversal) and opens the new side at the same open', () => {
    const b = broker({ feeRate: 0 });
    run(b, [c(0, 100, 100, 100, 100), c(1, 100, 100, 100, 100), c(2, 120, 125, 118, 122)], {
      0: { action: 'enter_long', tag: 'L' },
      1: { action: 'enter_short', tag: 'S' },
    });
    // long 100 units at 100; on candle 1's close (100, equity 10 000) the short is sized 10000 / 100 = 100 units;
    // at candle 2's open the long is sold at 120 (pnl 2000) and the short opened at 120
    expect(b.trades).toHaveLength(1);
    expect(b.trades[0]).toMatchObject({ exitReason: 'reversal', exitPrice: 120, pnl: 2_000, entryTag: 'L', exitTag: 'S' });
    expect(b.position).toMatchObject({ side: 'short', quantity: 100, averageEntryPrice: 120, openedAt: T0 + 2 * HOUR, tag: 'S' });
    expect(b.fills.map((f) => [f.time, f.side, f.reason])).toEqual([
      [T0 + HOUR, 'buy', 'entry'],
      [T0 + 2 * HOUR, 'sell', 'reversal'],
      [T0 + 2 * HOUR, 'sell', 'entry'],
    ]);
    // cash = 12000 + 12000 proceeds = 24000; equity at close 122 = 24000 − 12200 = 11800
    expect(b.equity).toBeCloseTo(11_800, 9);
  });
});

describe('PaperBroker: stop-loss and take-profit', () => {
  const entry = c(0, 100, 100, 100, 100);
  const long: Signal = { action: 'enter_long', stopLoss: 0.05, takeProfit: 0.1 }; // stop 95, TP 110 from a fill at 100

  it('fills the stop when stop and take-profit are both touched in one candle', () => {
    const b = broker({ feeRate: 0 });
    run(b, [entry, c(1, 100, 101, 100, 100), c(2, 100, 112, 94, 105)], { 0: long });
    expect(b.trades[0]).toMatchObject({ exitReason: 'stop_loss', exitPrice: 95, exitTime: T0 + 2 * HOUR });
    expect(b.position).toBeNull();
    expect(b.equity).toBeCloseTo(9_500, 9); // 100 units × 95
  });

  it('fills a gap through the stop at the open, and a gap over the target at the (better) open', () => {
    const gapDown = broker({ feeRate: 0 });
    run(gapDown, [entry, c(1, 100, 101, 99, 100), c(2, 90, 92, 85, 91)], { 0: long });
    expect(gapDown.trades[0]).toMatchObject({ exitReason: 'stop_loss', exitPrice: 90 });
    const gapUp = broker({ feeRate: 0 });
    run(gapUp, [entry, c(1, 100, 101, 99, 100), c(2, 115, 116, 94, 115)], { 0: long });
    // the open is known to come first: the target filled at 115 before the low touched the stop
    expect(gapUp.trades[0]).toMatchObject({ exitReason: 'take_profit', exitPrice: 115 });
  });

  it('checks the triggers on the fill candle itself (the fill at the open precedes the high/low)', () => {
    const b = broker({ feeRate: 0 });
    run(b, [entry, c(1, 100, 101, 90, 92)], { 0: long });
    expect(b.trades[0]).toMatchObject({ entryTime: T0 + HOUR, exitTime: T0 + HOUR, exitReason: 'stop_loss', exitPrice: 95 });
    expect(b.exposedCandles).toBe(1);
  });

  it('slips the stop (market) but not the take-profit (limit)', () => {
    const stopped = broker({ feeRate: 0, slippageBps: 10 });
    run(stopped, [entry, c(1, 100, 101, 99, 100), c(2, 99, 99, 90, 92)], { 0: long });
    // entry 100.1; stop = 100.1 × 0.95 = 95.095; sold 95.095 × 0.999 = 94.999905
    expect(stopped.trades[0]?.exitPrice).toBeCloseTo(94.999905, 9);
    const target = broker({ feeRate: 0, slippageBps: 10 });
    run(target, [entry, c(1, 100, 101, 99, 100), c(2, 101, 111, 100, 110)], { 0: long });
    // TP = 100.1 × 1.1 = 110.11, filled exactly
    expect(target.trades[0]).toMatchObject({ exitReason: 'take_profit' });
    expect(target.trades[0]?.exitPrice).toBeCloseTo(110.11, 9);
  });

  it('mirrors the triggers for a short: stop above, take-profit below the entry', () => {
    const short: Signal = { action: 'enter_short', stopLoss: 0.05, takeProfit: 0.1 }; // stop 105, TP 90
    const stopped = broker({ feeRate: 0 });
    run(stopped, [entry, c(1, 100, 106, 89, 100)], { 0: short });
    expect(stopped.position).toBeNull();
    expect(stopped.trades[0]).toMatchObject({ side: 'short', exitReason: 'stop_loss', exitPrice: 105, pnl: -500 });
    const target = broker({ feeRate: 0 });
    run(target, [entry, c(1, 100, 101, 99, 100), c(2, 95, 96, 89, 91)], { 0: short });
    expect(target.trades[0]).toMatchObject({ exitReason: 'take_profit', exitPrice: 90, pnl: 1_000 });
  });
});

describe('PaperBroker: ignored signals, end of data, validation', () => {
  it('ignores and records signals it cannot act on, with the reason', () => {
    const b = broker({ feeRate: 0 });
    const c0 = c(0, 100, 100, 100, 100);
    b.onCandle(c0);
    expect(b.submit({ action: 'exit_short' }, c0)).toEqual({ acted: false, reason: 'no position to exit' });
    expect(b.submit({ action: 'enter_long' }, c0).acted).toBe(true);
    expect(b.submit({ action: 'enter_short' }, c0)).toEqual({
      acted: false,
      reason: 'an order (enter_long) is already pending for the next open',
    });
    const c1 = c(1, 100, 100, 100, 100);
    b.onCandle(c1);
    expect(b.submit({ action: 'enter_long' }, c1)).toEqual({ acted: false, reason: 'already long' });
    expect(b.submit({ action: 'exit_short' }, c1)).toEqual({ acted: false, reason: 'position is long, not short' });
    expect(b.ignoredSignals.map((s) => [s.time, s.signal.action])).toEqual([
      [T0, 'exit_short'],
      [T0, 'enter_short'],
      [T0 + HOUR, 'enter_long'],
      [T0 + HOUR, 'exit_short'],
    ]);
  });

  it('closeAll closes at the last close with fee and slippage, drops a pending order, and re-marks the last row', () => {
    const b = broker({ feeRate: 0.001, slippageBps: 10 });
    const last = c(2, 100, 130, 100, 120);
    run(b, [c(0, 100, 100, 100, 100), c(1, 100, 100, 100, 100), last], { 0: { action: 'enter_long' }, 2: { action: 'exit_long' } });
    b.closeAll(last);
    // qty = 10000 / (100.1 × 1.001) = 99.80039920...; exit 120 × 0.999 = 119.88; cash = qty × 119.88 × 0.999
    const qty = 10_000 / (100.1 * 1.001);
    expect(b.trades[0]).toMatchObject({ exitReason: 'end_of_data', exitTime: T0 + 2 * HOUR });
    expect(b.trades[0]?.exitPrice).toBeCloseTo(119.88, 9);
    expect(b.cash).toBeCloseTo(qty * 119.88 * 0.999, 6); // 11952.0479...
    expect(b.equityCurve.time).toHaveLength(3);
    expect(b.equityCurve.equity[2]).toBe(b.cash);
    expect(b.equityCurve.positionValue[2]).toBe(0);
    expect(b.ignoredSignals.at(-1)).toMatchObject({ time: T0 + 2 * HOUR, reason: 'end of data: no next candle to fill it at' });
  });

  it('rejects candles out of order and a submit for another candle than the last', () => {
    const b = broker({});
    expect(() => b.closeAll(c(0, 1, 1, 1, 1))).toThrow(/last candle it processed is none/);
    expect(() => b.onCandle({ ...c(0, 1, 1, 1, 1), openTime: Number.NaN })).toThrow(/candle NaN after -Infinity/);
    b.onCandle(c(1, 1, 1, 1, 1));
    expect(() => b.onCandle(c(1, 1, 1, 1, 1))).toThrow(InvalidCandleError);
    expect(() => b.onCandle(c(0, 1, 1, 1, 1))).toThrow(/increasing open-time order/);
    expect(() => b.submit({ action: 'enter_long' }, c(0, 1, 1, 1, 1))).toThrow(FrameworkError);
    expect(() => b.closeAll(c(5, 1, 1, 1, 1))).toThrow(/last candle it processed is 2021-01-01T01:00:00.000Z/);
  });

  it('brokerConfig fills defaults and names the bad field', () => {
    expect(brokerConfig({})).toEqual({ initialCash: 10_000, feeRate: 0.001, slippageBps: 0, stake: { fraction: 1 } });
    expect(brokerConfig({ slippageBps: 5 })).toEqual({ ...DEFAULT_BROKER_CONFIG, slippageBps: 5 });
    // an option left undefined (e.g. an absent CLI flag) keeps its default
    expect(brokerConfig({ feeRate: undefined } as unknown as Partial<BrokerConfig>).feeRate).toBe(0.001);
    expect(() => brokerConfig({ feeRate: -0.1 })).toThrow(/feeRate -0\.1/);
    expect(() => brokerConfig({ initialCash: Number.NaN })).toThrow(/initialCash NaN/);
    expect(() => brokerConfig({ slippageBps: 10_000 })).toThrow(/slippageBps/);
    expect(() => brokerConfig({ stake: { fraction: 1.5 } })).toThrow(/stake\.fraction 1\.5/);
    expect(() => brokerConfig({ stake: { quote: 0 } })).toThrow(/stake\.quote 0/);
    expect(() => new PaperBroker({ ...DEFAULT_BROKER_CONFIG, feeRate: 2 })).toThrow(FrameworkError);
  });
});

describe('PaperBroker: what it hands out cannot be changed', () => {
  it('freezes the orders and positions it hands out (openOrders, the account view, order events, position)', () => {
    const b = broker({ initialCash: 10_000, feeRate: 0.001, slippageBps: 0 });
    const events: unknown[] = [];
    b.onCandle(c(0, 100, 100, 100, 100));
    b.submit({ action: 'enter_long', tag: 'up', stopLoss: 0.1 }, c(0, 100, 100, 100, 100));
    const [order] = b.openOrders;
    expect(order).toMatchObject({ reason: 'entry', side: 'buy', status: 'accepted', tag: 'up' });
    expect(Object.isFrozen(order)).toBe(true);
    const fresh = new PaperBroker(brokerConfig({ initialCash: 10_000 }));
    fresh.onCandle(c(0, 100, 100, 100, 100));
    fresh.submit({ action: 'enter_long' }, c(0, 100, 100, 100, 100));
    const [viewed] = fresh.account.openOrders; // the account view, asked first
    expect(Object.isFrozen(viewed)).toBe(true);
    expect(Object.isFrozen(b.account.openOrders)).toBe(true);
    expect(() => Object.assign(order!, { quantity: 1 })).toThrow(TypeError);
    b.addOrderListener((event) => events.push(event));
    b.onCandle(c(1, 100, 101, 99, 100));
    const position = b.position;
    expect(position).toMatchObject({ side: 'long', averageEntryPrice: 100, stopPrice: 90, tag: 'up' });
    expect(Object.isFrozen(position)).toBe(true);
    expect(() => Object.assign(position!, { quantity: 1 })).toThrow(TypeError);
    expect(Object.isFrozen(b.account.position)).toBe(true);
    b.submit({ action: 'exit_long' }, c(1, 100, 101, 99, 100));
    b.onCandle(c(2, 100, 101, 99, 100));
    expect(events.length).toBe(3); // the entry filled, the exit accepted, the exit filled
    for (const event of events as { order: object }[]) {
      expect(Object.isFrozen(event)).toBe(true);
      expect(Object.isFrozen(event.order)).toBe(true);
    }
    expect(b.position).toBeNull();
  });
});
