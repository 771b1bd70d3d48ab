import { describe, expect, it } from 'vitest';
import {
  PositionReconciler,
  type ExchangeSymbolReport,
  type ExchangeTrade,
  type RunSymbolState,
  type UnsettledOrder,
} from '../../framework/execution/reconcile';

// Hand-made cases: a run long BTC/USDT whose own buy was exchange order 11 (trade t1, 0.5 BTC at 50 000).
const RUN_BUY: ExchangeTrade = { id: 't1', exchangeOrderId: '11', side: 'buy', quantity: 0.5, price: 50_000, time: 1_000 };

function run(position: number, unsettled: readonly UnsettledOrder[] = []): RunSymbolState {
  return {
    symbol: 'BTC/USDT',
    base: 'BTC',
    position,
    exchangeOrderIds: new Set(['11']),
    clientOrderIds: new Set(['cc-entry', ...unsettled.map((o) => o.clientOrderId)]),
    unsettled,
  };
}

/** A report whose trades were all reported before the balance was read, unless `more` says otherwise. */
function report(baseBalance: number | undefined, trades: readonly ExchangeTrade[] | undefined = [RUN_BUY], more: Partial<ExchangeSymbolReport> = {}): Map<string, ExchangeSymbolReport> {
  const tradesBeforeBalance = trades === undefined ? undefined : new Set(trades.map((t) => t.id));
  return new Map([['BTC/USDT', { baseBalance, openOrders: [], trades, tradesBeforeBalance, lookups: new Map(), ...more }]]);
}

const sale = (id: string, quantity: number, price: number, time: number): ExchangeTrade => ({ id, exchangeOrderId: `hand-${id}`, side: 'sell', quantity, price, time });

