import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FrameworkError } from '../core/errors';
import type { OrderReason, OrderSide } from '../broker/orders';
import { DurableLines } from './durable-lines';
import type { Failure } from './failures';

/** The file a run's exchange orders are journaled to, in its run folder. */
export const ORDERS_FILE = 'orders.jsonl';

/**
 * One exchange request of the executor and its outcome, a line of `orders.jsonl` (no credentials in it):
 * - `time`: UTC epoch ms (machine clock) when the outcome was known; `request`: `create` (an order sent, or with a
 *   `not_sent` failure one that never left), `fetch` (looked up by its client order id) or `reconcile` (no request:
 *   the paper broker's `closed_on_exchange` fill, a sale reconciliation found outside the run, counted off `held`;
 *   status `closed_on_exchange`, `average` the exchange's price);
 * - `clientOrderId`: the exchange order's client id; `paperClientOrderId`: the paper order it mirrors (the same id for
 *   the first exchange order, `<id>r1`… for follow-ups); `reason` and `openTime`: the paper order's reason and
 *   decision candle (UTC epoch ms of its open time);
 * - `side`, `amount`: what was asked (base currency, after the exchange's amount precision); `target`: the paper
 *   position the run drives towards (signed base quantity); `held`: the run's exchange holding after this outcome;
 * - the exchange's answer: `orderId`, `status` (ccxt's), `filled` (base), `average` (average fill price, quote
 *   currency), `fee` (`cost` in `currency`); null where the exchange did not answer. `status` is `sending` on the line
 *   written (and fsynced) just before an order is sent: a run killed during the request leaves it without an answer
 *   after it, and that client order id must be looked up on the exchange before anything is sent again; `not_found`
 *   when a lookup proved the exchange does not have it;
 * - `failure`: the classified failure, or null.
 */
export interface OrderRecord {
  readonly time: number;
  readonly request: 'create' | 'fetch' | 'reconcile';
  readonly clientOrderId: string;
  readonly paperClientOrderId: string;
  readonly reason: OrderReason;
  readonly openTime: number;
  readonly side: OrderSide;
  readonly amount: number;
  readonly target: number;
  readonly held: number;
  readonly orderId: string | null;
  readonly status: string | null;
  readonly filled: number | null;
  readonly average: number | null;
  readonly fee: { readonly cost: number; readonly currency: string } | null;
  readonly failure: Failure | null;
}

/**
 * The records of `<run folder>/orders.jsonl`, oldest first; empty when there is none. A torn last line (a run killed
 * while writing it) is ignored.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} naming the file and line that is not JSON.
 */
export function readOrderRecords(dir: string): OrderRecord[] {
  const path = join(dir, ORDERS_FILE);
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n').slice(0, -1); // after the last newline: nothing, or a torn line
  return lines.map((line, i) => {
    try {
      return JSON.parse(line) as OrderRecord;
    } catch (error) {
      throw new FrameworkError(`${path} line ${i + 1} is not JSON: ${line.slice(0, 120)}`, { cause: error });
    }
  });
}

/** Appends {@link OrderRecord}s to `<run folder>/orders.jsonl`, each durable before {@link write} returns. */
export class OrdersJournal {
  readonly #lines: DurableLines;

  /** @param dir - the run folder. */
  constructor(dir: string) {
    this.#lines = new DurableLines(join(dir, ORDERS_FILE));
  }

  /** @throws the file system's error when it cannot be written. */
  write(record: OrderRecord): void {
    this.#lines.append(record);
  }

  /** Closes the file. */
  close(): void {
    this.#lines.close();
  }
}
