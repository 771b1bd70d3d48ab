/**
 * The live feed: one subscription's closed candles from an exchange, exactly once each, in order, with no gap —
 * REST backfill from the stored history to now, joined to the WebSocket stream, repaired over REST whenever the stream
 * loses something.
 *
 * @module
 */
import type { Exchange, OHLCV } from 'ccxt';
import type { StoredCandle } from '../../core/candle';
import { FrameworkError, messageOf } from '../../core/errors';
import type { Logger } from '../../core/logger';
import { describeSubscription, type Subscription } from '../../core/subscription';
import { isoUtc } from '../../core/time';
import { timeframeGrid, type TimeframeGrid } from '../../core/timeframe';
import type { Gap } from '../../pipeline/gaps';
import { ClosedCandleDetector, type CandleRevision } from '../../pipeline/closed-candles';
import { rawCandleFromOhlcv } from '../../pipeline/normalize';
import type { BinanceKlineTap } from './binance-tap';
import { ExchangeClock, type ClockEstimate } from './exchange-clock';
import { KlineStream, type ConnectionState } from './kline-stream';
import { backoffDelay, callWithRetry, DEFAULT_BACKOFF, RateLimitGate, sleep, type BackoffPolicy, type RetryCounters } from './retry';

/** A live feed that cannot start or go on (bad options, a non-temporary exchange error, a failing consumer). */
export class LiveFeedError extends FrameworkError {}

/**
 * Options of {@link LiveFeed}.
 * - `exchange`: a ccxt.pro binance with the kline tap (see `createExchange`); the feed closes only its own connection;
 * - `rest`: the ccxt instance for the feed's REST calls (markets, exchange clock, backfill), e.g. a connector's
 *   market-data instance shared by every feed (default: `exchange`); the markets it loads are copied to `exchange`;
 * - `gate`: the rate-limit back-off of the feed's REST calls, shared with every other caller of the exchange account
 *   when it is a connector's (default: one for this feed alone);
 * - `subscription`: `{ exchange, symbol, timeframe }`;
 * - `lastStoredOpenTime`: open time (UTC epoch ms) of the last candle already stored; the feed starts with the next
 *   one. `null` (no history): it starts with the last candle closed when the feed starts;
 * - `onCandle`, `onRevision`: where candles go (see each);
 * - `logger`: bad frames (with the frame), revisions, gaps, reconnects, retries;
 * - `clockRate`: exchange ms per local ms — 1 for a real exchange (default), the simulator's speed, or `'estimate'`;
 * - `localNow`: the local clock (see it);
 * - `silenceTimeoutMs`: exchange ms without a frame before the connection counts as dead (default: the smaller of
 *   two timeframes and 60 000);
 * - `monitorIntervalMs`: local ms between continuity checks (default 30 000): each re-reads over REST the candles
 *   closed since the previous check (one page), which backfills any missing candle and reveals revisions;
 * - `clockResyncIntervalMs`: local ms between exchange-clock syncs (default 60 000);
 * - `backoff`: reconnection and REST retry waits (default 500 ms doubling to 30 s, with jitter);
 * - `pageLimit`: candles per REST page (default 1 000, Binance spot's maximum);
 * - `closeGraceMs`: see `ClosedCandleDetectorOptions.closeGraceMs`.
 */
export interface LiveFeedOptions {
  readonly exchange: BinanceKlineTap;
  readonly rest?: Exchange;
  readonly gate?: RateLimitGate;
  readonly subscription: Subscription;
  readonly lastStoredOpenTime: number | null;
  /**
   * Receives each closed candle; awaited before the next one is processed. If it throws, the feed fails (see
   * {@link LiveFeed.finished}). To store candles without waiting here for each fdatasync, yet act on each only once
   * durable, hand them to a `DurableQueue` (as `runLive` does).
   */
  readonly onCandle: (candle: StoredCandle) => Promise<void> | void;
  /**
   * Receives each revision of a candle already delivered to `onCandle` (the exchange changed it afterwards, seen on a
   * REST re-read), awaited like `onCandle`: the consumer stores the exchange's final version.
   */
  readonly onRevision?: (revision: CandleRevision) => Promise<void> | void;
  readonly logger?: Logger;
  readonly clockRate?: number | 'estimate';
  /**
   * The local clock, UTC epoch ms (default: the wall clock at sub-millisecond resolution, see
   * `ExchangeClockOptions.localNow`), injectable to test a skewed machine clock.
   */
  readonly localNow?: () => number;
  readonly silenceTimeoutMs?: number;
  readonly monitorIntervalMs?: number;
  readonly clockResyncIntervalMs?: number;
  readonly backoff?: BackoffPolicy;
  readonly pageLimit?: number;
  readonly closeGraceMs?: number;
}

