/**
 * One trial: a strategy with given parameters replayed over a span of candles already in memory, scored with the
 * backtest's own engine, paper broker and metrics, writing nothing.
 *
 * @module
 */
import { EquityCurveBuffer } from '../broker/equity-curve';
import { PaperBroker } from '../broker/paper-broker';
import type { BrokerConfig } from '../broker/broker-config';
import { batchLength, sliceBatch, type CandleBatch } from '../core/candle';
import { FrameworkError } from '../core/errors';
import { lowerBound } from '../core/search';
import { describeSubscription } from '../core/subscription';
import { measureReplay } from '../engine/backtest';
import { Engine } from '../engine/engine';
import type { Metrics, ReturnMoments } from '../report/metrics';
import type { StrategyParameters } from '../strategy/base-strategy';
import { ColumnPool } from '../strategy/column-pool';
import { strategyFromModule } from '../strategy/loader';

/**
 * The candles every trial reads: the traded subscription's and each informative one's (keyed by
 * `describeSubscription`), each over the whole optimisation range. Their arrays may live in `SharedArrayBuffer`s.
 */
export interface TrialCandles {
  readonly traded: CandleBatch;
  readonly informative: ReadonlyMap<string, CandleBatch>;
}

/** A strategy plugin module, imported once, and its file as given (for messages). */
export interface StrategyPlugin {
  readonly module: Record<string, unknown>;
  readonly file: string;
}

/** What to run: parameter values, the open-time span `[from, to)` in UTC epoch ms, and whether to keep the equity. */
export interface TrialRequest {
  readonly params: Readonly<StrategyParameters>;
  readonly from: number;
  readonly to: number;
  readonly equity?: boolean;
}

/**
 * A trial's result: the backtest's metrics, the moments of the per-candle returns its Sharpe ratio reads (those after
 * the warm-up; for the deflated Sharpe ratio), the candles replayed, and when asked the equity curve (open time in UTC
 * epoch ms, equity in quote currency).
 */
export interface TrialResult {
  readonly metrics: Metrics;
  readonly moments: ReturnMoments;
  readonly candles: number;
  readonly equity?: { readonly time: readonly number[]; readonly equity: readonly number[] };
}

/**
 * Runs one trial exactly as `npm run backtest -- <file> --from <from> --to <to> --param …` would compute its metrics:
 * the same loader checks (parameters checked against the strategy's space) on the plugin module already imported, indicators computed from the span's first candle,
 * the same engine loop, paper broker and {@link measureReplay}; but over candles already in memory, writing no file
 * and keeping no signal journal, fill or trade record (the metrics read the trades' tally and the equity curve only),
 * making no client order id, and the equity curve's and the indicator columns' memory reused from one trial to the
 * next (the columns `ema` makes in `populateColumns`; see {@link ColumnPool}).
 *
 * @throws {@link "core/errors"!StrategyLoadError | StrategyLoadError} for a parameter outside the space;
 *   {@link FrameworkError} when the span holds no candle; strategy errors as the backtest throws them.
 */
export async function runTrial(
  plugin: StrategyPlugin,
  candles: TrialCandles,
  request: TrialRequest,
  broker: BrokerConfig,
): Promise<TrialResult> {
  const { file } = plugin;
  const overrides = Object.fromEntries(Object.entries(request.params).map(([k, v]) => [k, String(v)]));
  const loaded = strategyFromModule(plugin.module, file, overrides);
  const traded = span(candles.traded, request.from, request.to);
  if (batchLength(traded) === 0) throw new FrameworkError(`${file}: no candles in the trial's span`);
  const subscription = loaded.subscriptions[0]!;
  const informativeSubscriptions = loaded.subscriptions.slice(1);
  const informative = new Map(
    informativeSubscriptions.map((s) => {
      const key = describeSubscription(s);
      const batch = candles.informative.get(key);
      if (batch === undefined) throw new FrameworkError(`${file}: no candles loaded for ${key}`);
      return [key, span(batch, request.from, request.to)];
    }),
  );
  const buffer = spareCurves.pop() ?? new EquityCurveBuffer(1024, { parts: false });
  const pool = sparePools.pop() ?? new ColumnPool();
  pool.reclaim(); // its columns belong to a trial whose engine is no longer kept
  let kept = false;
  try {
    const paper = new PaperBroker(broker, { keepFills: false, keepTrades: false, orderIds: false, equityCurve: buffer });
    const engine = new Engine({ strategy: loaded.strategy, broker: paper, file, subscription, informative: informativeSubscriptions, columnPool: pool });
    await engine.replay(traded, { informative, journal: false });
    if (lastTrial.pool !== null) sparePools.push(lastTrial.pool); // the previous engine, its only reader, goes
    lastTrial.engine = engine;
    lastTrial.pool = pool;
    kept = true;
    const { metrics, moments } = measureReplay(traded, paper, subscription.timeframe, loaded.strategy.warmup);
    const curve = paper.equityCurve;
    const result: TrialResult = {
      metrics,
      moments,
      candles: batchLength(traded),
      ...(request.equity === true && { equity: { time: Array.from(curve.time), equity: Array.from(curve.equity) } }),
    };
    lastTrial.result = result;
    return result;
  } finally {
    spareCurves.push(buffer);
    if (!kept) sparePools.push(pool);
  }
}

