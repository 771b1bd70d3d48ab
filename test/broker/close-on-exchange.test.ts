import { describe, expect, it } from 'vitest';
import { brokerConfig } from '../../framework/broker/broker-config';
import type { OrderEvent } from '../../framework/broker/orders';
import { PaperBroker } from '../../framework/broker/paper-broker';
import type { Candle } from '../../framework/core/candle';

// PaperBroker.closeOnExchange: a sale reconciliation found outside the run, applied on the next candle after the
// open's fills, at the exchange's price (no slippage), paying the fee rate. Arithmetic by hand in the comments.
const HOUR = 3_600_000;
const T0 = Date.UTC(2021, 0, 1);
const at = (i: number, open: number, close = open): Candle => ({ openTime: T0 + i * HOUR, open, high: Math.max(open, close), low: Math.min(open, close), close, volume: 1 });
const ENTRY = { action: 'enter_long', size: { quote: 1_000 }, stopLoss: 0.1 } as const;

function broker(): { b: PaperBroker; events: OrderEvent[] } {
  // 10 bps of slippage on market fills (not on the exchange's own price), fee 0.1%, lots of 0.001.
  const b = new PaperBroker(brokerConfig({ initialCash: 10_000, feeRate: 0.001, slippageBps: 10, amountStep: 0.001 }));
  const events: OrderEvent[] = [];
  b.addOrderListener((e) => events.push(e));
  return { b, events };
}

describe('PaperBroker.closeOnExchange', () => {
  it('closes the position on the next candle at the exchange\'s price: exit reason closed_on_exchange', () => {
    const { b, events } = broker();
    b.onCandle(at(0, 100));
    b.submit(ENTRY, at(0, 100)); // 1 000 / (100 × 1.001) = 9.99000999 → 9.99
    b.onCandle(at(1, 100)); // filled at 100 × 1.001 = 100.1; cash 10 000 − 999.999 − 0.999999 = 8 999.001001
    b.closeOnExchange(9.99, 105);
    expect(b.position?.quantity).toBe(9.99); // not before the next candle
    b.onCandle(at(2, 104, 103));
    expect(b.position).toBeNull();
    const [trade] = b.trades;
    expect(trade).toMatchObject({ exitReason: 'closed_on_exchange', exitPrice: 105, exitTime: T0 + 2 * HOUR, quantity: 9.99 });
    // + 105 × 9.99 = 1 048.95, − fee 0.001 × 1 048.95 = 1.04895 → 8 999.001001 + 1 047.90105 = 10 046.902051
    expect(b.cash).toBeCloseTo(10_046.902051, 9);
    expect(b.fills.at(-1)).toMatchObject({ reason: 'closed_on_exchange', side: 'sell', price: 105, quantity: 9.99 });
    expect(b.fills.at(-1)!.fee).toBeCloseTo(1.04895, 12);
    const closing = events.filter((e) => e.order.reason === 'closed_on_exchange');
    expect(closing.map((e) => [e.order.status, e.order.filledQuantity, e.targetQuantity])).toEqual([['accepted', 0, 0], ['filled', 9.99, 0]]);
  });

  it('a partial sale reduces the position and keeps its stop; the trade ends later by its own exit', () => {
    const { b } = broker();
    b.onCandle(at(0, 100));
    b.submit(ENTRY, at(0, 100));
    b.onCandle(at(1, 100));
    const stop = b.position!.stopPrice; // 100.1 × 0.9 = 90.09
    b.closeOnExchange(4, 105);
    b.onCandle(at(2, 104));
    expect(b.position).toMatchObject({ quantity: 5.99, stopPrice: stop }); // 9.99 − 4
    expect(b.trades).toEqual([]);
    b.submit({ action: 'exit_long' }, at(2, 104));
    b.onCandle(at(3, 110)); // 5.99 sold at 110 × 0.999 = 109.89
    expect(b.trades[0]).toMatchObject({ exitReason: 'signal', quantity: 9.99 });
    // exit price: (4 × 105 + 5.99 × 109.89) / 9.99 = (420 + 658.2411) / 9.99 = 107.932042…
    expect(b.trades[0]!.exitPrice).toBeCloseTo(1_078.2411 / 9.99, 9);
  });

  it('after an entry still pending on paper (already bought on the exchange and sold by hand): the entry fills, then closes', () => {
    const { b } = broker();
    b.onCandle(at(0, 100));
    b.submit(ENTRY, at(0, 100));
    b.closeOnExchange(9.99, 99);
    b.onCandle(at(1, 100));
    expect(b.position).toBeNull();
    expect(b.trades[0]).toMatchObject({ entryTime: T0 + HOUR, exitTime: T0 + HOUR, entryPrice: 100.1, exitPrice: 99, exitReason: 'closed_on_exchange' });
  });

  it('a sale larger than the position closes the whole trade; the order keeps the whole sale, cancelled beyond the position', () => {
    const { b, events } = broker();
    b.onCandle(at(0, 100));
    b.submit(ENTRY, at(0, 100));
    b.onCandle(at(1, 100));
    b.closeOnExchange(5, 101); // replaced by the next finding (the whole shortfall each time), not added to it
    b.closeOnExchange(12, 105); // 12 sold on the exchange, 9.99 of it on paper
    b.onCandle(at(2, 104));
    expect(b.position).toBeNull();
    expect(b.trades[0]).toMatchObject({ exitReason: 'closed_on_exchange', exitPrice: 105, quantity: 9.99 });
    expect(b.fills.filter((f) => f.reason === 'closed_on_exchange').map((f) => f.quantity)).toEqual([9.99]);
    const closing = events.filter((e) => e.order.reason === 'closed_on_exchange').map((e) => [e.order.status, e.order.quantity, e.order.filledQuantity]);
    expect(closing).toEqual([
      ['accepted', 12, 0],
      ['cancelled', 12, 9.99],
    ]);
  });

  it('books the sale without a fill when the position is flat by then; refuses a quantity or price that is not positive', () => {
    const { b, events } = broker();
    b.onCandle(at(0, 100));
    b.closeOnExchange(1, 100);
    b.onCandle(at(1, 100));
    expect(b.fills).toEqual([]);
    expect(b.trades).toEqual([]);
    expect(events.map((e) => [e.order.reason, e.order.status, e.order.quantity, e.order.filledQuantity, e.targetQuantity])).toEqual([
      ['closed_on_exchange', 'accepted', 1, 0, -1],
      ['closed_on_exchange', 'cancelled', 1, 0, 0],
    ]);
    expect(() => b.closeOnExchange(0, 100)).toThrow('broker closeOnExchange: quantity 0 and price 100 must be positive numbers');
    expect(() => b.closeOnExchange(1, Number.NaN)).toThrow(/must be positive numbers/);
  });
});
