/**
 * Reconciliation in a real-orders live run: when it runs, and what the run does with each finding. The findings
 * themselves are decided by the pure {@link "execution/reconcile"!PositionReconciler | PositionReconciler} from what
 * {@link "execution/reconcile-driver"!ExchangeReconciliation | ExchangeReconciliation} fetches through the run's
 * connector (its trading instance: one request budget and one rate-limit back-off with the feeds and the orders).
 *
 * **When.** Once at start (after the broker is restored and the executor has resolved what a killed run left in
 * flight, before the first live candle is acted on), then every `intervalMs` of real time after the previous pass
 * ended (default 30 s), and before the next candle is acted on after any feed reconnected. Real time on the simulator
 * too: its faster clock does not make REST calls cheaper, and passes timed by its clock (15 ms apart at speed 2 000)
 * would crowd out the candles (late candles are stale, not traded). Every pass runs between two candles
 * (`exclusive`), never while the executor has an order in flight: the run's holding it compares is settled, and an
 * order of the run being filled cannot look like a trade made by hand.
 *
 * **What the run holds** is the executor's holding (what the exchange filled for the run's own orders), with the
 * exchange order ids of every order in `orders.jsonl` to tell the run's trades from others.
 *
 * **Findings** (each one that changed is logged by the driver):
 * - `closed_on_exchange`: the paper broker closes that quantity at the exchange's price on the next candle
 *   ({@link "broker/paper-broker"!PaperBroker.closeOnExchange | closeOnExchange}; the trade's exit reason is
 *   `closed_on_exchange`, journaled in `trading.jsonl` like any fill; the executor counts it off its holding without
 *   sending anything); a `position_mismatch` event in `events.jsonl`. The close waits for the orders pending on
 *   paper (already filled on the exchange when decided) to fill at that candle's open, so a sale of coins the run just
 *   bought closes the entry they came from. A sale larger than the paper position at that point (e.g. the paper
 *   broker filled less than the exchange because its cash ran short) closes the whole paper trade; the executor counts
 *   the whole sale off its holding (so the run and the account agree again) and reports the part beyond the paper
 *   position as a `position_mismatch` event with `finding: 'sold_beyond_paper'`; nothing is traded to make it up;
 * - `external`: a `position_mismatch` event; the run never trades what it does not own (its orders only ever move its
 *   own holding);
 * - `unexplained`: a `position_mismatch` event, and new entries on the symbol are refused (fail closed: the signal is
 *   journaled `acted: false` with the reason `blocked: reconciliation: …`; exits still go through) until a later pass
 *   finds the symbol in sync again (a `position_in_sync` event with `resumed: true`);
 * - `unknown` (a report missing): logged only; it is never evidence of a flat position and changes no block.
 *
 * @module
 */
import type { Logger } from '../core/logger';
import type { PaperBroker } from '../broker/paper-broker';
import type { SignalDecision } from '../broker/types';
import type { AccountView } from '../strategy/account';
import type { Signal } from '../strategy/signal';
import type { Candle } from '../core/candle';
import { EventLog } from './events';
import type { OrderExecutor } from './executor';
import { readOrderRecords, type OrderRecord } from './orders-journal';
import type { Finding, RunSymbolState } from './reconcile';
import { PeriodicPasses } from './periodic-passes';
import { ExchangeReconciliation, type ReconciliationRecord, type ReconcilingExchange } from './reconcile-driver';

/** Default real time between the end of a pass and the start of the next: 30 s. */
export const DEFAULT_RECONCILE_INTERVAL_MS = 30_000;

/** The broker as the engine drives it: what {@link ReconciliationLoop.gate} wraps. */
export interface GatedBroker {
  /** Processes one closed candle (fills, triggers, marking). */
  onCandle(candle: Candle): void;
  /** Hands over the signal decided on the close of `candle`; returns whether it became an order and, if not, why. */
  submit(signal: Signal, candle: Candle): SignalDecision;
  /** The read-only account view handed to `onData`. */
  readonly account: AccountView;
}

