/**
 * `npm run live`: one strategy run live, as a trading node of one strategy whose worker runs in the same process — the
 * connector side ({@link "connector/market-data"!MarketData | MarketData}: feeds, stores, write-ahead logs, the
 * simulator, real orders' connector) hands each durable candle straight to the worker side
 * ({@link "worker/strategy-run"!StrategyRun | StrategyRun}: run folder, broker, engine, journals, report). See
 * {@link runLive}.
 *
 * @module
 */
import { strategyKeyOf, type BrokerConfig } from '../broker/broker-config';
import type { PaperBroker } from '../broker/paper-broker';
import { marketDataTopic } from '../bus/topics';
import { MarketData, MarketDataStartError, type SimulatorOptions } from '../connector/market-data';
import type { StoredCandle } from '../core/candle';
import { FrameworkError, messageOf } from '../core/errors';
import type { Logger } from '../core/logger';
import { describeSubscription } from '../core/subscription';
import { isoUtc } from '../core/time';
import type { Engine } from '../engine/engine';
import { lastClockReading, simulatorHistoryStart } from '../engine/simulator-clock';
import { OrderExecutor } from '../execution/executor';
import { ReconciliationLoop } from '../execution/reconcile-loop';
import type { ApiCredentials } from '../feeds/live/exchange';
import type { LiveFeedStatus } from '../feeds/live/live-feed';
import type { RunSummary } from '../report/run-summary';
import { loadStrategy } from '../strategy/loader';
import { StrategyRun } from '../worker/strategy-run';

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

