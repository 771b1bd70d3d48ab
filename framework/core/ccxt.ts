/**
 * ccxt's values (the `pro` exchanges, the exchange classes by id, the error classes), loaded through Node's CommonJS
 * `require` (ccxt's `dist/ccxt.cjs` build) instead of `import`.
 *
 * ccxt's ES module build is 357 files, and under tsx (every CLI) each one passes through tsx's module hooks, which
 * Node 20 runs on a separate thread, a round trip per file: on the 2-core machine under load, `import 'ccxt'` took 4.0 s
 * of CPU and 13 s of wall time, `require('ccxt')` 1.9 s and 8 s, in every live run, download and executor start.
 * Every framework module takes ccxt's values from here, so that a process holds one copy of ccxt's classes and
 * `instanceof` on its errors holds; code that builds or tests ccxt errors takes them from here too. Types are imported
 * from `ccxt` itself (`import type`), which loads nothing.
 *
 * @module
 */
import { createRequire } from 'node:module';
import type Ccxt from 'ccxt';

/** The ccxt module (CommonJS build): `ccxt.exchanges` (ids), `ccxt[id]` (the REST exchange classes), `ccxt.pro`. */
export const ccxt = createRequire(import.meta.url)('ccxt') as typeof Ccxt;

/** ccxt's WebSocket (ccxt.pro) exchange classes, e.g. `new pro.binance(…)`. */
export const pro = ccxt.pro;
/** ccxt's error for an exchange answer it cannot parse (an `OperationFailed`). */
export const BadResponse = ccxt.BadResponse;
/** ccxt's error for a rate-limit or anti-DDoS answer (HTTP 429, 418; a `NetworkError`). */
export const DDoSProtection = ccxt.DDoSProtection;
/** ccxt's error for an order whose client order id the exchange already has (an `InvalidOrder`). */
export const DuplicateOrderId = ccxt.DuplicateOrderId;
/** ccxt's error that rejects pending WebSocket watches when the exchange is closed by its user (an `ExchangeError`). */
export const ExchangeClosedByUser = ccxt.ExchangeClosedByUser;
/** ccxt's base class of the errors an exchange answered (not a network failure). */
export const ExchangeError = ccxt.ExchangeError;
/** ccxt's error for an exchange that is down or in maintenance (a `NetworkError`). */
export const ExchangeNotAvailable = ccxt.ExchangeNotAvailable;
/** ccxt's error for a request whose nonce or timestamp the exchange refused (a `NetworkError`). */
export const InvalidNonce = ccxt.InvalidNonce;
/** ccxt's error for an order the exchange refused as invalid (an `ExchangeError`). */
export const InvalidOrder = ccxt.InvalidOrder;
/** ccxt's base class of the errors in reaching the exchange: timeouts, rate limits, maintenance (an `OperationFailed`). */
export const NetworkError = ccxt.NetworkError;
/** ccxt's base class of the failures worth retrying: network errors and answers it cannot parse. */
export const OperationFailed = ccxt.OperationFailed;
/** ccxt's error for an order the exchange does not know (an `InvalidOrder`). */
export const OrderNotFound = ccxt.OrderNotFound;
/** ccxt's error for a request over the exchange's rate limit (a `NetworkError`). */
export const RateLimitExceeded = ccxt.RateLimitExceeded;
/** ccxt's error for a request without an answer within its timeout (a `NetworkError`). */
export const RequestTimeout = ccxt.RequestTimeout;
