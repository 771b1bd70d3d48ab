/**
 * What a stored dataset holds: its span, size and gaps, for `data list` (freqtrade's `list-data --show-timerange`).
 *
 * @module
 */
import { batchLength } from '../core/candle';
import type { Subscription } from '../core/subscription';
import { findGaps } from '../pipeline/gaps';
import { listDatasets } from '../store/layout';
import { readDataset } from '../store/partitions';

/**
 * A dataset at a glance.
 * - `candles`: number of stored candles;
 * - `first`, `last`: open times of the first and last candle (UTC epoch ms; `null` when the partitions are empty);
 * - `gaps`: runs of missing candles between `first` and `last`; `missing`: their total number of candles.
 */
export interface DatasetSummary {
  readonly subscription: Subscription;
  readonly candles: number;
  readonly first: number | null;
  readonly last: number | null;
  readonly gaps: number;
  readonly missing: number;
}

/**
 * Summarises one dataset (reads all its partitions).
 *
 * @throws the errors of `readDataset`: `DatasetNotFoundError` when it has no partition, `CorruptDataError` for a
 *   damaged one.
 */
export function summarizeDataset(root: string, subscription: Subscription): DatasetSummary {
  const candles = readDataset(root, subscription);
  const n = batchLength(candles);
  const gaps = findGaps(candles.openTime, subscription.timeframe);
  return {
    subscription,
    candles: n,
    first: n > 0 ? candles.openTime[0]! : null,
    last: n > 0 ? candles.openTime[n - 1]! : null,
    gaps: gaps.length,
    missing: gaps.reduce((sum, g) => sum + g.missing, 0),
  };
}

/**
 * Summarises every dataset under `root`, in the order of `listDatasets` (exchange, symbol, timeframe length).
 *
 * @returns `[]` when `root` holds no dataset.
 * @throws the errors of {@link summarizeDataset}.
 */
export function summarizeDatasets(root: string): DatasetSummary[] {
  return listDatasets(root).map((subscription) => summarizeDataset(root, subscription));
}
