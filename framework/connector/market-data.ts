/**
 * The connector side of a live run: one live feed per unique subscription, the candle pipeline and the write-ahead log
 * once, then publication — each closed candle is handed to `publish` (for the trading node: published on
 * `market_data.<exchange>.<base>_<quote>.<timeframe>`) only once it is durable in the store (the bus is never the only
 * copy of a candle: a worker fills any hole from the store). `npm run live` ({@link "node/live"!runLive | runLive})
 * and the trading node's connector both run their market data through it.
 *
 * Each feed backfills over REST from the last candle its consumers already have (see
 * {@link MarketDataOptions.feedStart}) to now, then follows the WebSocket stream; the candles of that backfill are
 * published flagged `live: false` (warm-up: history, not traded), later ones `live: true` with `arrivedAt`, the
 * exchange time at which the candle was durable (never before it was received).
 *
 * @module
 */
import { marketDataTopic } from '../bus/topics';
import type { StoredCandle } from '../core/candle';
import { FrameworkError, messageOf } from '../core/errors';
import type { Logger } from '../core/logger';
import { describeSubscription, type Subscription } from '../core/subscription';
import { timeframeGrid, type TimeframeGrid } from '../core/timeframe';
import { isoUtc } from '../core/time';
import type { ApiCredentials } from '../feeds/live/exchange';
import { loadHistory, type StoreLocation } from '../feeds/history';
import { LiveFeed, type LiveFeedStatus } from '../feeds/live/live-feed';
import type { FaultConfig } from '../sim/config';
import type { Simulator } from '../sim/simulator';
import { DurableQueue } from '../store/durable-queue';
import { LiveCandleStore, readStoredCandles, storedSubscription } from '../store/live-store';
import { Connector } from './connector';
import { startDatasetSimulator, type ExchangeClockReading } from './dataset-simulator';

/** A market-data message: a closed candle, durable in the connector's store, or a stored revision of one. */
export type MarketDataMessage =
  | { readonly kind: 'candle'; readonly candle: StoredCandle; readonly live: boolean; readonly arrivedAt: number }
  | { readonly kind: 'revision'; readonly candle: StoredCandle };

/**
 * The project's exchange simulator as the exchange: started in-process on the subscriptions' datasets (`start`,
 * `faults`; `resume`: a killed run's last reading of the exchange clock, see `resumedExchangeTime`), or one already
 * running elsewhere on this machine (`endpoints`, e.g. from `npm run sim`). `speed` is the simulator's exchange ms per
 * real ms, which the feeds' exchange clock follows. Times are UTC epoch ms.
 */
export type SimulatorOptions =
  | { readonly start: number; readonly speed: number; readonly faults?: FaultConfig; readonly resume?: ExchangeClockReading }
  | { readonly endpoints: { readonly restUrl: string; readonly wsUrl: string }; readonly speed: number };

/** Options of {@link MarketData.open}. */
export interface MarketDataOptions {
  /** Every subscription served; duplicates are served once, in the order of their first occurrence. */
  readonly subscriptions: readonly Subscription[];
  readonly datasetsRoot: string;
  readonly storeRoot: string;
  /** On the simulator, live candles are stored under the exchange id `sim`, never mixed with real exchange data. */
  readonly simulator?: SimulatorOptions;
  /**
   * Hands a message on; called in order per subscription, the next candle's call waiting for the returned promise.
   * A rejection (a broker outage) is logged, the candle stays in the store.
   */
  readonly publish: (topic: string, message: MarketDataMessage) => Promise<void>;
  /**
   * Where a subscription's feed starts: the open time (UTC epoch ms) of the last candle its consumers already have,
   * given the exchange's `now` and where its candles are stored; the feed backfills the candles after it, or from its
   * own default start when null. Called once per subscription, in order, before any feed starts. Default (the trading
   * node's connector, shared by many strategies): the last candle of the shipped dataset plus the store on an
   * exchange; on the simulator, the last candle the store holds before now (a restarted connector continues from what
   * it stored itself), else the dataset's.
   */
  readonly feedStart?: (subscription: Subscription, store: StoreLocation, now: number) => number | null;
  /**
   * Called once when the in-process simulator's data has ended: the simulator's clock has passed the last candle of
   * every subscription of {@link dataEndOf} and each is durable (or, when it never comes, a second later). Gets each
   * served subscription's last candle in the simulator's data, by market-data topic, and whether any candle went out
   * live (false when the data ended while the feeds were still backfilling: every candle published was warm-up
   * history, `live: false`).
   */
  readonly onDataEnded?: (lastOpenTimes: ReadonlyMap<string, number>, liveCandles: boolean) => void;
  /** The subscriptions whose end is the data's end (default: every one served). */
  readonly dataEndOf?: readonly Subscription[];
  /**
   * The account's API keys: the connector of each exchange gets them for its trading instance
   * ({@link MarketData.trading}), so orders share one request budget and back-off with the feeds.
   */
  readonly credentials?: ApiCredentials;
  /** Aborting it ends a start still under way (the caller then calls {@link MarketData.stop}). */
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
}

