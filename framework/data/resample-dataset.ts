/**
 * Resampling a stored dataset into a coarser one next to it (`binance/BTC_USDT/5m` → `binance/BTC_USDT/15m`).
 *
 * @module
 */
import { batchLength } from '../core/candle';
import { FrameworkError, InvalidTimeframeError } from '../core/errors';
import type { Logger } from '../core/logger';
import { describeSubscription, type Subscription } from '../core/subscription';
import { timeframeGrid, type Timeframe } from '../core/timeframe';
import { processCandles } from '../pipeline/pipeline';
import { resampleCandles, type IncompletePolicy } from '../pipeline/resample';
import { datasetDir, listPartitions } from '../store/layout';
import { readDataset, writeCandles } from '../store/partitions';

/** A command would write into a dataset that already holds candles, and was not told it may (`force`). */
export class DatasetExistsError extends FrameworkError {}

/**
 * Options of {@link resampleDataset}.
 * - `incomplete`: what to do with a bucket missing some of its candles (default `drop`; see `resampleCandles`);
 * - `force`: write even when the target dataset exists: its candles at the same open times are replaced, the others
 *   kept (default `false`: refuse);
 * - `logger`: source rows the pipeline rejected (they are left out of the aggregation);
 * - `out`: the candle store root the target dataset is written to (default: `root`, beside the source).
 */
export interface ResampleDatasetOptions {
  readonly incomplete?: IncompletePolicy;
  readonly force?: boolean;
  readonly out?: string;
  readonly logger?: Logger;
}

/**
 * What {@link resampleDataset} wrote.
 * - `target`: the dataset written (same exchange and symbol, the new timeframe); `dir`: its folder;
 * - `candles`, `first`, `last`: candles written and their first and last open time (UTC epoch ms; `null` if none);
 * - `incomplete`: open times of the buckets that lacked candles, dropped or kept according to `policy`;
 * - `rejected`: source rows the pipeline rejected.
 */
export interface ResampleDatasetResult {
  readonly source: Subscription;
  readonly target: Subscription;
  readonly dir: string;
  readonly candles: number;
  readonly first: number | null;
  readonly last: number | null;
  readonly policy: IncompletePolicy;
  readonly incomplete: readonly number[];
  readonly rejected: number;
}

/**
 * Reads a dataset, runs it through the candle pipeline, aggregates it to `timeframe` with `resampleCandles` (source
 * `resample`, UTC-aligned buckets) and writes the result through `writeCandles` as the dataset of the same exchange
 * and symbol at `timeframe`.
 *
 * @throws {@link DatasetExistsError} when the target dataset holds candles and `force` is not set (nothing written).
 * @throws `InvalidTimeframeError` when `timeframe` is the source's, invalid, or not made of whole source candles
 *   (see `nestsIn`).
 * @throws the store's errors: `DatasetNotFoundError` for a missing source, `CorruptDataError` for a damaged partition.
 */
export function resampleDataset(
  root: string,
  source: Subscription,
  timeframe: Timeframe,
  options: ResampleDatasetOptions = {},
): ResampleDatasetResult {
  const target: Subscription = { ...source, timeframe };
  const out = options.out ?? root;
  const dir = datasetDir(out, target);
  if (timeframeGrid(timeframe).nominalMs === timeframeGrid(source.timeframe).nominalMs) {
    throw new InvalidTimeframeError(`cannot resample ${describeSubscription(source)} to ${timeframe}: same timeframe`);
  }
  if (options.force !== true && listPartitions(out, target).length > 0) {
    throw new DatasetExistsError(
      `${describeSubscription(target)} already exists in ${dir}; pass --force (force: true) to write into it, or --out <dir> (out) to write elsewhere`,
    );
  }
  const policy = options.incomplete ?? 'drop';
  const clean = processCandles(readDataset(root, source), source.timeframe, { where: datasetDir(root, source) });
  for (const r of clean.rejected) options.logger?.warn({ row: r.value }, `rejected: ${r.reason}`);
  const { candles, incomplete } = resampleCandles(clean.candles, source.timeframe, timeframe, { incomplete: policy });
  const n = batchLength(candles);
  if (n > 0) writeCandles(out, target, candles);
  return {
    source,
    target,
    dir,
    candles: n,
    first: n > 0 ? candles.openTime[0]! : null,
    last: n > 0 ? candles.openTime[n - 1]! : null,
    policy,
    incomplete,
    rejected: clean.rejected.length,
  };
}
