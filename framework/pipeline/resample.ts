/**
 * Resampling: aggregating candles of one timeframe into candles of a coarser one (5m → 15m, 5m → 1h, 1m → 5m).
 *
 * @module
 */

import { allocateBatch, batchLength, concatBatches, sliceBatch, sourceCode } from '../core/candle';
import type { CandleBatch } from '../core/candle';
import { InvalidCandleError, InvalidTimeframeError } from '../core/errors';
import { isoUtc } from '../core/time';
import { nestsIn, timeframeGrid, type Timeframe, type TimeframeGrid } from '../core/timeframe';

/** What to do with a bucket that lacks some of its constituent candles. */
export type IncompletePolicy = 'drop' | 'keep';

/** Options of {@link resampleCandles}. */
export interface ResampleOptions {
  /** Policy for buckets missing constituents; default `drop`. */
  readonly incomplete?: IncompletePolicy;
}

/** Result of {@link resampleCandles}. */
export interface ResampleResult {
  /** The coarser candles, sorted by open time. */
  readonly candles: CandleBatch;
  /**
   * Open times (UTC epoch ms, ascending) of the buckets that had at least one but not all of their constituent
   * candles, whether they were dropped or kept. A bucket with no constituent at all produces nothing and is not listed.
   */
  readonly incomplete: number[];
}

/**
 * Aggregates candles of timeframe `from` into candles of the coarser timeframe `to`.
 *
 * Buckets are the exchanges' candles of `to`: a candle belongs to the bucket whose open time is
 * `bucketOpenTime(openTime, to)` (see {@link "core/timeframe"!TimeframeGrid | TimeframeGrid}: minutes, hours and days
 * counted from the Unix epoch, `3d` as Binance, weeks from Monday 00:00 UTC, `1M` calendar months).
 * Each bucket's candle has: open = the first constituent's open, close = the last one's close, high = the maximum
 * high, low = the minimum low, volume = the sum of volumes rounded to 8 decimals (Binance quotes volumes with 8 decimals; rounding removes
 * the float noise of the sum, so the value survives a round trip through Binance's decimal strings), source `resample`, and `receivedAt` = the latest known `receivedAt`
 * of its constituents (NaN if none is known).
 *
 * Incomplete buckets (policy): a bucket of `to` holds as many candles of `from` as fit in it (`to / from`; for `1M`,
 * the month's days, hours…). With `incomplete: 'drop'`
 * (the default) a bucket missing any constituent candle, e.g. during exchange maintenance or at the edges of the
 * data, is omitted, so the coarser series shows a gap there instead of a candle that looks complete but is not.
 * With `'keep'` it is aggregated from the constituents present. Either way its open time is listed in
 * {@link ResampleResult.incomplete}.
 *
 * @param batch - candles of timeframe `from`: sorted by open time, without duplicates, each open time aligned to
 *   `from`, and already validated (finite OHLCV, high ≥ low…) by the pipeline; only order, uniqueness and alignment
 *   are checked here.
 * @param from - timeframe of `batch`, e.g. `5m`.
 * @param to - target timeframe whose candles each hold whole candles of `from` (see
 *   {@link "core/timeframe"!nestsIn | nestsIn}; `from` itself gives an unchanged copy with source `resample`).
 * @throws {@link "core/errors"!InvalidTimeframeError | InvalidTimeframeError} when a timeframe is invalid or a candle
 *   of `from` can straddle two of `to` (`to` not a whole multiple of `from`, `1w` from `3d`, `1M` from `1w`).
 * @throws {@link "core/errors"!InvalidCandleError | InvalidCandleError} naming the row when open times are not strictly
 *   increasing or not aligned to `from`.
 */
export function resampleCandles(
  batch: CandleBatch,
  from: Timeframe,
  to: Timeframe,
  options: ResampleOptions = {},
): ResampleResult {
  const fromGrid = timeframeGrid(from);
  const toGrid = timeframeGrid(to);
  if (!nestsIn(from, to)) {
    throw new InvalidTimeframeError(
      `cannot resample ${from} to ${to}: a ${from} candle (opening ${fromGrid.rule}) can straddle two ${to} candles ` +
        `(opening ${toGrid.rule}); pick a timeframe ${to} is made of, e.g. 1d`,
    );
  }
  checkInput(batch, fromGrid);

  const keepIncomplete = options.incomplete === 'keep';
  const n = batchLength(batch);
  const out = allocateBatch(n);
  const incomplete: number[] = [];
  let rows = 0;
  for (let start = 0; start < n; ) {
    const bucket = toGrid.bucketStart(batch.openTime[start]!);
    const bucketEnd = toGrid.nextOpen(bucket);
    let end = start + 1;
    while (end < n && batch.openTime[end]! < bucketEnd) end++;
    const perBucket = candlesIn(fromGrid, bucket, bucketEnd);
    if (end - start < perBucket) incomplete.push(bucket);
    if (end - start === perBucket || keepIncomplete) aggregate(batch, start, end, bucket, out, rows++);
    start = end;
  }
  // Copied so that the result does not hold on to the unused rows of `out`.
  return { candles: concatBatches([sliceBatch(out, 0, rows)]), incomplete };
}

/** Writes the aggregate of rows `[start, end)` of `batch` into row `row` of `out`. */
function aggregate(
  batch: CandleBatch,
  start: number,
  end: number,
  bucket: number,
  out: CandleBatch,
  row: number,
): void {
  let high = Number.NEGATIVE_INFINITY;
  let low = Number.POSITIVE_INFINITY;
  let volume = 0;
  let receivedAt = Number.NaN;
  for (let i = start; i < end; i++) {
    high = Math.max(high, batch.high[i]!);
    low = Math.min(low, batch.low[i]!);
    volume += batch.volume[i]!;
    const r = batch.receivedAt[i]!;
    if (!Number.isNaN(r) && (Number.isNaN(receivedAt) || r > receivedAt)) receivedAt = r;
  }
  out.openTime[row] = bucket;
  out.open[row] = batch.open[start]!;
  out.high[row] = high;
  out.low[row] = low;
  out.close[row] = batch.close[end - 1]!;
  out.volume[row] = Math.round(volume * 1e8) / 1e8;
  out.receivedAt[row] = receivedAt;
  out.source[row] = sourceCode('resample');
}

/** How many candles of `grid` open in `[start, end)`, both open times of it. */
function candlesIn(grid: TimeframeGrid, start: number, end: number): number {
  if (grid.fixedMs !== null) return (end - start) / grid.fixedMs;
  let count = 0;
  for (let t = start; t < end; t = grid.nextOpen(t)) count++;
  return count;
}

function checkInput(batch: CandleBatch, from: TimeframeGrid): void {
  const t = batch.openTime;
  for (let i = 0; i < t.length; i++) {
    if (!from.isAligned(t[i]!)) {
      throw new InvalidCandleError(
        `cannot resample: row ${i} has open time ${shownTime(t[i]!)}, not aligned to ${from.timeframe} (its candles open ${from.rule})`,
      );
    }
    if (i > 0 && t[i]! <= t[i - 1]!) {
      throw new InvalidCandleError(
        `cannot resample: open times must be strictly increasing, row ${i} (${isoUtc(t[i]!)}) follows ${isoUtc(t[i - 1]!)}`,
      );
    }
  }
}

function shownTime(ms: number): string {
  return Number.isFinite(ms) ? isoUtc(ms) : String(ms);
}