interface Feed {
  readonly subscription: Subscription;
  readonly topic: string;
  readonly store: LiveCandleStore;
  readonly queue: DurableQueue;
  readonly grid: TimeframeGrid;
  lastOpenTime: number | null;
  feed: LiveFeed | null;
}

/** The simulator the market data started in-process, and its data's first and last candle by market-data topic. */
interface Simulated {
  readonly simulator: Simulator;
  readonly first: ReadonlyMap<string, number>;
  readonly last: ReadonlyMap<string, number>;
}

/**
 * A start of the market data that failed for another reason than a {@link "core/errors"!FrameworkError |
 * FrameworkError} (e.g. the exchange unreachable): `cause` is the original error.
 */
export class MarketDataStartError extends FrameworkError {}

/** How long (real ms) the data's end waits for a last candle still on its way once the feeds have caught up. */
const DATA_END_GRACE_MS = 1_000;

/** See the module description. */
export class MarketData {
  readonly #feeds: Feed[];
  readonly #connectors: ReadonlyMap<string, Connector>;
  readonly #simulated: Simulated | null;
  readonly #options: MarketDataOptions;
  #warmingUp = true;
  #watch: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | null = null;

  private constructor(options: MarketDataOptions, feeds: Feed[], connectors: ReadonlyMap<string, Connector>, simulated: Simulated | null) {
    this.#options = options;
    this.#feeds = feeds;
    this.#connectors = connectors;
    this.#simulated = simulated;
  }

  /**
   * Opens the market data and starts its feeds ({@link MarketData.open}, then {@link MarketData.startFeeds}).
   *
   * @throws as those two.
   */
  static async start(options: MarketDataOptions): Promise<MarketData> {
    const market = await MarketData.open(options);
    await market.startFeeds();
    return market;
  }

  /**
   * Starts the in-process simulator, creates the connectors and opens the stores; asks {@link
   * MarketDataOptions.feedStart} where each feed starts and prepares the feeds, without starting them: until
   * {@link MarketData.startFeeds}, nothing is published.
   *
   * @throws {@link "core/errors"!FrameworkError | FrameworkError} when the simulator has no dataset or an exchange
   *   cannot be reached ({@link MarketDataStartError}); everything opened is closed again first.
   */
  static async open(options: MarketDataOptions): Promise<MarketData> {
    const unique = [...new Map(options.subscriptions.map((s) => [describeSubscription(s), s])).values()];
    const sim = options.simulator;
    const started = sim !== undefined && 'start' in sim ? await startDatasetSimulator(options.datasetsRoot, unique, sim) : null;
    const simulated =
      started === null
        ? null
        : {
            simulator: started.simulator,
            first: new Map(unique.flatMap((s, i) => (started.firstOpenTimes[i] === undefined ? [] : [[marketDataTopic(s), started.firstOpenTimes[i]]]))),
            last: new Map(unique.flatMap((s, i) => (started.lastOpenTimes[i] === undefined ? [] : [[marketDataTopic(s), started.lastOpenTimes[i]]]))),
          };
    const endpoints = started?.simulator ?? (sim !== undefined && 'endpoints' in sim ? sim.endpoints : null);
    // One connector per exchange account: every REST and WebSocket access to it, one budget, one back-off.
    const connectors = new Map(
      [...new Set(unique.map((s) => s.exchange))].map((id) => [
        id,
        new Connector({ exchange: id, ...(endpoints !== null && { urls: endpoints, enableRateLimit: false }), ...(options.credentials !== undefined && { credentials: options.credentials }) }),
      ]),
    );
    const storedAs = (s: Subscription): Subscription => storedSubscription(s, endpoints !== null);
    const feeds: Feed[] = [];
    const market = new MarketData(options, feeds, connectors, simulated);
    const feedStart = options.feedStart ?? ((s: Subscription, store: StoreLocation, now: number) => nodeFeedStart(options.datasetsRoot, s, store, now, endpoints !== null));
    try {
      for (const subscription of unique) {
        const connector = connectors.get(subscription.exchange)!;
        const store = LiveCandleStore.open(options.storeRoot, storedAs(subscription));
        const entry: Feed = {
          subscription,
          topic: marketDataTopic(subscription),
          store,
          queue: new DurableQueue(store),
          grid: timeframeGrid(subscription.timeframe),
          lastOpenTime: null,
          feed: null,
        };
        feeds.push(entry);
        entry.lastOpenTime = feedStart(subscription, { root: options.storeRoot, subscription: storedAs(subscription) }, await connector.serverTime());
        entry.feed = market.#feedOf(entry, connector);
        store.compactEvery({ candles: 1_000 });
      }
    } catch (error) {
      await market.stop();
      throw startError(error);
    }
    return market;
  }

