import { rmSync } from 'node:fs';
import { brokerConfig, strategyKeyOf, type BrokerConfig } from '../broker/broker-config';
import { PaperBroker } from '../broker/paper-broker';
import { allocateBatch, type StoredCandle } from '../core/candle';
import { FrameworkError, messageOf } from '../core/errors';
import type { Logger } from '../core/logger';
import { describeSubscription, type Subscription } from '../core/subscription';
import { timeframeGrid, type TimeframeGrid } from '../core/timeframe';
import { isoUtc } from '../core/time';
import { loadHistory } from '../feeds/history';
import { Connector } from '../connector/connector';
import type { ApiCredentials } from '../feeds/live/exchange';
import { OrderExecutor } from '../execution/executor';
import { ReconciliationLoop } from '../execution/reconcile-loop';
import { LiveFeed, type LiveFeedStatus } from '../feeds/live/live-feed';
import { RunJournal } from '../report/journal';
import { TradingJournal } from '../report/trading-journal';
import { findUnfinishedRun } from '../report/unfinished-run';
import { hashParameters } from '../strategy/parameters';
import type { RunSummary } from '../report/run-summary';
import { createRunDir } from '../report/run-writer';
import type { FaultConfig } from '../sim/config';
import { DurableQueue } from '../store/durable-queue';
import { LiveCandleStore } from '../store/live-store';
import { startDatasetSimulator } from './dataset-simulator';
import { lastClockReading, simulatorHistoryStart } from './simulator-clock';
import { loadStrategy } from '../strategy/loader';
import { Engine } from './engine';
import { CandleHistory } from './history';
import { writeReport } from './live-report';
import { checkStaleAfter, DEFAULT_STALE_AFTER } from './stale';
import { tradedCandleDrain, type TradedCandle } from './traded-candles';

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

/** How long (real ms) a run on the in-process simulator waits, once the data has ended, for candles still on their way. */
const DATA_END_GRACE_MS = 1_000;

