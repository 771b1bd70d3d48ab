import { lowerBound } from '../core/search';
import { allocateBatch, batchLength, copyRows, sliceBatch, writeRow, type CandleBatch, type StoredCandle } from '../core/candle';

/**
 * The candles a live run has seen so far, oldest first, growing by one closed candle at a time. Stored as columns
 * (a {@link CandleBatch}) with spare capacity that doubles when full, so appending is amortised O(1) and
 * {@link CandleHistory.batch} is a set of views, not a copy.
 */
export class CandleHistory {
  #columns: CandleBatch;
  #length: number;

  /** @param initial - the stored history the run starts from (processed: ordered, unique). */
  constructor(initial: CandleBatch) {
    this.#length = batchLength(initial);
    this.#columns = grow(initial, Math.max(1024, this.#length * 2), this.#length);
  }

  /** Number of candles held. */
  get length(): number {
    return this.#length;
  }

  /** Open time of the newest candle (UTC epoch ms), or null when empty. */
  get lastOpenTime(): number | null {
    return this.#length === 0 ? null : this.#columns.openTime[this.#length - 1]!;
  }

  /** Every candle held, as views valid until the next {@link append}. */
  get batch(): CandleBatch {
    return sliceBatch(this.#columns, 0, this.#length);
  }

  /**
   * Replaces the values of the candle with the same open time (an exchange revision).
   *
   * @returns false when the history holds no candle with that open time.
   */
  replace(candle: StoredCandle): boolean {
    const row = lowerBound(this.#columns.openTime.subarray(0, this.#length), candle.openTime);
    if (row === this.#length || this.#columns.openTime[row] !== candle.openTime) return false;
    writeRow(this.#columns, row, candle);
    return true;
  }

  /** Adds a closed candle after the newest one (the caller guarantees it is later). */
  append(candle: StoredCandle): void {
    if (this.#length === this.#columns.openTime.length) {
      this.#columns = grow(this.#columns, this.#length * 2, this.#length);
    }
    writeRow(this.#columns, this.#length, candle);
    this.#length += 1;
  }
}

function grow(batch: CandleBatch, capacity: number, used: number): CandleBatch {
  const out = allocateBatch(capacity);
  copyRows(out, sliceBatch(batch, 0, used));
  return out;
}
