/**
 * ccxt's values: the ccxt.pro Binance exchange and the error classes, loaded from ccxt's CommonJS build (`dist/cjs`)
 * without its other exchanges; the whole module on demand ({@link loadCcxt}).
 *
 * `require('ccxt')` loads every exchange ccxt has, REST and pro (about 340 files): on the 2-core machine 0.8 s of CPU in
 * every live run, node and executor start, which use Binance only. This module requires the files the Binance classes
 * and the errors are in (`src/pro/binance.js`, which extends `src/binance.js`, and `src/base/errors.js`), after the two
 * helper modules that `dist/cjs/ccxt.js` requires before any exchange (rollup's registry of dynamically required
 * modules, which `src/base/Exchange.js` needs): 0.35 s. They are the files `require('ccxt')` loads, and Node caches a
 * module by its file, so a process that loads the whole module as well (a download from another exchange) still holds
 * one copy of each class, and `instanceof` on the errors holds. They are required by path (ccxt's package `exports`
 * names only its entry), in ccxt 4.5's layout of `dist/cjs`: a ccxt laid out otherwise fails here, at load, naming the
 * missing file.
 *
 * Through `require`, not `import`: ccxt's ES module build takes longer to load, and under tsx each of its files passes
 * through tsx's hooks. Every framework module takes ccxt's values from here; code that builds or tests ccxt errors
 * takes them from here too. Types are imported from `ccxt` itself (`import type`), which loads nothing.
 *
 * @module
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type Ccxt from 'ccxt';

const load = createRequire(import.meta.url);
/** ccxt's CommonJS build: the package's entry is `dist/ccxt.cjs`, which requires `dist/cjs/ccxt.js`. */
const CJS = path.join(path.dirname(load.resolve('ccxt')), 'cjs');
for (const helper of ['_virtual/_commonjsHelpers.js', '_virtual/index.cjs.js']) load(path.join(CJS, helper));
const errors = load(path.join(CJS, 'src/base/errors.js')) as typeof Ccxt;

/** ccxt's WebSocket (ccxt.pro) exchange classes this project uses, e.g. `new pro.binance(…)`. */
export const pro: Pick<typeof Ccxt.pro, 'binance'> = {
  binance: (load(path.join(CJS, 'src/pro/binance.js')) as { default: typeof Ccxt.pro.binance }).default,
};

/**
 * The whole ccxt module (CommonJS build), loaded by the first call: `ccxt.exchanges` (every exchange id) and `ccxt[id]`
 * (the REST exchange classes).
 */
export function loadCcxt(): typeof Ccxt {
  return load('ccxt') as typeof Ccxt;
}

/** ccxt's error for an exchange answer it cannot parse (an `OperationFailed`). */
export const BadResponse = errors.BadResponse;
/** ccxt's error for a rate-limit or anti-DDoS answer (HTTP 429, 418; a `NetworkError`). */
export const DDoSProtection = errors.DDoSProtection;
/** ccxt's error for an order whose client order id the exchange already has (an `InvalidOrder`). */
export const DuplicateOrderId = errors.DuplicateOrderId;
/** ccxt's error that rejects pending WebSocket watches when the exchange is closed by its user (an `ExchangeError`). */
export const ExchangeClosedByUser = errors.ExchangeClosedByUser;
/** ccxt's base class of the errors an exchange answered (not a network failure). */
export const ExchangeError = errors.ExchangeError;
/** ccxt's error for an exchange that is down or in maintenance (a `NetworkError`). */
export const ExchangeNotAvailable = errors.ExchangeNotAvailable;
/** ccxt's error for a request whose nonce or timestamp the exchange refused (a `NetworkError`). */
export const InvalidNonce = errors.InvalidNonce;
/** ccxt's error for an order the exchange refused as invalid (an `ExchangeError`). */
export const InvalidOrder = errors.InvalidOrder;
/** ccxt's base class of the errors in reaching the exchange: timeouts, rate limits, maintenance (an `OperationFailed`). */
export const NetworkError = errors.NetworkError;
/** ccxt's base class of the failures worth retrying: network errors and answers it cannot parse. */
export const OperationFailed = errors.OperationFailed;
/** ccxt's error for an order the exchange does not know (an `InvalidOrder`). */
export const OrderNotFound = errors.OrderNotFound;
/** ccxt's error for a request over the exchange's rate limit (a `NetworkError`). */
export const RateLimitExceeded = errors.RateLimitExceeded;
/** ccxt's error for a request without an answer within its timeout (a `NetworkError`). */
export const RequestTimeout = errors.RequestTimeout;
