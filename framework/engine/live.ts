import { brokerConfig, type BrokerConfig } from '../broker/broker-config';
import { PaperBroker } from '../broker/paper-broker';
import { allocateBatch, sliceBatch, type StoredCandle } from '../core/candle';
import { FrameworkError } from '../core/errors';
import type { Logger } from '../core/logger';
import { describeSubscription, type Subscription } from '../core/subscription';
import { timeframeGrid, type TimeframeGrid } from '../core/timeframe';
import { isoUtc } from '../core/time';
import { loadHistory } from '../feeds/history';
import type { BinanceKlineTap } from '../feeds/live/binance-tap';
import { createExchange, type ApiCredentials } from '../feeds/live/exchange';
import { OrderRouter } from '../broker/order-router';
import { LiveFeed, type LiveFeedStatus } from '../feeds/live/live-feed';
import { writeHtmlReport } from '../report/html-report';
import { RunJournal } from '../report/journal';
import { computeMetrics } from '../report/metrics';
import type { RunSummary } from '../report/run-summary';
import { createRunDir, writeRunArtifacts } from '../report/run-writer';
import type { FaultConfig } from '../sim/config';
import { startSimulator, type Simulator } from '../sim/simulator';
import { DurableQueue } from '../store/durable-queue';
import { LiveCandleStore } from '../store/live-store';
import { readDataset } from '../store/partitions';
import { loadStrategy } from '../strategy/loader';
import { Engine, type InformativeCandles } from './engine';
import { CandleHistory } from './history';

/**
 * The project's exchange simulator as the exchange of a live run: started in-process on the subscriptions' datasets
 * (`start`, `faults`), or one already running elsewhere on this machine (`endpoints`, e.g. from `npm run sim`).
 * `speed` is the simulator's exchange ms per real ms, which the feed's exchange clock follows.
 */
export type SimulatorOptions =
  | { readonly start: number; readonly speed: number; readonly faults?: FaultConfig }
  | { readonly endpoints: { readonly restUrl: string; readonly wsUrl: string }; readonly speed: number };

/** What to run live and how. Times are UTC epoch ms; money in the quote currency. */
export interface LiveOptions {
  /** The strategy plugin, e.g. `strategies/macd.ts`. */
  readonly file: string;
  /** Parameter overrides as strings (`--param fast=10`). */
  readonly params?: Readonly<Record<string, string>>;
  /** Run against the project's exchange simulator instead of the subscription's exchange. */
  readonly simulator?: SimulatorOptions;
  /** The shipped candle store (read only): the history the run starts from; default `datasets`. */
  readonly datasetsRoot?: string;
  /** Where live candles are stored (write-ahead log + monthly Parquet partitions); default `live-data`. */
  readonly storeRoot?: string;
  /** Where the run folder is created; default `runs`. */
  readonly runsRoot?: string;
  /** Paper broker settings; unset fields take the defaults. */
  readonly broker?: Partial<BrokerConfig>;
  /**
   * Also send the paper broker's long signals to the exchange as spot market orders with these credentials (see
   * {@link OrderRouter}); journaled in `orders.jsonl`. Omitted: paper trading only.
   */
  readonly realOrders?: ApiCredentials;
  /** Stop by itself after this many live closed candles of the traded subscription (default: run until `signal`). */
  readonly maxCandles?: number;
  /** Aborting it stops the run cleanly (SIGINT in the CLI). */
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  /** Called after every traded closed candle with the traded feed's status and the number of signals so far. */
  readonly onStatus?: (status: LiveFeedStatus, signals: number) => void;
}

/** The outcome of a live run. `summary` is null when no traded candle closed before the stop. */
export interface LiveResult {
  readonly summary: RunSummary | null;
  /** The run's folder: `run.json`, `candles.jsonl`, `signals.jsonl` (the journal) and, at the stop, the report. */
  readonly dir: string;
  readonly engine: Engine;
  readonly broker: PaperBroker;
  /** The traded candles the run acted on, in order (each exactly once). */
  readonly liveCandles: readonly StoredCandle[];
  /** The traded subscription's feed status at the stop. */
  readonly feed: LiveFeedStatus;
}