/** Lifecycle of a {@link LiveFeed}: `idle` → `starting` (backfilling to now) → `running` → `stopped`, or `failed`. */
export type LiveFeedState = 'idle' | 'starting' | 'running' | 'stopped' | 'failed';

/**
 * What a live feed has done; a snapshot.
 * - `state`, `connection`: the feed's lifecycle and the WebSocket connection's state;
 * - `lastClosed`: the last candle emitted (`null` before the first);
 * - `lagMs`: exchange time now minus the close of `lastClosed` (exchange ms; one timeframe or less when up to date);
 * - `emitted`, `fromWebsocket`, `fromRest`: candles emitted, by source;
 * - `backfills`: REST reads that emitted at least one candle (the warm-up included);
 * - `reconnects`: connections replaced; `socketsDestroyed`: of which sockets destroyed after a stuck close;
 * - `invalidFrames`: frames that could not be read plus candles the pipeline rejected (all logged with the frame);
 * - `revisions`, `duplicates`, `stale`, `verified`: see `DetectorCounts`;
 * - `restRetries`: failed REST calls retried; `rateLimitWaits`: rate-limit answers (429/418) whose `Retry-After` held
 *   back every REST call of the feed (of the whole exchange account when its `gate` is a connector's);
 * - `exchangeGaps`: candles the exchange does not have (skipped);
 * - `clock`: the exchange-clock estimate in use.
 */
export interface LiveFeedStatus {
  readonly state: LiveFeedState;
  readonly connection: ConnectionState;
  readonly lastClosed: StoredCandle | null;
  readonly lagMs: number | null;
  readonly emitted: number;
  readonly fromWebsocket: number;
  readonly fromRest: number;
  readonly backfills: number;
  readonly reconnects: number;
  readonly socketsDestroyed: number;
  readonly invalidFrames: number;
  readonly revisions: number;
  readonly duplicates: number;
  readonly stale: number;
  readonly verified: number;
  readonly restRetries: number;
  readonly rateLimitWaits: number;
  readonly exchangeGaps: readonly Gap[];
  readonly clock: ClockEstimate | null;
}

/**
 * The closed candles of one subscription, live.
 *
 * Start ({@link LiveFeed.start}): load markets, sync the exchange clock, subscribe to the kline stream, then read
 * over REST (pages of `pageLimit`, each retried until it succeeds) every candle closed since `lastStoredOpenTime`.
 * Stream frames received meanwhile wait in the {@link ClosedCandleDetector}, which emits strictly in open-time order
 * from `lastStoredOpenTime + timeframe`: the backfill and the stream meet with no gap (every closed candle without a
 * final version is read over REST — see `ClosedCandleDetector.missingRange`, checked after every frame, every REST
 * answer and every monitor tick) and no duplicate (each open time is emitted once).
 *
 * Running: closing frames (`"x": true`) emit at once; a candle whose closing frame was lost or invalid is read over
 * REST as soon as a later candle shows up. A dead or silent connection is replaced (see {@link KlineStream}) and the
 * candles missed meanwhile are read over REST at once. The monitor re-reads recent candles over REST. REST calls go
 * through ccxt's rate limiter (`enableRateLimit`), and rate-limit answers (HTTP 429/418) are waited out for their
 * `Retry-After`.
 *
 * Candles come out as {@link StoredCandle}s with source `websocket` (closing frame) or `rest`, and `receivedAt` on the
 * exchange clock (the {@link ExchangeClock} estimate when the frame or REST answer arrived, UTC epoch ms).
 */
export class LiveFeed {
  private lifecycle: LiveFeedState = 'idle';
  private readonly grid: TimeframeGrid;
  private readonly where: string;
  private readonly abort = new AbortController();
  private readonly clock: ExchangeClock;
  private detector: ClosedCandleDetector | undefined;
  private stream: KlineStream | undefined;
  private chain: Promise<void> = Promise.resolve();
  private backfillRun: Promise<void> | null = null;
  private backfillAgain = false;
  private auditPending = false;
  private auditFrom: number | null = null;
  private monitor: NodeJS.Timeout | undefined;
  private readonly gate: RateLimitGate;
  private readonly rest: Exchange;
  private readonly retryCounters: RetryCounters = { retries: 0, rateLimitWaits: 0 };
  private badFrames = 0;
  private fromWs = 0;
  private fromRestCount = 0;
  private backfillCount = 0;
  /**
   * Set when the stream lost its connection: the exchange may have restarted (or this machine stalled) since the clock
   * was synced, so the clock is synced again before the next REST answer is judged by it (in `fetchPage`).
   */
  private clockSuspect = false;
  private failure: unknown;
  private stopping: Promise<void> | undefined;
  private settle!: { resolve: () => void; reject: (error: unknown) => void };

