/**
 * Reconciliation with the exchange, the pure core: given what a run holds and what the exchange reports, decide per
 * symbol whether they agree, and what to do when they do not. No I/O, no clock: `reconcile-driver.ts` fetches the
 * reports (ccxt `fetchBalance`, `fetchOpenOrders`, `fetchOrder` by client order id, `fetchMyTrades`) and feeds them in;
 * every decision can be replayed in a unit test.
 *
 * The comparison, per symbol (spot, long only; quantities in base currency):
 * - expected = the run's position + what the exchange says the run's unsettled orders (sent, and not yet fully applied
 *   by the run: working, or in flight with no answer yet) have filled beyond what the run applied;
 * - held = the exchange's total balance of the base asset (free + locked);
 * - held = expected (within `tolerance`) → `in_sync`;
 * - held > expected → `external`: the account holds base the run does not own (bought by hand, or held before the run
 *   started). Reported, never traded. External holdings absorb hand sales first: selling them is no concern of the run;
 * - held < expected → the run holds more than the exchange. If the exchange's trades since the run's first order that
 *   are not the run's (by exchange order id), and were not yet accounted for, sold at least the shortfall net, the
 *   shortfall was sold by hand: `closed_on_exchange`, the run closes that quantity at the price of those sales
 *   (volume-weighted over the most recent external sells that cover it). Otherwise → `unexplained`. Accounted for are
 *   the trades the balance is known to reflect when the run and the exchange last agreed (`in_sync` or `external`):
 *   those reported *before* that balance was read. A trade reported only after it may be missing from it (a sale by
 *   hand landing between the two requests): taken as accounted for, it would be lost as the explanation of the
 *   shortfall the next balance shows, and the symbol blocked for good;
 * - a working run order the exchange reports cancelled, expired, rejected or unknown → `unexplained`; an open order on
 *   the exchange that the run never sent is listed in the finding as external (never cancelled by the run);
 * - a report that is missing (its fetch failed) is never evidence of anything, above all not of a flat position: the
 *   symbol's finding is `unknown`, which changes nothing: it neither blocks nor unblocks. Only a proven shortfall that
 *   the trades cannot explain blocks (a shortfall with the trades missing is proven, so it blocks: fail closed).
 *
 * Blocking: an `unexplained` finding blocks new entries on the symbol (fail closed) until a later reconciliation finds
 * it `in_sync`, `external` or `closed_on_exchange` (then the finding says `resumed: true`). `unknown` keeps the block
 * as it is.
 *
 * Where this deliberately differs from the seeds' "restore with a stop at entry ± 5%": holdings the run cannot account
 * for are never adopted as a position and never given an invented stop. The run closes only what the exchange proves
 * was closed (its own trades list shows the sale and its price), reports what it does not own, and blocks entries on a
 * symbol it cannot explain rather than guessing an entry price and a stop for coins that may not be its own.
 *
 * @module
 */

/** One of the run's orders whose fills the run has not fully applied yet. */
export interface UnsettledOrder {
  readonly clientOrderId: string;
  readonly side: 'buy' | 'sell';
  /** Base quantity of it the run has already applied to its position. */
  readonly appliedFilled: number;
  /**
   * `working`: the exchange accepted it and it should still be open (a resting order); `in_flight`: sent, no answer
   * yet (or an ambiguous answer): it may or may not exist on the exchange.
   */
  readonly state: 'working' | 'in_flight';
}

/** What the run holds on one symbol. */
export interface RunSymbolState {
  /** Unified symbol, e.g. `BTC/USDT`. */
  readonly symbol: string;
  /** The base asset, e.g. `BTC`. */
  readonly base: string;
  /** The run's position, base quantity ≥ 0 (spot, long only), counting every fill the run has applied. */
  readonly position: number;
  /** Exchange order ids of the run's orders the run knows (answered ones), to tell its trades from others. */
  readonly exchangeOrderIds: ReadonlySet<string>;
  /** Client order ids of every order the run sent on this symbol. */
  readonly clientOrderIds: ReadonlySet<string>;
  /** The run's orders that may still fill, see {@link UnsettledOrder}. */
  readonly unsettled: readonly UnsettledOrder[];
}

/** An exchange order as a lookup by client order id reports it; `null` when the exchange has no such order. */
export interface ExchangeOrderReport {
  readonly exchangeOrderId: string;
  readonly clientOrderId: string;
  /** ccxt's unified status. */
  readonly status: 'open' | 'closed' | 'canceled' | 'expired' | 'rejected';
  /** Base quantity filled. */
  readonly filled: number;
}

/** An open order on the exchange. */
export interface ExchangeOpenOrder {
  readonly exchangeOrderId: string;
  readonly clientOrderId: string;
  readonly side: 'buy' | 'sell';
}

