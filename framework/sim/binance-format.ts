/**
 * Binance spot wire formats produced by the simulator: REST kline rows, WebSocket kline events, `exchangeInfo`
 * symbols and error bodies.
 *
 * Shapes follow the Binance spot API documentation (https://github.com/binance/binance-spot-api-docs, `rest-api.md`
 * "Kline/Candlestick data", `web-socket-streams.md` "Kline/Candlestick Streams", `errors.md`) and were checked against
 * recorded real traffic: `../shared/data/http_spot_market_klines.json` (REST) and
 * `../shared/data/BINANCE_FUTURES.ws.1.0` (WebSocket, © 2017-2021 Bryant Moscon, cryptofeed).
 *
 * @module
 */

import { SIMULATED_ORDER_TYPES } from './account';
import type { Kline, MarketTape } from './tape';

/** Binance's 12-field kline array: open time, OHLCV strings, close time, quote volume, trades, taker volumes, "0". */
export type KlineRow = [number, string, string, string, string, string, number, string, number, string, string, string];

/** The `k` object of a Binance kline event, fields in Binance's order. */
export interface KlinePayload {
  t: number;
  T: number;
  s: string;
  i: string;
  f: number;
  L: number;
  o: string;
  c: string;
  h: string;
  l: string;
  v: string;
  n: number;
  x: boolean;
  q: string;
  V: string;
  Q: string;
  B: string;
}

/** A Binance kline event (`"e": "kline"`), as sent on `/ws` and wrapped as `data` on `/stream`. */
export interface KlineEvent {
  e: 'kline';
  /** Event time, UTC epoch ms. */
  E: number;
  s: string;
  k: KlinePayload;
}

/**
 * One REST answer of the simulator: HTTP status, JSON body, the request's weight (counted in `x-mbx-used-weight`),
 * extra headers, and `answerAfterMs`: real ms to hold the answer back (`Infinity` = never send it; the
 * `orderTimeout` fault), 0 or absent = answer at once.
 */
export interface RestAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly weight: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly answerAfterMs?: number;
}

/** A Binance error body, e.g. `{ "code": -1121, "msg": "Invalid symbol." }`. */
export interface BinanceError {
  readonly code: number;
  readonly msg: string;
}

/** A decimal string with 8 places, as Binance spot prints prices and quantities (`"60685.22000000"`). */
export function decimal8(x: number): string {
  return x.toFixed(8);
}

/** The REST row of a kline. */
export function klineRow(k: Kline): KlineRow {
  return [
    k.openTime,
    decimal8(k.open),
    decimal8(k.high),
    decimal8(k.low),
    decimal8(k.close),
    decimal8(k.volume),
    k.closeTime,
    decimal8(k.quoteVolume),
    k.trades,
    decimal8(k.takerBuyBase),
    decimal8(k.takerBuyQuote),
    '0',
  ];
}

/** The WebSocket event of a kline of `tape`, sent at exchange time `eventTime` (ms). */
export function klineEvent(tape: MarketTape, k: Kline, eventTime: number): KlineEvent {
  return {
    e: 'kline',
    E: eventTime,
    s: tape.id,
    k: {
      t: k.openTime,
      T: k.closeTime,
      s: tape.id,
      i: tape.timeframe,
      f: k.firstTradeId,
      L: k.lastTradeId,
      o: decimal8(k.open),
      c: decimal8(k.close),
      h: decimal8(k.high),
      l: decimal8(k.low),
      v: decimal8(k.volume),
      n: k.trades,
      x: k.closed,
      q: decimal8(k.quoteVolume),
      V: decimal8(k.takerBuyBase),
      Q: decimal8(k.takerBuyQuote),
      B: '0',
    },
  };
}

/**
 * The `exchangeInfo` entry of a symbol: status TRADING, SPOT permissions, and filters whose tick size and lot step come
 * from the decimals of the market's data (so every price and volume it serves is on the grid). Contains what ccxt's
 * `binance.parseMarket` reads: symbol, status, baseAsset, quoteAsset, precisions, filters, permissions.
 */
