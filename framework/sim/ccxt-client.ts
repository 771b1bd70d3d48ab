/**
 * Points a real ccxt.pro `binance` instance at the simulator.
 *
 * What is changed on a stock `new ccxt.pro.binance()` (keys as in ccxt 4.5 `js/src/binance.js` and
 * `js/src/pro/binance.js`):
 * - `options.fetchMarkets = { types: ['spot'] }`: `loadMarkets()` calls only `GET /api/v3/exchangeInfo` (the default
 *   also loads linear and inverse futures from fapi/dapi, which the simulator does not serve);
 * - `options.fetchCurrencies = false` (no `sapi` currency call) and `options.fetchMargins = false` (no margin pairs);
 * - every REST base in `urls.api` (`public` = `https://api.binance.com/api/v3`, `private`, `sapi`, `fapiPublic`, ...)
 *   keeps its path but gets the simulator's origin, e.g. `urls.api.public = <restUrl>/api/v3`; so no request can reach
 *   the real exchange, and the endpoints the simulator does not serve answer 404;
 * - every WebSocket base in `urls.api.ws` likewise, e.g. `urls.api.ws.spot = <wsUrl>` (`ws://127.0.0.1:<port>/ws`):
 *   `watchOHLCV` connects to `<wsUrl>/<stream index>` and sends `{"method":"SUBSCRIBE","params":["btcusdt@kline_5m"]}`;
 * - `httpAgent` is a plain `node:http` Agent: ccxt refuses `ws://` URLs without one (it is what
 *   `await exchange.loadHttpProxyAgent()` would set; no proxy is involved);
 * - `enableRateLimit` is off by default (loopback; pass `true` to keep ccxt's throttling).
 *
 * Equivalent by hand:
 * ```ts
 * const ex = new ccxt.pro.binance({ options: { fetchCurrencies: false, fetchMargins: false, fetchMarkets: { types: ['spot'] } } });
 * await ex.loadHttpProxyAgent();
 * ex.urls.api.public = sim.restUrl + '/api/v3';
 * ex.urls.api.ws.spot = sim.wsUrl;
 * ```
 *
 * @module
 */

import { Agent } from 'node:http';
import { pro } from '../core/ccxt';

/** A ccxt.pro binance instance. */
export type ProBinance = InstanceType<typeof pro.binance>;

/** Where the simulator listens: its `restUrl` (origin) and `wsUrl` (`ws://…/ws`). */
export interface SimulatorEndpoints {
  readonly restUrl: string;
  readonly wsUrl: string;
}

/**
 * A ccxt.pro binance instance whose every REST and WebSocket URL points at the simulator (see the module doc).
 * Call `await exchange.close()` when done, to close its WebSocket connections.
 *
 * @param simulator - the running simulator (or any object with its `restUrl` and `wsUrl`).
 * @param settings - `enableRateLimit` (default `false`).
 */
export function connectCcxt(simulator: SimulatorEndpoints, settings: { readonly enableRateLimit?: boolean } = {}): ProBinance {
  const exchange = new pro.binance({
    enableRateLimit: settings.enableRateLimit ?? false,
    options: { fetchCurrencies: false, fetchMargins: false, fetchMarkets: { types: ['spot'] } },
  });
  exchange.httpAgent = new Agent();
  const api = (exchange.urls as { api: Record<string, unknown> }).api;
  const restOrigin = new URL(simulator.restUrl).origin;
  const wsOrigin = new URL(simulator.wsUrl).origin;
  for (const [key, value] of Object.entries(api)) {
    if (key === 'ws') rebaseAll(value, wsOrigin);
    else if (typeof value === 'string') api[key] = rebase(value, restOrigin);
  }
  return exchange;
}

/** Replaces the origin of every URL string in `tree` (nested records) with `origin`, keeping paths. */
function rebaseAll(tree: unknown, origin: string): void {
  if (typeof tree !== 'object' || tree === null) return;
  const record = tree as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === 'string') record[key] = rebase(value, origin);
    else rebaseAll(value, origin);
  }
}

function rebase(url: string, origin: string): string {
  const { pathname } = new URL(url);
  return `${origin}${pathname === '/' ? '' : pathname}`;
}
