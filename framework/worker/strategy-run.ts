/**
 * A strategy's live run: the worker side of `npm run live` ({@link "node/live"!runLive | runLive}) and of every
 * trading-node worker ({@link "node/worker"!runStrategyWorker | runStrategyWorker}). It owns the run folder (a new
 * one, or a killed run's continued), the paper broker (restored from the killed run's trading journal), the engine,
 * the journals, the per-candle loop ({@link "engine/traded-candles"!tradedCandleDrain | tradedCandleDrain}) and the
 * report at the stop. Where the candles come from (runLive: its market data in the same process; a node worker: the
 * bus, sequenced) and what surrounds each candle (real orders, reconciliation, a status line, a snapshot) are the
 * caller's.
 *
 * A run goes through these steps, in order: {@link StrategyRun.open} (the folder), {@link StrategyRun.loadHistory}
 * per subscription, {@link StrategyRun.begin} (broker, engine, trading journal), {@link StrategyRun.startJournal}
 * (`run.json` or the continued journal), {@link StrategyRun.take} for every durable candle, then
 * {@link StrategyRun.finish} (or {@link StrategyRun.abandon} when it never started).
 *
 * @module
 */
import { rmSync } from 'node:fs';
import { brokerConfig, type BrokerConfig } from '../broker/broker-config';
import type { OrderListener } from '../broker/orders';
import { PaperBroker } from '../broker/paper-broker';
import { allocateBatch, type StoredCandle } from '../core/candle';
import { messageOf } from '../core/errors';
import type { Logger } from '../core/logger';
import { describeSubscription, type Subscription } from '../core/subscription';
import { timeframeGrid, type TimeframeGrid } from '../core/timeframe';
import { isoUtc } from '../core/time';
import { Engine } from '../engine/engine';
import { CandleHistory } from '../engine/history';
import { writeReport } from '../engine/live-report';
import { checkStaleAfter, DEFAULT_STALE_AFTER } from '../engine/stale';
import { tradedCandleDrain, type TradedCandle } from '../engine/traded-candles';
import type { GatedBroker } from '../execution/reconcile-loop';
import { loadHistory } from '../feeds/history';
import { RunJournal } from '../report/journal';
import type { RunSummary } from '../report/run-summary';
import { createRunDir } from '../report/run-writer';
import { TradingJournal } from '../report/trading-journal';
import { findUnfinishedRun, type UnfinishedRun } from '../report/unfinished-run';
import type { LoadedStrategy } from '../strategy/loader';
import { storedSubscription } from '../store/live-store';
import { hashParameters } from '../strategy/parameters';

/** Options of {@link StrategyRun.open}. Times are UTC epoch ms. */
export interface StrategyRunOptions {
  readonly strategy: LoadedStrategy;
  /** The folder of the strategy's run folders (`runs`, or a node strategy's `runs/<id>`). */
  readonly runsRoot: string;
  /** The shipped candle store, journaled in `run.json` (`npm run diff` compares the run with it). */
  readonly datasetsRoot: string;
  /** The live candle store the run's candles are durable in (read only here). */
  readonly storeRoot: string;
  /** Whether the exchange is the project's simulator: the live candles are stored under the exchange id `sim`. */
  readonly simulated: boolean;
  /**
   * Whether the shipped dataset is part of the history. Yes on an exchange; on the simulator `npm run live` keeps its
   * history to the live store (the datasets are the simulator's data), the trading node's workers still read it.
   */
  readonly shippedHistory: boolean;
  /** The stale rule's limit, in timeframes (default 1; see `LiveOptions.staleAfter`). */
  readonly staleAfter?: number;
  /** Stop by itself after this many traded candles acted on. */
  readonly maxCandles?: number;
  /** Aborting it stops the run: no candle is acted on after the current one. */
  readonly signal?: AbortSignal;
  /** Prefixes the run's log lines (a node worker's id and a colon). */
  readonly logPrefix?: string;
  readonly logger?: Logger;
}

/** One subscription of the run: the traded one first, then the informative ones. */
export interface RunMarket {
  readonly subscription: Subscription;
  readonly grid: TimeframeGrid;
  /** Loaded by {@link StrategyRun.loadHistory}, then extended by {@link StrategyRun.take}. */
  history: CandleHistory;
}

