/**
 * The store of a live dataset: closed candles go to the write-ahead log (durable when `append` resolves) and are
 * compacted into the monthly Parquet partitions now and then; reads see both.
 *
 * @module
 */

import { allocateBatch, batchFromCandles, concatBatches } from '../core/candle';
import type { CandleBatch, StoredCandle } from '../core/candle';
import { CorruptDataError, DatasetNotFoundError, FrameworkError } from '../core/errors';
import { describeSubscription } from '../core/subscription';
import type { Subscription } from '../core/subscription';
import { processCandles } from '../pipeline/pipeline';
import { readDataset } from './partitions';
import type { TimeRange } from './partitions';
import { datasetDir } from './layout';
import { COMPACTING_FILE, readWalFile, WAL_FILE, WriteAheadLog } from './wal';
import type { CompactionResult, WalOptions, WalRecovery } from './wal';

/**
 * When {@link LiveCandleStore} compacts on its own: once `candles` candles are in the log, and/or every `ms`
 * milliseconds (when the log is not empty). Each is a positive integer; leave one out to not use it.
 */
export interface CompactionPolicy {
  readonly candles?: number;
  readonly ms?: number;
}

/** A {@link CompactionPolicy} that is not made of positive integers. */
export class InvalidCompactionPolicyError extends FrameworkError {}

/**
 * Write-ahead log + monthly partitions of one dataset (see `wal.ts` for durability and crash safety). Provenance
 * (`source`, `receivedAt`) is stored with every candle. A class because it holds the open log and the compaction timer.
 */
export class LiveCandleStore {
  private policy: CompactionPolicy = {};
  private timer: NodeJS.Timeout | null = null;
  private background: Promise<unknown> | null = null;
  private closing: Promise<void> | null = null;

  private constructor(
    /** The datasets folder. */
    readonly root: string,
    /** The dataset. */
    readonly subscription: Subscription,
    private readonly wal: WriteAheadLog,
  ) {}

  /**
   * Opens the store of a dataset: opens its log, which compacts what an interrupted run left (see
   * `WriteAheadLog.open`). No automatic compaction until {@link compactEvery} is called.
   *
   * @param root - the datasets folder, e.g. `datasets`.
   * @param options - passed to the log (e.g. `onEvent` for logging).
   * @throws the errors of `WriteAheadLog.open`.
   */
  static open(root: string, subscription: Subscription, options: WalOptions = {}): LiveCandleStore {
    return new LiveCandleStore(root, subscription, WriteAheadLog.open(root, subscription, options));
  }

  /** What opening found in the log left by the last run (see `WriteAheadLog.recovery`). */
  get recovery(): WalRecovery {
    return this.wal.recovery;
  }

  /**
   * Stores candles; resolves once they are durable in the log. May start a compaction in the background (see
   * {@link compactEvery}); the append does not wait for it.
   *
   * @param candles - one candle or several, with provenance (`source`, `receivedAt` in UTC epoch ms); a candle whose
   *   open time is already stored replaces it.
   * @throws the errors of `WriteAheadLog.append` (rejects): `InvalidCandleError` for a candle that is not valid,
   *   `WriteAheadLogError` once closed or after an I/O failure.
   */
  async append(candles: StoredCandle | readonly StoredCandle[]): Promise<void> {
    await this.wal.append(candles);
    const limit = this.policy.candles;
    if (limit !== undefined && this.wal.candlesInLog >= limit) this.compactInBackground();
  }