/** A fill on the account (ccxt `fetchMyTrades`). Price in quote currency, quantity in base, time UTC epoch ms. */
export interface ExchangeTrade {
  readonly id: string;
  readonly exchangeOrderId: string;
  readonly side: 'buy' | 'sell';
  readonly quantity: number;
  readonly price: number;
  readonly time: number;
}

/**
 * What the exchange reported for one symbol. Each part is `undefined` when its fetch failed (missing, not empty).
 * - `baseBalance`: total balance (free + locked) of the base asset;
 * - `openOrders`: the symbol's open orders;
 * - `trades`: the account's fills on the symbol since the run's first order, oldest first, as reported after the
 *   balance was read;
 * - `tradesBeforeBalance`: ids of those the exchange had already reported before the balance was read, so the balance
 *   reflects them (the module doc); `undefined` when that fetch failed;
 * - `lookups`: the result of looking each unsettled run order up by client order id (`null` = the exchange has no such
 *   order); an unsettled order absent from the map was not looked up (or the lookup failed).
 */
export interface ExchangeSymbolReport {
  readonly baseBalance: number | undefined;
  readonly openOrders: readonly ExchangeOpenOrder[] | undefined;
  readonly trades: readonly ExchangeTrade[] | undefined;
  readonly tradesBeforeBalance: ReadonlySet<string> | undefined;
  readonly lookups: ReadonlyMap<string, ExchangeOrderReport | null>;
}

/** Fields every {@link Finding} has. Quantities in base currency; `expectedQuantity` as in the module doc. */
export interface FindingFacts {
  readonly symbol: string;
  readonly runQuantity: number;
  readonly expectedQuantity: number;
  /** The exchange's balance of the base asset, `null` when it was not reported. */
  readonly exchangeQuantity: number | null;
  /** Client order ids of open orders on the exchange the run never sent (never touched by the run). */
  readonly externalOrders: readonly string[];
}

/**
 * A reconciliation finding for one symbol:
 * - `in_sync`: the exchange holds what the run expects; `resumed`: it lifts an earlier block;
 * - `closed_on_exchange`: `closedQuantity` of the run's position was sold outside the run, at `price` (quote
 *   currency, volume-weighted over the external sells that cover it, `tradeIds` of them): close it at that price;
 * - `external`: the exchange holds `externalQuantity` more than the run owns: report, never trade it;
 * - `unexplained`: a difference the exchange's reports do not explain (`reason`): new entries on the symbol are blocked;
 * - `unknown`: a report needed to decide is missing (`reason`): nothing is concluded, blocks stay as they were.
 */
export type Finding =
  | (FindingFacts & { readonly kind: 'in_sync'; readonly resumed: boolean })
  | (FindingFacts & {
      readonly kind: 'closed_on_exchange';
      readonly closedQuantity: number;
      readonly price: number;
      readonly tradeIds: readonly string[];
      readonly resumed: boolean;
    })
  | (FindingFacts & { readonly kind: 'external'; readonly externalQuantity: number; readonly resumed: boolean })
  | (FindingFacts & { readonly kind: 'unexplained'; readonly reason: string })
  | (FindingFacts & { readonly kind: 'unknown'; readonly reason: string });

/** The kinds of {@link Finding}. */
export type FindingKind = Finding['kind'];

/** What one reconciliation decided: every symbol's finding, and those that differ from the symbol's previous one. */
export interface ReconcileResult {
  readonly findings: readonly Finding[];
  /** Findings whose kind or quantities changed since the previous reconciliation (the ones worth an event). */
  readonly changed: readonly Finding[];
}

/**
 * The reconciliation state machine (see the module doc): decides findings and keeps which symbols are blocked.
 * Deterministic: the same sequence of inputs gives the same findings.
 */
export class PositionReconciler {
  readonly #blocked = new Set<string>();
  readonly #previous = new Map<string, string>();
  /** Per symbol: ids of the trades the balance reflected when the run and the exchange last agreed. */
  readonly #accounted = new Map<string, Set<string>>();

  /** @param tolerance - base quantity below which a difference is rounding, not a mismatch (default 1e-8). */
  constructor(private readonly tolerance: number = 1e-8) {}

  /** Whether new entries on `symbol` are blocked (an `unexplained` finding not yet resolved). */
  isBlocked(symbol: string): boolean {
    return this.#blocked.has(symbol);
  }

