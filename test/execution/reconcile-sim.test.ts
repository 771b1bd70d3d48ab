import type { Exchange } from 'ccxt';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ExchangeReconciliation, type ReconciliationRecord } from '../../framework/execution/reconcile-driver';
import type { RunSymbolState } from '../../framework/execution/reconcile';
import type { FaultConfig } from '../../framework/sim/config';
import { simAccount, START } from './sim-account';

// Real candles, the simulator's account on loopback, real ccxt; the test plays the run (its position, its orders).
const KEY = { apiKey: 'recon-key-2b7f', secret: 'recon-secret-9a13c4' };
const setUp = (faults: FaultConfig = {}) => simAccount(KEY, faults);

/** The run as the reconciliation reads it: one position on BTC/USDT and the orders it sent. */
class FakeRun {
  position = 0;
  readonly exchangeOrderIds = new Set<string>();
  readonly clientOrderIds = new Set<string>();
  passes = 0;

  state = (): readonly RunSymbolState[] => {
    this.passes += 1;
    const { position, exchangeOrderIds, clientOrderIds } = this;
    return [{ symbol: 'BTC/USDT', base: 'BTC', position, exchangeOrderIds, clientOrderIds, unsettled: [] }];
  };

  async buy(ex: Exchange, quantity: number, clientOrderId: string): Promise<void> {
    const order = await ex.createOrder('BTC/USDT', 'market', 'buy', quantity, undefined, { clientOrderId });
    this.clientOrderIds.add(clientOrderId);
    this.exchangeOrderIds.add(order.id ?? '');
    this.position += order.filled ?? 0;
  }
}

interface Seen {
  readonly record: ReconciliationRecord;
  /** The pass (1-based) that emitted it. */
  readonly pass: number;
}

/** Resolves with the first record seen for which `wanted` holds. */
function waitFor(seen: Seen[], wanted: (r: ReconciliationRecord) => boolean): Promise<Seen> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const found = seen.find((s) => wanted(s.record));
      if (found !== undefined) {
        clearInterval(timer);
        resolve(found);
      }
    }, 10);
  });
}