/** What acting on candles needs beside the strategy (see {@link StrategyRun.begin}). Money in the quote currency. */
export interface StrategyRunSetup {
  /** The key of the broker's client order ids (`strategyKeyOf`, prefixed by a node strategy's id). */
  readonly strategyKey: string;
  /** Paper broker settings; unset fields take the defaults. */
  readonly broker?: Partial<BrokerConfig>;
  /** With real orders: the market's amount step (base currency), so that every paper quantity is one the exchange fills. */
  readonly amountStep?: number;
  /** Told every order event of the broker (real orders: what sends them to the exchange). */
  readonly orderListener?: OrderListener;
  /** The broker as the engine drives it, e.g. entries blocked while reconciliation finds a mismatch; default itself. */
  readonly gate?: (broker: PaperBroker) => GatedBroker;
  /** Before each traded candle is acted on (see `TradedCandleDrainOptions.beforeCandle`). */
  readonly beforeCandle?: () => Promise<void>;
  /** After each traded candle's checkpoint (see `TradedCandleDrainOptions.afterCandle`). */
  readonly afterCandle?: () => Promise<void> | void;
}

/** Where a new run's history starts, journaled in `run.json` for `npm run diff` (UTC epoch ms). */
export interface RunHistoryOrigin {
  /** The traded subscription's first candle of the history, when the history does not hold it yet. */
  readonly firstCandle?: number;
  /** The history's inclusive lower bound on open times, when it has one. */
  readonly from?: number;
}

/** How a run ended: its folder, its summary (null when it acted on no candle) and the candles it acted on. */
export interface StrategyRunResult {
  readonly dir: string;
  readonly summary: RunSummary | null;
  readonly liveCandles: readonly StoredCandle[];
}

/** See the module description. */
export class StrategyRun {
  /** The run's folder: `runs/<run-id>/`. */
  readonly dir: string;
  readonly runId: string;
  /** The killed run this one continues, or null for a new run. */
  readonly killed: UnfinishedRun | null;
  /** The traded subscription first, then the informative ones. */
  readonly markets: readonly RunMarket[];
  /** The traded candles acted on, in order (each exactly once). */
  readonly liveCandles: StoredCandle[] = [];
  /** Resolves once the run is stopping (see {@link StrategyRun.stop}). */
  readonly stopped: Promise<void>;
  readonly #options: StrategyRunOptions;
  readonly #startedAt = Date.now();
  readonly #staleAfter: number;
  readonly #pending: TradedCandle[] = [];
  #running = true;
  #resolveStopped: () => void = () => undefined;
  #draining: Promise<void> = Promise.resolve();
  #drain: () => Promise<void> = async () => undefined;
  #failure: { readonly error: unknown } | null = null;
  #setup: StrategyRunSetup | null = null;
  #broker: PaperBroker | null = null;
  #engine: Engine | null = null;
  #trading: TradingJournal | null = null;
  #journal: RunJournal | null = null;
  #exposedBefore = 0;