/**
 * Runs a strategy live with paper trading: the same engine and broker as the backtest, fed by one live feed per
 * subscription (the first is traded, the others informative). The node's two sides in one process: the connector
 * side ({@link "connector/market-data"!MarketData | MarketData}) serves the feeds, stores and write-ahead logs, the
 * worker side ({@link "worker/strategy-run"!StrategyRun | StrategyRun}) acts on each durable candle it hands over.
 *
 * 1. History (the indicators' origin, as in the backtest): for each subscription, the shipped candles plus those the
 *    live store already holds, through the candle pipeline, up to the exchange's now. On a simulator: the live store
 *    alone, from one warm-up page before now (`simulatorHistoryStart`; a continued run keeps its killed part's start);
 *    a store that lacks that start (it holds only another run's later candles) is not used, the backfill fetches it all.
 * 2. Each feed backfills over REST from its last stored candle to now (stored and added to the history, not traded:
 *    warm-up), then follows the WebSocket stream.
 * 3. Every closed candle is appended to its write-ahead log at once and, once durable (fdatasynced) and in order,
 *    added to its history and journaled (see {@link "store/durable-queue"!DurableQueue | DurableQueue}: the feed does
 *    not wait for the fsync, so the log's group commit covers many candles per fdatasync, but nothing acts on a candle
 *    before it is durable); a revision of a candle already acted on (seen when the feed re-reads recent candles over
 *    REST) is stored and, once durable, applied to the history: later decisions use the exchange's final version, and
 *    `npm run diff` explains the one that used the old version.
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
  const { logger } = options;
  const loaded = await loadStrategy(options.file, options.params);
  if (options.realOrders !== undefined && loaded.strategy.canShort) {
    throw new FrameworkError(`--real-orders: strategy "${loaded.strategy.name}" declares canShort = true, but a spot account cannot short; run it without --real-orders`);
  }
  const traded = loaded.subscriptions[0]!;
  const tradedTopic = marketDataTopic(traded);
  const datasetsRoot = options.datasetsRoot ?? 'datasets';
  const storeRoot = options.storeRoot ?? 'live-data';
  const sim = options.simulator;
  // The same command after a SIGKILL continues the killed run: same folder, broker restored from trading.jsonl.
  const run = StrategyRun.open({
    strategy: loaded,
    runsRoot: options.runsRoot ?? 'runs',
    datasetsRoot,
    storeRoot,
    simulated: sim !== undefined,
    // On a simulator the history is the run's live store from one warm-up page back, filled over REST (the feeds'
    // backfill); the simulator's datasets are its data, never read as the run's history.
    shippedHistory: sim === undefined,
    ...(options.staleAfter !== undefined && { staleAfter: options.staleAfter }),
    ...(options.maxCandles !== undefined && { maxCandles: options.maxCandles }),
    ...(options.signal !== undefined && { signal: options.signal }),
    ...(logger !== undefined && { logger }),
  });
  const { killed } = run;
  const byTopic = new Map(run.markets.map((m) => [marketDataTopic(m.subscription), m]));
  const stopping = new AbortController();
  void run.stopped.then(() => stopping.abort());
  // A continued run keeps its killed part's history origin.
  let historyFrom = sim === undefined ? undefined : killed?.header.origin.from;
  let dataEndedAt: number | null = null;
  let started = false;
  let market: MarketData | null = null;
  let executor: OrderExecutor | null = null;
  let reconciliation: ReconciliationLoop | null = null;
  try {
    // Continuing on the in-process simulator: its clock resumes after what the killed run traded (simulator-clock.ts).
    const resume = killed === null ? null : lastClockReading(killed.dir);
    market = await MarketData.open({
      subscriptions: loaded.subscriptions,
      datasetsRoot,
      storeRoot,
      ...(sim !== undefined && { simulator: 'start' in sim && resume !== null ? { ...sim, resume } : sim }),
      // The history (the indicators' origin, as in the backtest) up to the exchange's now: each feed backfills after it.
      feedStart: (subscription, _store, now) => {
        const m = byTopic.get(marketDataTopic(subscription))!;
        if (sim !== undefined) historyFrom ??= simulatorHistoryStart(now, loaded.subscriptions.map((s) => s.timeframe), loaded.strategy.warmup);
        run.loadHistory(m, m.grid.bucketStart(now), historyFrom);
        // A store that holds later candles (another run's on the same simulator) but not the history's start is not the
        // history: it is left empty (the range [from, from) holds no candle) and the backfill fetches it whole from that
        // start; otherwise the indicators would start later than a replay's.
        const first = m.history.batch.openTime[0];
        if (historyFrom !== undefined && first !== undefined && first > historyFrom) run.loadHistory(m, historyFrom, historyFrom);
        return m.history.lastOpenTime ?? (historyFrom === undefined ? null : m.grid.previousOpen(historyFrom));
      },
      // The worker side in this process: each durable candle goes to the run, the next waiting until it is acted on.
      publish: async (topic, message) => {
        const m = byTopic.get(topic)!;
        try {
          if (message.kind === 'revision') m.history.replace(message.candle);
          else await run.take(m, message.candle, message.live, message.arrivedAt);
        } catch (error) {
          run.fail(error); // the candle is stored; the run stops and rethrows it
        }
      },
      dataEndOf: [traded],
      // The in-process simulator's data has ended: once the last traded candle is acted on, stop rather than wait for
      // candles that never come.
      onDataEnded: (last) => {
        // After the candles already handed on: the run's last candle is the one it acted on last.
        void run.chain(async () => {
          dataEndedAt = byTopic.get(tradedTopic)!.history.lastOpenTime ?? last.get(tradedTopic) ?? null;
          await run.stop();
        });
      },
      ...(options.realOrders !== undefined && { credentials: options.realOrders }),
      signal: stopping.signal,
      ...(logger !== undefined && { logger }),
    });
    const marketData = market;
    const simulator = market.simulator;
    if (killed !== null && simulator !== null) logger?.info({ simulatorClock: isoUtc(simulator.clock()) }, 'the in-process simulator resumes');
    const venue = market.trading(traded.exchange);
    const orders = options.realOrders === undefined ? null : new OrderExecutor({ venue: venue!, symbol: traded.symbol, strategy: loaded.strategy.name, dir: run.dir, ...(logger !== undefined && { logger }) });
    executor = orders; // flushed and closed at the stop, below
    // With real orders the paper broker sizes in the market's amount step: every paper quantity is one the exchange fills.
    const amountStep = await orders?.start();
    const { engine } = run.begin({
      strategyKey: strategyKeyOf(loaded.strategy),
      ...(options.broker !== undefined && { broker: options.broker }),
      ...(amountStep !== undefined && { amountStep }),
      ...(orders !== null && { orderListener: orders.listener }),
      // Reconciliation with the exchange account (real orders only): at start, every interval, after every reconnect.
      gate: (paper) => {
        if (orders === null) return paper;
        reconciliation = new ReconciliationLoop({
          exchange: venue!,
          symbol: traded.symbol,
          base: venue!.market(traded.symbol).base,
          broker: paper,
          executor: orders,
          dir: run.dir,
          strategy: loaded.strategy.name,
          ...(options.reconcileIntervalMs !== undefined && { intervalMs: options.reconcileIntervalMs }),
          now: () => marketData.exchangeNow(),
          reconnects: () => [...marketData.status().values()].reduce((n, s) => n + s.reconnects, 0),
          ...(logger !== undefined && { logger }),
        });
        return reconciliation.gate(paper);
      },
      beforeCandle: async () => {
        await (reconciliation as ReconciliationLoop | null)?.beforeCandle(); // after a reconnect: reconciled before the next candle is acted on
      },
      afterCandle: async () => {
        // Write-ahead: the candle's exchange orders go out once the paper decisions behind them are durable, and are
        // answered (and journaled) before the next candle is acted on.
        await orders?.flush();
        options.onStatus?.(marketData.status().get(tradedTopic)!, engine.signals.length, simulator?.stats.faults, reconciliation?.blocked());
      },
    });
    if (orders !== null && killed !== null) {
      // What the killed run checkpointed on paper but may not have sent, before the first reconciliation.
      orders.catchUp(killed.events);
      await orders.flush();
    }
    // A new run on a simulator has its history still to fetch: from `historyFrom`, or the in-process simulator's first
    // candle when its data starts later.
    run.startJournal({
      ...(historyFrom !== undefined && { from: historyFrom, firstCandle: Math.max(historyFrom, market.firstSimulated(traded) ?? -Infinity) }),
    });
    // A stop (Ctrl-C, the data's end) also ends a start still waiting for the exchange.
    await market.startFeeds();
    started = true;
    // The first pass before the first live candle is acted on (candles wait for it in the chain), then every interval.
    await (reconciliation as ReconciliationLoop | null)?.start((task) => run.chain(task));
    await Promise.race([run.stopped, market.failed()]);
  } catch (error) {
    run.fail(error);
  } finally {
    run.stop();
    await (reconciliation as ReconciliationLoop | null)?.stop();
    await market?.stopFeeds();
    await run.idle();
    // Before the report: its close at the stop is not an exchange order.
    await executor?.flush().catch(() => undefined); // a failure was raised by the drain already
    executor?.close();
    await market?.stop();
  }
  const failure = run.failure;
  if (failure !== null && !started) {
    // A start that failed (exchange unreachable, unknown market) leaves no new run folder behind (a killed run's stays,
    // to be continued later), and its error names the market.
    run.abandon();
    const cause = failure.error instanceof MarketDataStartError ? failure.error.cause : failure.error;
    if (cause instanceof FrameworkError) throw cause;
    throw new FrameworkError(`${describeSubscription(traded)}: the live run could not start: ${messageOf(cause)}`, { cause });
  }
  const feed = market!.status().get(tradedTopic)!;
  const { summary, dir, liveCandles } = await run.finish();
  return { summary, dir, engine: run.engine, broker: run.broker, liveCandles, feed, dataEndedAt };
}
