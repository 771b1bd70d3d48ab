/**
 * A hand sale that lands in the middle of a reconciliation pass, between two of its requests (issue 12; the cause of the
 * intermittent `real-orders-kill-in-flight` failure under load).
 *
 * A pass reads the account with several requests (balance, open orders, trades) one after the other; the exchange moves
 * on between them. A sale answered in the trades but not yet in the balance must not be taken as already accounted for
 * when the balance still agrees with the run: otherwise the next pass sees the shortfall with its only explanation
 * discarded, calls it unexplained and blocks entries for good. For every point between the pass's requests, the sale
 * must close as `closed_on_exchange` (in that pass or the next), at the exchange's price, and never block.
 *
 * Real candles, the simulator's account on loopback, real ccxt. The test plays the run and makes the sale by hand right
 * after the n-th answer of a pass reached the reconciliation (the answers are the exchange's own, passed on unchanged).
 */
import type { Exchange } from 'ccxt';
import { describe, expect, it } from 'vitest';
import type { Finding, RunSymbolState } from '../../framework/execution/reconcile';
import { ExchangeReconciliation, type ReconcilingExchange } from '../../framework/execution/reconcile-driver';
import type { SimulatedOrder } from '../../framework/sim/account';
import { simAccount, START } from './sim-account';

const KEY = { apiKey: 'mid-pass-key-51c0', secret: 'mid-pass-secret-7e2d9a' };

/**
 * `ex` as reconciliation calls it, with `afterAnswer(n)` run once the n-th answer (1-based, over all calls) is in hand
 * and before the reconciliation sees it. Nothing is changed or invented: every answer is the exchange's.
 */
function observed(ex: Exchange, afterAnswer: (n: number) => void): ReconcilingExchange {
  let answers = 0;
  const after = async <T>(answer: Promise<T>): Promise<T> => {
    const value = await answer;
    answers += 1;
    afterAnswer(answers);
    return value;
  };
  return {
    fetchBalance: (...args: Parameters<Exchange['fetchBalance']>) => after(ex.fetchBalance(...args)),
    fetchOpenOrders: (...args: Parameters<Exchange['fetchOpenOrders']>) => after(ex.fetchOpenOrders(...args)),
    fetchOrder: (...args: Parameters<Exchange['fetchOrder']>) => after(ex.fetchOrder(...args)),
    fetchMyTrades: (...args: Parameters<Exchange['fetchMyTrades']>) => after(ex.fetchMyTrades(...args)),
  };
}

/**
 * A run long 0.01 BTC and one pass in sync; then a hand sale of the 0.01 BTC right after answer `k` of the second pass
 * (k = 0: before it starts), and three passes. Returns their findings, whether entries were blocked after each, the
 * sale, and how many requests the first pass made.
 */
async function saleDuringPass(k: number) {
  const { sim, ex } = await simAccount(KEY);
  const bought = await ex.createOrder('BTC/USDT', 'market', 'buy', 0.01, undefined, { clientOrderId: 'cc-run-entry-1' });
  let position = bought.filled ?? 0;
  const state = (): readonly RunSymbolState[] => [
    { symbol: 'BTC/USDT', base: 'BTC', position, exchangeOrderIds: new Set([bought.id ?? '']), clientOrderIds: new Set(['cc-run-entry-1']), unsettled: [] },
  ];
  let answers = 0;
  let target = Number.POSITIVE_INFINITY;
  let sale: SimulatedOrder | null = null;
  const exchange = observed(ex, (n) => {
    answers = n;
    if (n === target) sale = sim.account.trade({ symbol: 'BTC/USDT', side: 'sell', quantity: 0.01 });
  });
  const reconciliation = new ExchangeReconciliation({
    exchange,
    runState: state,
    tradesSince: () => START,
    onFinding: (_record, finding) => {
      if (finding.kind === 'closed_on_exchange') position -= finding.closedQuantity; // the run closes what the exchange sold
    },
  });
  const first = await reconciliation.reconcileNow();
  expect(first.findings.map((f) => f.kind)).toEqual(['in_sync']);
  const requests = answers;
  if (k === 0) sale = sim.account.trade({ symbol: 'BTC/USDT', side: 'sell', quantity: 0.01 });
  else target = answers + k;
  const passes: Finding[] = [];
  const blocked: boolean[] = [];
  for (let pass = 0; pass < 3; pass += 1) {
    passes.push(...(await reconciliation.reconcileNow()).findings);
    blocked.push(reconciliation.isBlocked('BTC/USDT'));
  }
  return { passes, blocked, sale: sale as SimulatedOrder | null, requests };
}

describe('a hand sale in the middle of a reconciliation pass', () => {
  it('closes as closed_on_exchange at the sale\'s price wherever it lands between the pass\'s requests, and never blocks', async () => {
    // The first pass tells how many requests a pass makes (n); the sale lands after answer k of the second pass,
    // k = 0 (before its first request) … n (after its last, before the decision).
    let requests = Number.NaN;
    for (let k = 0; ; k += 1) {
      const { passes, blocked, sale, ...first } = await saleDuringPass(k);
      requests = first.requests;
      expect(sale, `the sale after answer ${k} of the second pass`).not.toBeNull();
      const where = `the sale after answer ${k} of ${requests} of the second pass`;
      expect(passes.map((f) => f.kind).filter((kind) => kind === 'unexplained'), where).toEqual([]);
      expect(blocked, where).toEqual([false, false, false]);
      const closed = passes.filter((f) => f.kind === 'closed_on_exchange');
      expect(closed, where).toHaveLength(1);
      expect(closed[0], where).toMatchObject({ closedQuantity: 0.01, price: sale!.price });
      expect(passes.at(-1), where).toMatchObject({ kind: 'in_sync', runQuantity: 0, exchangeQuantity: 0 });
      if (k >= requests) break;
    }
    expect(requests).toBeGreaterThanOrEqual(3); // balance, open orders, trades at least: there are points between them
  });
});