  private constructor(options: StrategyRunOptions, staleAfter: number, killed: UnfinishedRun | null, run: { readonly runId: string; readonly dir: string }) {
    this.#options = options;
    this.#staleAfter = staleAfter;
    this.killed = killed;
    this.runId = run.runId;
    this.dir = run.dir;
    this.markets = options.strategy.subscriptions.map((subscription) => ({
      subscription,
      grid: timeframeGrid(subscription.timeframe),
      history: new CandleHistory(allocateBatch(0)),
    }));
    this.stopped = new Promise<void>((resolve) => (this.#resolveStopped = resolve));
    options.signal?.addEventListener('abort', () => this.stop(), { once: true });
    if (options.signal?.aborted === true) this.stop();
  }

  /**
   * Finds the strategy's unfinished run (same strategy, parameters and market, on the same exchange or simulator:
   * continued in its folder) or creates a new run folder.
   *
   * @throws {@link "core/errors"!FrameworkError | FrameworkError} for a bad `staleAfter`; the errors of
   *   `findUnfinishedRun` for a damaged trading journal, of the file system for a folder that cannot be created.
   */
  static open(options: StrategyRunOptions): StrategyRun {
    const { strategy } = options.strategy;
    const staleAfter = checkStaleAfter(options.staleAfter ?? DEFAULT_STALE_AFTER);
    const traded = options.strategy.subscriptions[0]!;
    const killed = findUnfinishedRun(options.runsRoot, {
      name: strategy.name,
      parametersHash: hashParameters({ ...strategy.params }),
      subscription: traded,
      stored: storedSubscription(traded, options.simulated),
    });
    const run = killed === null ? createRunDir(options.runsRoot, strategy.name) : { runId: killed.header.runId, dir: killed.dir };
    return new StrategyRun(options, staleAfter, killed, run);
  }

  /** Whether the run still acts on candles (false once stopping). */
  get running(): boolean {
    return this.#running;
  }

  /** The broker, from {@link StrategyRun.begin} on. */
  get broker(): PaperBroker {
    return this.#started().broker;
  }

  /** The engine, from {@link StrategyRun.begin} on. */
  get engine(): Engine {
    return this.#started().engine;
  }

  /** Whether {@link StrategyRun.startJournal} has run. */
  get journaling(): boolean {
    return this.#journal !== null;
  }

  /** Stops the run: the candle being acted on is finished, no later one is acted on. */
  stop(): void {
    this.#running = false;
    this.#resolveStopped();
  }

  /**
   * Loads `market`'s history: the shipped dataset (see {@link StrategyRunOptions.shippedHistory}) plus the live store,
   * through the candle pipeline, open times in `[from, to)`.
   *
   * @throws the store's errors (e.g. `CorruptDataError`) when it cannot be read.
   */
  loadHistory(market: RunMarket, to: number, from?: number): void {
    const { datasetsRoot, storeRoot, shippedHistory, simulated } = this.#options;
    const location = { root: storeRoot, subscription: storedSubscription(market.subscription, simulated) };
    market.history = new CandleHistory(loadHistory(shippedHistory ? datasetsRoot : null, market.subscription, location, to, from));
  }

  /**
   * Creates the broker (a continued run's restored from the last checkpoint of its `trading.jsonl`: position, stops,
   * pending orders, earlier trades), the engine and the trading journal.
   */
  begin(setup: StrategyRunSetup): { readonly broker: PaperBroker; readonly engine: Engine } {
    const { strategy: loaded, logger } = this.#options;
    const [traded, ...informative] = loaded.subscriptions as [Subscription, ...Subscription[]];
    const config = { strategyKey: setup.strategyKey, ...brokerConfig({ ...(setup.amountStep !== undefined && { amountStep: setup.amountStep }), ...setup.broker }) };
    const broker = this.killed === null ? new PaperBroker(config) : PaperBroker.restore(config, this.killed.state, this.killed);
    // A continued run's report covers the continued part: its exposure counts from here (the restored count is the killed part's).
    this.#exposedBefore = broker.exposedCandles;
    if (setup.orderListener !== undefined) broker.addOrderListener(setup.orderListener);
    if (this.killed !== null) {
      logger?.warn({ run: this.killed.dir, lastCandle: isoUtc(this.killed.state.lastTime), position: this.killed.state.position }, `${this.#prefix}continuing a killed run`);
    }
    this.#setup = setup;
    this.#broker = broker;
    this.#engine = new Engine({ strategy: loaded.strategy, broker: setup.gate?.(broker) ?? broker, file: loaded.file, subscription: traded, informative });
    this.#trading = TradingJournal.open(this.dir, broker);
    return { broker, engine: this.#engine };
  }

  /**
   * Opens the candle and signal journal: a continued run's, cut after its last checkpointed candle, or a new run's
   * `run.json` with its history's origin (`origin.firstCandle` when the traded history is still empty). From here on,
   * {@link StrategyRun.take} acts on live traded candles.
   *
   * @throws the file system's errors when the journal cannot be written.
   */
  startJournal(origin: RunHistoryOrigin = {}): void {
    const { broker, engine, trading } = this.#started();
    const setup = this.#setup!;
    const { strategy: loaded, logger, datasetsRoot, storeRoot, simulated } = this.#options;
    const traded = this.markets[0]!;
    logger?.info(
      { candles: traded.history.length, last: traded.history.lastOpenTime === null ? null : isoUtc(traded.history.lastOpenTime), run: this.dir },
      `${this.#prefix}history for ${describeSubscription(traded.subscription)} loaded`,
    );
    const journal =
      this.killed !== null
        ? RunJournal.resume(this.dir, this.killed.state.lastTime)
        : RunJournal.create(this.dir, {
            runId: this.runId,
            mode: 'live',
            file: loaded.file,
            strategy: engine.identity,
            subscription: traded.subscription,
            origin: {
              firstCandle: traded.history.batch.openTime[0] ?? origin.firstCandle ?? Number.NaN,
              datasetsRoot,
              store: { root: storeRoot, subscription: storedSubscription(traded.subscription, simulated) },
              ...(origin.from !== undefined && { from: origin.from }),
            },
            startedAt: this.#startedAt,
            staleAfter: this.#staleAfter,
            broker: broker.config,
          });
    this.#journal = journal;
    this.#drain = tradedCandleDrain({
      engine,
      journal,
      trading,
      markets: this.markets,
      pending: this.#pending,
      acted: this.liveCandles,
      staleAfter: this.#staleAfter,
      ...(this.#options.maxCandles !== undefined && { maxCandles: this.#options.maxCandles }),
      running: () => this.#running,
      resumedAfter: this.killed?.state.lastTime ?? null,
      stop: () => this.stop(),
      ...(setup.beforeCandle !== undefined && { beforeCandle: setup.beforeCandle }),
      ...(setup.afterCandle !== undefined && { afterCandle: setup.afterCandle }),
      logPrefix: this.#prefix,
      ...(logger !== undefined && { logger }),
    });
  }

  /**
   * Takes one durable candle of `market`, in open-time order: into its history; then, when `live` and the run is
   * running, a traded candle (after a continued run's last) is queued to be acted on and an informative one journaled,
   * and the queue is drained. `arrivedAt` is the exchange time (UTC epoch ms) it was durable at. Returns the drain
   * (it never rejects: a failure stops the run and is rethrown by {@link StrategyRun.finish}).
   *
   * @throws the history's errors for a candle out of order.
   */
  take(market: RunMarket, candle: StoredCandle, live: boolean, arrivedAt: number): Promise<void> {
    market.history.append(candle);
    if (!live || !this.#running) return this.#draining;
    if (market === this.markets[0]) {
      if (candle.openTime > (this.killed?.state.lastTime ?? Number.NEGATIVE_INFINITY)) this.#pending.push({ candle, arrivedAt });
    } else {
      this.#journal!.recordCandle({ ...candle, arrivedAt }, describeSubscription(market.subscription));
    }
    return this.chain(this.#drain);
  }

  /**
   * Runs `task` after every candle and task chained before (e.g. a reconciliation pass between two candles). A task
   * that throws stops the run; its error is rethrown by {@link StrategyRun.finish}.
   */
  chain(task: () => Promise<void>): Promise<void> {
    this.#draining = this.#draining.then(task).catch((error: unknown) => this.fail(error));
    return this.#draining;
  }

  /** Fails the run with `error` (the first failure wins; rethrown by {@link StrategyRun.finish}) and stops it. */
  fail(error: unknown): void {
    this.#failure ??= { error };
    this.stop();
  }

  /** The run's failure so far, or null. */
  get failure(): { readonly error: unknown } | null {
    return this.#failure;
  }

  /** Resolves once the candles and tasks chained so far are done (never rejects). */
  idle(): Promise<void> {
    return this.#draining;
  }

  /**
   * Ends the run: once the candle under way is acted on, writes the report (the position closed at the last candle
   * acted on, as in the backtest) to the run folder and the trading journal's last checkpoint, and closes the
   * journals; a new run that never journaled leaves no folder behind. `onReport` is called with the summary once the
   * report and the checkpoint are written (also when the run failed).
   *
   * @throws the run's failure (after its report is written, when it acted on candles); the report's errors.
   */
  async finish(onReport?: (summary: RunSummary) => Promise<void>): Promise<StrategyRunResult> {
    this.stop();
    await this.#draining;
    const { logger } = this.#options;
    const failure = this.#failure;
    let summary: RunSummary | null = null;
    try {
      if (this.liveCandles.length > 0) {
        summary = await writeReport(this.dir, this.runId, this.#startedAt, this.engine, this.broker, this.markets, this.liveCandles, this.#exposedBefore);
      }
    } catch (error) {
      if (failure === null) throw error;
      logger?.error({ err: messageOf(error) }, `${this.dir}: the report could not be written either`);
    }
    // The close at the stop (the report's) is the trading journal's last checkpoint.
    if (summary !== null) {
      this.#trading!.checkpoint(summary.lastCandle);
      await onReport?.(summary);
    }
    this.#close();
    if (this.#journal === null) this.#discard();
    if (failure !== null) {
      // A run that failed while running (a strategy that throws) still leaves its summary and report.
      if (summary !== null) logger?.error({ run: this.dir }, `${this.#prefix}the run failed after ${this.liveCandles.length} live candles; their report is in ${this.dir}`);
      throw failure.error;
    }
    return { dir: this.dir, summary, liveCandles: this.liveCandles };
  }

  /** Ends a run that never started (its exchange unreachable): closes the journals; a new run leaves no folder behind. */
  abandon(): void {
    this.stop();
    this.#close();
    this.#discard();
  }

  get #prefix(): string {
    return this.#options.logPrefix ?? '';
  }

  #started(): { readonly broker: PaperBroker; readonly engine: Engine; readonly trading: TradingJournal } {
    if (this.#broker === null || this.#engine === null || this.#trading === null) throw new Error('StrategyRun.begin has not run');
    return { broker: this.#broker, engine: this.#engine, trading: this.#trading };
  }

  #close(): void {
    this.#trading?.close();
    this.#journal?.close();
  }

  /** A new run's folder is removed (a killed run's stays, to be continued later). */
  #discard(): void {
    if (this.killed === null) rmSync(this.dir, { recursive: true, force: true });
  }
}
