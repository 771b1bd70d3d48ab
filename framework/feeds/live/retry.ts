/**
 * Waiting and retrying for the live feed: exponential backoff with jitter, rate-limit waits that honour the exchange's
 * `Retry-After`, and a retry loop for REST calls.
 *
 * @module
 */
import { DDoSProtection, OperationFailed, RateLimitExceeded } from '../../core/ccxt';
import { FrameworkError, messageOf } from '../../core/errors';
import type { Logger } from '../../core/logger';

/**
 * Exponential backoff: attempt `n` (0-based) waits a random time in `[d/2, d]` with `d = min(maxMs, baseMs × 2ⁿ)`
 * ("equal jitter", AWS Architecture Blog, "Exponential Backoff And Jitter", 2015). Local ms.
 */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
}

/** The default backoff: 500 ms doubling up to 30 s. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000 };

/**
 * The wait before retry attempt `attempt` (0-based), local ms; see {@link BackoffPolicy}.
 *
 * @param random - a source of floats in [0, 1) (default `Math.random`).
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}

/**
 * Resolves after `ms` local ms, or at once (resolving `false`) when `signal` aborts; `true` when the time ran out.
 * The timer keeps the process alive (a feed waiting to reconnect is still running); abort `signal` to cancel it.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted === true) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The wait an exchange asked for, local ms, when `error` is a rate-limit error (ccxt's `RateLimitExceeded`, raised for
 * HTTP 429, or `DDoSProtection`, raised for HTTP 418 — Binance's ban): the `Retry-After` header (seconds, per RFC 9110
 * §10.2.3) of the response, read from `headers` (ccxt's `exchange.last_response_headers`, keys capitalised as
 * `Retry-After`); `null` when `error` is no rate-limit error or carries no usable header.
 */
export function retryAfterMs(error: unknown, headers: Readonly<Record<string, unknown>> | undefined): number | null {
  if (!(error instanceof RateLimitExceeded || error instanceof DDoSProtection)) return null;
  const raw = headers?.['Retry-After'] ?? headers?.['retry-after'];
  const seconds = typeof raw === 'string' || typeof raw === 'number' ? Number(raw) : Number.NaN;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : null;
}

/**
 * Holds back every REST call to an exchange while its rate limit says so: once any call is answered HTTP 429/418 with
 * a `Retry-After`, no call that passes the gate goes out before that time has passed (Binance bans IPs that keep
 * calling after a 429: `rest-api.md`, "LIMITS"). One gate per feed by default; a connector shares one among every
 * caller of an exchange account. Local time (`performance.now()`).
 */
export class RateLimitGate {
  private openAt = 0;
  private count = 0;
  private readonly noted = new WeakSet<object>();

  /**
   * Takes note of a failed call's error: when it is a rate-limit answer with a `Retry-After` (see
   * {@link retryAfterMs}), closes the gate for that long. The same error noted again (by the connector's hook and by
   * the caller's retry loop) counts once.
   *
   * @returns the wait asked for (local ms), or `null`.
   */
  note(error: unknown, headers: Readonly<Record<string, unknown>> | undefined): number | null {
    const asked = retryAfterMs(error, headers);
    if (asked !== null && typeof error === 'object' && error !== null && !this.noted.has(error)) {
      this.noted.add(error);
      this.count++;
      this.openAt = Math.max(this.openAt, performance.now() + asked);
    }
    return asked;
  }

  /**
   * Resolves once the gate is open (`false` if `signal` aborted first). A timer may fire a little before its time by
   * `performance.now()`, so the wait is repeated until the gate is open by that clock.
   */
  async pass(signal?: AbortSignal): Promise<boolean> {
    for (let wait = this.openAt - performance.now(); wait > 0; wait = this.openAt - performance.now()) {
      if (!(await sleep(Math.ceil(wait), signal))) return false;
    }
    return signal?.aborted !== true;
  }

  /** Local time (`performance.now()`, ms) until which calls are held; in the past when the gate is open. */
  get closedUntil(): number {
    return this.openAt;
  }

  /** Rate-limit answers with a `Retry-After` seen so far. */
  get waits(): number {
    return this.count;
  }
}

/**
 * Counters a retry loop updates: `retries` (failed attempts that were retried) and `rateLimitWaits` (of which those
 * answered with a rate limit and a `Retry-After`).
 */
export interface RetryCounters {
  retries: number;
  rateLimitWaits: number;
}

/**
 * Options of {@link callWithRetry}.
 * - `what`: names the call in logs, e.g. `fetchOHLCV BTC/USDT 5m from 2021-03-01T00:00:00.000Z`;
 * - `backoff`: waits between attempts (see {@link BackoffPolicy});
 * - `responseHeaders`: the headers of the last response (for `Retry-After`; ccxt: `exchange.last_response_headers`);
 * - `gate`: a rate-limit gate shared with other calls to the same exchange (default: one for this call alone);
 * - `signal`: stops retrying when aborted (the last error is then thrown);
 * - `counters`, `logger`: where retries are counted and reported.
 */
export interface RetryOptions {
  readonly what: string;
  readonly backoff: BackoffPolicy;
  /** Returns the headers of the last HTTP response, or `undefined`; read after a failure for its `Retry-After` (s). */
  readonly responseHeaders: () => Readonly<Record<string, unknown>> | undefined;
  readonly gate?: RateLimitGate;
  readonly signal?: AbortSignal;
  readonly counters?: RetryCounters;
  readonly logger?: Logger;
  /** Tries at most this many times (the first call included), then throws the last error; default: no limit. */
  readonly maxAttempts?: number;
}

/**
 * Whether `error` is a temporary failure worth retrying: ccxt's `OperationFailed` family (network errors, timeouts,
 * HTTP 5xx as `ExchangeNotAvailable`, rate limits), or an error caused by one (e.g. a clock sync whose every request
 * failed). A bad symbol or a bad request is not temporary.
 */
export function isTemporary(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof OperationFailed) return true;
  }
  return false;
}

/**
 * Calls `call` until it succeeds. Temporary failures (see {@link isTemporary}) are retried after the backoff, and
 * never before the exchange's `Retry-After` when it sent one (through the {@link RateLimitGate}). Other errors are
 * thrown at once.
 *
 * @returns what `call` returned.
 * @throws the error of `call` when it is not temporary, or the last error once `signal` aborts or `maxAttempts` tries
 *   have failed.
 */
export async function callWithRetry<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  const gate = options.gate ?? new RateLimitGate();
  for (let attempt = 0; ; attempt++) {
    try {
      if (!(await gate.pass(options.signal))) throw new FrameworkError(`${options.what}: abandoned, the caller stopped`);
      return await call();
    } catch (error) {
      if (!isTemporary(error) || options.signal?.aborted === true) throw error;
      if (options.maxAttempts !== undefined && attempt + 1 >= options.maxAttempts) throw error;
      const asked = gate.note(error, options.responseHeaders());
      const wait = backoffDelay(attempt, options.backoff);
      if (options.counters !== undefined) {
        options.counters.retries++;
        if (asked !== null) options.counters.rateLimitWaits++;
      }
      options.logger?.warn(
        {
          err: messageOf(error),
          attempt: attempt + 1,
          waitMs: Math.round(Math.max(wait, asked ?? 0)),
          retryAfterMs: asked,
        },
        `${options.what} failed; retrying`,
      );
      // The gate holds the next attempt for the Retry-After; the backoff runs alongside it.
      if (!(await sleep(wait, options.signal))) throw error;
    }
  }
}
