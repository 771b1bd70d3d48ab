/**
 * The WebSocket side of the live feed: keeps one ccxt.pro kline subscription alive, hands its frames on, and replaces
 * the connection when it dies or goes silent.
 *
 * @module
 */
import { ExchangeClosedByUser } from '../../core/ccxt';
import type { Logger } from '../../core/logger';
import type { Timeframe } from '../../core/timeframe';
import type { KlineFrame } from './binance-kline';
import type { BinanceKlineTap } from './binance-tap';
import type { ExchangeClock } from './exchange-clock';
import { backoffDelay, sleep, type BackoffPolicy } from './retry';
import { messageOf } from '../../core/errors';

/**
 * State of the connection:
 * `idle` (not started), `connecting` (subscription sent, no frame yet), `open` (frames arriving), `reconnecting`
 * (the connection died or went silent; waiting out the backoff), `stopped`.
 */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'stopped';

/**
 * Options of {@link KlineStream}.
 * - `exchange`, `symbol` (unified, `BTC/USDT`), `timeframe`: the subscription; markets must be loaded;
 * - `clock`: the exchange clock, for the silence threshold;
 * - `silenceTimeoutMs`: exchange ms without a frame of this subscription after which the connection is taken as dead;
 * - `backoff`: waits between reconnection attempts;
 * - `closeTimeoutMs`: local ms allowed for a WebSocket close handshake before the socket is destroyed (default 2 000);
 * - `onFrame`, `onBadFrame`, `onReconnect`: callbacks (see each); none of them may throw.
 */
export interface KlineStreamOptions {
  readonly exchange: BinanceKlineTap;
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly clock: ExchangeClock;
  readonly silenceTimeoutMs: number;
  readonly backoff: BackoffPolicy;
  readonly closeTimeoutMs?: number;
  readonly logger?: Logger;
  /** Called with each kline frame of this subscription (its values still unvalidated). Must not throw. */
  readonly onFrame: (frame: KlineFrame) => void;
  /**
   * Called with each frame that could not be read, as received, and the reason in words (any market: a frame that
   * is not JSON names none). Must not throw.
   */
  readonly onBadFrame: (frame: unknown, reason: string) => void;
  /** Called after a dead connection, when the new subscription is sent. Must not throw. */
  readonly onReconnect: () => void;
}

type WsClient = BinanceKlineTap['clients'][string];

const WS_CLOSED = 3;

/**
 * One kline subscription over ccxt.pro's `watchOHLCV`, kept alive.
 *
 * - Frames reach {@link KlineStreamOptions.onFrame} through the exchange's kline tap (with their closed flag); the
 *   `watchOHLCV` call (which, with the tap, does not resolve; called again if it ever does) is there to hold the
 *   subscription and to learn when the connection fails.
 * - Dead connection: `watchOHLCV` rejects (closed by the server, network error), or no frame for `silenceTimeoutMs`
 *   of exchange time. The connection is then closed by us — the ccxt client is removed from `exchange.clients`, closed,
 *   and its socket destroyed if the close handshake does not finish within `closeTimeoutMs` (no zombie socket keeps
 *   feeding ccxt's caches) — and a new subscription is made after an exponential backoff with jitter, which resets
 *   once frames flow again. ccxt's own re-dial delay is turned off on the exchange (`options.ws.backoff.base = 0`).
 */
export class KlineStream {
  private connection: ConnectionState = 'idle';
  private stopped = false;
  private readonly abort = new AbortController();
  private lastFrameAt = Number.NEGATIVE_INFINITY;
  private watchStartedAt = Number.NEGATIVE_INFINITY;
  private reconnectCount = 0;
  private destroyedSockets = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private removeListener: (() => void) | undefined;
  private lastClient: WsClient | undefined;
  private closing: Promise<void> | undefined;
  private attempt = 0;
  private readonly marketId: string;
  private readonly interval: string;
  private readonly subscriptionHash: string;

  constructor(private readonly options: KlineStreamOptions) {
    const market = options.exchange.market(options.symbol);
    this.marketId = market.id ?? options.symbol;
    this.interval = (options.exchange.timeframes as Record<string, string>)[options.timeframe] ?? options.timeframe;
    this.subscriptionHash = `ohlcv::${market.symbol}::${options.timeframe}`;
    // ccxt (4.5) delays each re-dial of a URL by its own backoff (1 s doubling, reset after 30 s of health); this
    // stream does its own (with jitter, reset once frames flow), so ccxt's is set to zero on this exchange.
    const ws = (options.exchange.options['ws'] ?? {}) as Record<string, unknown>;
    options.exchange.options['ws'] = { ...ws, backoff: { ...(ws['backoff'] as object | undefined), base: 0 } };
  }

  /** Connection state now. */
  get state(): ConnectionState {
    return this.connection;
  }

  /** Connections replaced so far (died or went silent). */
  get reconnects(): number {
    return this.reconnectCount;
  }

