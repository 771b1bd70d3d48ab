import { brokerConfig, strategyKeyOf, type BrokerConfig } from '../broker/broker-config';
import { PaperBroker } from '../broker/paper-broker';
import { batchLength, candleAt, type CandleBatch } from '../core/candle';
import { DatasetNotFoundError } from '../core/errors';
import type { Logger } from '../core/logger';
import { describeSubscription, type Subscription } from '../core/subscription';
import { isoUtc } from '../core/time';
import { replayCandles } from '../feeds/replay';
import { DEFAULT_MAX_GAP, enforceGapPolicy, isKnownGap } from '../pipeline/gap-policy';
import { describeGap, findGaps } from '../pipeline/gaps';
import { KNOWN_GAPS_FILE, readKnownGaps } from '../store/known-gaps';
import { readDataset } from '../store/partitions';
import { computeMetricsAndMoments, type Metrics, type MetricsAndMoments } from '../report/metrics';
import type { RunSummary } from '../report/run-summary';
import { writeHtmlReport } from '../report/html-report';
import { writeRunHeader, type RunOrigin } from '../report/journal';
import { createRunDir, writeRunArtifacts, type RunFiles } from '../report/run-writer';
import { loadStrategy } from '../strategy/loader';
import type { BaseStrategy } from '../strategy/base-strategy';
import type { FrameColumns } from '../strategy/frame';
import { Engine, type InformativeCandles } from './engine';

/** What to backtest and how. Times are UTC epoch ms; money in the quote currency. */
export interface BacktestOptions {
  /** The strategy plugin, e.g. `strategies/macd.ts`. */
  readonly file: string;
  /** Parameter overrides as strings (`--param fast=10`). */
  readonly params?: Readonly<Record<string, string>>;
  /** Root of the candle store; default `datasets`. */
  readonly datasetsRoot?: string;
  /** Where run folders are created; default `runs`. */
  readonly runsRoot?: string;
  /** First candle open time to include (inclusive). */
  readonly from?: number;
  /** Open time to stop before (exclusive). */
  readonly to?: number;
  /** Paper broker settings; unset fields take {@link "broker/broker-config"!DEFAULT_BROKER_CONFIG | DEFAULT_BROKER_CONFIG}'s. */
  readonly broker?: Partial<BrokerConfig>;
  /** Progress and warnings. */
  readonly logger?: Logger;
  /** Called as candles are processed, with (done, total). */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * The most missing candles a gap in the traded candles may have, unless it lies inside a known exchange outage
   * (`<datasets>/<exchange>/known-gaps.json`); default {@link DEFAULT_MAX_GAP}. A longer gap stops the backtest
   * before anything is written.
   */
  readonly maxGap?: number;
}

/** The outcome of a backtest: its summary, where its files are, and the engine's journal. */
export interface BacktestResult {
  readonly summary: RunSummary;
  readonly dir: string;
  readonly files: RunFiles;
  /** The run's HTML report (`report.html`). */
  readonly report: string;
  readonly engine: Engine;
  readonly broker: PaperBroker;
  /** The strategy as loaded (its state after the run). */
  readonly strategy: BaseStrategy;
  /** The candles replayed, oldest first, and each informative subscription's (keyed as the engine expects). */
  readonly candles: CandleBatch;
  readonly informative: InformativeCandles;
  /** Every frame column of the run (OHLCV, `open_time`, indicators, informative columns). */
  readonly indicators: FrameColumns;
}

/**
 * Runs a backtest: loads the strategy, replays its first subscription's stored candles through the candle pipeline,
 * computes indicators once, steps every candle through the engine and the paper broker (a signal on candle t fills at
 * the open of t + 1), closes any open position at the last close, computes the metrics and writes
 * `run.json`, `summary.json`, `trades.parquet`, `signals.parquet`, `equity.parquet` and `report.html` to `runs/<run-id>/`.
 *
 * @throws {@link "core/errors"!StrategyLoadError | StrategyLoadError} /
 *   {@link "core/errors"!StrategyRuntimeError | StrategyRuntimeError} /
 *   {@link "core/errors"!LookaheadError | LookaheadError} naming the strategy file; {@link DatasetNotFoundError} when
 *   the dataset is missing or the range holds no candles (naming the dataset's span);
 *   {@link "pipeline/gap-policy"!GapError | GapError} for an unknown gap longer than `maxGap`;
 *   {@link "core/errors"!CorruptDataError | CorruptDataError} for an unreadable partition. Stored data is only read, never changed.
 */
