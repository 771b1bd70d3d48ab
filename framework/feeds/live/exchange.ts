/**
 * Creates the ccxt.pro exchange a live feed reads from: real Binance, or any Binance-compatible server (the
 * framework's simulator).
 *
 * @module
 */
import { connectCcxt, type SimulatorEndpoints } from '../../sim/ccxt-client';
import { BinanceKlineTap } from './binance-tap';
import { LiveFeedError } from './live-feed';

/**
 * Options of {@link createExchange}.
 * - `urls`: a Binance-compatible server to use instead of Binance: its REST origin (`http://127.0.0.1:8765`) and
 *   WebSocket base (`ws://127.0.0.1:8765/ws`), e.g. a running simulator;
 * - `enableRateLimit`: ccxt's request throttling (default `true`; keep it on against a real exchange);
 * - `rateLimit`: ms of the throttle's budget per unit of ccxt's request cost (default ccxt's: 50 for Binance).
 */
export interface CreateExchangeOptions {
  /** The simulator's endpoints, instead of the real exchange. */
  readonly urls?: SimulatorEndpoints;
  /** ccxt's throttler (default on). */
  readonly enableRateLimit?: boolean;
  readonly rateLimit?: number;
  /** API key and secret, only for sending orders; public market data needs none. Never logged. */
  readonly credentials?: ApiCredentials;
}

/** An exchange API key and its secret (from the environment; see `npm run live -- --real-orders`). */
export interface ApiCredentials {
  readonly apiKey: string;
  readonly secret: string;
}

/**
 * A ccxt.pro exchange with the kline tap the live feed needs (see {@link BinanceKlineTap}).
 *
 * - Real Binance spot: `new ccxt.pro.binance({ enableRateLimit: true, options: { fetchCurrencies: false } })` (no
 *   currency list: it needs an API key and the feed does not use it).
 * - With `urls`: configured exactly as the simulator's `connectCcxt` configures a stock instance (spot markets only,
 *   every REST and WebSocket URL rebased on the given origins, a plain HTTP agent so that ccxt accepts `ws://`).
 *
 * Call `await exchange.close()` when done with it.
 *
 * @param id - the ccxt exchange id; only `binance` is supported (the feed reads its kline frames' closed flag).
 * @throws {@link "feeds/live/live-feed"!LiveFeedError | LiveFeedError} for another id.
 */
export function createExchange(id: string, options: CreateExchangeOptions = {}): BinanceKlineTap {
  if (id !== 'binance') {
    throw new LiveFeedError(
      `exchange "${id}" is not supported by the live feed: only "binance" (its kline stream says when a candle closed)`,
    );
  }
  const enableRateLimit = options.enableRateLimit ?? true;
  const throttle = { enableRateLimit, ...(options.rateLimit !== undefined && { rateLimit: options.rateLimit }) };
  const credentials = options.credentials === undefined ? {} : { apiKey: options.credentials.apiKey, secret: options.credentials.secret };
  if (options.urls === undefined) {
    return new BinanceKlineTap({ ...throttle, options: { fetchCurrencies: false }, ...credentials });
  }
  // Take the simulator's configuration from a stock instance configured by connectCcxt, rather than repeating it.
  const template = connectCcxt(options.urls, { enableRateLimit });
  const exchange = new BinanceKlineTap({ ...throttle, options: template.options, urls: template.urls, ...credentials });
  exchange.httpAgent = template.httpAgent;
  return exchange;
}