/** One subscription of a live run: its store (and the queue of its candles waiting to be durable), history and feed. */
interface Market {
  readonly subscription: Subscription;
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
  // Continuing on the in-process simulator: its clock resumes after what the killed run traded (simulator-clock.ts).
  const resume = killed === null ? null : lastClockReading(killed.dir);
  const simulated =
    sim !== undefined && 'start' in sim
      ? await startDatasetSimulator(datasetsRoot, loaded.subscriptions, { ...sim, ...(resume !== null && { resume }) })
      : null;
  const simulator = simulated?.simulator ?? null;
  const endpoints = simulator ?? (sim !== undefined && 'endpoints' in sim ? sim.endpoints : null);
  // One connector per exchange account: every REST and WebSocket access of the run to it, one budget, one back-off.
  const connectors = new Map(
    [...new Set(loaded.subscriptions.map((s) => s.exchange))].map((id) => [
      id,
      new Connector({
        exchange: id,
        ...(endpoints !== null && { urls: endpoints, enableRateLimit: false }),
        ...(id === traded.exchange && options.realOrders !== undefined && { credentials: options.realOrders }),
      }),
    ]),
  );
  const connectorOf = (s: Subscription): Connector => connectors.get(s.exchange)!;
  const { runId, dir } = killed === null ? createRunDir(runsRoot, loaded.strategy.name) : { runId: killed.header.runId, dir: killed.dir };
  const executor =
    options.realOrders === undefined
      ? null
      : new OrderExecutor({ venue: connectorOf(traded).trading!, symbol: traded.symbol, strategy: loaded.strategy.name, dir, ...(logger !== undefined && { logger }) });
  // A start that failed (exchange unreachable, unknown market) leaves no new run folder behind (a killed run's stays,
  // to be continued later), and its error names the market.
  const startFailed = (error: unknown): FrameworkError => {
    if (killed === null) rmSync(dir, { recursive: true, force: true });
    if (error instanceof FrameworkError) return error;
    return new FrameworkError(`${describeSubscription(traded)}: the live run could not start: ${messageOf(error)}`, { cause: error });
  };
  // With real orders the paper broker sizes in the market's amount step: every paper quantity is one the exchange fills.
  const amountStep = await executor?.start().catch(async (error: unknown) => {
    for (const connector of connectors.values()) await connector.close();
    await simulator?.stop();
    throw startFailed(error);
  });
  const config = { strategyKey: strategyKeyOf(loaded.strategy), ...brokerConfig({ ...(amountStep !== undefined && { amountStep }), ...options.broker }) };
  const broker = killed === null ? new PaperBroker(config) : PaperBroker.restore(config, killed.state, killed);
  // A continued run's report covers the continued part: its exposure counts from here (the restored count is the killed part's).
  const exposedBefore = broker.exposedCandles;
  if (killed !== null) {
    const clock = simulator === null ? {} : { simulatorClock: isoUtc(simulator.clock()) };
    logger?.warn({ run: killed.dir, lastCandle: isoUtc(killed.state.lastTime), position: killed.state.position, ...clock }, 'continuing a killed run');
  }
  if (executor !== null) broker.addOrderListener(executor.listener);
  let journal: RunJournal | null = null;
  const markets: Market[] = [];
  // Reconciliation with the exchange account (real orders only): at start, every interval, after every reconnect.
  const reconciliation =
    executor === null
      ? null
      : new ReconciliationLoop({
          exchange: connectorOf(traded).trading!,
          symbol: traded.symbol,
          base: connectorOf(traded).trading!.market(traded.symbol).base,
          broker,
          executor,
          dir,
          strategy: loaded.strategy.name,
          ...(options.reconcileIntervalMs !== undefined && { intervalMs: options.reconcileIntervalMs }),
          now: () => markets[0]?.feed?.exchangeNow() ?? Date.now(),
          reconnects: () => markets.reduce((n, m) => n + (m.feed?.status().reconnects ?? 0), 0),
          ...(logger !== undefined && { logger }),
        });
  const engine = new Engine({ strategy: loaded.strategy, broker: reconciliation?.gate(broker) ?? broker, file: options.file, subscription: traded, informative });
  const liveCandles: StoredCandle[] = [];
  const trading = TradingJournal.open(dir, broker);
  let stop: () => void = () => undefined;
  let started = false;
  let failure: { readonly error: unknown } | null = null;
  let dataEndedAt: number | null = null;
  let dataWatch: NodeJS.Timeout | undefined;
  // On a simulator the history is the run's live store from one warm-up page back, filled over REST (the feeds'
  // backfill); the simulator's datasets are its data, never read as the run's history. A continued run keeps its origin.
  let historyFrom = sim === undefined ? undefined : killed?.header.origin.from;
  try {
    if (executor !== null && killed !== null) {
      // What the killed run checkpointed on paper but may not have sent, before the first reconciliation.
      executor.catchUp(killed.events);
      await executor.flush();
    }
    for (const subscription of loaded.subscriptions) {
      const store = LiveCandleStore.open(storeRoot, storedAs(subscription));
      const grid = timeframeGrid(subscription.timeframe);
      const queue = new DurableQueue(store);
      markets.push({ subscription, store, queue, grid, feed: null, history: new CandleHistory(allocateBatch(0)) });
      const now = await connectorOf(subscription).serverTime();
      const location = { root: storeRoot, subscription: storedAs(subscription) };
      if (sim !== undefined) historyFrom ??= simulatorHistoryStart(now, loaded.subscriptions.map((s) => s.timeframe), loaded.strategy.warmup);
      const shipped = sim === undefined ? datasetsRoot : null;
      markets.at(-1)!.history = new CandleHistory(loadHistory(shipped, subscription, location, grid.bucketStart(now), historyFrom));
    }
    const tradedMarket = markets[0]!;
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
        firstCandle: tradedMarket.history.batch.openTime[0] ?? Math.max(historyFrom ?? Number.NaN, simulated?.firstOpenTimes[0] ?? -Infinity),
        datasetsRoot,
        store: { root: storeRoot, subscription: storedAs(traded) },
        ...(historyFrom !== undefined && { from: historyFrom }),
      },
      startedAt,
      staleAfter,
      broker: config,
    });
    const runJournal = journal;

    let warmingUp = true;
    const pending: TradedCandle[] = [];
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

    // Acts on queued traded candles whose informative candles have all arrived (none once stopping).
    const drain = tradedCandleDrain({
      engine,
      journal: runJournal,
      trading,
      markets,
      pending,
      acted: liveCandles,
      staleAfter,
      ...(options.maxCandles !== undefined && { maxCandles: options.maxCandles }),
      running: () => running,
      resumedAfter: killed?.state.lastTime ?? null,
      stop: () => stop(),
      beforeCandle: async () => reconciliation?.beforeCandle(), // after a reconnect: reconciled before the next candle is acted on
      afterCandle: async () => {
        // Write-ahead: the candle's exchange orders go out once the paper decisions behind them are durable, and are
        // answered (and journaled) before the next candle is acted on.
        await executor?.flush();
        options.onStatus?.(tradedMarket.feed!.status(), engine.signals.length, simulator?.stats.faults, reconciliation?.blocked());
      },
      ...(logger !== undefined && { logger }),
    });

    for (const market of markets) {
      market.feed = new LiveFeed({
        ...connectorOf(market.subscription).feedAccess(),
        subscription: market.subscription,
        lastStoredOpenTime: market.history.lastOpenTime ?? (historyFrom === undefined ? null : market.grid.previousOpen(historyFrom)),
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
            // Never before it was received: a re-sync of the clock estimate (after a lost connection) may step it back.
            const arrivedAt = Math.floor(Math.max(market.feed!.exchangeNow(), candle.receivedAt ?? Number.NEGATIVE_INFINITY));
            if (market === tradedMarket) pending.push({ candle, arrivedAt });
            else runJournal.recordCandle({ ...candle, arrivedAt }, describeSubscription(market.subscription));
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
    // The in-process simulator's data ends: once its clock has passed the last traded candle's close and that candle
    // has been acted on (or, when it never comes, a second later), stop rather than wait for candles that never come.
    const lastSimulated = simulated?.lastOpenTimes[0];
    if (simulator !== null && lastSimulated !== undefined) {
      let passedAt: number | null = null;
      dataWatch = setInterval(() => {
        if (dataEndedAt !== null || simulator.clock() < lastSimulated + 2 * tradedMarket.grid.nominalMs) return;
        passedAt ??= Date.now();
        const delivered = (tradedMarket.history.lastOpenTime ?? -Infinity) >= lastSimulated;
        if (!delivered && Date.now() - passedAt < DATA_END_GRACE_MS) return;
        dataEndedAt = tradedMarket.history.lastOpenTime ?? lastSimulated;
        void draining.then(() => {
          logger?.warn({ lastCandle: isoUtc(lastSimulated) }, `the simulator's data ended with the candle of ${isoUtc(lastSimulated)}: stopping`);
          stop();
        });
      }, 50);
    }
    // A stop (Ctrl-C, the data's end) also ends a start still waiting for the exchange.
    const starting = (async () => {
      for (const market of markets) await market.feed!.start();
    })();
    starting.catch(() => undefined); // observed by the race below; a rejection after a stop is the stop's
    await Promise.race([starting, stopped]);
    warmingUp = false;
    started = true;
    // The first pass before the first live candle is acted on (candles wait for it in the chain), then every interval.
    await reconciliation?.start((task) => (draining = draining.then(task)));
    await Promise.race([stopped, ...markets.flatMap((m) => [m.feed!.finished, m.queue.failed])]);
  } catch (error) {
    failure = { error };
  } finally {
    clearInterval(dataWatch);
    stop();
    await reconciliation?.stop();
    for (const market of markets) await market.feed?.stop();
    for (const market of markets) await market.queue.settled();
    await executor?.flush().catch(() => undefined); // a failure was raised by the drain already
    executor?.close();
    (journal as RunJournal | null)?.close();
    for (const connector of connectors.values()) await connector.close();
    for (const market of markets) await market.store.close();
    await simulator?.stop();
  }
  if (failure !== null && !started) {
    throw startFailed(failure.error);
  }
  const feed = markets[0]!.feed!.status();
  let summary: RunSummary | null = null;
  try {
    if (liveCandles.length > 0) summary = await writeReport(dir, runId, startedAt, engine, broker, markets, liveCandles, exposedBefore);
  } catch (error) {
    if (failure === null) throw error;
    logger?.error({ err: messageOf(error) }, `${dir}: the report could not be written either`);
  }
  // The close at the stop (the report's) is the trading journal's last checkpoint.
  if (summary !== null) trading.checkpoint(summary.lastCandle);
  trading.close();
  if (failure !== null) {
    // A run that failed while running (a strategy that throws) still leaves its summary and report.
    if (summary !== null) logger?.error({ run: dir }, `the run failed after ${liveCandles.length} live candles; their report is in ${dir}`);
    throw failure.error;
  }
  return { summary, dir, engine, broker, liveCandles, feed, dataEndedAt };
}