export function exchangeInfoSymbol(tape: MarketTape): Record<string, unknown> {
  const tick = decimal8(10 ** -tape.priceDecimals);
  const step = decimal8(10 ** -tape.volumeDecimals);
  return {
    symbol: tape.id,
    status: 'TRADING',
    baseAsset: tape.base,
    baseAssetPrecision: 8,
    quoteAsset: tape.quote,
    quotePrecision: 8,
    quoteAssetPrecision: 8,
    baseCommissionPrecision: 8,
    quoteCommissionPrecision: 8,
    // Only what the simulator's account serves (sim/account): ccxt refuses other types before sending them.
    orderTypes: SIMULATED_ORDER_TYPES,
    icebergAllowed: true,
    ocoAllowed: true,
    otoAllowed: true,
    quoteOrderQtyMarketAllowed: true,
    allowTrailingStop: true,
    cancelReplaceAllowed: true,
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: false,
    filters: [
      { filterType: 'PRICE_FILTER', minPrice: tick, maxPrice: '1000000.00000000', tickSize: tick },
      { filterType: 'LOT_SIZE', minQty: step, maxQty: '9000.00000000', stepSize: step },
      { filterType: 'ICEBERG_PARTS', limit: 10 },
      { filterType: 'MARKET_LOT_SIZE', minQty: '0.00000000', maxQty: '100.00000000', stepSize: '0.00000000' },
      { filterType: 'TRAILING_DELTA', minTrailingAboveDelta: 10, maxTrailingAboveDelta: 2000, minTrailingBelowDelta: 10, maxTrailingBelowDelta: 2000 },
      { filterType: 'PERCENT_PRICE_BY_SIDE', bidMultiplierUp: '5', bidMultiplierDown: '0.2', askMultiplierUp: '5', askMultiplierDown: '0.2', avgPriceMins: 5 },
      { filterType: 'NOTIONAL', minNotional: '5.00000000', applyMinToMarket: true, maxNotional: '9000000.00000000', applyMaxToMarket: false, avgPriceMins: 5 },
      { filterType: 'MAX_NUM_ORDERS', maxNumOrders: 200 },
      { filterType: 'MAX_NUM_ALGO_ORDERS', maxNumAlgoOrders: 5 },
    ],
    permissions: [],
    permissionSets: [['SPOT']],
    defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
    allowedSelfTradePreventionModes: ['EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
  };
}

/** The `exchangeInfo` body for `tapes` (one entry per symbol, even if it is played at several timeframes). */
export function exchangeInfoBody(tapes: readonly MarketTape[], serverTime: number): Record<string, unknown> {
  const bySymbol = new Map(tapes.map((t) => [t.id, t] as const));
  return {
    timezone: 'UTC',
    serverTime,
    rateLimits: [
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100 },
      { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: 200000 },
      { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 61000 },
    ],
    exchangeFilters: [],
    symbols: [...bySymbol.values()].map(exchangeInfoSymbol),
  };
}

/**
 * Binance error bodies used by the simulator (codes and texts from Binance's `errors.md`). `unknown` is what Binance
 * sends with its HTTP 500s (reported e.g. in rotki/rotki#4781); ccxt 4.5 maps it to `OperationFailed`, and the 429
 * status to `DDoSProtection`.
 */
export const ERRORS = {
  unknown: { code: -1000, msg: 'An unknown error occurred while processing the request.' },
  tooManyRequests: {
    code: -1003,
    msg: 'Too many requests; current limit of IP(127.0.0.1) is 6000 requests per minute. Please use the websocket for live updates to avoid polling the API.',
  },
  invalidInterval: { code: -1120, msg: 'Invalid interval.' },
  invalidSymbol: { code: -1121, msg: 'Invalid symbol.' },
  startAfterEnd: { code: -1023, msg: 'Start time is greater than end time.' },
  /** -1102: the named query parameter is missing or empty. */
  mandatory: (param: string): BinanceError => ({
    code: -1102,
    msg: `Mandatory parameter '${param}' was not sent, was empty/null, or malformed.`,
  }),
  /** -1100: the named query parameter is not 1-20 decimal digits. */
  illegalChars: (param: string): BinanceError => ({
    code: -1100,
    msg: `Illegal characters found in parameter '${param}'; legal range is '^[0-9]{1,20}$'.`,
  }),
  /** -1130: the named query parameter has a value Binance does not accept (e.g. `limit=0`). */
  invalidValue: (param: string): BinanceError => ({ code: -1130, msg: `Data sent for parameter '${param}' is not valid.` }),
} as const;

/** Binance spot kline intervals (all of them, including those the simulator does not play). */
export const BINANCE_INTERVALS: readonly string[] = [
  '1s', '1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w', '1M',
];