/** One subscription of a live run: its store (and the queue of its candles waiting to be durable), history and feed. */
interface Market {
  readonly subscription: Subscription;
  readonly exchange: BinanceKlineTap;
  readonly store: LiveCandleStore;
  readonly queue: DurableQueue;
  history: CandleHistory;
  readonly grid: TimeframeGrid;
  feed: LiveFeed | null;
}

/**
 * Runs a strategy live with paper trading: the same engine and broker as the backtest, fed by one live feed per
 * subscription (the first is traded, the others informative).
 *
 * 1. History (the indicators' origin, as in the backtest): for each subscription, the shipped candles plus those the
 *    live store already holds, through the candle pipeline, up to the exchange's now.
 * 2. Each feed backfills over REST from its last stored candle to now (stored and added to the history, not traded:
 *    warm-up), then follows the WebSocket stream.
 * 3. Every closed candle is appended to its write-ahead log at once and, once durable (fdatasynced) and in order,
 *    added to its history and journaled (see {@link DurableQueue}: the feed does not wait for the fsync, so the log's
 *    group commit covers many candles per fdatasync, but nothing acts on a candle before it is durable); a
 *    revision of a candle already acted on (seen when the feed re-reads recent candles over REST) is stored and,
 *    once durable, applied to the history: later decisions use the exchange's final version, and `npm run diff`
 *    explains the one that used the old version.
 *    A traded candle is handed to the engine once every informative feed has delivered the candles that closed with
 *    it (so a 1h candle closing with a 15m one is visible to it, as in the replay); the engine computes the
 *    indicators and calls `onData`.
 * 4. On stop: feeds and sockets closed, the candles still waiting for their fsync stored (not acted on), logs
 *    compacted into Parquet, the run's report written to `runs/<run-id>/`.
 *
 * With {@link LiveOptions.simulator} live candles are stored under the exchange id `sim`, never mixed with real
 * exchange data.
 *
 * @throws the loader's errors for a bad strategy; {@link "core/errors"!DatasetNotFoundError | DatasetNotFoundError}
 *   when the in-process simulator has no dataset to play; {@link "feeds/live/live-feed"!LiveFeedError | LiveFeedError}
 *   when a feed cannot start (unknown market, exchange unreachable); the store's errors (e.g. `WriteAheadLogError`)
 *   and the strategy's when storing or acting on a candle fails.
 */
