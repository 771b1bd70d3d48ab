import type { CandleBatch } from '../core/candle';
import type { Logger } from '../core/logger';
import type { Subscription } from '../core/subscription';
import { describeGap } from '../pipeline/gaps';
import { processCandles } from '../pipeline/pipeline';
import { datasetDir } from '../store/layout';
import { readDataset } from '../store/partitions';

/** Range and reporting options of a replay; times are UTC epoch ms. */
export interface ReplayOptions {
  /** First open time to include (inclusive). */
  readonly from?: number;
  /** Open time to stop before (exclusive). */
  readonly to?: number;
  /** Receives a warning per rejected candle and a summary of duplicates and gaps. */
  readonly logger?: Logger;
}

/**
 * The historical feed: the stored candles of a subscription, read from the monthly Parquet partitions and passed
 * through the same candle pipeline as the live feed (validation, ordering, de-duplication keeping the last version,
 * gap detection). Gaps are reported, never filled.
 *
 * @param root - the candle store's root folder, e.g. `datasets`.
 * @returns the processed candles, oldest first.
 * @throws {@link "core/errors"!DatasetNotFoundError | DatasetNotFoundError} when the dataset does not exist;
 *   {@link "core/errors"!CorruptDataError | CorruptDataError} for an unreadable file.
 */
export function replayCandles(root: string, subscription: Subscription, options: ReplayOptions = {}): CandleBatch {
  const range = {
    ...(options.from !== undefined && { from: options.from }),
    ...(options.to !== undefined && { to: options.to }),
  };
  const where = datasetDir(root, subscription);
  const result = processCandles(readDataset(root, subscription, range), subscription.timeframe, { where });
  const logger = options.logger;
  if (logger !== undefined) {
    for (const rejection of result.rejected) logger.warn({ value: rejection.value }, rejection.reason);
    if (result.duplicates > 0 || result.unsorted > 0) {
      logger.warn({ duplicates: result.duplicates, unsorted: result.unsorted }, `${where}: stored candles were not clean`);
    }
    if (result.gaps.length > 0) {
      logger.info({ gaps: result.gaps.map(describeGap) }, `${where}: ${result.gaps.length} gap(s), not filled`);
    }
  }
  return result.candles;
}
