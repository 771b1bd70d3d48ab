/**
 * Warm-up analysis: how many earlier candles an indicator needs before its value stops depending on where the history
 * starts.
 *
 * @module
 */
import { batchLength, sliceBatch, type CandleBatch } from '../core/candle';
import { FrameworkError } from '../core/errors';
import { lowerBound } from '../core/search';
import { describeSubscription } from '../core/subscription';
import { nextOpenTime, timeframeGrid } from '../core/timeframe';
import type { InformativeCandles } from '../engine/engine';
import { computeIndicatorColumns } from '../engine/indicators';
import { computeInformativeColumns, mergeInformative } from '../engine/informative';
import type { FrameColumns } from '../strategy/frame';
import type { BaseStrategy } from '../strategy/base-strategy';
import { indicatorNames } from './columns';
import { evenlySpaced } from './sampling';

/** Tuning of {@link analyseWarmup}. */
export interface WarmupOptions {
  /**
   * Relative tolerance: values `a` (shortened history) and `b` (whole history) agree when
   * `|a − b| ≤ tolerance × max(|a|, |b|)`. Default `1e-9`; 0 asks for bit-for-bit equality.
   */
  readonly tolerance?: number;
  /**
   * Numbers of earlier candles at which to report the largest relative deviation (freqtrade's `--startup-candle`
   * list). Default: 50, 100, 200, 500, 1,000, 2,000 and the declared warm-up, those below `span`.
   */
  readonly lengths?: readonly number[];
  /** How many shortened histories (origins) to compute. Default 8; ≥ 1. */
  readonly origins?: number;
  /** Candles in each shortened history. Default the smaller of 8,192 and half the candles; ≥ 2. */
  readonly span?: number;
  /**
   * Candles of the strategy's informative subscriptions (whole history, keyed as the engine expects). Their columns, as
   * the frame shows them (`ema_trend_1h`, `close_1h`), are analysed with the rest: a shortened history's informative
   * candles start with it.
   */
  readonly informative?: InformativeCandles;
}

/** The largest relative deviation from the whole-history value seen at candles with at least `length` earlier candles. */
export interface WarmupDeviation {
  readonly length: number;
  /** `|a − b| / max(|a|, |b|)`; `Infinity` where one value is NaN and the other is not; 0 when equal. */
  readonly maxRelative: number;
}

/**
 * The warm-up one indicator column needs.
 *
 * - `needed`: the number of earlier candles after which every value agrees with the whole-history value within the
 *   tolerance (the largest over the origins); `null` when some origin did not settle within the first half of its span;
 * - `neededExact`: the same for bit-for-bit equality (`Object.is`);
 * - `enough`: the strategy's declared warm-up is at least `needed`;
 * - `deviations`: per requested length, the largest relative deviation seen with at least that many earlier candles.
 */
export interface WarmupColumn {
  readonly name: string;
  readonly needed: number | null;
  readonly neededExact: number | null;
  readonly enough: boolean;
  readonly deviations: readonly WarmupDeviation[];
}

/**
 * The outcome of {@link analyseWarmup}: the declared warm-up, the settings used (`origins`: open times, UTC epoch ms,
 * of the first candle of each shortened history), the per-column figures, and their maxima over the columns
 * (`null` when some column did not settle) with the overall verdict `enough`.
 */
export interface WarmupResult {
  readonly declared: number;
  readonly tolerance: number;
  readonly span: number;
  readonly origins: readonly number[];
  readonly needed: number | null;
  readonly neededExact: number | null;
  readonly enough: boolean;
  readonly columns: readonly WarmupColumn[];
}

/**
 * Measures the warm-up each indicator column needs, the approach of freqtrade's `recursive-analysis`: an indicator
 * computed over a history that starts later (an EMA seeded later, a running sum started later) gives different values
 * until it has seen enough candles, and a live run starts from whatever history it has.
 *
 * Computes `populateIndicators` (and `populateInformative` over the informative candles given, see
 * {@link WarmupOptions.informative}) once over all `candles` and once over each of `origins` shortened histories: `span`
 * candles starting at origin `k` (spread evenly over the data, `k ≥ 1`). Row `j` of a shortened history is the candle
 * `k + j` computed with only `j` earlier candles; equivalently, over the window of `j + 1` candles ending there. For
 * each column and origin, the last row that disagrees with the whole-history value gives the warm-up needed there
 * (that row's number of earlier candles + 1). A value that still disagrees in the second half of the span is taken
 * as never settling (`null`): a running sum whose rounding depends on its start, or a cumulative indicator.
 *
 * The bit-for-bit figure (`neededExact`) is what a live run needs to reproduce the replay exactly from a window of
 * recent candles; `LiveIndicators` calibrates that window at the start of every live run.
 *
 * @param strategy - the loaded strategy; only `populateIndicators` and `populateInformative` are called.
 * @param file - the strategy's plugin file, for messages.
 * @param candles - the processed candles of its first subscription, oldest first (at least 4).
 * @throws FrameworkError when there are too few candles or an option is out of range;
 *   {@link "core/errors"!StrategyRuntimeError | StrategyRuntimeError} when `populateIndicators` fails.
 */
