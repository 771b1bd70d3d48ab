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

export const {
  pro,
  BadResponse,
  DDoSProtection,
  DuplicateOrderId,
  ExchangeClosedByUser,
  ExchangeError,
  ExchangeNotAvailable,
  InvalidNonce,
  InvalidOrder,
  NetworkError,
  OperationFailed,
  OrderNotFound,
  RateLimitExceeded,
  RequestTimeout,
} = ccxt;
