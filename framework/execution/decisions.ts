/**
 * The pure core of the executor: what to send to mirror a paper position, and what to do next after each answer (or
 * failure) of the exchange. No I/O, no clock: the executor ({@link "execution/executor"!OrderExecutor | OrderExecutor})
 * performs the steps and feeds the outcomes back.
 *
 * One exchange order (one client order id) goes through: send → answered (done) | failed → by its
 * {@link "execution/failures"!FailureClass | class}: `not_sent` → wait and send the same id again; `rate_limited` →
 * wait the `Retry-After` and send the same id again; `rejected` → give up; `ambiguous` → query the exchange by the
 * client order id BEFORE anything else: found → done with what it filled; absent (the exchange proves it does not have
 * it) → send the same id again; the query failed → query again. Every loop is bounded by {@link ExecutionLimits}; an
 * ambiguous order still unresolved at the bound is given up as `unresolved` (its fill is unknown).
 *
 * @module
 */
import type { OrderSide } from '../broker/orders';
import type { Failure } from './failures';

/**
 * Bounds of the retry loops (counts per exchange order, times in real ms):
 * - `maxSends`: sends of one client order id (the first included), for `not_sent`, `rate_limited` and proven-absent;
 * - `maxQueries`: lookups of one client order id while its outcome is unknown;
 * - `maxFollowUps`: further orders (client ids `<id>r1`, `<id>r2`, …) sent for what a partial fill left;
 * - `retryDelayMs`: the wait before re-sending a not-sent order or re-querying after a failed lookup;
 * - `queryDelayMs`: the wait before looking up an ambiguous order (lets a request still in flight land first);
 * - `rateLimitWaitMs`: the wait after a 429 / 418 without a usable `Retry-After`.
 */
export interface ExecutionLimits {
  readonly maxSends: number;
  readonly maxQueries: number;
  readonly maxFollowUps: number;
  readonly retryDelayMs: number;
  readonly queryDelayMs: number;
  readonly rateLimitWaitMs: number;
}

/** The defaults: 3 sends, 5 queries, 2 follow-ups, 1 s between retries, 1 s before a lookup, 1 s after a bare 429. */
export const DEFAULT_LIMITS: ExecutionLimits = {
  maxSends: 3,
  maxQueries: 5,
  maxFollowUps: 2,
  retryDelayMs: 1_000,
  queryDelayMs: 1_000,
  rateLimitWaitMs: 1_000,
};

/**
 * What the exchange says about one order: its id, ccxt status (`closed`, `open`, `canceled`, `expired`, `rejected`),
 * the base quantity filled, the average fill price (quote currency), and the part of the fee charged in the base
 * currency (reduces what a buy adds to the holding), with the fee as reported for the journal.
 */
export interface ExchangeAnswer {
  readonly orderId: string | null;
  readonly status: string | null;
  readonly filled: number;
  readonly average: number | null;
  readonly baseFee: number;
  readonly fee: { readonly cost: number; readonly currency: string } | null;
}

/** What came back from the last step. */
export type Outcome =
  | { readonly kind: 'answered'; readonly answer: ExchangeAnswer }
  | { readonly kind: 'send_failed'; readonly failure: Failure }
  | { readonly kind: 'absent' }
  | { readonly kind: 'query_failed'; readonly failure: Failure };

/** What to do next with the order. `wait` then `then`; `give_up` with the failure that ended it. */
export type Step =
  | { readonly kind: 'send' }
  | { readonly kind: 'query' }
  | { readonly kind: 'wait'; readonly ms: number; readonly then: 'send' | 'query' }
  | { readonly kind: 'done'; readonly answer: ExchangeAnswer }
  | { readonly kind: 'give_up'; readonly failure: Failure };

/** How many sends and queries the order has had so far (including the one whose outcome is being decided). */
export interface Attempts {
  readonly sends: number;
  readonly queries: number;
}

