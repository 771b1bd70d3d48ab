/**
 * The trading node's connector side: one live feed per unique subscription of all its strategies, the candle
 * pipeline and the write-ahead log once, then publication on the bus — each closed candle is published on
 * `market_data.<exchange>.<base>_<quote>.<timeframe>` only once it is durable in the store (the bus is never the only
 * copy of a candle: a worker fills any hole from the store).
 *
 * The feeds, stores and durable queues are those of `npm run live` ({@link "engine/live"!runLive | runLive}): each
 * feed backfills over REST from the last candle of its history (the shipped dataset plus the live store) to now,
 * then follows the WebSocket stream; the candles of that backfill are published flagged `live: false` (warm-up:
 * history, not traded), later ones `live: true` with `arrivedAt`, the exchange time at which the candle was durable.
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
import { Connector } from '../connector/connector';
import type { ApiCredentials } from '../feeds/live/exchange';
import { loadHistory } from '../feeds/history';
import { LiveFeed, type LiveFeedStatus } from '../feeds/live/live-feed';
import type { FaultConfig } from '../sim/config';
import type { Simulator } from '../sim/simulator';
import { DurableQueue } from '../store/durable-queue';
import { LiveCandleStore, readStoredCandles } from '../store/live-store';
import { startDatasetSimulator } from '../engine/dataset-simulator';

/** A market-data message: a closed candle, durable in the connector's store, or a stored revision of one. */
export type MarketDataMessage =
  | { readonly kind: 'candle'; readonly candle: StoredCandle; readonly live: boolean; readonly arrivedAt: number }
  | { readonly kind: 'revision'; readonly candle: StoredCandle };

/** The exchange of the node: the subscriptions' own, or the project's simulator (see `SimulatorOptions` of `runLive`). */
export type NodeSimulator =
  | { readonly start: number; readonly speed: number; readonly faults?: FaultConfig }
  | { readonly endpoints: { readonly restUrl: string; readonly wsUrl: string }; readonly speed: number };

/** Options of {@link MarketData.start}. */
export interface MarketDataOptions {
  /** Every subscription of the node's strategies; duplicates are served once. */
  readonly subscriptions: readonly Subscription[];
  readonly datasetsRoot: string;
  readonly storeRoot: string;
  readonly simulator?: NodeSimulator;
  /** Publishes a message; a rejection (a broker outage) is logged, the candle stays in the store. */
  readonly publish: (topic: string, message: MarketDataMessage) => Promise<void>;
  /** Called once when the in-process simulator's data has ended and every subscription's last candle is durable. */
  readonly onDataEnded?: (lastOpenTimes: ReadonlyMap<string, number>) => void;
  /**
   * The account's API keys (`mode: real` strategies): the connector of each exchange gets them for its trading
   * instance ({@link MarketData.trading}), so orders share one request budget and back-off with the feeds.
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

/** How long (real ms) the data's end waits for a last candle still on its way. */
const DATA_END_GRACE_MS = 1_000;

/** See the module description. */
export class MarketData {
  readonly #feeds: Feed[];
  readonly #connectors: ReadonlyMap<string, Connector>;
  readonly #simulator: Simulator | null;
  #watch: NodeJS.Timeout | undefined;

  private constructor(feeds: Feed[], connectors: ReadonlyMap<string, Connector>, simulator: Simulator | null) {
    this.#feeds = feeds;
    this.#connectors = connectors;
    this.#simulator = simulator;
  }

