/**
 * Reconciliation with the exchange, the I/O edge: fetches what the exchange reports through ccxt (`fetchBalance`,
 * `fetchOpenOrders`, `fetchOrder` by client order id, `fetchMyTrades`), hands it with the run's state to the pure
 * {@link PositionReconciler} (rules in `reconcile.ts`), and emits each changed finding as an event record.
 *
 * A pass reads the trades, then the balance, then the trades again (only those since the newest of the first read):
 * the account moves on between requests, and only the trades reported before the balance was read are known to be
 * reflected in it (`tradesBeforeBalance`); the second read lets a sale landing in between explain the balance at once.
 *
 * When: {@link ExchangeReconciliation.start} reconciles at once, then every `intervalMs` (default 30 s) after the
 * previous pass ended; {@link ExchangeReconciliation.reconcileNow} runs a pass on demand (call it after every
 * reconnect); passes never overlap (a call during a pass runs one more pass after it).
 *
 * Wiring into a run: give it the account's ccxt instance, a function returning the run's state per symbol
 * ({@link RunSymbolState}), and an `onFinding` callback that journals the record and acts on the finding: close the
 * trade at `price` for `closed_on_exchange`, and consult {@link ExchangeReconciliation.isBlocked} before each entry.
 *
 * @module
 */
import type { Exchange } from 'ccxt';
import { OrderNotFound } from '../core/ccxt';
import { messageOf } from '../core/errors';
import type { Logger } from '../core/logger';
import {
  PositionReconciler,
  type ExchangeOpenOrder,
  type ExchangeOrderReport,
  type ExchangeSymbolReport,
  type ExchangeTrade,
  type Finding,
  type FindingKind,
  type ReconcileResult,
  type RunSymbolState,
} from './reconcile';

/**
 * A finding as an event record (one JSON line of the run's events file), in the shape a message bus will carry:
 * - `type`: `position_in_sync` (agreement, reported when it changes, e.g. a block lifted: `resumed: true`),
 *   `position_mismatch` (`finding` `closed_on_exchange`, `external` or `unexplained`), or `reconciliation_unknown`
 *   (a report was missing; nothing concluded);
 * - `time`: when the pass ran, UTC epoch ms; then the finding's fields, its `kind` as `finding`.
 */
export type ReconciliationRecord = {
  readonly type: 'position_in_sync' | 'position_mismatch' | 'reconciliation_unknown';
  readonly time: number;
  readonly symbol: string;
  readonly finding: FindingKind;
} & Readonly<Record<string, unknown>>;

/** The event record of `finding`, made at `time` (UTC epoch ms). */
export function findingRecord(finding: Finding, time: number): ReconciliationRecord {
  const { kind, ...fields } = finding;
  const type = kind === 'in_sync' ? 'position_in_sync' : kind === 'unknown' ? 'reconciliation_unknown' : 'position_mismatch';
  return { type, time, finding: kind, ...fields };
}

/** The ccxt calls reconciliation makes (a ccxt `Exchange` with the account's credentials has them). */
export type ReconcilingExchange = Pick<Exchange, 'fetchBalance' | 'fetchOpenOrders' | 'fetchOrder' | 'fetchMyTrades'>;

/** Options of {@link ExchangeReconciliation}. */
export interface ExchangeReconciliationOptions {
  /** The account's ccxt instance (markets loaded or loadable). */
  readonly exchange: ReconcilingExchange;
  /** The run's state per symbol, read at the start of each pass. */
  readonly runState: () => readonly RunSymbolState[];
  /** UTC epoch ms from which the account's trades matter (the run's first order, or its start). */
  readonly tradesSince: () => number;
  /** Called with the record of every finding that changed since the symbol's previous one, in symbol order. */
  readonly onFinding: (record: ReconciliationRecord, finding: Finding) => void;
  /** Real ms between the end of a pass and the start of the next; default 30 000. */
  readonly intervalMs?: number;
  /** The clock of the records, UTC epoch ms; default `Date.now`. */
  readonly now?: () => number;
  /** Base quantity below which a difference is rounding, see {@link PositionReconciler}. */
  readonly tolerance?: number;
  /** Where changed findings (info; `unexplained`: warn) and failed fetches (warn) are reported. */
  readonly logger?: Logger;
}

const TRADES_PAGE = 1000;
const MAX_TRADE_PAGES = 50;

/** Periodic reconciliation of a run with its exchange account (see the module doc). */
export class ExchangeReconciliation {
  readonly #options: ExchangeReconciliationOptions;
  readonly #core: PositionReconciler;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<ReconcileResult> | undefined;
  #next: Promise<ReconcileResult> | undefined;
  #stopped = true;

  constructor(options: ExchangeReconciliationOptions) {
    this.#options = options;
    this.#core = new PositionReconciler(options.tolerance);
  }

  /** Whether new entries on `symbol` are blocked by an unexplained difference. */
  isBlocked(symbol: string): boolean {
    return this.#core.isBlocked(symbol);
  }

  /** Reconciles now, then every `intervalMs`. Resolves with the first pass's result. */
  async start(): Promise<ReconcileResult> {
    this.#stopped = false;
    const first = await this.reconcileNow();
    this.#schedule();
    return first;
  }