/** ccxt order statuses after which nothing more will fill. */
const FINAL = new Set(['closed', 'canceled', 'cancelled', 'expired', 'rejected']);

/**
 * Decides the next step for one exchange order (see the module doc).
 *
 * An answer whose status is not final (`open`: a market order the exchange has not finished) is looked up again
 * (bounded by `maxQueries`), then taken as it stands.
 */
export function nextStep(outcome: Outcome, attempts: Attempts, limits: ExecutionLimits): Step {
  const canSend = attempts.sends < limits.maxSends;
  const canQuery = attempts.queries < limits.maxQueries;
  switch (outcome.kind) {
    case 'answered':
      if (outcome.answer.status !== null && !FINAL.has(outcome.answer.status) && canQuery) {
        return { kind: 'wait', ms: limits.retryDelayMs, then: 'query' };
      }
      return { kind: 'done', answer: outcome.answer };
    case 'absent':
      return canSend
        ? { kind: 'send' }
        : { kind: 'give_up', failure: { classification: 'not_sent', message: `the exchange has no such order after ${attempts.sends} sends` } };
    case 'send_failed':
      return afterSendFailure(outcome.failure, canSend, limits);
    case 'query_failed': {
      const { failure } = outcome;
      if (!canQuery) {
        return { kind: 'give_up', failure: { classification: 'ambiguous', message: `unresolved after ${attempts.queries} lookups: ${failure.message}` } };
      }
      const ms = failure.classification === 'rate_limited' ? (failure.retryAfterMs ?? limits.rateLimitWaitMs) : limits.retryDelayMs;
      return { kind: 'wait', ms, then: 'query' };
    }
  }
}

function afterSendFailure(failure: Failure, canSend: boolean, limits: ExecutionLimits): Step {
  switch (failure.classification) {
    case 'rejected':
      return { kind: 'give_up', failure };
    case 'ambiguous':
      return { kind: 'wait', ms: limits.queryDelayMs, then: 'query' };
    case 'not_sent':
      return canSend ? { kind: 'wait', ms: limits.retryDelayMs, then: 'send' } : { kind: 'give_up', failure };
    case 'rate_limited':
      return canSend ? { kind: 'wait', ms: failure.retryAfterMs ?? limits.rateLimitWaitMs, then: 'send' } : { kind: 'give_up', failure };
  }
}

/**
 * The market order that moves the run's exchange holding `held` to the paper position's `target` (both base
 * quantities, `target` ≥ 0 on spot): side and amount, or null when they are equal. The difference is rounded to
 * 1e-12 before the exchange's precision truncates it: a paper target of 0.026862 held as 0.026861999999999997 minus
 * 0.017903 is 0.008958999999999997, which would truncate to 0.008958, one step short.
 */
export function orderTowards(target: number, held: number): { readonly side: OrderSide; readonly amount: number } | null {
  const difference = Math.round((target - held) * 1e12) / 1e12;
  if (difference === 0) return null;
  return difference > 0 ? { side: 'buy', amount: difference } : { side: 'sell', amount: -difference };
}

/**
 * The client order id of the `attempt`-th exchange order (0-based) that mirrors the paper order `clientOrderId`: the
 * paper id itself first, then `<id>r1`, `<id>r2`, … for the follow-ups that complete what a partial fill (or a later
 * event of the same paper order) left. Deterministic, so a restart re-derives the same ids.
 */
export function exchangeClientOrderId(clientOrderId: string, attempt: number): string {
  return attempt === 0 ? clientOrderId : `${clientOrderId}r${attempt}`;
}

/**
 * The run's exchange holding after an answered order: `held ± filled` (buy +, sell −) less any fee charged in the base
 * currency, rounded to 1e-12 so that float dust never becomes an order.
 */
export function heldAfter(held: number, side: OrderSide, answer: ExchangeAnswer): number {
  const next = held + (side === 'buy' ? answer.filled : -answer.filled) - answer.baseFee;
  return Math.round(next * 1e12) / 1e12;
}