describe('reconciliation against the simulator\'s account, through real ccxt', () => {
  it('detects a hand sale within one interval as closed_on_exchange at the exchange\'s price, and reports extra holdings as external without trading them', async () => {
    const { sim, ex } = await setUp();
    const run = new FakeRun();
    await run.buy(ex, 0.01, 'cc-run-entry-1');
    const records: Seen[] = [];
    const reconciliation = new ExchangeReconciliation({
      exchange: ex,
      runState: run.state,
      tradesSince: () => START,
      intervalMs: 50,
      now: () => sim.clock(),
      onFinding: (record, finding) => {
        records.push({ record, pass: run.passes });
        // The run closes what the exchange proves closed, at the exchange's price.
        if (finding.kind === 'closed_on_exchange') run.position -= finding.closedQuantity;
      },
    });
    onTestFinished(() => reconciliation.stop());
    const first = await reconciliation.start();
    expect(first.findings.map((f) => f.kind)).toEqual(['in_sync']);

    // A person sells the run's 0.01 BTC by hand, an hour later on the exchange clock (another price).
    sim.advanceTo(START + 3_600_000);
    const passesBefore = run.passes;
    const sold = sim.account.trade({ symbol: 'BTC/USDT', side: 'sell', quantity: 0.01 });
    const closed = await waitFor(records, (r) => r.finding === 'closed_on_exchange');
    // Within one interval: at the latest in the pass after the one running when the sale happened.
    expect(closed.pass).toBeLessThanOrEqual(passesBefore + 1);
    expect(closed.record).toMatchObject({
      type: 'position_mismatch',
      symbol: 'BTC/USDT',
      finding: 'closed_on_exchange',
      runQuantity: 0.01,
      exchangeQuantity: 0,
      closedQuantity: 0.01,
      price: sold.price,
      time: START + 3_600_000,
    });
    // The price is the exchange's: the close of its newest kline at the time of the sale (REST, not the test's numbers).
    expect(sold.price).toBe((await ex.fetchOHLCV('BTC/USDT', '1h', undefined, 1)).at(-1)![4]);
    expect(JSON.parse(JSON.stringify(closed.record))).toEqual(closed.record); // a JSON line as it is
    await waitFor(records, (r) => r.finding === 'in_sync' && r['runQuantity'] === 0);

    // Extra holdings: a person buys 0.005 BTC by hand. Reported as external; the run never trades them.
    const ordersBefore = sim.orders.length;
    sim.account.trade({ symbol: 'BTC/USDT', side: 'buy', quantity: 0.005 });
    const external = await waitFor(records, (r) => r.finding === 'external');
    expect(external.record).toMatchObject({ type: 'position_mismatch', runQuantity: 0, exchangeQuantity: 0.005, externalQuantity: 0.005 });
    const more = await reconciliation.reconcileNow(); // the hook a reconnect calls
    expect(more.findings[0]).toMatchObject({ kind: 'external' });
    expect(more.changed).toEqual([]); // reported once, not every pass
    expect(sim.orders.length).toBe(ordersBefore + 1); // only the person's buy: reconciliation placed no order
    expect(reconciliation.isBlocked('BTC/USDT')).toBe(false);
  });

  it('a failed balance fetch is unknown, never a flat position; the next pass decides', async () => {
    // Signed request 1 is the run's buy; the first pass reads the trades (2), then the balance (3), answered 429.
    const { ex } = await setUp({ order429: { nth: [3] } });
    const run = new FakeRun();
    await run.buy(ex, 0.01, 'cc-run-entry-1');
    const records: ReconciliationRecord[] = [];
    const reconciliation = new ExchangeReconciliation({ exchange: ex, runState: run.state, tradesSince: () => START, onFinding: (r) => records.push(r) });
    const first = await reconciliation.reconcileNow();
    expect(first.findings[0]).toMatchObject({ kind: 'unknown', exchangeQuantity: null, runQuantity: 0.01 });
    expect(reconciliation.isBlocked('BTC/USDT')).toBe(false);
    expect((await reconciliation.reconcileNow()).findings[0]).toMatchObject({ kind: 'in_sync', exchangeQuantity: 0.01 });
    expect(records.map((r) => r.type)).toEqual(['reconciliation_unknown', 'position_in_sync']);
  });

  it('a working stop the run placed, cancelled on the exchange by hand, blocks entries until the run settles it', async () => {
    const { sim, ex } = await setUp();
    const run = new FakeRun();
    await run.buy(ex, 0.01, 'cc-run-entry-1');
    const stopPrice = Math.floor((await ex.fetchOHLCV('BTC/USDT', '1h', undefined, 1)).at(-1)![4]! * 0.9);
    await ex.createOrder('BTC/USDT', 'market', 'sell', 0.01, undefined, { stopLossPrice: stopPrice, clientOrderId: 'cc-run-stop-1' });
    run.clientOrderIds.add('cc-run-stop-1');
    let unsettled = [{ clientOrderId: 'cc-run-stop-1', side: 'sell' as const, appliedFilled: 0, state: 'working' as const }];
    const state = (): readonly RunSymbolState[] => run.state().map((s) => ({ ...s, unsettled }));
    const reconciliation = new ExchangeReconciliation({ exchange: ex, runState: state, tradesSince: () => START, onFinding: () => undefined });
    // The stop locks the 0.01 BTC: the total balance still equals the run's position.
    expect((await reconciliation.reconcileNow()).findings[0]).toMatchObject({ kind: 'in_sync', exchangeQuantity: 0.01 });
    expect(sim.account.cancelOrder('BTCUSDT', { clientOrderId: 'cc-run-stop-1' }).ok).toBe(true); // by hand
    expect((await reconciliation.reconcileNow()).findings[0]).toMatchObject({ kind: 'unexplained' });
    expect(reconciliation.isBlocked('BTC/USDT')).toBe(true);
    unsettled = []; // the run learns its stop is gone (and would place a new one)
    expect((await reconciliation.reconcileNow()).findings[0]).toMatchObject({ kind: 'in_sync', resumed: true });
    expect(reconciliation.isBlocked('BTC/USDT')).toBe(false);
  });
});