  /**
   * Starts every feed; resolves once each has backfilled to now (the warm-up, published `live: false`) and follows
   * its stream, or early when {@link MarketDataOptions.signal} aborts or the simulator's data has ended
   * ({@link MarketDataOptions.onDataEnded} called; the caller then calls {@link MarketData.stop}).
   *
   * @throws {@link "core/errors"!FrameworkError | FrameworkError} when a feed cannot start (unknown market, exchange
   *   unreachable: {@link MarketDataStartError}); everything opened is closed again first.
   */
  async startFeeds(): Promise<void> {
    const { signal, onDataEnded } = this.#options;
    // Watched from the start: when the simulator's clock has passed the data's end before the backfill caught up (a
    // slow start on a fast clock), the backfill waits for candles that never come and the start would never resolve.
    const dataEnded =
      this.#simulated === null || onDataEnded === undefined
        ? new Promise<never>(() => undefined)
        : this.#watchDataEnd(this.#simulated).then((last) => onDataEnded(last, !this.#warmingUp));
    try {
      const starting = (async () => {
        for (const entry of this.#feeds) await entry.feed!.start();
      })();
      starting.catch(() => undefined); // observed by the race below; a rejection after a stop is the stop's
      const aborted = new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
      await Promise.race([starting, dataEnded, ...(signal?.aborted === true ? [Promise.resolve()] : [aborted])]);
      this.#warmingUp = false;
    } catch (error) {
      await this.stop();
      throw startError(error);
    }
  }

  /** Every feed's status, by market-data topic. */
  status(): ReadonlyMap<string, LiveFeedStatus> {
    return new Map(this.#feeds.filter((f) => f.feed !== null).map((f) => [f.topic, f.feed!.status()]));
  }

  /** The exchange's clock (UTC epoch ms) as the first feed estimates it; the local clock before any feed exists. */
  exchangeNow(): number {
    return this.#feeds[0]?.feed?.exchangeNow() ?? Date.now();
  }

  /** The trading instance (with the keys) of the connector of `exchange` (ccxt id), or null without keys or feed there. */
  trading(exchange: string): NonNullable<Connector['trading']> | null {
    return this.#connectors.get(exchange)?.trading ?? null;
  }

  /** The in-process simulator, when the market data started one. */
  get simulator(): Simulator | null {
    return this.#simulated?.simulator ?? null;
  }

  /** On the in-process simulator, the open time (UTC epoch ms) of the first candle of `subscription` in its data. */
  firstSimulated(subscription: Subscription): number | undefined {
    return this.#simulated?.first.get(marketDataTopic(subscription));
  }

  /** Rejects when a feed or a store fails (never resolves otherwise). */
  failed(): Promise<never> {
    return Promise.race(this.#feeds.flatMap((f) => [f.queue.failed, f.feed!.finished.then(() => new Promise<never>(() => undefined))]));
  }

  /**
   * Stops the feeds and waits for the candles still on their way to their fsync to be stored and handed on; the
   * connectors stay open (orders still to send go out before {@link MarketData.stop}).
   */
  async stopFeeds(): Promise<void> {
    clearInterval(this.#watch);
    for (const f of this.#feeds) await f.feed?.stop();
    for (const f of this.#feeds) await f.queue.settled();
  }

  /**
   * Stops the feeds ({@link MarketData.stopFeeds}), compacts the logs, closes the sockets and the simulator. Calls
   * after the first wait for it.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#close();
    return this.#stopping;
  }

  async #close(): Promise<void> {
    await this.stopFeeds();
    for (const connector of this.#connectors.values()) await connector.close();
    for (const f of this.#feeds) await f.store.close();
    await this.#simulated?.simulator.stop();
  }

  /** The feed of `entry`: each closed candle appended to the write-ahead log at once, handed on once durable. */
  #feedOf(entry: Feed, connector: Connector): LiveFeed {
    const { logger, simulator: sim } = this.#options;
    const publish = async (message: MarketDataMessage): Promise<void> => {
      await this.#options.publish(entry.topic, message).catch((error: unknown) => {
        logger?.error({ err: messageOf(error), openTime: isoUtc(message.candle.openTime) }, `${entry.topic}: not published (stored; workers fill it from the store)`);
      });
    };
    return new LiveFeed({
      ...connector.feedAccess(),
      subscription: entry.subscription,
      lastStoredOpenTime: entry.lastOpenTime,
      clockRate: sim?.speed ?? 1,
      // The simulator sends a few frames per candle rather than Binance's one every ~2 s, on a clock `speed` times
      // faster: allow two candles of silence but at least 250 ms of real time (event-loop jitter), and re-read recent
      // candles every ten candles of exchange time.
      ...(sim !== undefined && {
        silenceTimeoutMs: Math.max(2 * entry.grid.nominalMs, 250 * sim.speed),
        monitorIntervalMs: Math.max(50, (10 * entry.grid.nominalMs) / sim.speed),
      }),
      ...(logger !== undefined && { logger }),
      // The feed emits each candle once, in order, after `lastStoredOpenTime`.
      onCandle: (candle) => {
        const live = !this.#warmingUp;
        entry.queue.push(candle, () => {
          entry.lastOpenTime = candle.openTime;
          // Never before it was received: a re-sync of the clock estimate (after a lost connection) may step it back.
          const arrivedAt = Math.floor(Math.max(entry.feed!.exchangeNow(), candle.receivedAt ?? Number.NEGATIVE_INFINITY));
          return publish({ kind: 'candle', candle, live, arrivedAt });
        });
      },
      onRevision: ({ revised }) => {
        entry.queue.push(revised, () => {
          logger?.warn({ openTime: isoUtc(revised.openTime), revised }, `${describeSubscription(entry.subscription)}: candle revised by the exchange; stored`);
          return publish({ kind: 'revision', candle: revised });
        });
      },
    });
  }

  /**
   * Resolves with the last open times of the simulator's data once its clock has passed the data's end and its last
   * candles are durable (or a grace period later); never when no judged feed has simulated data.
   */
  #watchDataEnd(simulated: Simulated): Promise<ReadonlyMap<string, number>> {
    const { logger, dataEndOf } = this.#options;
    const judged = new Set((dataEndOf ?? this.#feeds.map((f) => f.subscription)).map(marketDataTopic));
    const ending = this.#feeds.filter((f) => judged.has(f.topic) && simulated.last.has(f.topic));
    const last = (f: Feed): number => simulated.last.get(f.topic)!;
    let passedAt: number | null = null;
    return new Promise((resolve) => {
      if (ending.length === 0) return;
      this.#watch = setInterval(() => {
        const passed = ending.every((f) => simulated.simulator.clock() >= last(f) + 2 * f.grid.nominalMs);
        if (!passed) return;
        const delivered = ending.every((f) => (f.lastOpenTime ?? -Infinity) >= last(f));
        // A last candle that never comes is waited for a grace period, counted once the feeds have caught up: a slow
        // start (a backfill still delivering after the clock passed the end) is not the data's end.
        if (!delivered && this.#warmingUp) return;
        passedAt ??= Date.now();
        if (!delivered && Date.now() - passedAt < DATA_END_GRACE_MS) return;
        clearInterval(this.#watch);
        logger?.warn({ lastCandles: Object.fromEntries(ending.map((f) => [f.topic, isoUtc(last(f))])) }, "the simulator's data ended: stopping");
        resolve(simulated.last);
      }, 50);
    });
  }
}

/** The trading node's feed start (see {@link MarketDataOptions.feedStart}). */
function nodeFeedStart(datasetsRoot: string, subscription: Subscription, store: StoreLocation, now: number, simulated: boolean): number | null {
  const to = timeframeGrid(subscription.timeframe).bucketStart(now);
  // On a simulator the shipped datasets also hold its future: a restarted connector continues from the last candle it
  // stored itself (the backfill brings those that closed while it was down), not from the dataset's.
  const stored = simulated ? readStoredCandles(store.root, store.subscription, { to }).openTime.at(-1) : undefined;
  return stored ?? loadHistory(datasetsRoot, subscription, store, to).openTime.at(-1) ?? null;
}

/** A failed start's error: a {@link "core/errors"!FrameworkError | FrameworkError} as is, another wrapped. */
function startError(error: unknown): FrameworkError {
  if (error instanceof FrameworkError) return error;
  return new MarketDataStartError(`the market data could not start: ${messageOf(error)}`, { cause: error });
}