export async function runLive(options: LiveOptions): Promise<LiveResult> {
  const startedAt = Date.now();
  const { logger } = options;
  const loaded = await loadStrategy(options.file, options.params);
  const [traded, ...informative] = loaded.subscriptions as [Subscription, ...Subscription[]];
  const datasetsRoot = options.datasetsRoot ?? 'datasets';
  const storeRoot = options.storeRoot ?? 'live-data';
  const sim = options.simulator;
  const simulator = sim !== undefined && 'start' in sim ? await startSim(datasetsRoot, loaded.subscriptions, sim) : null;
  const endpoints = simulator ?? (sim !== undefined && 'endpoints' in sim ? sim.endpoints : null);
  // One ccxt instance per subscription: a feed that finds its connection dead closes the whole client.
  const exchanges = loaded.subscriptions.map((s, i) =>
    createExchange(s.exchange, {
      ...(endpoints !== null && { urls: endpoints, enableRateLimit: false }),
      ...(i === 0 && options.realOrders !== undefined && { credentials: options.realOrders }),
    }),
  );
  const storedAs = (s: Subscription): Subscription => (endpoints === null ? s : { ...s, exchange: 'sim' });
  const broker = new PaperBroker(brokerConfig(options.broker));
  let journal: RunJournal | null = null;
  const router =
    options.realOrders === undefined
      ? null
      : new OrderRouter(broker, exchanges[0]!, traded.symbol, logger, (order) => journal?.recordOrder(order));
  const engine = new Engine({ strategy: loaded.strategy, broker: router ?? broker, file: options.file, subscription: traded, informative });
  const liveCandles: StoredCandle[] = [];
  const { runId, dir } = createRunDir(options.runsRoot ?? 'runs', loaded.strategy.name);
  const markets: Market[] = [];
  let stop: () => void = () => undefined;
  try {
    for (const [i, subscription] of loaded.subscriptions.entries()) {
      const exchange = exchanges[i]!;
      const store = LiveCandleStore.open(storeRoot, storedAs(subscription));
      const grid = timeframeGrid(subscription.timeframe);
      const queue = new DurableQueue(store);
      markets.push({ subscription, exchange, store, queue, grid, feed: null, history: new CandleHistory(allocateBatch(0)) });
      const now = (await exchange.fetchTime()) ?? Date.now();
      const location = { root: storeRoot, subscription: storedAs(subscription) };
      markets.at(-1)!.history = new CandleHistory(loadHistory(datasetsRoot, subscription, location, grid.bucketStart(now)));
    }
    const tradedMarket = markets[0]!;
    logger?.info(
      { candles: tradedMarket.history.length, last: isoUtc(tradedMarket.history.lastOpenTime ?? Number.NaN), run: dir },
      `history for ${describeSubscription(traded)} loaded`,
    );
    journal = RunJournal.create(dir, {
      runId,
      mode: 'live',
      file: options.file,
      strategy: engine.identity,
      subscription: traded,
      origin: {
        firstCandle: tradedMarket.history.batch.openTime[0] ?? Number.NaN,
        datasetsRoot,
        store: { root: storeRoot, subscription: storedAs(traded) },
      },
      startedAt,
    });
    const runJournal = journal;

    let warmingUp = true;
    const pending: StoredCandle[] = [];
    let draining = Promise.resolve();
    let running = true;
    let resolveStopped: () => void = () => undefined;
    const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
    stop = () => {
      running = false;
      resolveStopped();
    };
    options.signal?.addEventListener('abort', () => stop(), { once: true });
    if (options.signal?.aborted === true) stop();

    /** Acts on queued traded candles whose informative candles have all arrived (none once stopping). */
    const drain = async (): Promise<void> => {
      while (running && pending.length > 0) {
        const candle = pending[0]!;
        const closes = tradedMarket.grid.nextOpen(candle.openTime);
        const waiting = markets.slice(1).some((m) => m.grid.nextOpen(m.grid.nextOpen(m.history.lastOpenTime ?? -Infinity)) <= closes);
        if (waiting) return;
        pending.shift();
        // Journaled as the run acts on it, so candles.jsonl lists exactly the candles acted on (not those made durable
        // while the run was stopping or waiting for informative candles).
        runJournal.recordCandle(candle, null);
        const row = tradedMarket.history.batch.openTime.lastIndexOf(candle.openTime);
        const record = await engine.onClosedCandle(sliceBatch(tradedMarket.history.batch, 0, row + 1), informativeCandles(markets));
        liveCandles.push(candle);
        if (record !== null) {
          runJournal.recordSignal(record);
          logger?.info({ openTime: isoUtc(record.openTime), signal: record.signal, acted: record.acted }, 'signal');
        }
        options.onStatus?.(tradedMarket.feed!.status(), engine.signals.length);
        if (options.maxCandles !== undefined && liveCandles.length >= options.maxCandles) stop();
      }
    };

    for (const market of markets) {
      market.feed = new LiveFeed({
        exchange: market.exchange,
        subscription: market.subscription,
        lastStoredOpenTime: market.history.lastOpenTime,
        clockRate: sim?.speed ?? 1,
        // The simulator sends a few frames per candle rather than Binance's one every ~2 s, on a clock `speed` times
        // faster: allow two candles of silence but at least 250 ms of real time (event-loop jitter), and re-read recent
        // candles every ten candles of exchange time.
        ...(sim !== undefined && {
          silenceTimeoutMs: Math.max(2 * market.grid.nominalMs, 250 * sim.speed),
          monitorIntervalMs: Math.max(50, (10 * market.grid.nominalMs) / sim.speed),
        }),
        ...(logger !== undefined && { logger }),
        // The feed emits each candle once, in order, after `lastStoredOpenTime` (the history's last candle).
        onCandle: (candle) => {
          const live = !warmingUp;
          market.queue.push(candle, () => {
            market.history.append(candle);
            if (!live || !running) return;
            if (market === tradedMarket) pending.push(candle);
            else runJournal.recordCandle(candle, describeSubscription(market.subscription));
            draining = draining.then(drain);
            return draining;
          });
        },
        onRevision: ({ revised }) => {
          market.queue.push(revised, () => {
            market.history.replace(revised);
            logger?.warn({ openTime: isoUtc(revised.openTime), revised }, `${describeSubscription(market.subscription)}: candle revised by the exchange; stored`);
          });
        },
      });
      market.store.compactEvery({ candles: 1_000 });
    }
    for (const market of markets) await market.feed!.start();
    warmingUp = false;
    await Promise.race([stopped, ...markets.flatMap((m) => [m.feed!.finished, m.queue.failed])]);
  } finally {
    stop();
    for (const market of markets) await market.feed?.stop();
    for (const market of markets) await market.queue.settled();
    await router?.flush();
    (journal as RunJournal | null)?.close();
    for (const exchange of exchanges) await exchange.close();
    for (const market of markets) await market.store.close();
    await simulator?.stop();
  }
  const feed = markets[0]!.feed!.status();
  const summary = liveCandles.length === 0 ? null : await writeReport(dir, runId, startedAt, engine, broker, markets, liveCandles);
  return { summary, dir, engine, broker, liveCandles, feed };
}