/**
 * The engine of this process's (thread's) last trial, with its strategy, broker and frame columns, kept until the next
 * trial's replay has run. A full garbage collection between two trials would otherwise find no object left with the
 * hidden classes (V8 maps) of those objects, free them, and discard every optimised function that depends on them (V8
 * logs `--trace-deopt`: "marking dependent code for deoptimization, reason: weak objects", for the engine's loop,
 * `onData`, the frame's reads and the broker's step): the next trial then ran unoptimised until V8 had compiled them
 * again. Measured with the bench's optimisation case (a full collection before each trial), CPU per trial, median of
 * 7: 1,000,000 candles 415-421 ms → 182-190 ms, 100,000 candles 84-87 → 46-54 ms. The cost: one trial's indicator
 * columns held a trial longer (24 MB for MACD over 1,000,000 candles).
 *
 * Its result is kept too (the metrics and moments objects), as the broker keeps the last order, position and round
 * trip it made, the metrics their last intermediate results and the engine the last object `populateColumns` returned,
 * for the same reason: none of them is in use between two trials, and V8 discarded the code depending on their maps
 * (`populateColumns`, `computeMetrics`' passes over the equity curve, the broker's work per signal).
 */
const lastTrial: { engine: Engine | null; pool: ColumnPool | null; result: TrialResult | null } = { engine: null, pool: null, result: null };

/**
 * Column pools of trials whose engine is no longer kept (see {@link lastTrial}): the next trials of this process
 * (thread) take their indicator columns from them rather than allocating them again, 8 MB per column per million
 * candles that glibc otherwise handed back to the system and page-faulted in again in every other trial. A pool is
 * reclaimed only when a trial takes it, and a pool in use by a running trial is in none of these lists.
 */
const sparePools: ColumnPool[] = [];

/**
 * Equity curve buffers of finished trials, reused by the next ones of this process (thread): each holds a curve as
 * long as the longest trial's, allocated once rather than per trial, and keeps time and equity only (the metrics read
 * nothing else; cash and position value would be two more columns written per candle).
 */
const spareCurves: EquityCurveBuffer[] = [];

/** The rows of `batch` with open time in `[from, to)`, as views on its memory. */
function span(batch: CandleBatch, from: number, to: number): CandleBatch {
  return sliceBatch(batch, lowerBound(batch.openTime, from), lowerBound(batch.openTime, to));
}

/**
 * A copy of `batch` whose columns live in `SharedArrayBuffer`s: posted to worker threads, its arrays are shared, not
 * copied, so every trial of every worker reads the same candles.
 */
export function shareBatch(batch: CandleBatch): CandleBatch {
  const share = <T extends Float64Array | Uint8Array>(values: T): T => {
    const shared = new (values.constructor as new (buffer: SharedArrayBuffer) => T)(new SharedArrayBuffer(values.byteLength));
    shared.set(values as never);
    return shared;
  };
  return {
    openTime: share(batch.openTime),
    open: share(batch.open),
    high: share(batch.high),
    low: share(batch.low),
    close: share(batch.close),
    volume: share(batch.volume),
    receivedAt: share(batch.receivedAt),
    source: share(batch.source),
  };
}