  /** Sockets that had to be destroyed because their close handshake did not finish. */
  get socketsDestroyed(): number {
    return this.destroyedSockets;
  }

  /** Subscribes and keeps the subscription alive until {@link KlineStream.stop}. */
  start(): void {
    if (this.loop !== undefined) return;
    this.removeListener = this.options.exchange.addKlineListener({
      onKline: (frame) => {
        if (frame.marketId !== this.marketId || frame.interval !== this.interval) return;
        this.lastFrameAt = this.options.clock.now();
        if (this.connection === 'connecting') {
          this.connection = 'open';
          this.attempt = 0;
          this.lastClient = this.findClients()[0] ?? this.lastClient;
        }
        this.options.onFrame(frame);
      },
      onBadFrame: (frame, reason) => this.options.onBadFrame(frame, reason),
    });
    const periodMs = Math.max(5, this.options.clock.toLocalMs(this.options.silenceTimeoutMs) / 4);
    this.watchdog = setInterval(() => this.checkSilence(), periodMs);
    this.watchdog.unref();
    this.loop = this.run();
  }

  /** Closes the subscription's connection and stops reconnecting. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.connection = 'stopped';
    this.abort.abort();
    clearInterval(this.watchdog);
    this.removeListener?.();
    await this.closing;
    await this.closeConnection('feed stopped');
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.closing !== undefined) {
        await this.closing;
        this.closing = undefined;
        const wait = backoffDelay(this.attempt++, this.options.backoff);
        if (!(await sleep(wait, this.abort.signal))) return;
        this.options.onReconnect();
      }
      this.connection = this.connection === 'open' ? 'open' : 'connecting';
      this.watchStartedAt = this.options.clock.now();
      try {
        await this.options.exchange.watchOHLCV(this.options.symbol, this.options.timeframe);
      } catch (error) {
        if (this.stopped) return;
        this.replaceConnection(`watchOHLCV failed: ${messageOf(error)}`);
      }
    }
  }

  /**
   * Takes the connection as dead: closes it now (synchronously dropping it from `exchange.clients`, so the next
   * `watchOHLCV` dials anew) and makes the loop reconnect after the backoff. No-op while a replacement is pending.
   */
  private replaceConnection(reason: string): void {
    if (this.closing !== undefined || this.stopped) return;
    this.connection = 'reconnecting';
    this.reconnectCount++;
    this.options.logger?.warn({ reason }, `${this.options.symbol} ${this.options.timeframe} stream lost; reconnecting`);
    this.closing = this.closeConnection(reason);
  }

  /**
   * Replaces a connection silent for longer than the threshold. Timers run before the event loop reads the sockets:
   * after a stall of this machine (a loaded CPU, a paused process) the frames received meanwhile are still unread, so
   * the verdict waits for the next read (`setImmediate` runs after it) and the stall is not taken for a silent exchange.
   */
  private checkSilence(): void {
    if (this.silentMs() <= this.options.silenceTimeoutMs) return;
    setImmediate(() => {
      const silentMs = this.silentMs();
      if (silentMs > this.options.silenceTimeoutMs) {
        this.replaceConnection(`no frame for ${Math.round(silentMs)} exchange ms (threshold ${this.options.silenceTimeoutMs})`);
      }
    });
  }

  /** Exchange ms since the last frame (or the subscription), while connecting or open; 0 otherwise. */
  private silentMs(): number {
    if (this.connection !== 'open' && this.connection !== 'connecting') return 0;
    return this.options.clock.now() - Math.max(this.lastFrameAt, this.watchStartedAt);
  }

  /** ccxt clients carrying this subscription. */
  private findClients(): WsClient[] {
    return Object.values(this.options.exchange.clients).filter((c) => this.subscriptionHash in c.subscriptions);
  }

  /**
   * Closes every client of this subscription (as ccxt's `exchange.close()` does for all: mark it closed by the user,
   * drop it from `exchange.clients`, close it) and destroys a socket whose close handshake does not finish in time.
   */
  private async closeConnection(reason: string): Promise<void> {
    const clients = new Set(this.findClients());
    if (this.lastClient !== undefined) clients.add(this.lastClient);
    this.lastClient = undefined;
    await Promise.all(
      [...clients].map(async (client) => {
        client.error ??= new ExchangeClosedByUser(`${this.options.exchange.id} ${reason}`);
        if (this.options.exchange.clients[client.url] === client) delete this.options.exchange.clients[client.url];
        const socket = client.connection as { readyState?: number; terminate?: () => void } | undefined;
        if (socket?.readyState === WS_CLOSED) return;
        await Promise.race([Promise.resolve(client.close()), sleep(this.options.closeTimeoutMs ?? 2_000)]);
        if (socket !== undefined && socket.readyState !== WS_CLOSED && typeof socket.terminate === 'function') {
          socket.terminate();
          this.destroyedSockets++;
        }
      }),
    );
  }
}