  /** Resolves when the feed is stopped; rejects with the error that made it fail. */
  readonly finished: Promise<void>;

  /**
   * @throws {@link "core/errors"!InvalidTimeframeError | InvalidTimeframeError} for a bad timeframe.
   */
  constructor(private readonly options: LiveFeedOptions) {
    this.grid = timeframeGrid(options.subscription.timeframe);
    this.where = describeSubscription(options.subscription);
    this.gate = options.gate ?? new RateLimitGate();
    this.rest = options.rest ?? options.exchange;
    this.clock = new ExchangeClock({
      fetchTime: () => this.fetchTime(),
      rate: options.clockRate ?? 1,
      ...(options.localNow !== undefined && { localNow: options.localNow }),
      resyncIntervalMs: options.clockResyncIntervalMs ?? 60_000,
      ...(options.logger !== undefined && { logger: options.logger }),
    });
    this.finished = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.finished.catch(() => undefined);
  }

  /**
   * Starts the feed and resolves once every candle closed before now has been delivered to `onCandle` (the warm-up
   * backfill); the stream keeps running afterwards. Resolves early, without error, if {@link LiveFeed.stop} is called
   * meanwhile.
   *
   * @throws {@link LiveFeedError} when called twice, or when the exchange rejects the subscription for good (e.g. an
   *   unknown symbol), or `onCandle` throws; the feed is then stopped.
   */
  async start(): Promise<void> {
    if (this.lifecycle !== 'idle') throw new LiveFeedError(`${this.where}: start() called on a ${this.lifecycle} feed`);
    this.lifecycle = 'starting';
    const { exchange, subscription } = this.options;
    try {
      await this.retry(() => this.rest.loadMarkets(), 'loadMarkets');
      if (this.rest !== exchange) exchange.setMarketsFromExchange(this.rest);
      if (exchange.markets?.[subscription.symbol] === undefined) {
        throw new LiveFeedError(`${this.where}: the exchange has no market ${subscription.symbol}`);
      }
      await this.retry(() => this.clock.start(), 'exchange clock sync');
      exchange.receivedAtClock = () => this.clock.now();
      if (this.options.logger !== undefined) exchange.logger = this.options.logger;
      const { previousOpen } = this.grid;
      const last = this.options.lastStoredOpenTime ?? previousOpen(previousOpen(this.grid.bucketStart(this.clock.now())));
      this.detector = new ClosedCandleDetector({
        timeframe: subscription.timeframe,
        where: this.where,
        lastEmittedOpenTime: last,
        ...(this.options.closeGraceMs !== undefined && { closeGraceMs: this.options.closeGraceMs }),
        ...(this.options.logger !== undefined && { logger: this.options.logger }),
      });
      this.stream = new KlineStream({
        exchange,
        symbol: subscription.symbol,
        timeframe: subscription.timeframe,
        clock: this.clock,
        silenceTimeoutMs: this.options.silenceTimeoutMs ?? Math.min(2 * this.grid.nominalMs, 60_000),
        backoff: this.backoff(),
        ...(this.options.logger !== undefined && { logger: this.options.logger }),
        onFrame: (frame) => void this.enqueue(() => this.detector!.update(frame.update)),
        onBadFrame: (frame, reason) => {
          this.badFrames++;
          this.options.logger?.warn({ frame, reason }, `${this.where}: bad WebSocket frame skipped`);
        },
        onReconnect: () => {
          this.clockSuspect = true;
          this.detector?.forgetStarted();
          this.requestBackfill();
        },
      });
      this.stream.start();
      this.requestBackfill();
      while (this.backfillRun !== null) await this.backfillRun;
      await this.chain;
      if (this.failure !== undefined) throw this.failure;
      if (this.abort.signal.aborted) return; // stopped while starting
      this.auditFrom = this.detector.nextOpenTime;
      this.monitor = setInterval(() => this.requestBackfill(true), this.options.monitorIntervalMs ?? 30_000);
      this.monitor.unref();
      this.lifecycle = 'running';
    } catch (error) {
      if (this.abort.signal.aborted && this.failure === undefined) return; // stopped while starting
      const failure = error instanceof FrameworkError ? error : new LiveFeedError(`${this.where}: start failed: ${String(error)}`, { cause: error });
      this.fail(failure);
      await this.stop();
      throw failure;
    }
  }