  /**
   * Sets when to compact on its own (replacing the previous policy). A background compaction that fails leaves the
   * candles in the log (still read by {@link readAll}) and is retried at the next trigger; {@link close} reports a
   * failure that persists.
   *
   * @throws {@link InvalidCompactionPolicyError} when `candles` or `ms` is not a positive integer.
   */
  compactEvery(policy: CompactionPolicy): void {
    for (const key of ['candles', 'ms'] as const) {
      const value = policy[key];
      if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
        throw new InvalidCompactionPolicyError(
          `invalid compaction policy for ${describeSubscription(this.subscription)}: ${key} is ${value}, expected a positive integer`,
        );
      }
    }
    this.policy = policy;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (policy.ms !== undefined) {
      this.timer = setInterval(() => {
        if (this.wal.candlesInLog > 0) this.compactInBackground();
      }, policy.ms);
      this.timer.unref();
    }
  }

  /**
   * Compacts now: moves every durable candle of the log into the partitions.
   *
   * @throws the errors of `WriteAheadLog.compact`.
   */
  compact(): Promise<CompactionResult> {
    return this.wal.compact();
  }

  /**
   * Every stored candle: the partitions and the durable log, merged through the pipeline (`processCandles`): sorted by
   * open time, one per open time, the latest version winning (log after partitions, later log records after earlier).
   *
   * @param range - open times in UTC epoch ms, `from` inclusive, `to` exclusive.
   * @returns the candles in `range` (empty when none).
   * @throws `CorruptDataError` for a partition that cannot be read or a stored candle that the pipeline rejects
   *   (naming the first one); the errors of `readDataset` for an invalid range; `WriteAheadLogError` once closed.
   */
  readAll(range: TimeRange = {}): CandleBatch {
    return readStoredCandles(this.root, this.subscription, range);
  }

  /**
   * Stops automatic compaction, waits for appends in flight and a background compaction, compacts the whole log
   * into the partitions and closes the log. Calling it again returns the same promise.
   *
   * @throws the errors of `WriteAheadLog.compact` when the final compaction fails; the log is closed anyway and its
   *   candles are compacted by the next {@link open}.
   */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.policy = {};
    await this.background;
    try {
      await this.wal.compact();
    } finally {
      await this.wal.close();
    }
  }

  /**
   * Starts a compaction unless one started in the background is still running. Its failure is reported to
   * `onEvent` (`compaction-failed`) by the log and retried at the next trigger.
   */
  private compactInBackground(): void {
    if (this.background !== null) return;
    this.background = this.wal
      .compact()
      .catch(() => undefined)
      .finally(() => {
        this.background = null;
      });
  }
}

/**
 * The subscription `subscription`'s live candles are stored under: as is from an exchange, under the exchange id `sim`
 * when they come from the project's simulator (`simulated`), never mixed with real exchange data.
 */
export function storedSubscription(subscription: Subscription, simulated: boolean): Subscription {
  return simulated ? { ...subscription, exchange: 'sim' } : subscription;
}

/**
 * Every candle a live store holds, read only (no recovery, no compaction, so it is safe while a live run writes):
 * the monthly partitions plus the logs (`wal.log.compacting`, then `wal.log`), through the candle pipeline so that
 * the latest version of a candle wins. A torn last log record is ignored.
 *
 * @param range - open times, `from` inclusive, `to` exclusive (UTC epoch ms).
 * @throws {@link "core/errors"!CorruptDataError | CorruptDataError} for an unreadable partition or a stored candle the
 *   pipeline rejects.
 */
export function readStoredCandles(root: string, subscription: Subscription, range: TimeRange = {}): CandleBatch {
  let stored: CandleBatch;
  try {
    stored = readDataset(root, subscription, range);
  } catch (error) {
    if (!(error instanceof DatasetNotFoundError)) throw error;
    stored = allocateBatch(0);
  }
  const from = range.from ?? Number.NEGATIVE_INFINITY;
  const to = range.to ?? Number.POSITIVE_INFINITY;
  const dir = datasetDir(root, subscription);
  const logged = [COMPACTING_FILE, WAL_FILE]
    .flatMap((file) => readWalFile(`${dir}/${file}`, subscription.timeframe).candles)
    .filter((c) => c.openTime >= from && c.openTime < to);
  const where = `store of ${describeSubscription(subscription)} in ${root}`;
  const result = processCandles(concatBatches([stored, batchFromCandles(logged)]), subscription.timeframe, { where });
  const rejected = result.rejected[0];
  if (rejected !== undefined) throw new CorruptDataError(`${rejected.reason} (${result.rejected.length} stored candles rejected)`);
  return result.candles;
}
