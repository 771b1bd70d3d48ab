/**
 * The live feed: closed candles of one subscription from an exchange's WebSocket stream and REST API, each once, in
 * order, with no gap. See {@link LiveFeed}.
 *
 * @module
 */
export { LiveFeed, LiveFeedError, type LiveFeedOptions, type LiveFeedState, type LiveFeedStatus } from './live-feed';
export { createExchange, type CreateExchangeOptions } from './exchange';
export { BinanceKlineTap, type KlineListener } from './binance-tap';
export { readKlineEvent, type KlineFrame } from './binance-kline';
export { ClockSyncError, ExchangeClock, type ClockEstimate, type ExchangeClockOptions } from './exchange-clock';
export { KlineStream, type ConnectionState, type KlineStreamOptions } from './kline-stream';
export {
  backoffDelay,
  callWithRetry,
  DEFAULT_BACKOFF,
  isTemporary,
  RateLimitGate,
  retryAfterMs,
  sleep,
  type BackoffPolicy,
  type RetryCounters,
  type RetryOptions,
} from './retry';
