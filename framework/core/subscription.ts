import type { Timeframe } from './timeframe';

/**
 * A market-data subscription: which candles a strategy needs.
 *
 * - `exchange`: a ccxt exchange id, e.g. `binance`;
 * - `symbol`: a unified ccxt symbol, `BASE/QUOTE`, e.g. `BTC/USDT`;
 * - `timeframe`: e.g. `15m`.
 */
export interface Subscription {
  readonly exchange: string;
  readonly symbol: string;
  readonly timeframe: Timeframe;
}

/** `binance BTC/USDT 15m`: a subscription as one readable string, for messages and logs. */
export function describeSubscription(s: Subscription): string {
  return `${s.exchange} ${s.symbol} ${s.timeframe}`;
}
