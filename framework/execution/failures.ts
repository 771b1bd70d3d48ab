/**
 * Classifies why an exchange request failed, the way NautilusTrader separates an order that was never sent
 * (`NotSent`), one the venue refused (`VenueRejected`) and one whose fate is unknown (sent, no answer): only the last
 * may have created an order, so only it must be asked about before anything is sent again.
 *
 * Mapped from ccxt 4's error hierarchy (`ccxt/js/src/base/errors.js`) and the errors its `fetch` raises
 * (`Exchange.fetch`: `RequestTimeout` on the client's timeout, `NetworkError('… fetch failed: <code>')` when the
 * transport failed, with the socket's error code in the message).
 *
 * @module
 */
import { BadResponse, DDoSProtection, DuplicateOrderId, ExchangeError, ExchangeNotAvailable, InvalidNonce, NetworkError, OperationFailed, OrderNotFound, RateLimitExceeded, RequestTimeout } from '../core/ccxt';
import { messageOf } from '../core/errors';

/**
 * - `not_sent`: the request never left (the market or amount failed validation, the connection was refused or never
 *   opened): no order can exist; the same client order id may be sent again;
 * - `rejected`: the exchange answered with an error (ccxt `InvalidOrder`, `InsufficientFunds`, any `ExchangeError`
 *   with a body, an `InvalidNonce` clock error): no order was created; retrying the same request is pointless;
 * - `ambiguous`: the request was sent and no usable answer came (ccxt `RequestTimeout`, a connection reset after the
 *   write, a 5xx — Binance: "the execution status is unknown" — an unreadable answer), or the exchange refused the
 *   client order id as a duplicate: an order may exist, so it is looked up by its client order id first;
 * - `rate_limited`: HTTP 429 / 418 (ccxt `RateLimitExceeded` / `DDoSProtection`): refused before it was processed;
 *   sent again with the same id once the `Retry-After` has passed.
 */
export type FailureClass = 'not_sent' | 'rejected' | 'ambiguous' | 'rate_limited';

/** A classified failure: its class, the error's one-line message, and for `rate_limited` how long to wait (ms). */
export interface Failure {
  readonly classification: FailureClass;
  readonly message: string;
  readonly retryAfterMs?: number;
}

/** Transport error codes (Node, undici) that mean no connection was made: nothing was written. */
const NOT_CONNECTED = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ConnectionRefused', 'DNSError', 'FailedToOpenSocket', 'UND_ERR_CONNECT_TIMEOUT'];

/**
 * Classifies an error thrown by a ccxt order request (`createOrder`, `fetchOrder`). Anything not recognised is
 * `ambiguous` (the safe side: it is looked up before a retry).
 *
 * @param error - what the request threw.
 * @param retryAfter - the answer's `Retry-After` header (seconds), if any; used for `rate_limited`.
 * @param defaultWaitMs - the wait for a `rate_limited` failure without a usable `Retry-After`.
 */
export function classifyFailure(error: unknown, retryAfter: string | undefined, defaultWaitMs: number): Failure {
  const message = oneLine(messageOf(error));
  if (error instanceof RateLimitExceeded || error instanceof DDoSProtection) {
    const seconds = Number(retryAfter);
    return { classification: 'rate_limited', message, retryAfterMs: retryAfter !== undefined && seconds >= 0 ? seconds * 1_000 : defaultWaitMs };
  }
  if (error instanceof DuplicateOrderId || (error instanceof ExchangeError && /duplicate order/i.test(message))) {
    return { classification: 'ambiguous', message };
  }
  if (error instanceof ExchangeError || error instanceof InvalidNonce) return { classification: 'rejected', message };
  if (error instanceof RequestTimeout || error instanceof ExchangeNotAvailable || error instanceof BadResponse) {
    return { classification: 'ambiguous', message };
  }
  if (error instanceof NetworkError) {
    const notConnected = NOT_CONNECTED.some((code) => message.includes(code));
    return { classification: notConnected ? 'not_sent' : 'ambiguous', message };
  }
  // Binance maps a few answered error codes (e.g. -2018 balance insufficient) to a plain OperationFailed.
  if (error instanceof OperationFailed) return { classification: 'rejected', message };
  return { classification: 'ambiguous', message };
}

/** Whether a failed order lookup means the exchange has no order with that client order id (ccxt `OrderNotFound`). */
export function isOrderNotFound(error: unknown): boolean {
  return error instanceof OrderNotFound;
}

/** The message on one line, at most 500 characters, a signed URL's `signature` value masked (it is of no use later). */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/signature=[0-9a-fA-F]+/g, 'signature=…').trim().slice(0, 500);
}
