/**
 * Reads a Binance kline event (the `kline` WebSocket stream) into a candle update, keeping what ccxt's
 * `watchOHLCV` drops: the `"x"` (closed) flag.
 *
 * Format: Binance spot `web-socket-streams.md`, "Kline/Candlestick Streams"
 * (https://github.com/binance/binance-spot-api-docs): `{ "e": "kline", "E": <event ms>, "s": "BNBBTC",
 * "k": { "t": <open ms>, "T": <close ms>, "s", "i": "1m", "o", "c", "h", "l", "v" (decimal strings), "x": <closed>, … } }`.
 *
 * @module
 */
import type { CandleUpdate } from '../../pipeline/closed-candles';

/**
 * A kline event, read: the market id (`BTCUSDT`) and interval (`5m`) it belongs to, and the candle update it carries
 * (values still as received; the pipeline validates them).
 */
export interface KlineFrame {
  readonly marketId: string;
  readonly interval: string;
  readonly update: CandleUpdate;
}

/** The kline fields a candle is read from: open time, open, high, low, close, volume. */
const FIELDS = ['t', 'o', 'h', 'l', 'c', 'v'] as const;

/**
 * Reads one kline event, already unwrapped from a combined-stream envelope (as ccxt's `handleMessage` passes it).
 * Only the shape is checked here; the values are the pipeline's to validate.
 *
 * @param message - the event object.
 * @param receivedAt - when it arrived, exchange-clock ms.
 * @returns the frame, or a string naming what is wrong with the event's shape.
 */
export function readKlineEvent(message: unknown, receivedAt: number): KlineFrame | string {
  if (!isRecord(message)) return `kline event is not an object: ${show(message)}`;
  const k = message['k'];
  if (!isRecord(k)) return `kline event has no "k" object: ${show(k)}`;
  const marketId = k['s'] ?? message['s'];
  const interval = k['i'];
  if (typeof marketId !== 'string') return `kline has no symbol "s": ${show(marketId)}`;
  if (typeof interval !== 'string') return `kline has no interval "i": ${show(interval)}`;
  const closed = k['x'];
  if (closed !== undefined && typeof closed !== 'boolean') return `kline "x" is not a boolean: ${show(closed)}`;
  for (const name of FIELDS) {
    const value = k[name];
    if (typeof value !== 'string' && typeof value !== 'number') return `kline "${name}" is missing or not a number/string: ${show(value)}`;
  }
  const { t, o, h, l, c, v } = k as Record<(typeof FIELDS)[number], string | number>;
  const candle = { openTime: t, open: o, high: h, low: l, close: c, volume: v };
  const update: CandleUpdate =
    closed === undefined ? { candle, source: 'websocket', receivedAt, frame: message } : { candle, closed, source: 'websocket', receivedAt, frame: message };
  return { marketId, interval, update };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}
