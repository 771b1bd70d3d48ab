import { rmSync } from 'node:fs';
import { brokerConfig, strategyKeyOf, type BrokerConfig } from '../broker/broker-config';
import { PaperBroker } from '../broker/paper-broker';
import { marketDataTopic } from '../bus/topics';
import { MarketData, MarketDataStartError, type MarketDataMessage, type SimulatorOptions } from '../connector/market-data';
import { allocateBatch, type StoredCandle } from '../core/candle';
import { FrameworkError, messageOf } from '../core/errors';
import type { Logger } from '../core/logger';
import { describeSubscription, type Subscription } from '../core/subscription';
import { timeframeGrid, type TimeframeGrid } from '../core/timeframe';
import { isoUtc } from '../core/time';
import { loadHistory } from '../feeds/history';
import type { ApiCredentials } from '../feeds/live/exchange';
import { OrderExecutor } from '../execution/executor';
import { ReconciliationLoop } from '../execution/reconcile-loop';
import type { LiveFeedStatus } from '../feeds/live/live-feed';
import { RunJournal } from '../report/journal';
import { TradingJournal } from '../report/trading-journal';
import { findUnfinishedRun } from '../report/unfinished-run';
import { hashParameters } from '../strategy/parameters';
import type { RunSummary } from '../report/run-summary';
import { createRunDir } from '../report/run-writer';
import { lastClockReading, simulatorHistoryStart } from './simulator-clock';
import { loadStrategy } from '../strategy/loader';
import { Engine } from './engine';
import { CandleHistory } from './history';
import { writeReport } from './live-report';
import { checkStaleAfter, DEFAULT_STALE_AFTER } from './stale';
import { tradedCandleDrain, type TradedCandle } from './traded-candles';

/** What to run live and how. Times are UTC epoch ms; money in the quote currency. */
export interface LiveOptions {
  /** The strategy plugin, e.g. `strategies/macd.ts`. */
  readonly file: string;
  /** Parameter overrides as strings (`--param fast=10`). */
  readonly params?: Readonly<Record<string, string>>;
  /** Run against the project's exchange simulator instead of the subscription's exchange. */
  readonly simulator?: SimulatorOptions;
  /**
   * The shipped candle store (read only), default `datasets`: the history the run starts from on an exchange; on a
   * simulator never read by the run (the in-process simulator plays it; `npm run diff` compares the run with it).
   */
  readonly datasetsRoot?: string;
  /** Where live candles are stored (write-ahead log + monthly Parquet partitions); default `live-data`. */
  readonly storeRoot?: string;
  /** Where the run folder is created; default `runs`. */
  readonly runsRoot?: string;
  /** Paper broker settings; unset fields take the defaults. */
  readonly broker?: Partial<BrokerConfig>;
  /**
   * Also mirror every paper fill on the exchange's spot account with these credentials (see
   * {@link OrderExecutor}); journaled in `orders.jsonl` and `events.jsonl`. Omitted: paper trading only.
   */
  readonly realOrders?: ApiCredentials;
  /** With {@link realOrders}: real ms between reconciliation passes (default 30 000; see `execution/reconcile-loop.ts`). */
  readonly reconcileIntervalMs?: number;
  /**
   * The stale rule's limit, in timeframes (default 1): a traded candle that arrives more than this long after its
   * close extends the history and `onData` sees it, but its signal is not traded (see `staleReason`).
   */
  readonly staleAfter?: number;
  /** Stop by itself after this many live closed candles of the traded subscription (default: run until `signal`). */
  readonly maxCandles?: number;
  /** Aborting it stops the run cleanly (SIGINT in the CLI). */
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  /**
   * Called after every traded closed candle with the traded feed's status, the number of signals so far and, on the
   * in-process simulator, the faults it has injected by kind.
   */
  readonly onStatus?: (status: LiveFeedStatus, signals: number, faults?: Readonly<Record<string, number>>, blocked?: readonly string[]) => void;
}

/** The outcome of a live run. `summary` is null when no traded candle closed before the stop. */
export interface LiveResult {
  readonly summary: RunSummary | null;
  /**
   * The run's folder: `run.json`, `candles.jsonl`, `signals.jsonl`, `trading.jsonl` (the journal) and, at the stop, the
   * report.
   */
  readonly dir: string;
  readonly engine: Engine;
  readonly broker: PaperBroker;
  /** The traded candles the run acted on, in order (each exactly once). */
  readonly liveCandles: readonly StoredCandle[];
  /** The traded subscription's feed status at the stop. */
  readonly feed: LiveFeedStatus;
  /**
   * On the in-process simulator, when the run stopped because the simulator's data ended: the open time of the last
   * traded candle the run received (UTC epoch ms); otherwise `null`.
   */
  readonly dataEndedAt: number | null;
}