/** Options of {@link ReconciliationLoop}. Times in UTC epoch ms of the exchange clock unless said otherwise. */
export interface ReconciliationLoopOptions {
  /** The account's trading instance (the run's connector's). */
  readonly exchange: ReconcilingExchange;
  /** The traded symbol, e.g. `BTC/USDT`, and its base asset, e.g. `BTC`. */
  readonly symbol: string;
  readonly base: string;
  /** The run's paper broker (closes what the exchange sold). */
  readonly broker: PaperBroker;
  /** The run's executor: its holding and its orders. */
  readonly executor: OrderExecutor;
  /** The run folder (`orders.jsonl` read at start, `events.jsonl` appended). */
  readonly dir: string;
  /** The strategy's name, for the events. */
  readonly strategy: string;
  /** Real ms between the end of a pass and the start of the next (default {@link DEFAULT_RECONCILE_INTERVAL_MS}). */
  readonly intervalMs?: number;
  /** The exchange clock (the records' `time`). */
  readonly now: () => number;
  /** Connections the run's feeds have replaced so far (all feeds). */
  readonly reconnects: () => number;
  readonly logger?: Logger;
}

/** Reconciliation wired into a live run (see the module doc). */
export class ReconciliationLoop {
  readonly #options: ReconciliationLoopOptions;
  readonly #driver: ExchangeReconciliation;
  readonly #events: EventLog;
  /** Orders of earlier parts of the run (a killed run continued), from `orders.jsonl`. */
  readonly #earlier: readonly OrderRecord[];
  #exclusive: ((task: () => Promise<void>) => Promise<void>) | null = null;
  readonly #periodic: PeriodicPasses;
  /** The pass at start, until it is done. */
  #first: Promise<void> = Promise.resolve();
  #stopped = false;
  #passes = 0;
  /** Exchange time of the first pass. */
  #startedAt = Number.NaN;
  #reconnectsSeen = 0;
  #blockedBecause: string | null = null;
  /** The last close handed to the broker and the holding then: the same finding is not handed over twice. */
  #handedOver: string | null = null;