  /** Stops the timer and waits for a pass in progress. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  /**
   * Runs a pass now (e.g. after a reconnect) and resolves with its result; during a pass, resolves with the result of
   * one more pass run right after it. Never rejects for a failed fetch (that symbol's finding is `unknown`); rejects
   * only if `runState` or `onFinding` throws.
   */
  reconcileNow(): Promise<ReconcileResult> {
    if (this.#running !== undefined) {
      this.#next ??= this.#running
        .catch(() => undefined)
        .then(() => {
          this.#next = undefined;
          return this.reconcileNow();
        });
      return this.#next;
    }
    this.#running = this.#pass().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.reconcileNow()
        .catch((error: unknown) => this.#options.logger?.error({ error: messageOf(error) }, 'reconciliation failed'))
        .finally(() => this.#schedule());
    }, this.#options.intervalMs ?? 30_000);
  }

  async #pass(): Promise<ReconcileResult> {
    const runs = this.#options.runState();
    const time = (this.#options.now ?? Date.now)();
    const since = this.#options.tradesSince();
    const before = new Map<string, readonly ExchangeTrade[] | undefined>();
    for (const run of runs) before.set(run.symbol, await this.#trades(run.symbol, since));
    const balance = await this.#attempt('fetchBalance', () => this.#options.exchange.fetchBalance());
    const reports = new Map<string, ExchangeSymbolReport>();
    for (const run of runs) {
      const holding = balance === undefined ? undefined : (balance[run.base] as { total?: number } | undefined)?.total ?? 0;
      const earlier = before.get(run.symbol);
      reports.set(run.symbol, {
        baseBalance: holding,
        openOrders: await this.#openOrders(run.symbol),
        trades: await this.#tradesAfter(run.symbol, since, earlier),
        tradesBeforeBalance: earlier === undefined ? undefined : new Set(earlier.map((t) => t.id)),
        lookups: await this.#lookups(run),
      });
    }
    const result = this.#core.reconcile(runs, reports);
    for (const finding of result.changed) {
      const record = findingRecord(finding, time);
      if (finding.kind === 'unexplained') this.#options.logger?.warn(record, `reconciliation: ${finding.symbol} unexplained, new entries blocked`);
      else this.#options.logger?.info(record, `reconciliation: ${finding.symbol} ${finding.kind}`);
      this.#options.onFinding(record, finding);
    }
    return result;
  }

  async #attempt<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      this.#options.logger?.warn({ error: messageOf(error) }, `reconciliation: ${what} failed`);
      return undefined;
    }
  }

  async #openOrders(symbol: string): Promise<readonly ExchangeOpenOrder[] | undefined> {
    const orders = await this.#attempt(`fetchOpenOrders ${symbol}`, () => this.#options.exchange.fetchOpenOrders(symbol));
    return orders?.map((o) => ({ exchangeOrderId: o.id ?? '', clientOrderId: o.clientOrderId ?? '', side: o.side === 'sell' ? 'sell' : 'buy' }));
  }

  /** `earlier` (the trades read before the balance) and those reported since the newest of them, oldest first. */
  async #tradesAfter(symbol: string, since: number, earlier: readonly ExchangeTrade[] | undefined): Promise<readonly ExchangeTrade[] | undefined> {
    if (earlier === undefined) return this.#trades(symbol, since);
    const later = await this.#trades(symbol, earlier.reduce((newest, t) => Math.max(newest, t.time), since));
    if (later === undefined) return undefined;
    const known = new Set(earlier.map((t) => t.id));
    return [...earlier, ...later.filter((t) => !known.has(t.id))];
  }

  /** The account's trades on `symbol` since `from` (UTC epoch ms, inclusive), oldest first, paged by time. */
  async #trades(symbol: string, from: number): Promise<readonly ExchangeTrade[] | undefined> {
    const trades: ExchangeTrade[] = [];
    const seen = new Set<string>();
    let since = from;
    for (let page = 0; page < MAX_TRADE_PAGES; page += 1) {
      const batch = await this.#attempt(`fetchMyTrades ${symbol}`, () => this.#options.exchange.fetchMyTrades(symbol, since, TRADES_PAGE));
      if (batch === undefined) return undefined;
      for (const t of batch) {
        const id = String(t.id);
        if (seen.has(id)) continue;
        seen.add(id);
        const side = t.side === 'sell' ? 'sell' : 'buy';
        trades.push({ id, exchangeOrderId: String(t.order), side, quantity: t.amount ?? 0, price: t.price ?? NaN, time: t.timestamp ?? 0 });
      }
      if (batch.length < TRADES_PAGE) return trades;
      since = Math.max(since, ...batch.map((t) => t.timestamp ?? since));
    }
    this.#options.logger?.warn({ symbol }, `reconciliation: more than ${MAX_TRADE_PAGES * TRADES_PAGE} trades since the run's first order`);
    return undefined;
  }

  /** Looks each unsettled run order up by client order id: `null` when the exchange has none, absent when it failed. */
  async #lookups(run: RunSymbolState): Promise<ReadonlyMap<string, ExchangeOrderReport | null>> {
    const lookups = new Map<string, ExchangeOrderReport | null>();
    for (const order of run.unsettled) {
      try {
        const found = await this.#options.exchange.fetchOrder('', run.symbol, { clientOrderId: order.clientOrderId });
        const status = found.status === 'open' || found.status === 'closed' || found.status === 'canceled' || found.status === 'expired' ? found.status : 'rejected';
        lookups.set(order.clientOrderId, { exchangeOrderId: found.id ?? '', clientOrderId: order.clientOrderId, status, filled: found.filled ?? 0 });
      } catch (error) {
        if (error instanceof OrderNotFound) lookups.set(order.clientOrderId, null);
        else this.#options.logger?.warn({ error: messageOf(error), clientOrderId: order.clientOrderId }, 'reconciliation: fetchOrder failed');
      }
    }
    return lookups;
  }
}