  /** The blocked symbols. */
  blocked(): readonly string[] {
    return [...this.#blocked];
  }

  /**
   * Decides the findings for `runs` against `reports` (the report of each run symbol; a symbol without one is
   * `unknown`) and updates the blocks.
   */
  reconcile(runs: readonly RunSymbolState[], reports: ReadonlyMap<string, ExchangeSymbolReport>): ReconcileResult {
    const findings = runs.map((run) => this.#decide(run, reports.get(run.symbol)));
    const changed: Finding[] = [];
    for (const finding of findings) {
      const key = JSON.stringify(finding);
      if (this.#previous.get(finding.symbol) !== key) changed.push(finding);
      this.#previous.set(finding.symbol, key);
    }
    return { findings, changed };
  }

  #decide(run: RunSymbolState, report: ExchangeSymbolReport | undefined): Finding {
    const externalOrders = (report?.openOrders ?? []).filter((o) => !run.clientOrderIds.has(o.clientOrderId)).map((o) => o.clientOrderId);
    const base = { symbol: run.symbol, runQuantity: run.position, externalOrders };
    const unknown = (reason: string, expected = run.position): Finding => ({
      ...base,
      expectedQuantity: expected,
      exchangeQuantity: report?.baseBalance ?? null,
      kind: 'unknown',
      reason,
    });
    if (report === undefined) return unknown('no report from the exchange');
    let expected = run.position;
    const runOrderIds = new Set(run.exchangeOrderIds);
    const closedWorking: string[] = [];
    for (const order of run.unsettled) {
      const found = report.lookups.get(order.clientOrderId);
      if (found === undefined) return unknown(`order ${order.clientOrderId} could not be looked up`);
      if (found === null) {
        if (order.state === 'working') closedWorking.push(`${order.clientOrderId} unknown to the exchange`);
        continue;
      }
      runOrderIds.add(found.exchangeOrderId);
      expected += (order.side === 'buy' ? 1 : -1) * (found.filled - order.appliedFilled);
      if (order.state === 'working' && found.status !== 'open' && found.status !== 'closed') {
        closedWorking.push(`${order.clientOrderId} ${found.status} on the exchange`);
      }
    }
    const held = report.baseBalance;
    if (held === undefined) return unknown(`the balance of ${run.base} was not reported`, expected);
    const facts = { ...base, expectedQuantity: expected, exchangeQuantity: held };
    const wasBlocked = this.#blocked.has(run.symbol);
    const unexplained = (reason: string): Finding => {
      this.#blocked.add(run.symbol);
      return { ...facts, kind: 'unexplained', reason };
    };
    const agreed = (): boolean => {
      this.#blocked.delete(run.symbol);
      if (report.tradesBeforeBalance !== undefined) this.#accounted.set(run.symbol, new Set(report.tradesBeforeBalance));
      return wasBlocked;
    };
    if (closedWorking.length > 0) return unexplained(`the run's working order(s) ${closedWorking.join(', ')}`);
    const difference = held - expected;
    if (Math.abs(difference) <= this.tolerance) return { ...facts, kind: 'in_sync', resumed: agreed() };
    if (difference > 0) return { ...facts, kind: 'external', externalQuantity: difference, resumed: agreed() };
    const shortfall = -difference;
    if (report.trades === undefined) {
      return unexplained(`the exchange holds ${shown(shortfall)} ${run.base} less than the run expects, and its trades were not reported`);
    }
    const accounted = this.#accounted.get(run.symbol) ?? new Set<string>();
    const external = report.trades.filter((t) => !runOrderIds.has(t.exchangeOrderId) && !accounted.has(t.id));
    const netSold = external.reduce((sum, t) => sum + (t.side === 'sell' ? t.quantity : -t.quantity), 0);
    if (netSold + this.tolerance < shortfall) {
      return unexplained(
        `the exchange holds ${shown(shortfall)} ${run.base} less than the run expects; sales outside the run explain ${shown(Math.max(0, netSold))}`,
      );
    }
    const cover = coveringSells(external, shortfall);
    this.#blocked.delete(run.symbol);
    return { ...facts, kind: 'closed_on_exchange', closedQuantity: shortfall, price: cover.price, tradeIds: cover.ids, resumed: wasBlocked };
  }
}

/** A base quantity for a message, without the binary rounding noise of a difference (0.0009999999999999974 → 0.001). */
function shown(quantity: number): number {
  return Number(quantity.toPrecision(12));
}

/** Volume-weighted price of the most recent sells among `trades` that cover `quantity` (newest first), and their ids. */
function coveringSells(trades: readonly ExchangeTrade[], quantity: number): { readonly price: number; readonly ids: readonly string[] } {
  let left = quantity;
  let notional = 0;
  const ids: string[] = [];
  for (const trade of [...trades].reverse()) {
    if (left <= 0) break;
    if (trade.side !== 'sell') continue;
    const used = Math.min(left, trade.quantity);
    notional += used * trade.price;
    left -= used;
    ids.push(trade.id);
  }
  return { price: notional / (quantity - Math.max(0, left)), ids: ids.reverse() };
}