  /** Stops the feed: closes its connection, stops its timers, waits for the candle being delivered. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    if (this.lifecycle !== 'failed') this.lifecycle = 'stopped';
    this.abort.abort();
    clearInterval(this.monitor);
    this.clock.stop();
    await this.stream?.stop();
    await this.backfillRun?.catch(() => undefined);
    await this.chain;
    if (this.failure === undefined) this.settle.resolve();
  }

  /** A snapshot of the feed's state and counters; see {@link LiveFeedStatus}. */
  status(): LiveFeedStatus {
    const counts = this.detector?.counts();
    const lastClosed = this.detector?.lastEmitted ?? null;
    const synced = this.clock.syncCount > 0;
    return {
      state: this.lifecycle,
      connection: this.stream?.state ?? 'idle',
      lastClosed,
      lagMs: lastClosed !== null && synced ? this.clock.now() - this.grid.nextOpen(lastClosed.openTime) : null,
      emitted: counts?.emitted ?? 0,
      fromWebsocket: this.fromWs,
      fromRest: this.fromRestCount,
      backfills: this.backfillCount,
      reconnects: this.stream?.reconnects ?? 0,
      socketsDestroyed: this.stream?.socketsDestroyed ?? 0,
      invalidFrames: this.badFrames + (counts?.invalid ?? 0),
      revisions: counts?.revisions ?? 0,
      duplicates: counts?.duplicates ?? 0,
      stale: counts?.stale ?? 0,
      verified: counts?.verified ?? 0,
      restRetries: this.retryCounters.retries,
      rateLimitWaits: this.gate.waits,
      exchangeGaps: counts?.absent ?? [],
      clock: synced ? this.clock.estimate() : null,
    };
  }

  /**
   * The exchange's time now by the feed's clock estimate, UTC epoch ms (fractional; see {@link ExchangeClock}).
   *
   * @throws {@link "feeds/live/exchange-clock"!ClockSyncError | ClockSyncError} before the feed's first clock sync.
   */
  exchangeNow(): number {
    return this.clock.now();
  }

  /** The revisions seen so far (closed candles the exchange changed after the feed emitted or accepted them). */
  revisions(): readonly CandleRevision[] {
    return this.detector?.revisions ?? [];
  }

  /** Runs `work` on the detector after everything queued before it, then delivers what it emitted, one by one. */
  private enqueue(work: () => StoredCandle[]): Promise<void> {
    const step = this.chain.then(async () => {
      if (this.failure !== undefined || this.abort.signal.aborted) return;
      const { revisions } = this.detector!;
      const revisionsBefore = revisions.length;
      const emitted = work();
      for (let i = revisionsBefore; i < revisions.length; i++) {
        const revision = revisions[i]!;
        if (!revision.emitted || this.options.onRevision === undefined) continue;
        try {
          await this.options.onRevision(revision);
        } catch (error) {
          this.fail(new LiveFeedError(`${this.where}: onRevision failed at ${isoUtc(revision.openTime)}: ${String(error)}`, { cause: error }));
          return;
        }
      }
      for (const candle of emitted) {
        if (candle.source === 'rest') this.fromRestCount++;
        else this.fromWs++;
        try {
          await this.options.onCandle(candle);
        } catch (error) {
          this.fail(new LiveFeedError(`${this.where}: onCandle failed at ${isoUtc(candle.openTime)}: ${String(error)}`, { cause: error }));
          return;
        }
      }
      if (this.detector!.missingRange(this.safeNow()) !== null) this.requestBackfill();
    });
    this.chain = step;
    return step;
  }

  /** Starts a backfill unless one is running (which then runs once more); `audit` also re-reads recent candles. */
  private requestBackfill(audit = false): void {
    if (this.abort.signal.aborted || this.detector === undefined) return;
    this.auditPending ||= audit;
    if (this.backfillRun !== null) {
      this.backfillAgain = true;
      return;
    }
    const auditNow = this.auditPending;
    this.auditPending = false;
    this.backfillRun = this.backfill(auditNow)
      .catch((error: unknown) => {
        if (!this.abort.signal.aborted) this.fail(error);
      })
      .finally(() => {
        this.backfillRun = null;
        if (this.backfillAgain) {
          this.backfillAgain = false;
          this.requestBackfill();
        }
      });
  }