/** The informative subscriptions' histories, keyed as the engine expects. */
function informativeCandles(markets: readonly Market[]): InformativeCandles {
  return new Map(markets.slice(1).map((m) => [describeSubscription(m.subscription), m.history.batch]));
}

/** Closes the position at the last candle and writes the summary, trades, equity curve and HTML report. */
async function writeReport(
  dir: string,
  runId: string,
  startedAt: number,
  engine: Engine,
  broker: PaperBroker,
  markets: readonly Market[],
  liveCandles: readonly StoredCandle[],
): Promise<RunSummary> {
  const traded = markets[0]!;
  const first = liveCandles[0]!;
  const last = liveCandles[liveCandles.length - 1]!;
  broker.closeAll(last);
  const curve = broker.equityCurve;
  const finishedAt = Date.now();
  const summary: RunSummary = {
    runId,
    mode: 'live',
    strategy: { name: engine.identity.name, parameters: engine.identity.parameters },
    subscription: traded.subscription,
    timeframe: traded.subscription.timeframe,
    firstCandle: first.openTime,
    lastCandle: last.openTime,
    candles: liveCandles.length,
    broker: broker.config,
    metrics: computeMetrics({
      equity: curve.equity,
      time: curve.time,
      timeframe: traded.subscription.timeframe,
      trades: broker.trades,
      firstOpen: first.open,
      lastClose: last.close,
      exposedCandles: broker.exposedCandles,
    }),
    startedAt,
    finishedAt,
    durationMs: finishedAt - startedAt,
  };
  await writeRunArtifacts(dir, { summary, trades: broker.trades, equity: curve });
  // The page shows the live span with some history before it for context.
  const history = traded.history.batch;
  const end = history.openTime.lastIndexOf(last.openTime) + 1;
  const start = Math.max(0, end - liveCandles.length - 500);
  const columns = await engine.frameColumns(sliceBatch(history, 0, end), informativeCandles(markets));
  writeHtmlReport(dir, {
    summary,
    candles: sliceBatch(history, start, end),
    indicators: Object.fromEntries(Object.entries(columns).map(([name, values]) => [name, values.subarray(start, end)])),
    trades: broker.trades,
    signals: engine.signals,
    equity: curve,
  });
  return summary;
}

async function startSim(root: string, subscriptions: readonly Subscription[], options: { start: number; speed: number; faults?: FaultConfig }): Promise<Simulator> {
  if (subscriptions.some((s) => s.exchange !== subscriptions[0]!.exchange)) {
    throw new FrameworkError('the simulator plays one exchange: every subscription must be on the same exchange');
  }
  return startSimulator({
    markets: subscriptions.map((s) => ({ symbol: s.symbol, timeframe: s.timeframe, candles: readDataset(root, s) })),
    startTime: options.start,
    speed: options.speed,
    ...(options.faults !== undefined && { faults: options.faults }),
  });
}
