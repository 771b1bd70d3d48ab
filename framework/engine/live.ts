import { brokerConfig, type BrokerConfig } from '../broker/broker-config';
import { PaperBroker } from '../broker/paper-broker';
import type { StoredCandle } from '../core/candle';
import type { Logger } from '../core/logger';
import { describeSubscription, type Subscription } from '../core/subscription';
import { timeframeToMs } from '../core/timeframe';
import { isoUtc } from '../core/time';
import { loadHistory } from '../feeds/history';
import { createExchange } from '../feeds/live/exchange';
import { LiveFeed, type LiveFeedStatus } from '../feeds/live/live-feed';
import { computeMetrics } from '../report/metrics';
import type { RunSummary } from '../report/run-summary';
import { RunJournal } from '../report/journal';
import { createRunDir, writeRunArtifacts } from '../report/run-writer';
import type { FaultConfig } from '../sim/config';
import { startSimulator, type Simulator } from '../sim/simulator';
import { LiveCandleStore } from '../store/live-store';
import { readDataset } from '../store/partitions';
import { loadStrategy } from '../strategy/loader';
import { Engine } from './engine';
import { CandleHistory } from './history';

/** The simulator a live run starts in-process instead of connecting to a real exchange. */
export interface SimulatorOptions {
  /** Exchange time at which the simulator starts playing, UTC epoch ms; earlier candles are history. */
  readonly start: number;
  /** Exchange ms per real ms (600 plays a 15m candle in 1.5 s). */
  readonly speed: number;
  /** Faults to inject; none by default. */
  readonly faults?: FaultConfig;
}

/** What to run live and how. Times are UTC epoch ms; money in the quote currency. */
export interface LiveOptions {
  /** The strategy plugin, e.g. `strategies/macd.ts`. */
  readonly file: string;
  /** Parameter overrides as strings (`--param fast=10`). */
  readonly params?: Readonly<Record<string, string>>;
  /** Run against the project's exchange simulator on 127.0.0.1 instead of the subscription's exchange. */
  readonly simulator?: SimulatorOptions;
  /** The shipped candle store (read only): the history the run starts from; default `datasets`. */
  readonly datasetsRoot?: string;
  /** Where live candles are stored (write-ahead log + monthly Parquet partitions); default `live-data`. */
  readonly storeRoot?: string;
  /** Where the run folder is created; default `runs`. */
  readonly runsRoot?: string;
  /** Paper broker settings; unset fields take the defaults. */
  readonly broker?: Partial<BrokerConfig>;
  /** Stop by itself after this many live closed candles (default: run until `signal` aborts). */
  readonly maxCandles?: number;
  /** Aborting it stops the run cleanly (SIGINT in the CLI). */
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  /** Called after every live closed candle with the feed's status and the number of signals so far. */
  readonly onStatus?: (status: LiveFeedStatus, signals: number) => void;
}

/** The outcome of a live run. `summary` is null when no live candle closed before the stop. */
export interface LiveResult {
  readonly summary: RunSummary | null;
  /** The run's folder: `run.json`, `candles.jsonl` and `signals.jsonl` (the journal), and at the stop the report. */
  readonly dir: string;
  readonly engine: Engine;
  readonly broker: PaperBroker;
  /** The candles the run acted on, in order (each exactly once). */
  readonly liveCandles: readonly StoredCandle[];
  readonly feed: LiveFeedStatus;
  readonly simulator: Simulator | null;
}

/**
 * Runs a strategy live with paper trading: the same engine and broker as the backtest, fed by the live feed.
 *
 * 1. History (the indicators' origin, as in the backtest): the shipped candles of the subscription plus those the live
 *    store already holds, through the candle pipeline, up to the exchange's now.
 * 2. The feed backfills over REST from the last stored candle to now (stored and added to the history, not traded:
 *    this is warm-up), then follows the WebSocket stream.
 * 3. Each closed candle is appended to the write-ahead log and fsynced, added to the history, and only then handed to
 *    the engine, which recomputes the indicators over the whole history and calls `onData` for that candle.
 * 4. On stop: the feed and sockets are closed, the log is compacted into Parquet, the run is written to `runs/<run-id>/`.
 *
 * With {@link LiveOptions.simulator} the exchange is the project's simulator playing the subscription's dataset, and
 * live candles are stored under the exchange id `sim` so they never mix with real exchange data.
 *
 * @throws the loader's errors for a bad strategy, {@link DatasetNotFoundError} when the simulator has no dataset to
 *   play, {@link LiveFeedError} when the feed cannot start (unknown market, exchange unreachable after retries).
 */