export async function runBacktest(options: BacktestOptions): Promise<BacktestResult> {
  const startedAt = Date.now();
  const config = brokerConfig(options.broker);
  const loaded = await loadStrategy(options.file, options.params);
  const subscription = loaded.subscriptions[0]!;
  const range = {
    ...(options.from !== undefined && { from: options.from }),
    ...(options.to !== undefined && { to: options.to }),
    ...(options.logger !== undefined && { logger: options.logger }),
  };
  const datasetsRoot = options.datasetsRoot ?? 'datasets';
  const candles = replayCandles(datasetsRoot, subscription, range);
  const informativeSubscriptions = loaded.subscriptions.slice(1);
  const informative = new Map(
    informativeSubscriptions.map((s) => [describeSubscription(s), replayCandles(datasetsRoot, s, range)]),
  );
  const total = batchLength(candles);
  if (total === 0) throw emptyRange(datasetsRoot, subscription, options.from, options.to);
  const known = readKnownGaps(datasetsRoot, subscription.exchange);
  const gaps = findGaps(candles.openTime, subscription.timeframe);
  for (const gap of gaps.filter((g) => isKnownGap(g, subscription.timeframe, known))) {
    options.logger?.warn(`${describeSubscription(subscription)}: ${describeGap(gap)}, a known exchange outage (${KNOWN_GAPS_FILE}): accepted`);
  }
  enforceGapPolicy(gaps, subscription.timeframe, known, options.maxGap ?? DEFAULT_MAX_GAP, describeSubscription(subscription));
  options.logger?.info({ candles: total, from: isoUtc(candles.openTime[0]!) }, `replaying ${describeSubscription(subscription)}`);

  const broker = new PaperBroker({ strategyKey: strategyKeyOf(loaded.strategy), ...config });
  const engine = new Engine({
    strategy: loaded.strategy,
    broker,
    file: options.file,
    subscription,
    informative: informativeSubscriptions,
  });
  const indicators = await engine.replay(candles, {
    informative,
    ...(options.onProgress !== undefined && { onProgress: (done: number) => options.onProgress!(done, total) }),
  });
  options.onProgress?.(total, total);
  const { dir, summary } = closeBacktestRun({
    file: options.file,
    strategy: loaded.strategy,
    subscription,
    candles,
    engine,
    broker,
    runsRoot: options.runsRoot ?? 'runs',
    origin: {
      firstCandle: candles.openTime[0]!,
      datasetsRoot,
      store: null,
      ...(options.from !== undefined && { from: options.from }),
      ...(options.to !== undefined && { to: options.to }),
    },
    startedAt,
  });
  const files = await writeRunArtifacts(dir, {
    summary,
    trades: broker.trades,
    signals: engine.journal,
    equity: broker.equityCurve,
  });
  const report = writeHtmlReport(dir, {
    summary,
    candles,
    indicators,
    trades: broker.trades,
    signals: engine.journal.outcomes(),
    equity: broker.equityCurve,
  });
  return { summary, dir, files, report, engine, broker, strategy: loaded.strategy, candles, informative, indicators };
}

/** The error for a range without candles: why (from not before to, or outside the data) and what span exists. */
function emptyRange(root: string, subscription: Subscription, from: number | undefined, to: number | undefined): DatasetNotFoundError {
  const what = describeSubscription(subscription);
  const stored = readDataset(root, subscription);
  const n = batchLength(stored);
  const span = n === 0 ? 'no candles at all' : `candles from ${isoUtc(stored.openTime[0]!)} to ${isoUtc(stored.openTime[n - 1]!)}`;
  const asked = `${from === undefined ? 'the start' : isoUtc(from)} to ${to === undefined ? 'the end' : isoUtc(to)}`;
  const why = from !== undefined && to !== undefined && from >= to ? ': --from is not before --to' : '';
  return new DatasetNotFoundError(`no candles for ${what} from ${asked}${why}; the dataset has ${span}`);
}