  /**
   * Opens the stores and starts every feed; resolves once each has backfilled to now and follows its stream.
   *
   * @throws {@link "core/errors"!FrameworkError | FrameworkError} when a feed cannot start (unknown market, exchange
   *   unreachable) or the simulator has no dataset; everything opened is closed again first.
   */
  static async start(options: MarketDataOptions): Promise<MarketData> {
    const { logger } = options;
    const unique = [...new Map(options.subscriptions.map((s) => [describeSubscription(s), s])).values()];
    const sim = options.simulator;
    const simulated = sim !== undefined && 'start' in sim ? await startDatasetSimulator(options.datasetsRoot, unique, sim) : null;
    const endpoints = simulated?.simulator ?? (sim !== undefined && 'endpoints' in sim ? sim.endpoints : null);
    const connectors = new Map(
      [...new Set(unique.map((s) => s.exchange))].map((id) => [
        id,
        new Connector({ exchange: id, ...(endpoints !== null && { urls: endpoints, enableRateLimit: false }), ...(options.credentials !== undefined && { credentials: options.credentials }) }),
      ]),
    );
    const storedAs = (s: Subscription): Subscription => (endpoints === null ? s : { ...s, exchange: 'sim' });
    const feeds: Feed[] = [];
    const node = new MarketData(feeds, connectors, simulated?.simulator ?? null);
    let warmingUp = true;
    try {
      for (const subscription of unique) {
        const connector = connectors.get(subscription.exchange)!;
        const grid = timeframeGrid(subscription.timeframe);
        const store = LiveCandleStore.open(options.storeRoot, storedAs(subscription));
        const now = await connector.serverTime();
        const history = loadHistory(options.datasetsRoot, subscription, { root: options.storeRoot, subscription: storedAs(subscription) }, grid.bucketStart(now));
        // On a simulator the shipped datasets also hold its future: a restarted connector continues from the last
        // candle it stored itself (the backfill brings those that closed while it was down), not from the dataset's.
        const stored = endpoints === null ? undefined : readStoredCandles(options.storeRoot, storedAs(subscription), { to: grid.bucketStart(now) }).openTime.at(-1);
        const entry: Feed = {
          subscription,
          topic: marketDataTopic(subscription),
          store,
          queue: new DurableQueue(store),
          grid,
          lastOpenTime: stored ?? history.openTime.at(-1) ?? null,
          feed: null,
        };
        feeds.push(entry);
        const publish = async (message: MarketDataMessage): Promise<void> => {
          await options.publish(entry.topic, message).catch((error: unknown) => {
            logger?.error({ err: messageOf(error), openTime: isoUtc(message.candle.openTime) }, `${entry.topic}: not published (stored; workers fill it from the store)`);
          });
        };
        entry.feed = new LiveFeed({
          ...connector.feedAccess(),
          subscription,
          lastStoredOpenTime: entry.lastOpenTime,
          clockRate: sim?.speed ?? 1,
          // As runLive's feeds on the simulator (see there).
          ...(sim !== undefined && {
            silenceTimeoutMs: Math.max(2 * grid.nominalMs, 250 * sim.speed),
            monitorIntervalMs: Math.max(50, (10 * grid.nominalMs) / sim.speed),
          }),
          ...(logger !== undefined && { logger }),
          onCandle: (candle) => {
            const live = !warmingUp;
            entry.queue.push(candle, () => {
              entry.lastOpenTime = candle.openTime;
              return publish({ kind: 'candle', candle, live, arrivedAt: Math.floor(entry.feed!.exchangeNow()) });
            });
          },
          onRevision: ({ revised }) => {
            entry.queue.push(revised, () => {
              logger?.warn({ openTime: isoUtc(revised.openTime) }, `${describeSubscription(subscription)}: candle revised by the exchange; stored`);
              return publish({ kind: 'revision', candle: revised });
            });
          },
        });
        store.compactEvery({ candles: 1_000 });
      }
      // A stop (Ctrl-C) also ends a start still waiting for the exchange: the caller stops what was opened.
      const starting = (async () => {
        for (const entry of feeds) await entry.feed!.start();
      })();
      starting.catch(() => undefined); // observed by the race below; a rejection after a stop is the stop's
      const aborted = new Promise<void>((resolve) => options.signal?.addEventListener('abort', () => resolve(), { once: true }));
      await Promise.race([starting, ...(options.signal?.aborted === true ? [Promise.resolve()] : [aborted])]);
      warmingUp = false;
    } catch (error) {
      await node.stop();
      if (error instanceof FrameworkError) throw error;
      throw new FrameworkError(`the node's market data could not start: ${messageOf(error)}`, { cause: error });
    }
    if (simulated !== null && options.onDataEnded !== undefined) node.#watchDataEnd(new Map(unique.map((s, i) => [marketDataTopic(s), simulated.lastOpenTimes[i] ?? Number.NaN])), options.onDataEnded, logger);
    return node;
  }

  /** Every feed's status, by market-data topic. */
  status(): ReadonlyMap<string, LiveFeedStatus> {
    return new Map(this.#feeds.filter((f) => f.feed !== null).map((f) => [f.topic, f.feed!.status()]));
  }

  /** The trading instance (with the keys) of the connector of `exchange` (ccxt id), or null without keys or feed there. */
  trading(exchange: string): NonNullable<Connector['trading']> | null {
    return this.#connectors.get(exchange)?.trading ?? null;
  }

  /** The in-process simulator, when the node started one. */
  get simulator(): Simulator | null {
    return this.#simulator;
  }

  /** Rejects when a feed or a store fails (never resolves otherwise). */
  failed(): Promise<never> {
    return Promise.race(this.#feeds.flatMap((f) => [f.queue.failed, f.feed!.finished.then(() => new Promise<never>(() => undefined))]));
  }

  /** Stops the feeds, stores what is still waiting for its fsync, compacts the logs, closes the sockets and the simulator. */
  async stop(): Promise<void> {
    clearInterval(this.#watch);
    for (const f of this.#feeds) await f.feed?.stop();
    for (const f of this.#feeds) await f.queue.settled();
    for (const connector of this.#connectors.values()) await connector.close();
    for (const f of this.#feeds) await f.store.close();
    await this.#simulator?.stop();
  }

  /** Once the simulator's clock has passed every subscription's last candle and it is durable (or a grace period later). */
  #watchDataEnd(last: ReadonlyMap<string, number>, onEnded: (lastOpenTimes: ReadonlyMap<string, number>) => void, logger: Logger | undefined): void {
    const simulator = this.#simulator!;
    let passedAt: number | null = null;
    this.#watch = setInterval(() => {
      const passed = this.#feeds.every((f) => simulator.clock() >= last.get(f.topic)! + 2 * f.grid.nominalMs);
      if (!passed) return;
      passedAt ??= Date.now();
      const delivered = this.#feeds.every((f) => (f.lastOpenTime ?? -Infinity) >= last.get(f.topic)!);
      if (!delivered && Date.now() - passedAt < DATA_END_GRACE_MS) return;
      clearInterval(this.#watch);
      logger?.warn("the simulator's data ended: stopping");
      onEnded(last);
    }, 50);
  }
}

