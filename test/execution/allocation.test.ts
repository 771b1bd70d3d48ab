/** The pure core of capital allocation on a shared account (framework/execution/allocation.ts), on hand-computed cases. */
import { describe, expect, it } from 'vitest';
import { allocationRefusal, quoteAvailable } from '../../framework/execution/allocation';
import type { OrderRecord } from '../../framework/execution/orders-journal';

const record = (clientOrderId: string, side: 'buy' | 'sell', filled: number | null, average: number | null, fee: OrderRecord['fee'], request: OrderRecord['request'] = 'create'): OrderRecord => ({
  time: 0,
  request,
  clientOrderId,
  paperClientOrderId: clientOrderId.replace(/r\d+$/, ''),
  reason: side === 'buy' ? 'entry' : 'exit',
  openTime: 0,
  side,
  amount: filled ?? 0,
  target: 0,
  held: 0,
  orderId: filled === null ? null : '1',
  status: filled === null ? 'sending' : 'closed',
  filled,
  average,
  fee,
  failure: null,
});

describe('quoteAvailable', () => {
  it('spends buys and fees in the quote asset, returns sells, counts each exchange order once', () => {
    const records = [
      record('c1', 'buy', null, null, null), // the line before the order went out: nothing
      record('c1', 'buy', 0.01, 50_000, { cost: 0.5, currency: 'USDT' }), // 1,000 − 500 − 0.5 = 499.5
      record('c1', 'buy', 0.01, 50_000, { cost: 0.5, currency: 'USDT' }, 'fetch'), // the same order looked up: not again
      record('c2', 'sell', 0.005, 52_000, { cost: 0.26, currency: 'USDT' }), // 499.5 + 260 − 0.26 = 759.24
      record('c3', 'buy', 0.001, 50_000, { cost: 0.000001, currency: 'BTC' }), // 759.24 − 50 = 709.24 (a BNB/BTC fee is not quote)
    ];
    expect(quoteAvailable(1_000, records, 'USDT')).toBeCloseTo(709.24, 9);
    expect(quoteAvailable(1_000, [], 'USDT')).toBe(1_000);
  });
});

describe('allocationRefusal', () => {
  const check = { strategy: 'a', feeRate: 0.001, allocation: 1_000, available: 759.24, base: 'BTC', quote: 'USDT' };
  it('lets through a buy that fits and every sell', () => {
    // 0.015 × 50,000 × 1.001 = 750.75 ≤ 759.24
    expect(allocationRefusal({ ...check, side: 'buy', amount: 0.015, price: 50_000 })).toBeNull();
    expect(allocationRefusal({ ...check, side: 'sell', amount: 10, price: 50_000 })).toBeNull();
  });
  it('refuses a buy beyond what is left, and a buy with no reference price', () => {
    // 0.0152 × 50,000 × 1.001 = 760.76 > 759.24
    expect(allocationRefusal({ ...check, side: 'buy', amount: 0.0152, price: 50_000 })).toBe(
      'allocation: a: buying 0.0152 BTC costs about 760.76 USDT, more than the 759.24 USDT left of its allocation of 1000 USDT; not sent',
    );
    expect(allocationRefusal({ ...check, side: 'buy', amount: 0.001, price: undefined })).toMatch(/^allocation: a: no price of BTC\/USDT known yet/);
  });
});
