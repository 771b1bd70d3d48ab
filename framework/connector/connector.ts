/**
 * The connector: the only thing in a run that talks to an exchange account — every REST and WebSocket access goes
 * through the ccxt instances it owns, under one request budget and one rate-limit back-off. See {@link Connector}.
 *
 * @module
 */
import { FrameworkError } from '../core/errors';
import type { BinanceKlineTap } from '../feeds/live/binance-tap';
import { createExchange, type ApiCredentials, type CreateExchangeOptions } from '../feeds/live/exchange';
import { callWithRetry, DEFAULT_BACKOFF, RateLimitGate } from '../feeds/live/retry';

/**
 * Options of {@link Connector}.
 * - `exchange`: the ccxt exchange id; only `binance` is supported (see `createExchange`);
 * - `urls`: a Binance-compatible server instead of Binance (the simulator's REST origin and WebSocket base);
 * - `enableRateLimit`: the shared request budget (default on; off against the simulator, whose clock runs faster);
 * - `rateLimitMs`: ms of budget per unit of ccxt request cost (default ccxt's for the exchange: 50 ms for Binance);
 * - `credentials`: the account's API key and secret, for the trading instance only. Never logged.
 */
export interface ConnectorOptions {
  readonly exchange: string;
  readonly urls?: CreateExchangeOptions['urls'];
  readonly enableRateLimit?: boolean;
  readonly rateLimitMs?: number;
  readonly credentials?: ApiCredentials;
}

/**
 * What a connector has done; a snapshot.
 * - `restRequests`: HTTP requests sent by all its instances (every purpose);
 * - `rateLimitWaits`: answers HTTP 429/418 with a `Retry-After` that held back every REST caller;
 * - `heldForMs`: local ms until REST calls may go out again (0: not held);
 * - `streams`: WebSocket instances handed out (one per subscription).
 */
export interface ConnectorStatus {
  readonly restRequests: number;
  readonly rateLimitWaits: number;
  readonly heldForMs: number;
  readonly streams: number;
}

/** A call through a connector that is closed. */
export class ConnectorClosedError extends FrameworkError {}

type HandleErrors = BinanceKlineTap['handleErrors'];

/** Attempts of {@link Connector.serverTime} (with {@link DEFAULT_BACKOFF}'s waits between them: 0.5 s, 1 s). */
export const SERVER_TIME_ATTEMPTS = 3;

/**
 * One exchange account's connection for a run (NautilusTrader's data and execution clients in one, freqtrade's
 * `Exchange` object): the ccxt instances every part of the run uses, one per purpose —
 *
 * - {@link Connector.marketData}: public REST (markets, the exchange clock, candle backfill and audits of every feed);
 * - {@link Connector.trading}: private REST with the account's keys (orders, balances, reconciliation), or null
 *   without keys; the keys live in this instance only;
 * - {@link Connector.stream}: one WebSocket instance per subscription. A feed that finds its connection dead closes
 *   every ccxt client of its subscription (`KlineStream`), and ccxt's Binance puts several subscriptions of one
 *   instance on the same connection: with one instance per subscription, a dead socket is replaced without touching
 *   the other feeds' sockets. These instances make no REST call of their own (the feed copies the markets the REST
 *   instance loaded), and any they did make would go through the same budget and back-off.
 *
 * The markets, loaded once by the market-data instance, are copied to every other instance: one `exchangeInfo`
 * request per run, and the trading instance can size orders (`amountToPrecision`) once any feed has started.
 *
 * Shared by every instance (installed on each when it is made):
 * - one request budget: ccxt's leaky-bucket throttler of the REST instance, so that the costs of every call (ccxt's
 *   per-endpoint costs, Binance's request weights divided by 5 at 50 ms each: 6,000 weight per minute) draw on one
 *   budget instead of one per instance;
 * - one back-off ({@link Connector.gate}): when any call is answered HTTP 429 (too many requests) or 418 (Binance's IP
 *   ban) with a `Retry-After`, no REST request of any instance leaves before that time (local clock) has passed — the
 *   feeds' backfills, the exchange clock's samples, reconciliation and orders alike. Requests already sent when the
 *   answer arrives cannot be recalled.
 *
 * Binance only (see `createExchange`). Call {@link Connector.close} when done: it closes every instance and makes
 * every later or waiting call fail with {@link ConnectorClosedError}.
 */
export class Connector {
  /** The back-off shared by every REST caller of this exchange account (see the class doc). */
  readonly gate = new RateLimitGate();
  /** Public REST: markets, server time, candles. */
  readonly marketData: BinanceKlineTap;
  /** Private REST with the account's keys; null when the connector has none. */
  readonly trading: BinanceKlineTap | null;
  readonly #options: ConnectorOptions;
  readonly #instances: BinanceKlineTap[] = [];
  readonly #closed = new AbortController();
  #streams = 0;
  #requests = 0;