describe('PositionReconciler (pure core), hand-made cases', () => {
  it('in_sync when the exchange holds exactly the run\'s position', () => {
    const core = new PositionReconciler();
    const { findings } = core.reconcile([run(0.5)], report(0.5));
    expect(findings).toEqual([
      { kind: 'in_sync', symbol: 'BTC/USDT', runQuantity: 0.5, expectedQuantity: 0.5, exchangeQuantity: 0.5, externalOrders: [], resumed: false },
    ]);
    expect(core.isBlocked('BTC/USDT')).toBe(false);
  });

  it('closed_on_exchange at the exchange\'s price when a hand sale explains the shortfall', () => {
    const core = new PositionReconciler();
    // Run holds 0.5; a person sold 0.2 at 51 000 and then 0.1 at 52 000 → the exchange holds 0.2.
    // Shortfall 0.3, covered by both sales: price = (0.2 × 51 000 + 0.1 × 52 000) / 0.3 = (10 200 + 5 200) / 0.3 = 51 333.33…
    const trades = [RUN_BUY, sale('t2', 0.2, 51_000, 2_000), sale('t3', 0.1, 52_000, 3_000)];
    const [finding] = core.reconcile([run(0.5)], report(0.2, trades)).findings;
    expect(finding).toMatchObject({ kind: 'closed_on_exchange', closedQuantity: 0.3, tradeIds: ['t2', 't3'] });
    expect(finding?.kind === 'closed_on_exchange' && finding.closedQuantity).toBeCloseTo(0.3, 12);
    expect(finding?.kind === 'closed_on_exchange' && finding.price).toBeCloseTo(15_400 / 0.3, 6);
    expect(core.isBlocked('BTC/USDT')).toBe(false);
  });

  it('prices the shortfall at the most recent covering sells only', () => {
    const core = new PositionReconciler();
    // External 1.0 BTC held before the run (exchange 1.5 vs run 0.5): external, accounted.
    expect(core.reconcile([run(0.5)], report(1.5, [RUN_BUY])).findings[0]).toMatchObject({ kind: 'external', externalQuantity: 1 });
    // Then the person sells 0.8 at 40 000 (their own coins: still external 0.2) and 0.4 at 45 000: exchange 0.3.
    // Shortfall 0.2, covered by the newest sale alone: price 45 000.
    const trades = [RUN_BUY, sale('t2', 0.8, 40_000, 2_000), sale('t3', 0.4, 45_000, 3_000)];
    const [finding] = core.reconcile([run(0.5)], report(0.3, trades)).findings;
    expect(finding).toMatchObject({ kind: 'closed_on_exchange', price: 45_000, tradeIds: ['t3'] });
    expect(finding?.kind === 'closed_on_exchange' && finding.closedQuantity).toBeCloseTo(0.2, 12);
  });

  it('external when the exchange holds more than the run owns; it never blocks', () => {
    const core = new PositionReconciler();
    const { findings } = core.reconcile([run(0.5)], report(0.75, [RUN_BUY], { openOrders: [{ exchangeOrderId: '99', clientOrderId: 'web-1', side: 'sell' }] }));
    expect(findings[0]).toMatchObject({ kind: 'external', externalQuantity: 0.25, externalOrders: ['web-1'] });
    expect(core.isBlocked('BTC/USDT')).toBe(false);
  });

  it('unexplained blocks entries when no sale explains the shortfall, and resumes once in sync', () => {
    const core = new PositionReconciler();
    // 0.5 held by the run, 0.3 on the exchange, and no trade outside the run (a withdrawal, say).
    const blocked = core.reconcile([run(0.5)], report(0.3)).findings[0];
    expect(blocked).toMatchObject({ kind: 'unexplained' });
    expect(core.isBlocked('BTC/USDT')).toBe(true);
    // The person deposits the 0.2 back: in sync, block lifted.
    expect(core.reconcile([run(0.5)], report(0.5)).findings[0]).toMatchObject({ kind: 'in_sync', resumed: true });
    expect(core.isBlocked('BTC/USDT')).toBe(false);
  });

  it('a missing report is unknown: never a flat position, never a block, never an unblock', () => {
    const core = new PositionReconciler();
    expect(core.reconcile([run(0.5)], report(undefined)).findings[0]).toMatchObject({ kind: 'unknown', exchangeQuantity: null });
    expect(core.reconcile([run(0.5)], new Map()).findings[0]).toMatchObject({ kind: 'unknown' });
    expect(core.isBlocked('BTC/USDT')).toBe(false);
    core.reconcile([run(0.5)], report(0.3)); // blocked
    expect(core.reconcile([run(0.5)], report(undefined)).findings[0]).toMatchObject({ kind: 'unknown' });
    expect(core.isBlocked('BTC/USDT')).toBe(true);
  });

  it('a proven shortfall with the trades missing blocks (fail closed); the trades, once reported, explain it', () => {
    const core = new PositionReconciler();
    expect(core.reconcile([run(0.5)], report(0, undefined)).findings[0]).toMatchObject({ kind: 'unexplained' });
    expect(core.isBlocked('BTC/USDT')).toBe(true);
    const [finding] = core.reconcile([run(0.5)], report(0, [RUN_BUY, sale('t2', 0.5, 49_000, 2_000)])).findings;
    expect(finding).toMatchObject({ kind: 'closed_on_exchange', closedQuantity: 0.5, price: 49_000, resumed: true });
    expect(core.isBlocked('BTC/USDT')).toBe(false);
  });

  it('a sale already accounted for when the run and the exchange agreed does not explain a later shortfall', () => {
    const core = new PositionReconciler();
    // External 0.3 before; the person sells exactly their 0.3 at 48 000: exchange 0.5 = run → in sync, t2 accounted.
    core.reconcile([run(0.5)], report(0.8));
    expect(core.reconcile([run(0.5)], report(0.5, [RUN_BUY, sale('t2', 0.3, 48_000, 2_000)])).findings[0]).toMatchObject({ kind: 'in_sync' });
    // Later 0.3 disappears without a trade: t2 must not be taken as its explanation.
    expect(core.reconcile([run(0.5)], report(0.2, [RUN_BUY, sale('t2', 0.3, 48_000, 2_000)])).findings[0]).toMatchObject({ kind: 'unexplained' });
  });

  it('a sale reported only after the balance was read is not accounted for by an agreement: it explains the next shortfall', () => {
    const core = new PositionReconciler();
    // The pass read the trades ([t1]), the balance (0.5 = run: in sync), then the trades again: a person's sale t2 of
    // 0.5 at 47 000 landed after the balance was read. The balance does not reflect t2, so t2 is not accounted for.
    const trades = [RUN_BUY, sale('t2', 0.5, 47_000, 2_000)];
    expect(core.reconcile([run(0.5)], report(0.5, trades, { tradesBeforeBalance: new Set(['t1']) })).findings[0]).toMatchObject({ kind: 'in_sync' });
    // Next pass: the balance shows the sale (0 held); t2 explains the shortfall of 0.5 in full, at its price.
    const [finding] = core.reconcile([run(0.5)], report(0, trades)).findings;
    expect(finding).toMatchObject({ kind: 'closed_on_exchange', closedQuantity: 0.5, price: 47_000, tradeIds: ['t2'] });
    expect(core.isBlocked('BTC/USDT')).toBe(false);
  });

  it('a sale landing between the trades read before the balance and the balance explains the shortfall in that pass', () => {
    const core = new PositionReconciler();
    // The first read of the pass saw [t1]; the person sold 0.5 at 47 000 (t2); the balance then read 0; the second
    // read of the trades saw [t1, t2]: shortfall 0.5, explained by t2.
    const trades = [RUN_BUY, sale('t2', 0.5, 47_000, 2_000)];
    const [finding] = core.reconcile([run(0.5)], report(0, trades, { tradesBeforeBalance: new Set(['t1']) })).findings;
    expect(finding).toMatchObject({ kind: 'closed_on_exchange', closedQuantity: 0.5, price: 47_000, tradeIds: ['t2'] });
  });

  it('an order in flight counts by what the exchange says it filled; one not looked up makes the symbol unknown', () => {
    const core = new PositionReconciler();
    const inFlight: UnsettledOrder = { clientOrderId: 'cc-exit', side: 'sell', appliedFilled: 0, state: 'in_flight' };
    // The run's exit of 0.5 was sent, no answer yet: the exchange already filled it (order 12) and holds 0.
    const lookups = new Map([['cc-exit', { exchangeOrderId: '12', clientOrderId: 'cc-exit', status: 'closed' as const, filled: 0.5 }]]);
    const runSell = { id: 't2', exchangeOrderId: '12', side: 'sell' as const, quantity: 0.5, price: 50_500, time: 2_000 };
    expect(core.reconcile([run(0.5, [inFlight])], report(0, [RUN_BUY, runSell], { lookups })).findings[0]).toMatchObject({
      kind: 'in_sync',
      expectedQuantity: 0,
    });
    // Never arrived (the exchange has no such order): nothing expected from it.
    expect(core.reconcile([run(0.5, [inFlight])], report(0.5, [RUN_BUY], { lookups: new Map([['cc-exit', null]]) })).findings[0]).toMatchObject({
      kind: 'in_sync',
      expectedQuantity: 0.5,
    });
    expect(core.reconcile([run(0.5, [inFlight])], report(0)).findings[0]).toMatchObject({ kind: 'unknown' });
  });

  it('a working order the exchange reports cancelled is unexplained', () => {
    const core = new PositionReconciler();
    const stop: UnsettledOrder = { clientOrderId: 'cc-stop', side: 'sell', appliedFilled: 0, state: 'working' };
    const lookups = new Map([['cc-stop', { exchangeOrderId: '13', clientOrderId: 'cc-stop', status: 'canceled' as const, filled: 0 }]]);
    expect(core.reconcile([run(0.5, [stop])], report(0.5, [RUN_BUY], { lookups })).findings[0]).toMatchObject({ kind: 'unexplained' });
    expect(core.isBlocked('BTC/USDT')).toBe(true);
  });

  it('reports a finding as changed only when it differs from the symbol\'s previous one', () => {
    const core = new PositionReconciler();
    expect(core.reconcile([run(0.5)], report(0.75)).changed).toHaveLength(1);
    expect(core.reconcile([run(0.5)], report(0.75)).changed).toHaveLength(0);
    expect(core.reconcile([run(0.5)], report(0.5)).changed).toHaveLength(1);
  });
});