  constructor(options: ReconciliationLoopOptions) {
    this.#options = options;
    this.#events = new EventLog(options.dir);
    this.#earlier = readOrderRecords(options.dir);
    this.#driver = new ExchangeReconciliation({
      exchange: options.exchange,
      runState: () => [this.#runState()],
      // The account's trades since the run's first order (its decision candle) or, before any, since this start.
      tradesSince: () => Math.min((this.#earlier[0] ?? options.executor.records[0])?.openTime ?? this.#startedAt, this.#startedAt),
      onFinding: (record, finding) => this.#act(record, finding),
      now: options.now,
      ...(options.logger !== undefined && { logger: options.logger }),
    });
    this.#periodic = new PeriodicPasses({
      intervalMs: options.intervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS,
      pass: () => this.#queue(),
      ...(options.logger !== undefined && { logger: options.logger }),
    });
  }

  /** The symbols whose new entries are blocked by an unexplained difference. */
  blocked(): readonly string[] {
    return this.#driver.isBlocked(this.#options.symbol) ? [this.#options.symbol] : [];
  }

  /**
   * `broker` as the engine should drive it: an entry signal (`enter_long` / `enter_short`, adds included) on a blocked
   * symbol is refused with the reason `blocked: reconciliation: …`; everything else goes to `broker`.
   */
  gate(broker: GatedBroker): GatedBroker {
    return {
      account: broker.account,
      onCandle: (candle) => broker.onCandle(candle),
      submit: (signal, candle) => {
        const entry = signal.action === 'enter_long' || signal.action === 'enter_short';
        if (entry && this.#driver.isBlocked(this.#options.symbol)) {
          return { acted: false, reason: `blocked: reconciliation: ${this.#blockedBecause ?? 'unexplained difference'}` };
        }
        return broker.submit(signal, candle);
      },
    };
  }

  /**
   * Runs the first pass, then one every interval; every pass runs through `exclusive`, which must run its task when no
   * candle is being acted on (e.g. chained after the run's candle processing). Resolves once the first pass is done.
   */
  start(exclusive: (task: () => Promise<void>) => Promise<void>): Promise<void> {
    this.#exclusive = exclusive;
    this.#first = this.#queue();
    this.#periodic.start(this.#first);
    return this.#first;
  }

  /** Call before acting on a candle (inside the run's candle processing): a pass first when a feed reconnected. */
  async beforeCandle(): Promise<void> {
    if (this.#stopped || this.#options.reconnects() === this.#reconnectsSeen) return;
    await this.#pass('reconnect');
  }

  /** Stops the timer, waits for a pass in progress and closes `events.jsonl`. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#periodic.stop();
    await this.#first.catch(() => undefined);
    this.#events.close();
  }

  #queue(): Promise<void> {
    return this.#exclusive!(() => (this.#stopped ? Promise.resolve() : this.#pass(this.#passes === 0 ? 'start' : 'interval')));
  }

  /** A pass; `why` is logged (after the first, `reconnect` whenever a feed reconnected since the previous pass). */
  async #pass(why: 'start' | 'interval' | 'reconnect'): Promise<void> {
    this.#passes += 1;
    if (this.#passes === 1) this.#startedAt = Math.floor(this.#options.now());
    const reconnects = this.#options.reconnects();
    const after = why === 'start' || reconnects === this.#reconnectsSeen ? why : 'reconnect';
    this.#reconnectsSeen = reconnects;
    this.#options.logger?.debug({ pass: this.#passes, why: after, time: this.#options.now() }, 'reconciliation pass');
    await this.#driver.reconcileNow();
  }

  #runState(): RunSymbolState {
    const { symbol, base, executor } = this.#options;
    const orders = [...this.#earlier, ...executor.records];
    return {
      symbol,
      base,
      position: executor.held,
      exchangeOrderIds: new Set(orders.flatMap((o) => (o.orderId === null ? [] : [o.orderId]))),
      clientOrderIds: new Set(orders.map((o) => o.clientOrderId)),
      unsettled: [],
    };
  }

  #act(record: ReconciliationRecord, finding: Finding): void {
    const { logger, broker, executor, strategy } = this.#options;
    const event = { ...record, strategy, clientOrderId: null };
    switch (finding.kind) {
      case 'closed_on_exchange': {
        const key = `${executor.held} ${finding.tradeIds.join(',')}`;
        if (this.#handedOver !== key) broker.closeOnExchange(finding.closedQuantity, finding.price);
        this.#handedOver = key;
        this.#events.write(event);
        logger?.warn({ pass: this.#passes, quantity: finding.closedQuantity, price: finding.price }, `${finding.symbol}: sold outside the run; the paper trade closes as closed_on_exchange on the next candle`);
        break;
      }
      case 'external':
        this.#events.write(event);
        logger?.warn({ pass: this.#passes, externalQuantity: finding.externalQuantity }, `${finding.symbol}: the account holds ${Number(finding.externalQuantity.toPrecision(12))} ${this.#options.base} the run does not own; never traded`);
        break;
      case 'unexplained':
        this.#blockedBecause = finding.reason;
        this.#events.write(event);
        logger?.warn({ pass: this.#passes, reason: finding.reason }, `${finding.symbol}: new entries blocked until reconciliation finds it resolved`);
        return;
      case 'in_sync':
        if (finding.resumed) this.#events.write(event);
        break;
      case 'unknown':
        return; // logged by the driver; nothing concluded
    }
    if (finding.resumed) logger?.warn({ pass: this.#passes }, `${finding.symbol}: reconciled with the exchange; new entries resumed`);
  }
}