  /**
   * @throws {@link "feeds/live/live-feed"!LiveFeedError | LiveFeedError} for an exchange other than `binance`.
   */
  constructor(options: ConnectorOptions) {
    this.#options = options;
    this.marketData = this.#own(this.#create(undefined));
    this.trading = options.credentials === undefined ? null : this.#own(this.#create(options.credentials));
    const load = this.marketData.loadMarkets.bind(this.marketData);
    this.marketData.loadMarkets = async (reload?: boolean, params?: object) => {
      // ccxt keeps the promise of a failed load and hands the same rejection to every later call: forget it, so that
      // a retry (the feed's, after e.g. a kept-alive socket the exchange had closed) reads the markets again.
      const markets = await load(reload, params).catch((error: unknown) => {
        (this.marketData as { marketsLoading?: unknown }).marketsLoading = undefined;
        throw error;
      });
      for (const exchange of this.#instances) if (exchange !== this.marketData) exchange.setMarketsFromExchange(this.marketData);
      return markets;
    };
  }

  /**
   * A new WebSocket instance for one subscription's market data (see the class doc), closed with the connector.
   *
   * @throws {@link ConnectorClosedError} once the connector is closed.
   */
  stream(): BinanceKlineTap {
    if (this.#closed.signal.aborted) throw new ConnectorClosedError(`${this.#options.exchange} connector: closed, no new stream`);
    this.#streams++;
    const exchange = this.#own(this.#create(undefined));
    if (this.marketData.markets !== undefined) exchange.setMarketsFromExchange(this.marketData);
    return exchange;
  }

  /**
   * The exchange's server time, UTC epoch ms (`Date.now()` when the exchange has no time endpoint), through the shared
   * back-off. A temporary failure (ccxt's `OperationFailed` family: e.g. a kept-alive socket the exchange had closed,
   * which a loaded machine meets at start) is retried up to {@link SERVER_TIME_ATTEMPTS} times in all, so that an
   * unreachable exchange still fails a start within a few seconds.
   *
   * @throws the last error of ccxt's `fetchTime` once the attempts are spent, or at once when it is not temporary.
   */
  async serverTime(): Promise<number> {
    const time = await callWithRetry(() => this.marketData.fetchTime(), {
      what: `${this.#options.exchange}: fetchTime`,
      backoff: DEFAULT_BACKOFF,
      responseHeaders: () => this.marketData.last_response_headers,
      gate: this.gate,
      signal: this.#closed.signal,
      maxAttempts: SERVER_TIME_ATTEMPTS,
    });
    return time ?? Date.now();
  }

  /**
   * What a live feed needs to read one subscription through this connector (spread into `LiveFeedOptions`): a new
   * WebSocket instance of its own ({@link Connector.stream}), the shared market-data REST instance and the shared
   * back-off.
   *
   * @throws {@link ConnectorClosedError} once the connector is closed.
   */
  feedAccess(): { readonly exchange: BinanceKlineTap; readonly rest: BinanceKlineTap; readonly gate: RateLimitGate } {
    return { exchange: this.stream(), rest: this.marketData, gate: this.gate };
  }

  /** A snapshot of the counters; see {@link ConnectorStatus}. */
  status(): ConnectorStatus {
    return {
      restRequests: this.#requests,
      rateLimitWaits: this.gate.waits,
      heldForMs: Math.max(0, this.gate.closedUntil - performance.now()),
      streams: this.#streams,
    };
  }

  /** Closes every instance (their sockets) and fails calls still waiting for the gate. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed.signal.aborted) return;
    this.#closed.abort();
    await Promise.all(this.#instances.map((exchange) => exchange.close()));
  }

  #create(credentials: ApiCredentials | undefined): BinanceKlineTap {
    const { exchange, urls, enableRateLimit, rateLimitMs } = this.#options;
    return createExchange(exchange, {
      ...(urls !== undefined && { urls }),
      ...(rateLimitMs !== undefined && { rateLimit: rateLimitMs }),
      ...(enableRateLimit !== undefined && { enableRateLimit }),
      ...(credentials !== undefined && { credentials }),
    });
  }

  /**
   * Installs the shared budget and back-off on an instance: its requests wait for the gate and are counted, its
   * rate-limit answers close the gate (read in `handleErrors`, which receives that answer's own headers — not
   * `last_response_headers`, which a concurrent answer may have replaced), and its throttle draws on the REST
   * instance's bucket.
   */
  #own(exchange: BinanceKlineTap): BinanceKlineTap {
    const budget = this.#instances[0] ?? exchange;
    if (budget !== exchange) exchange.throttle = (cost?: number) => budget.throttle(cost);
    const send = exchange.fetch.bind(exchange);
    exchange.fetch = async (url: string, method?: string, headers?: unknown, body?: unknown) => {
      if (!(await this.gate.pass(this.#closed.signal))) {
        throw new ConnectorClosedError(`${this.#options.exchange} connector: closed, ${method ?? 'GET'} ${new URL(url).pathname} not sent`);
      }
      this.#requests++;
      return send(url, method, headers, body);
    };
    const handleErrors: HandleErrors = exchange.handleErrors.bind(exchange);
    exchange.handleErrors = (...args: Parameters<HandleErrors>) => {
      try {
        return handleErrors(...args);
      } catch (error) {
        this.gate.note(error, args[4]);
        throw error;
      }
    };
    this.#instances.push(exchange);
    return exchange;
  }
}
