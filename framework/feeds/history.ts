import { concatBatches, type CandleBatch } from '../core/candle';
import { DatasetNotFoundError } from '../core/errors';
import { describeSubscription, type Subscription } from '../core/subscription';
import { processCandles } from '../pipeline/pipeline';
import { readStoredCandles } from '../store/live-store';
import { readDataset } from '../store/partitions';

/** A live candle store: its root folder and the subscription it files candles under. */
export interface StoreLocation {
  readonly root: string;
  readonly subscription: Subscription;
}

/**
 * The history a live run starts from, and that `npm run diff` replays: the shipped candles of the subscription plus
 * those in the live store (the store's version of a candle wins), through the candle pipeline, with open times
 * before `to`. Read only.
 *
 * @param to - exclusive upper bound on open times (UTC epoch ms).
 * @throws {@link "core/errors"!CorruptDataError | CorruptDataError} for an unreadable partition or log.
 */
export function loadHistory(
  datasetsRoot: string,
  subscription: Subscription,
  store: StoreLocation | null,
  to: number,
): CandleBatch {
  const shipped = readShipped(datasetsRoot, subscription, to);
  const live = store === null ? [] : [readStoredCandles(store.root, store.subscription, { to })];
  const where = `history of ${describeSubscription(subscription)}`;
  return processCandles(concatBatches([shipped, ...live]), subscription.timeframe, { where }).candles;
}

function readShipped(root: string, subscription: Subscription, to: number): CandleBatch {
  try {
    return readDataset(root, subscription, { to });
  } catch (error) {
    if (error instanceof DatasetNotFoundError) return concatBatches([]);
    throw error;
  }
}
