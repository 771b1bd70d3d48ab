import { concatBatches, type CandleBatch } from '../core/candle';
import { DatasetNotFoundError } from '../core/errors';
import { describeSubscription, type Subscription } from '../core/subscription';
import { processCandles } from '../pipeline/pipeline';
import { readStoredCandles } from '../store/live-store';
import { readDataset, type TimeRange } from '../store/partitions';

/** A live candle store: its root folder and the subscription it files candles under. */
export interface StoreLocation {
  readonly root: string;
  readonly subscription: Subscription;
}

/**
 * The history a live run starts from, and that `npm run diff` replays: the shipped candles of the subscription plus
 * those in the live store (the store's version of a candle wins), through the candle pipeline, with open times
 * in `[from, to)`. Read only.
 *
 * @param datasetsRoot - the shipped candle store, or null for none (a run on the simulator: the shipped candles are
 *   the simulator's data, not the run's history).
 * @param to - exclusive upper bound on open times (UTC epoch ms).
 * @param from - inclusive lower bound on open times (UTC epoch ms); default: the first candle stored.
 * @throws {@link "core/errors"!CorruptDataError | CorruptDataError} for an unreadable partition or log.
 */
export function loadHistory(
  datasetsRoot: string | null,
  subscription: Subscription,
  store: StoreLocation | null,
  to: number,
  from?: number,
): CandleBatch {
  const range = { ...(from !== undefined && { from }), to };
  const shipped = datasetsRoot === null ? [] : [readShipped(datasetsRoot, subscription, range)];
  const live = store === null ? [] : [readStoredCandles(store.root, store.subscription, range)];
  const where = `history of ${describeSubscription(subscription)}`;
  return processCandles(concatBatches([...shipped, ...live]), subscription.timeframe, { where }).candles;
}

function readShipped(root: string, subscription: Subscription, range: TimeRange): CandleBatch {
  try {
    return readDataset(root, subscription, range);
  } catch (error) {
    if (error instanceof DatasetNotFoundError) return concatBatches([]);
    throw error;
  }
}