/** One subscription of a live run: its history. */
interface Market {
  readonly subscription: Subscription;
  readonly grid: TimeframeGrid;
  history: CandleHistory;
}

/**
 * Runs a strategy live with paper trading: the same engine and broker as the backtest, fed by one live feed per
 * subscription (the first is traded, the others informative).
 *
 * 1. History (the indicators' origin, as in the backtest): for each subscription, the shipped candles plus those the
 *    live store already holds, through the candle pipeline, up to the exchange's now. On a simulator: the live store
 *    alone, from one warm-up page before now (`simulatorHistoryStart`; a continued run keeps its killed part's start).
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
 *    indicators and calls `onData`. A traded candle that arrived (durable, by the exchange clock: its `arrivedAt` in
 *    the journal) more than {@link LiveOptions.staleAfter} timeframes after its close is stale (see `staleReason`):
 *    `onData` runs on it, but its signal is journaled `acted: false` with the reason instead of going to the broker.
 * 4. After each traded candle is acted on, the broker's order events, fills, trades and state are appended to the
 *    run's `trading.jsonl` and fdatasynced before the next candle is acted on (see `report/trading-journal.ts`); with
 *    real orders, the candle's exchange orders go out after that (write-ahead) and are answered before the next candle.
 * 5. On stop: feeds and sockets closed, the candles still waiting for their fsync stored (not acted on), logs
 *    compacted into Parquet, the run's report written to `runs/<run-id>/`.
 *
 * A run killed before its stop (no `summary.json`) is continued by the next run of the same strategy, parameters and
 * market on the same exchange (or simulator): in the same folder, with the broker restored from the last checkpoint of
 * `trading.jsonl` (position, stops, pending orders, earlier trades); the candles that closed while it was down are
 * history, not traded (its first candle journals a `RunResume` record naming that span for `npm run diff`). With real
 * orders, an order the killed run left in flight is looked up by its client order id, and what the restored paper
 * position asks for beyond the exchange holding goes out before the first candle (`OrderExecutor.catchUp`). Its
 * report's equity curve and candle count cover the continued part. On the in-process simulator, the simulator's clock
 * resumes after what the killed part traded, plus the time it was down (`resumedExchangeTime`).
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
  const staleAfter = checkStaleAfter(options.staleAfter ?? DEFAULT_STALE_AFTER);
  const loaded = await loadStrategy(options.file, options.params);
  if (options.realOrders !== undefined && loaded.strategy.canShort) {
    throw new FrameworkError(`--real-orders: strategy "${loaded.strategy.name}" declares canShort = true, but a spot account cannot short; run it without --real-orders`);
  }
  const [traded, ...informative] = loaded.subscriptions as [Subscription, ...Subscription[]];
  const datasetsRoot = options.datasetsRoot ?? 'datasets';
  const storeRoot = options.storeRoot ?? 'live-data';
  const sim = options.simulator;
  const storedAs = (s: Subscription): Subscription => (sim === undefined ? s : { ...s, exchange: 'sim' });
  const runsRoot = options.runsRoot ?? 'runs';
  // The same command after a SIGKILL continues the killed run: same folder, broker restored from trading.jsonl.
  const killed = findUnfinishedRun(runsRoot, {
    name: loaded.strategy.name,
    parametersHash: hashParameters({ ...loaded.strategy.params }),
    subscription: traded,
    stored: storedAs(traded),
  });
  const { runId, dir } = killed === null ? createRunDir(runsRoot, loaded.strategy.name) : { runId: killed.header.runId, dir: killed.dir };
  // A start that failed (exchange unreachable, unknown market) leaves no new run folder behind (a killed run's stays,
  // to be continued later), and its error names the market.
  const startFailed = (error: unknown): FrameworkError => {
    if (killed === null) rmSync(dir, { recursive: true, force: true });
    const cause = error instanceof MarketDataStartError ? error.cause : error;
    if (cause instanceof FrameworkError) return cause;
    return new FrameworkError(`${describeSubscription(traded)}: the live run could not start: ${messageOf(cause)}`, { cause });
  };
  const markets: Market[] = loaded.subscriptions.map((subscription) => ({
    subscription,
    grid: timeframeGrid(subscription.timeframe),
    history: new CandleHistory(allocateBatch(0)),
  }));
  const tradedMarket = markets[0]!;
  const byTopic = new Map(markets.map((m) => [marketDataTopic(m.subscription), m]));
  const liveCandles: StoredCandle[] = [];
  const pending: TradedCandle[] = [];
  let draining = Promise.resolve();
  let drain: () => Promise<void> = async () => undefined;
  let journal: RunJournal | null = null;
  let failure: { readonly error: unknown } | null = null;
  let started = false;
  let dataEndedAt: number | null = null;
  let running = true;
  const stopping = new AbortController();
  const stopped = new Promise<void>((resolve) => stopping.signal.addEventListener('abort', () => resolve(), { once: true }));
  const stop = (): void => {
    running = false;
    stopping.abort();
  };
  options.signal?.addEventListener('abort', stop, { once: true });
  if (options.signal?.aborted === true) stop();
  // On a simulator the history is the run's live store from one warm-up page back, filled over REST (the feeds'
  // backfill); the simulator's datasets are its data, never read as the run's history. A continued run keeps its origin.
  let historyFrom = sim === undefined ? undefined : killed?.header.origin.from;

  /** Takes a durable candle from the market data: into its history, then (live) queued to be acted on or journaled. */
  const take = (topic: string, message: MarketDataMessage): Promise<void> | undefined => {
    const market = byTopic.get(topic)!;
    if (message.kind === 'revision') {
      market.history.replace(message.candle);
      return undefined;
    }
    const { candle, arrivedAt } = message;
    market.history.append(candle);
    if (!message.live || !running) return undefined;
    if (market === tradedMarket) pending.push({ candle, arrivedAt });
    else journal!.recordCandle({ ...candle, arrivedAt }, describeSubscription(market.subscription));
    draining = draining.then(drain);
    return draining;
  };

  let market: MarketData | null = null;
  let executor: OrderExecutor | null = null;
  let reconciliation: ReconciliationLoop | null = null;
  let broker: PaperBroker | null = null;
  let engine: Engine | null = null;
  let trading: TradingJournal | null = null;
  let exposedBefore = 0;
  try {
    // Continuing on the in-process simulator: its clock resumes after what the killed run traded (simulator-clock.ts).
    const resume = killed === null ? null : lastClockReading(killed.dir);
    market = await MarketData.open({
      subscriptions: loaded.subscriptions,
      datasetsRoot,
      storeRoot,
      ...(sim !== undefined && { simulator: 'start' in sim && resume !== null ? { ...sim, resume } : sim }),
      // History (the indicators' origin, as in the backtest) up to the exchange's now; each feed backfills after it.
      feedStart: (subscription, location, now) => {
        const m = byTopic.get(marketDataTopic(subscription))!;
        if (sim !== undefined) historyFrom ??= simulatorHistoryStart(now, loaded.subscriptions.map((s) => s.timeframe), loaded.strategy.warmup);
        m.history = new CandleHistory(loadHistory(sim === undefined ? datasetsRoot : null, subscription, location, m.grid.bucketStart(now), historyFrom));
        return m.history.lastOpenTime ?? (historyFrom === undefined ? null : m.grid.previousOpen(historyFrom));
      },
      publish: async (topic, message) => {
        try {
          await take(topic, message);
        } catch (error) {
          // The run stops on it (rethrown at the end); the candle is stored.
          failure ??= { error };
          stop();
        }
      },
      dataEndOf: [traded],
      // The in-process simulator's data ends: once the last traded candle has been acted on, stop rather than wait for
      // candles that never come.
      onDataEnded: (last) => {
        dataEndedAt = tradedMarket.history.lastOpenTime ?? last.get(marketDataTopic(traded)) ?? null;
        void draining.then(stop);
      },
      ...(options.realOrders !== undefined && { credentials: options.realOrders }),
      signal: stopping.signal,
      ...(logger !== undefined && { logger }),
    });
    const simulator = market.simulator;
    const venue = market.trading(traded.exchange);
    executor =
      options.realOrders === undefined
        ? null
        : new OrderExecutor({ venue: venue!, symbol: traded.symbol, strategy: loaded.strategy.name, dir, ...(logger !== undefined && { logger }) });
    // With real orders the paper broker sizes in the market's amount step: every paper quantity is one the exchange fills.
    const amountStep = await executor?.start();
    const config = { strategyKey: strategyKeyOf(loaded.strategy), ...brokerConfig({ ...(amountStep !== undefined && { amountStep }), ...options.broker }) };
    broker = killed === null ? new PaperBroker(config) : PaperBroker.restore(config, killed.state, killed);
    // A continued run's report covers the continued part: its exposure counts from here (the restored count is the killed part's).
    exposedBefore = broker.exposedCandles;
    if (killed !== null) {
      const clock = simulator === null ? {} : { simulatorClock: isoUtc(simulator.clock()) };
      logger?.warn({ run: killed.dir, lastCandle: isoUtc(killed.state.lastTime), position: killed.state.position, ...clock }, 'continuing a killed run');
    }
    if (executor !== null) broker.addOrderListener(executor.listener);
    const marketData = market;
    // Reconciliation with the exchange account (real orders only): at start, every interval, after every reconnect.
    reconciliation =
      executor === null
        ? null
        : new ReconciliationLoop({
            exchange: venue!,
            symbol: traded.symbol,
            base: venue!.market(traded.symbol).base,
            broker,
            executor,
            dir,
            strategy: loaded.strategy.name,
            ...(options.reconcileIntervalMs !== undefined && { intervalMs: options.reconcileIntervalMs }),
            now: () => marketData.exchangeNow(),
            reconnects: () => [...marketData.status().values()].reduce((n, s) => n + s.reconnects, 0),
            ...(logger !== undefined && { logger }),
          });
    engine = new Engine({ strategy: loaded.strategy, broker: reconciliation?.gate(broker) ?? broker, file: options.file, subscription: traded, informative });
    trading = TradingJournal.open(dir, broker);
    if (executor !== null && killed !== null) {
      // What the killed run checkpointed on paper but may not have sent, before the first reconciliation.
      executor.catchUp(killed.events);
      await executor.flush();
    }
    logger?.info(
      { candles: tradedMarket.history.length, last: tradedMarket.history.lastOpenTime === null ? null : isoUtc(tradedMarket.history.lastOpenTime), run: dir },
      `history for ${describeSubscription(traded)} loaded`,
    );
    journal = killed !== null ? RunJournal.resume(dir, killed.state.lastTime) : RunJournal.create(dir, {
      runId,
      mode: 'live',
      file: options.file,
      strategy: engine.identity,
      subscription: traded,
      origin: {
        // A new run on a simulator has its history still to fetch: from `historyFrom`, or the in-process simulator's
        // first candle when its data starts later.
        firstCandle: tradedMarket.history.batch.openTime[0] ?? Math.max(historyFrom ?? Number.NaN, market.firstSimulated(traded) ?? -Infinity),
        datasetsRoot,
        store: { root: storeRoot, subscription: storedAs(traded) },
        ...(historyFrom !== undefined && { from: historyFrom }),
      },
      startedAt,
      staleAfter,
      broker: config,
    });
    const { onStatus } = options;
    const tradedTopic = marketDataTopic(traded);
    // Acts on queued traded candles whose informative candles have all arrived (none once stopping).
    drain = tradedCandleDrain({
      engine,
      journal,
      trading,
      markets,
      pending,
      acted: liveCandles,
      staleAfter,
      ...(options.maxCandles !== undefined && { maxCandles: options.maxCandles }),
      running: () => running,
      resumedAfter: killed?.state.lastTime ?? null,
      stop,
      beforeCandle: async () => reconciliation?.beforeCandle(), // after a reconnect: reconciled before the next candle is acted on
      afterCandle: async () => {
        // Write-ahead: the candle's exchange orders go out once the paper decisions behind them are durable, and are
        // answered (and journaled) before the next candle is acted on.
        await executor?.flush();
        onStatus?.(marketData.status().get(tradedTopic)!, engine!.signals.length, simulator?.stats.faults, reconciliation?.blocked());
      },
      ...(logger !== undefined && { logger }),
    });
    // A stop (Ctrl-C, the data's end) also ends a start still waiting for the exchange.
    await market.startFeeds();
    started = true;
    // The first pass before the first live candle is acted on (candles wait for it in the chain), then every interval.
    const loop = reconciliation;
    await loop?.start((task) => (draining = draining.then(task)));
    await Promise.race([stopped, market.failed()]);
  } catch (error) {
    failure ??= { error };
  } finally {
    stop();
    await reconciliation?.stop();
    await market?.stopFeeds();
    await executor?.flush().catch(() => undefined); // a failure was raised by the drain already
    executor?.close();
    (journal as RunJournal | null)?.close();
    await market?.stop();
  }
  const failed = failure as { readonly error: unknown } | null; // set by the closures
  if (failed !== null && !started) {
    trading?.close();
    throw startFailed(failed.error);
  }
  const feed = market!.status().get(marketDataTopic(traded))!;
  let summary: RunSummary | null = null;
  try {
    if (liveCandles.length > 0) summary = await writeReport(dir, runId, startedAt, engine!, broker!, markets, liveCandles, exposedBefore);
  } catch (error) {
    if (failed === null) throw error;
    logger?.error({ err: messageOf(error) }, `${dir}: the report could not be written either`);
  }
  // The close at the stop (the report's) is the trading journal's last checkpoint.
  if (summary !== null) trading!.checkpoint(summary.lastCandle);
  trading!.close();
  if (failed !== null) {
    // A run that failed while running (a strategy that throws) still leaves its summary and report.
    if (summary !== null) logger?.error({ run: dir }, `the run failed after ${liveCandles.length} live candles; their report is in ${dir}`);
    throw failed.error;
  }
  return { summary, dir, engine: engine!, broker: broker!, liveCandles, feed, dataEndedAt };
}
