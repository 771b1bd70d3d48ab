/**
 * ccxt.pro's `binance` with a tap in place of its kline handler: every kline frame goes, read with its `"x"` (closed)
 * flag, to the listeners the live feed registers. ccxt's `watchOHLCV` returns `[t, o, h, l, c, v]` arrays without that
 * flag; the tap reads it from the frame ccxt's own message path delivers (JSON parse, envelope unwrapping, dispatch by
 * event type), so nothing is received twice or over a second connection.
 *
 * Overridden (ccxt 4.5, `js/src/pro/binance.js`): `handleOHLCV(client, message)` — reads the frame for the listeners
 * instead of ccxt's handler, so ccxt's OHLCV cache is not kept and a `watchOHLCV` call does not resolve: it only
 * subscribes, and rejects when the connection fails (what `KlineStream` needs from it; ccxt's per-frame cache update
 * and re-armed `watchOHLCV` cost the live feed a fifth of its CPU);
 * `handleMessage(client, message)` — ccxt's WebSocket client hands over the raw text when `JSON.parse` fails, which
 * binance's dispatcher would trip over (a `TypeError` that rejects every pending watch on that connection): such
 * frames are reported and dropped instead.
 *
 * @module
 */
import { pro } from '../../core/ccxt';
import type { Logger } from '../../core/logger';
import { readKlineEvent, type KlineFrame } from './binance-kline';

type WsClient = Parameters<InstanceType<typeof pro.binance>['handleOHLCV']>[0];

/** A listener of the tap (register it with {@link BinanceKlineTap.addKlineListener}). */
export interface KlineListener {
  /** Called with every kline frame read, after ccxt's own handler took it (its values are still unvalidated). */
  onKline(frame: KlineFrame): void;
  /**
   * Called with a frame that could not be read (not JSON, or a kline without its fields): the frame as received
   * (text or object) and the reason, in words. The frame is dropped.
   */
  onBadFrame(frame: unknown, reason: string): void;
}

/**
 * `ccxt.pro.binance` whose kline frames are also delivered, with their closed flag, to {@link KlineListener}s.
 * Construct it with the same arguments as `ccxt.pro.binance`.
 */
export class BinanceKlineTap extends pro.binance {
  private readonly listeners = new Set<KlineListener>();

  /**
   * The clock that stamps `receivedAt` on frames (ms); `Date.now` until the feed sets the exchange clock's `now`.
   */
  receivedAtClock: () => number = Date.now;

  /**
   * Where ccxt's own console output goes (e.g. its `onMessage JSON.parse` line for a malformed frame, which the tap
   * reports itself): at `debug` level to this logger; to the console, as ccxt does, while unset.
   */
  logger: Logger | undefined;

  /** ccxt's console output: to {@link BinanceKlineTap.logger} at `debug` level when set, else to the console. */
  override log(...args: unknown[]): void {
    if (this.logger === undefined) super.log(...args);
    else this.logger.debug({ ccxt: args.map((a) => (a instanceof Error ? a.message : String(a))) }, 'ccxt');
  }

  /** Adds a listener; returns the function that removes it. */
  addKlineListener(listener: KlineListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * ccxt's entry point for every WebSocket message: a raw string (the client's `JSON.parse` failed) is reported to
   * the listeners' `onBadFrame` and dropped; anything else goes on to ccxt's binance dispatcher.
   */
  override handleMessage(client: WsClient, message: unknown): void {
    if (typeof message === 'string') {
      this.report(message, 'frame is not valid JSON');
      return;
    }
    super.handleMessage(client, message);
  }

  /**
   * ccxt's kline handler, replaced: reads the frame (stamping `receivedAt` from
   * {@link BinanceKlineTap.receivedAtClock}) and delivers it to the listeners' `onKline`, or to `onBadFrame` when it
   * could not be read. ccxt's own handler does not run (see the module comment).
   */
  override handleOHLCV(_client: WsClient, message: Record<string, unknown>): void {
    const frame = readKlineEvent(message, this.receivedAtClock());
    if (typeof frame === 'string') this.report(message, frame);
    else for (const l of this.listeners) l.onKline(frame);
  }

  private report(frame: unknown, reason: string): void {
    for (const l of this.listeners) l.onBadFrame(frame, reason);
  }
}