/** What {@link closeBacktestRun} needs: the replay just finished, and where its run goes. */
export interface FinishedReplay {
  readonly file: string;
  readonly strategy: BaseStrategy;
  readonly subscription: Subscription;
  /** The candles replayed (at least one). */
  readonly candles: CandleBatch;
  readonly engine: Engine;
  readonly broker: PaperBroker;
  /** Where the run folder is created. */
  readonly runsRoot: string;
  readonly origin: RunOrigin;
  /** Wall-clock UTC epoch ms when the run started. */
  readonly startedAt: number;
}

/**
 * Ends a replay the way a backtest does: closes any open position at the last candle's close, creates the run folder,
 * writes `run.json` and computes the summary (metrics included). The run files are the caller's next step.
 *
 * @returns the run folder and the summary.
 */
export function closeBacktestRun(replay: FinishedReplay): { readonly dir: string; readonly summary: RunSummary } {
  const { candles, broker, engine, subscription, strategy, startedAt } = replay;
  const { metrics } = measureReplay(candles, broker, subscription.timeframe, strategy.warmup);
  const { runId, dir } = createRunDir(replay.runsRoot, strategy.name);
  writeRunHeader(dir, {
    runId,
    mode: 'backtest',
    file: replay.file,
    strategy: engine.identity,
    subscription,
    origin: replay.origin,
    startedAt,
  });
  return { dir, summary: summarise(runId, strategy, subscription, candles, broker, metrics, startedAt) };
}

/**
 * The metrics of a finished replay, as a backtest reports them: closes any open position at the last candle's close,
 * then computes the metrics of the broker's equity curve and trades from the first candle after the strategy's
 * `warmup` on (the warm-up trades nothing: its signals are not acted on; freqtrade leaves out its startup candles the
 * same way), buy-and-hold from that candle's open to the last close; and the moments of the same per-candle returns.
 * `npm run optimize` scores its trials with it, so that a trial's metrics are the backtest's.
 */
export function measureReplay(candles: CandleBatch, broker: PaperBroker, timeframe: Subscription['timeframe'], warmup: number): MetricsAndMoments {
  const n = batchLength(candles);
  broker.closeAll(candleAt(candles, n - 1));
  const curve = broker.equityCurve;
  const from = metricsStart(warmup, n);
  return computeMetricsAndMoments({
    equity: curve.equity.subarray(from),
    time: curve.time.subarray(from),
    timeframe,
    trades: broker.tradeTally,
    firstOpen: candles.open[from]!,
    lastClose: candles.close[n - 1]!,
    exposedCandles: broker.exposedCandles,
  });
}

/** Index of the first candle the metrics cover: after `warmup` candles, but at least the last of `n`. */
function metricsStart(warmup: number, n: number): number {
  return Math.min(warmup, n - 1);
}

function summarise(
  runId: string,
  { name, params: parameters, warmup }: BaseStrategy,
  subscription: Subscription,
  candles: CandleBatch,
  broker: PaperBroker,
  metrics: Metrics,
  startedAt: number,
): RunSummary {
  const n = batchLength(candles);
  const from = metricsStart(warmup, n);
  const finishedAt = Date.now();
  return {
    runId,
    mode: 'backtest',
    strategy: { name, parameters: { ...parameters } },
    subscription,
    timeframe: subscription.timeframe,
    firstCandle: candles.openTime[0]!,
    lastCandle: candles.openTime[n - 1]!,
    candles: n,
    metricsFrom: candles.openTime[from]!,
    broker: broker.config,
    metrics,
    startedAt,
    finishedAt,
    durationMs: finishedAt - startedAt,
  };
}
