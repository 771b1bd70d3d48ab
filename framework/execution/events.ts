/**
 * The run's standard events: one record per thing that happened to the run's orders and positions on the exchange
 * (an order filled, an order failed, a difference between the run and the exchange), written to `events.jsonl` in the
 * run folder, one JSON object per line, in the shape a message bus will carry later.
 *
 * Every event has the same head: `type`, `time` (UTC epoch ms of the machine's clock when it happened), `strategy`
 * (the strategy's name), `symbol` (`BTC/USDT`) and `clientOrderId` (null when no order is concerned); the rest depends
 * on the type. Quantities are in base currency, prices and fees' `cost` in the currency named; `openTime` is the open
 * time (UTC epoch ms) of the candle on which the paper order was decided.
 *
 * Names follow the seeds' connector events (`trade_executed`, `trade_failed`, `position_mismatch`); failure classes
 * follow NautilusTrader's `NotSent` / `VenueRejected` / ambiguous (sent, no answer) outcomes.
 *
 * @module
 */
import { join } from 'node:path';
import { DurableLines } from './durable-lines';
import type { FailureClass } from './failures';
import type { ReconciliationRecord } from './reconcile-driver';
import type { OrderReason, OrderSide } from '../broker/orders';

/** The head every event carries. */
export interface EventHead {
  readonly time: number;
  readonly strategy: string;
  readonly symbol: string;
  readonly clientOrderId: string | null;
}

/**
 * An exchange order filled (wholly or partly) for the run.
 * - `orderId`: the exchange's order id; `reason`: why the paper order exists; `openTime`: its decision candle;
 * - `side`, `amount` (asked), `filled`, `average` (average fill price, quote currency; null without fill);
 * - `fee`: what the exchange charged (`cost` in `currency`), null when it did not say;
 * - `held`: the run's exchange holding after this fill (base, net of fees paid in base); `target`: what the paper
 *   position says it should be.
 */
export interface TradeExecutedEvent extends EventHead {
  readonly type: 'trade_executed';
  readonly clientOrderId: string;
  readonly orderId: string | null;
  readonly reason: OrderReason;
  readonly openTime: number;
  readonly side: OrderSide;
  readonly amount: number;
  readonly filled: number;
  readonly average: number | null;
  readonly fee: { readonly cost: number; readonly currency: string } | null;
  readonly held: number;
  readonly target: number;
}

/**
 * An exchange order that did not fill and will not be retried: `classification` says whether it was not sent, rejected
 * by the exchange, or ambiguous and still unresolved after the bounded queries (see {@link FailureClass}); `message` is
 * the exchange's or the network's (never credentials). `held` and `target` as in {@link TradeExecutedEvent}: their
 * difference is what the run's exchange holding now lacks.
 */
export interface TradeFailedEvent extends EventHead {
  readonly type: 'trade_failed';
  readonly clientOrderId: string;
  readonly reason: OrderReason;
  readonly openTime: number;
  readonly side: OrderSide;
  readonly amount: number;
  readonly classification: FailureClass;
  readonly message: string;
  readonly held: number;
  readonly target: number;
}

/**
 * A reconciliation finding (`position_mismatch`: `closed_on_exchange`, `external` or `unexplained`;
 * `position_in_sync`; `reconciliation_unknown`), as {@link "execution/reconcile-driver"!findingRecord | findingRecord}
 * makes it, with the common head added by the run (`strategy`; `clientOrderId` null: a finding is about a position,
 * not an order).
 */
export type ReconciliationEvent = ReconciliationRecord & EventHead & { readonly clientOrderId: null };

/**
 * A sale outside the run larger than the paper position it closed (`position_mismatch`, `finding: 'sold_beyond_paper'`):
 * the exchange sold `soldQuantity` of the run's holding at `price`; the paper position held `paperQuantity` of it
 * (closed as `closed_on_exchange` on the candle opening at `openTime`); `beyondPaper` = the rest, which the run's
 * exchange holding had beyond the paper position. Counted off the holding (`held` after it), never traded.
 */
export interface SoldBeyondPaperEvent extends EventHead {
  readonly type: 'position_mismatch';
  readonly finding: 'sold_beyond_paper';
  readonly clientOrderId: null;
  readonly openTime: number;
  readonly soldQuantity: number;
  readonly paperQuantity: number;
  readonly beyondPaper: number;
  readonly price: number;
  readonly held: number;
}

/** Every standard event. */
export type ExecutionEvent = TradeExecutedEvent | TradeFailedEvent | ReconciliationEvent | SoldBeyondPaperEvent;

/** The file the events of a run go to, in its run folder. */
export const EVENTS_FILE = 'events.jsonl';

/**
 * Writes a run's {@link ExecutionEvent}s to `<run folder>/events.jsonl`, each line durable (fdatasynced) before
 * {@link write} returns; the file is created with the first event.
 */
export class EventLog {
  readonly #lines: DurableLines;

  /** @param dir - the run folder. */
  constructor(dir: string) {
    this.#lines = new DurableLines(join(dir, EVENTS_FILE));
  }

  /**
   * Appends one event.
   *
   * @throws the file system's error when it cannot be written.
   */
  write(event: ExecutionEvent): void {
    this.#lines.append(event);
  }

  /** Closes the file. */
  close(): void {
    this.#lines.close();
  }
}