export async function runLive(options: LiveOptions): Promise<LiveResult> {
  const startedAt = Date.now();
  const logger = options.logger;
  const loaded = await loadStrategy(options.file, options.params);
  const subscription = loaded.subscriptions[0]!;
  const datasetsRoot = options.datasetsRoot ?? 'datasets';
  const simulator = options.simulator === undefined ? null : await startSim(datasetsRoot, subscription, options.simulator);
  const exchange = createExchange(
    subscription.exchange,
    simulator === null ? {} : { urls: simulator, enableRateLimit: false },
  );
  const stored: Subscription = simulator === null ? subscription : { ...subscription, exchange: 'sim' };
  const store = LiveCandleStore.open(options.storeRoot ?? 'live-data', stored);
  const broker = new PaperBroker(brokerConfig(options.broker));
  const engine = new Engine({ strategy: loaded.strategy, broker, file: options.file, subscription });
  const liveCandles: StoredCandle[] = [];
  let feed: LiveFeed | null = null;
  let journal: RunJournal | null = null;
  const { runId, dir } = createRunDir(options.runsRoot ?? 'runs', loaded.strategy.name);
  try {
    const now = await exchange.fetchTime();
    const closedBefore = (now ?? Date.now()) - timeframeToMs(subscription.timeframe) + 1;
    const history = new CandleHistory(
      loadHistory(datasetsRoot, subscription, { root: store.root, subscription: stored }, closedBefore),
    );
    logger?.info(
      { candles: history.length, last: history.lastOpenTime === null ? null : isoUtc(history.lastOpenTime), run: dir },
      `history for ${describeSubscription(subscription)} loaded`,
    );
    journal = RunJournal.create(dir, {
      runId,
      mode: 'live',
      file: options.file,
      strategy: engine.identity,
      subscription,
      origin: {
        firstCandle: history.batch.openTime[0] ?? Number.NaN,
        datasetsRoot,
        store: { root: store.root, subscription: stored },
      },
      startedAt,
    });
    const runJournal = journal;
    let warmingUp = true;
    const stopped = new Promise<void>((resolve) => {
      options.signal?.addEventListener('abort', () => resolve(), { once: true });
      if (options.signal?.aborted === true) resolve();
      feed = new LiveFeed({
        exchange,
        subscription,
        lastStoredOpenTime: history.lastOpenTime,
        clockRate: simulator === null ? 1 : options.simulator!.speed,
        // The simulator sends a few frames per candle rather than Binance's one every ~2 s: allow two candles of silence.
        ...(simulator !== null && { silenceTimeoutMs: 2 * timeframeToMs(subscription.timeframe) }),
        ...(logger !== undefined && { logger }),
        onCandle: async (candle) => {
          if (history.lastOpenTime !== null && candle.openTime <= history.lastOpenTime) return;
          await store.append(candle);
          history.append(candle);
          if (warmingUp) return;
          liveCandles.push(candle);
          runJournal.recordCandle(candle);
          const record = await engine.onClosedCandle(history.batch);
          if (record !== null) {
            runJournal.recordSignal(record);
            logger?.info({ openTime: isoUtc(record.openTime), signal: record.signal, acted: record.acted }, 'signal');
          }
          options.onStatus?.(feed!.status(), engine.signals.length);
          if (options.maxCandles !== undefined && liveCandles.length >= options.maxCandles) resolve();
        },
      });
    });
    store.compactEvery({ candles: 1_000 });
    await feed!.start();
    warmingUp = false;
    await Promise.race([stopped, feed!.finished]);
  } finally {
    await (feed as LiveFeed | null)?.stop();
    (journal as RunJournal | null)?.close();
    await exchange.close();
    await store.close();
    await simulator?.stop();
  }
  const status = (feed as LiveFeed | null)!.status();
  if (liveCandles.length === 0) {
    return { summary: null, dir, engine, broker, liveCandles, feed: status, simulator };
  }
  const last = liveCandles[liveCandles.length - 1]!;
  broker.closeAll(last);
  const curve = broker.equityCurve;
  const finishedAt = Date.now();
  const summary: RunSummary = {
    runId,
    mode: 'live',
    strategy: { name: loaded.strategy.name, parameters: { ...loaded.strategy.params } },
    subscription,
    timeframe: subscription.timeframe,
    firstCandle: liveCandles[0]!.openTime,
    lastCandle: last.openTime,
    candles: liveCandles.length,
    broker: broker.config,
    metrics: computeMetrics({
      equity: curve.equity,
      time: curve.time,
      timeframe: subscription.timeframe,
      trades: broker.trades,
      firstOpen: liveCandles[0]!.open,
      lastClose: last.close,
      exposedCandles: broker.exposedCandles,
    }),
    startedAt,
    finishedAt,
    durationMs: finishedAt - startedAt,
  };
  writeRunArtifacts(dir, { summary, trades: broker.trades, equity: curve });
  return { summary, dir, engine, broker, liveCandles, feed: status, simulator };
}

async function startSim(root: string, subscription: Subscription, options: SimulatorOptions): Promise<Simulator> {
  return startSimulator({
    markets: [{ symbol: subscription.symbol, timeframe: subscription.timeframe, candles: readDataset(root, subscription) }],
    startTime: options.start,
    speed: options.speed,
    ...(options.faults !== undefined && { faults: options.faults }),
  });
}
