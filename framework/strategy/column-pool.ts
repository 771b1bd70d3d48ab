/**
 * Indicator columns recycled from one optimisation trial to the next, so that a worker does not allocate (and the
 * system page in) the same 8 MB per column per million candles in every trial.
 *
 * @module
 */

/**
 * Columns lent to the indicators a strategy computes (the arrays {@link newColumn} makes while the pool lends, e.g.
 * every column `ema` makes without an `out`), kept after use and lent again once the caller says none of them is read
 * any more ({@link ColumnPool.reclaim}). A lent column holds whatever its last user wrote: only code that writes every
 * element before reading any (as `ema` does) takes one.
 */
export class ColumnPool {
  readonly #free: Float64Array[] = [];
  #lent: Float64Array[] = [];

  /**
   * Calls `compute` (synchronously: columns made after an `await` inside it are new arrays, not lent) with
   * {@link newColumn} taking its columns from this pool, and returns what `compute` returned.
   */
  lend<T>(compute: () => T): T {
    const outer = lender;
    lender = this;
    try {
      return compute();
    } finally {
      lender = outer;
    }
  }

  /** Makes every column lent so far free to be lent again: the caller vouches that nothing reads them any more. */
  reclaim(): void {
    this.#free.push(...this.#lent);
    this.#lent = [];
  }

  /**
   * A column of `length` values (any contents), lent until {@link ColumnPool.reclaim}: the start of a free one at
   * least as long, or a new one (which replaces a shorter free one: trials over spans of many lengths keep as many
   * columns as one trial took, each as long as the longest span's).
   */
  take(length: number): Float64Array {
    const k = this.#free.findIndex((column) => column.length >= length);
    if (k < 0) this.#free.pop();
    const column = k < 0 ? new Float64Array(length) : this.#free.splice(k, 1)[0]!;
    this.#lent.push(column);
    return column.length === length ? column : column.subarray(0, length);
  }
}

/** The pool lending columns now ({@link ColumnPool.lend}), or null (the usual case: new arrays). */
let lender: ColumnPool | null = null;

/**
 * A column of `length` numbers for a `populateColumns` that writes every element before it reads any (as `ema` does
 * with the arrays it makes): outside an optimisation trial a new `Float64Array` of zeros; in a trial, while its
 * {@link ColumnPool} lends, one an earlier trial of the same worker used, with whatever that trial wrote (so that a
 * worker does not allocate, and the system page in, 8 MB per column per million candles in every trial).
 *
 * @param length - number of values, a non-negative integer (the candles' count).
 * @throws RangeError when `length` is not a valid typed-array length.
 */
export function newColumn(length: number): Float64Array {
  return lender === null ? new Float64Array(length) : lender.take(length);
}