  /**
   * Reads over REST, page by page, the closed candles the detector is missing (and, for an audit, first the candles
   * closed since the last audit). A page that brings no progress (the exchange does not show the candle yet) is
   * retried after the backoff.
   */
  private async backfill(audit: boolean): Promise<void> {
    const detector = this.detector!;
    if (audit && this.auditFrom !== null) {
      const rows = await this.fetchPage(this.auditFrom);
      const lastRow = rows[rows.length - 1];
      if (lastRow !== undefined) this.auditFrom = Math.min(detector.nextOpenTime, Number(lastRow[0]));
    }
    for (let idle = 0; !this.abort.signal.aborted; ) {
      const range = detector.missingRange(this.safeNow());
      if (range === null) return;
      const before = detector.nextOpenTime;
      await this.fetchPage(range.from);
      if (detector.nextOpenTime !== before) {
        idle = 0;
        continue;
      }
      this.options.logger?.debug({ from: isoUtc(range.from), to: isoUtc(range.to) }, `${this.where}: REST does not show the missing candles yet`);
      if (!(await sleep(backoffDelay(idle++, this.backoff()), this.abort.signal))) return;
    }
  }

  /** Reads one REST page from `from` and hands it to the detector (awaiting delivery of what it emits). */
  private async fetchPage(from: number): Promise<OHLCV[]> {
    const { subscription } = this.options;
    const { rest } = this;
    const limit = this.options.pageLimit ?? 1000;
    // The answer shows the exchange at some instant after the request left: the time before sending (minus the
    // clock's error) is one the answer has surely reached, whatever the delays before it is processed.
    let sentAt = Number.NEGATIVE_INFINITY;
    let startedBefore = Number.NEGATIVE_INFINITY;
    const rows = await this.retry(async () => {
      // A REST answer's last row counts as closed by the clock alone: after a lost connection the clock is synced
      // again first (an exchange that restarted with its clock behind the estimate would otherwise have its forming
      // candle taken as closed).
      if (this.clockSuspect) {
        this.clockSuspect = false;
        await this.clock.sync().catch((error: unknown) => {
          this.clockSuspect = true;
          throw error;
        });
      }
      sentAt = this.safeNow();
      startedBefore = this.detector!.latestStartedOpenTime;
      return rest.fetchOHLCV(subscription.symbol, subscription.timeframe, from, limit);
    }, `fetchOHLCV ${this.where} from ${isoUtc(from)}`);
    const receivedAt = this.clock.now();
    const emittedBefore = this.fromRestCount;
    await this.enqueue(() =>
      this.detector!.confirm({ rows: rows.map((row) => rawCandleFromOhlcv(row)), requestedFrom: from, exchangeNow: sentAt, startedBefore, receivedAt }),
    );
    if (this.fromRestCount > emittedBefore) this.backfillCount++;
    return rows;
  }

  private retry<T>(call: () => Promise<T>, what: string): Promise<T> {
    const { logger } = this.options;
    const { rest } = this;
    return callWithRetry(call, {
      what: `${this.where}: ${what}`,
      backoff: this.backoff(),
      responseHeaders: () => rest.last_response_headers,
      gate: this.gate,
      signal: this.abort.signal,
      counters: this.retryCounters,
      ...(logger !== undefined && { logger }),
    });
  }

  /**
   * One `fetchTime()` for the exchange clock, through the rate-limit gate (a clock sample is not retried: the clock
   * keeps the samples it has, see `ExchangeClock.sync`).
   */
  private async fetchTime(): Promise<number> {
    const { rest } = this;
    if (!(await this.gate.pass(this.abort.signal))) throw new LiveFeedError(`${this.where}: clock sync abandoned, the feed is stopping`);
    try {
      return Number(await rest.fetchTime());
    } catch (error) {
      const retryAfterMs = this.gate.note(error, rest.last_response_headers);
      this.options.logger?.warn(
        { err: messageOf(error), retryAfterMs },
        `${this.where}: exchange clock sample failed`,
      );
      throw error;
    }
  }

  private backoff(): BackoffPolicy {
    return this.options.backoff ?? DEFAULT_BACKOFF;
  }

  /** The exchange time now minus the clock's error bound: a time the exchange has surely reached. */
  private safeNow(): number {
    return this.clock.now() - this.clock.errorBoundMs();
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.lifecycle = 'failed';
    this.options.logger?.error({ err: messageOf(error) }, `${this.where}: live feed failed`);
    this.settle.reject(error);
    void this.stop();
  }
}

