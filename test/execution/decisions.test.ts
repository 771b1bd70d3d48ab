import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, exchangeClientOrderId, heldAfter, nextStep, orderTowards, type ExchangeAnswer, type ExecutionLimits } from '../../framework/execution/decisions';
import type { Failure } from '../../framework/execution/failures';

const limits: ExecutionLimits = { ...DEFAULT_LIMITS, maxSends: 3, maxQueries: 2, retryDelayMs: 50, queryDelayMs: 20, rateLimitWaitMs: 700 };
const filled: ExchangeAnswer = { orderId: '7', status: 'closed', filled: 0.01, average: 55_000, baseFee: 0, fee: { cost: 0.55, currency: 'USDT' } };
const fail = (classification: Failure['classification'], retryAfterMs?: number): Failure => ({
  classification,
  message: 'm',
  ...(retryAfterMs !== undefined && { retryAfterMs }),
});

describe('nextStep: what follows each outcome of one exchange order', () => {
  it('an answered order in a final state is done', () => {
    expect(nextStep({ kind: 'answered', answer: filled }, { sends: 1, queries: 0 }, limits)).toEqual({ kind: 'done', answer: filled });
    const expired = { ...filled, status: 'expired', filled: 0.004 };
    expect(nextStep({ kind: 'answered', answer: expired }, { sends: 1, queries: 0 }, limits)).toEqual({ kind: 'done', answer: expired });
  });

  it('an answered order still open is looked up again, then taken as it stands once the lookups are spent', () => {
    const open = { ...filled, status: 'open', filled: 0.002 };
    expect(nextStep({ kind: 'answered', answer: open }, { sends: 1, queries: 0 }, limits)).toEqual({ kind: 'wait', ms: 50, then: 'query' });
    expect(nextStep({ kind: 'answered', answer: open }, { sends: 1, queries: 2 }, limits)).toEqual({ kind: 'done', answer: open });
  });

  it('a rejection is given up at once, never re-sent', () => {
    expect(nextStep({ kind: 'send_failed', failure: fail('rejected') }, { sends: 1, queries: 0 }, limits)).toEqual({ kind: 'give_up', failure: fail('rejected') });
  });

  it('an ambiguous send is looked up (after the query delay) before anything else, even when no send is left', () => {
    expect(nextStep({ kind: 'send_failed', failure: fail('ambiguous') }, { sends: 1, queries: 0 }, limits)).toEqual({ kind: 'wait', ms: 20, then: 'query' });
    expect(nextStep({ kind: 'send_failed', failure: fail('ambiguous') }, { sends: 3, queries: 0 }, limits)).toEqual({ kind: 'wait', ms: 20, then: 'query' });
  });

  it('the same client id is sent again only when the exchange proved it does not have it, within maxSends', () => {
    expect(nextStep({ kind: 'absent' }, { sends: 1, queries: 1 }, limits)).toEqual({ kind: 'send' });
    const spent = nextStep({ kind: 'absent' }, { sends: 3, queries: 1 }, limits);
    expect(spent).toMatchObject({ kind: 'give_up', failure: { classification: 'not_sent' } });
  });

  it('a failed lookup is retried (waiting out a 429), and given up as ambiguous when the lookups are spent', () => {
    expect(nextStep({ kind: 'query_failed', failure: fail('ambiguous') }, { sends: 1, queries: 1 }, limits)).toEqual({ kind: 'wait', ms: 50, then: 'query' });
    expect(nextStep({ kind: 'query_failed', failure: fail('rate_limited', 3_000) }, { sends: 1, queries: 1 }, limits)).toEqual({ kind: 'wait', ms: 3_000, then: 'query' });
    const spent = nextStep({ kind: 'query_failed', failure: fail('not_sent') }, { sends: 1, queries: 2 }, limits);
    expect(spent).toMatchObject({ kind: 'give_up', failure: { classification: 'ambiguous' } });
  });

  it('not sent: sent again after the retry delay, within maxSends', () => {
    expect(nextStep({ kind: 'send_failed', failure: fail('not_sent') }, { sends: 2, queries: 0 }, limits)).toEqual({ kind: 'wait', ms: 50, then: 'send' });
    expect(nextStep({ kind: 'send_failed', failure: fail('not_sent') }, { sends: 3, queries: 0 }, limits)).toEqual({ kind: 'give_up', failure: fail('not_sent') });
  });

  it('rate limited: waits the Retry-After (or the default without one), then sends the same id again', () => {
    expect(nextStep({ kind: 'send_failed', failure: fail('rate_limited', 2_000) }, { sends: 1, queries: 0 }, limits)).toEqual({ kind: 'wait', ms: 2_000, then: 'send' });
    expect(nextStep({ kind: 'send_failed', failure: fail('rate_limited') }, { sends: 1, queries: 0 }, limits)).toEqual({ kind: 'wait', ms: 700, then: 'send' });
    expect(nextStep({ kind: 'send_failed', failure: fail('rate_limited', 2_000) }, { sends: 3, queries: 0 }, limits).kind).toBe('give_up');
  });
});

describe('sizing and ids', () => {
  it('orderTowards: the difference between the paper target and the exchange holding, as a side and amount', () => {
    expect(orderTowards(0.05, 0)).toEqual({ side: 'buy', amount: 0.05 });
    expect(orderTowards(0.02, 0.05)).toEqual({ side: 'sell', amount: 0.03 });
    expect(orderTowards(0, 0.05)).toEqual({ side: 'sell', amount: 0.05 });
    expect(orderTowards(0.05, 0.05)).toBeNull();
    // Float dust, as a real run met it: the paper target 0.017903 + 0.008959 is 0.026861999999999997 in binary floating
    // point, and 0.026861999999999997 − 0.017903 = 0.008958999999999997, which the exchange's truncation to 0.000001
    // would make 0.008958: the order must ask 0.008959.
    expect(0.017903 + 0.008959).toBe(0.026861999999999997);
    expect(orderTowards(0.017903 + 0.008959, 0.017903)).toEqual({ side: 'buy', amount: 0.008959 });
    expect(orderTowards(0.017903, 0.017903 + 0.008959)).toEqual({ side: 'sell', amount: 0.008959 });
  });

  it('exchangeClientOrderId: the paper id first, then r1, r2 (at most 26 + 3 characters, within Binance\'s 36)', () => {
    expect(exchangeClientOrderId('cc1a2b3c4d-qrs0g0-0', 0)).toBe('cc1a2b3c4d-qrs0g0-0');
    expect(exchangeClientOrderId('cc1a2b3c4d-qrs0g0-0', 1)).toBe('cc1a2b3c4d-qrs0g0-0r1');
    expect(exchangeClientOrderId('cc1a2b3c4d-qrs0g0-0', 12)).toBe('cc1a2b3c4d-qrs0g0-0r12');
  });

  it('heldAfter: + buy, − sell, less the fee paid in base; float dust rounded away', () => {
    // 0.1 + 0.2 is 0.30000000000000004 in binary floating point; the holding is 0.3.
    expect(heldAfter(0.1, 'buy', { ...filled, filled: 0.2 })).toBe(0.3);
    // Binance charges a buy's fee in the bought asset (0.1% of 0.01 BTC = 0.00001 BTC): 0.01 − 0.00001 = 0.00999.
    expect(heldAfter(0, 'buy', { ...filled, filled: 0.01, baseFee: 0.00001 })).toBe(0.00999);
    expect(heldAfter(0.00999, 'sell', { ...filled, filled: 0.00999 })).toBe(0);
  });
});