export async function analyseWarmup(
  strategy: BaseStrategy,
  file: string,
  candles: CandleBatch,
  options: WarmupOptions = {},
): Promise<WarmupResult> {
  const n = batchLength(candles);
  if (n < 4) throw new FrameworkError(`${file}: the warm-up analysis needs at least 4 candles, got ${n}`);
  const tolerance = options.tolerance ?? 1e-9;
  if (!Number.isFinite(tolerance) || tolerance < 0) {
    throw new FrameworkError(`warm-up analysis: tolerance must be a finite number ≥ 0, got ${tolerance}`);
  }
  const span = options.span ?? Math.min(8_192, Math.floor(n / 2));
  check(Number.isInteger(span) && span >= 2 && span < n, `span must be a whole number in [2, ${n - 1}], got ${span}`);
  const originCount = options.origins ?? 8;
  check(Number.isInteger(originCount) && originCount >= 1, `origins must be a whole number ≥ 1, got ${originCount}`);
  const lengths = [...new Set(options.lengths ?? defaultLengths(strategy.warmup, span))].sort((a, b) => a - b);
  for (const length of lengths) {
    check(Number.isInteger(length) && length >= 0 && length < span, `lengths must be whole numbers in [0, ${span - 1}], got ${length}`);
  }

  const columnsOf = frameColumnsOf(strategy, file, options.informative ?? new Map());
  const full = await columnsOf(candles);
  const names = indicatorNames(full);
  const starts = evenlySpaced(1, n - span, originCount);
  const settle = new Map(names.map((name) => [name, { needed: 0 as number | null, exact: 0 as number | null }]));
  const deviations = new Map(names.map((name) => [name, new Float64Array(lengths.length)]));

  for (const start of starts) {
    const part = await columnsOf(sliceBatch(candles, start, start + span));
    for (const name of names) {
      const whole = full[name]!.subarray(start, start + span);
      const shortened = part[name];
      const relative = new Float64Array(span);
      let lastOff = -1;
      let lastUnequal = -1;
      for (let j = 0; j < span; j++) {
        const value = shortened === undefined ? Number.NaN : shortened[j]!;
        relative[j] = relativeDifference(value, whole[j]!);
        if (relative[j]! > tolerance) lastOff = j;
        if (!Object.is(value, whole[j])) lastUnequal = j;
      }
      const figures = settle.get(name)!;
      figures.needed = worst(figures.needed, lastOff + 1, span);
      figures.exact = worst(figures.exact, lastUnequal + 1, span);
      const worstAt = deviations.get(name)!;
      let suffixMax = 0;
      for (let j = span - 1, l = lengths.length - 1; j >= 0 && l >= 0; j--) {
        suffixMax = Math.max(suffixMax, relative[j]!);
        for (; l >= 0 && lengths[l] === j; l--) worstAt[l] = Math.max(worstAt[l]!, suffixMax);
      }
    }
  }

  const columns = names.map((name): WarmupColumn => {
    const { needed, exact } = settle.get(name)!;
    const worstAt = deviations.get(name)!;
    return {
      name,
      needed,
      neededExact: exact,
      enough: needed !== null && strategy.warmup >= needed,
      deviations: lengths.map((length, l) => ({ length, maxRelative: worstAt[l]! })),
    };
  });
  const needed = maxOrNull(columns.map((c) => c.needed));
  return {
    declared: strategy.warmup,
    tolerance,
    span,
    origins: starts.map((row) => candles.openTime[row]!),
    needed,
    neededExact: maxOrNull(columns.map((c) => c.neededExact)),
    enough: columns.every((c) => c.enough),
    columns,
  };
}

/**
 * The frame columns of a history of the strategy's first subscription, as a replay computes them: its indicators and,
 * merged onto its candles, each informative subscription's columns computed over the informative candles from the
 * history's first open time to its last close.
 */
function frameColumnsOf(
  strategy: BaseStrategy,
  file: string,
  informative: InformativeCandles,
): (candles: CandleBatch) => Promise<FrameColumns> {
  const [traded, ...others] = strategy.getRequiredSubscriptions();
  return async (candles) => {
    const columns = { ...(await computeIndicatorColumns(strategy, candles, file)) };
    const first = candles.openTime[0]!;
    const closes = nextOpenTime(candles.openTime[candles.openTime.length - 1]!, traded!.timeframe);
    for (const s of others) {
      const all = informative.get(describeSubscription(s));
      if (all === undefined) continue;
      const from = lowerBound(all.openTime, first);
      // The informative candles closed by then: those that opened before the bucket holding `closes`.
      const to = lowerBound(all.openTime, timeframeGrid(s.timeframe).bucketStart(closes));
      if (to <= from) continue;
      const computed = await computeInformativeColumns(strategy, s, sliceBatch(all, from, to), file);
      Object.assign(columns, mergeInformative(traded!, candles.openTime, s, computed));
    }
    return columns;
  };
}

/** `|a − b| / max(|a|, |b|)`, 0 for equal values (NaN equals NaN), `Infinity` when only one is NaN. */
function relativeDifference(a: number, b: number): number {
  if (Object.is(a, b) || a === b) return 0;
  const r = Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
  return Number.isNaN(r) ? Number.POSITIVE_INFINITY : r;
}

/** The larger warm-up, or `null` once any origin failed to settle within the first half of its span. */
function worst(current: number | null, needed: number, span: number): number | null {
  return current === null || needed > span / 2 ? null : Math.max(current, needed);
}

function maxOrNull(values: readonly (number | null)[]): number | null {
  return values.some((v) => v === null) ? null : Math.max(0, ...(values as number[]));
}

function defaultLengths(declared: number, span: number): number[] {
  return [50, 100, 200, 500, 1_000, 2_000, declared].filter((length) => length < span);
}

function check(ok: boolean, problem: string): void {
  if (!ok) throw new FrameworkError(`warm-up analysis: ${problem}`);
}
