/**
 * The equity curve: one row per candle, marked at the candle's close, stored as parallel `Float64Array`s.
 *
 * @module
 */

/**
 * Equity curve as parallel columns of equal length; row `i` belongs to the `i`-th candle the broker saw.
 *
 * - `time`: candle open time, UTC epoch ms (the values are marked at that candle's close);
 * - `equity`: `cash + positionValue`, quote currency;
 * - `cash`: quote currency (a short's sale proceeds included);
 * - `positionValue`: the open position marked at the close, quote currency: `+quantity × close` for a long,
 *   `−quantity × close` for a short, 0 when flat.
 *
 * `cash` and `positionValue` are empty when the buffer keeps equity only (an optimisation trial's: see
 * {@link EquityCurveBuffer}'s `parts`).
 */
export interface EquityCurve {
  readonly time: Float64Array;
  readonly equity: Float64Array;
  readonly cash: Float64Array;
  readonly positionValue: Float64Array;
}

/**
 * Growable storage for an {@link EquityCurve}: appends cost no allocation except when the capacity doubles,
 * so a run over a million candles allocates about 20 times in total.
 */
export class EquityCurveBuffer {
  #length = 0;
  readonly #parts: boolean;
  #time: Float64Array;
  #equity: Float64Array;
  #cash: Float64Array;
  #positionValue: Float64Array;

  /**
   * @param capacity - initial number of rows (grows as needed).
   * @param options - `parts` (default true): whether to keep the `cash` and `positionValue` columns; without them
   *   (an optimisation trial, whose metrics read time and equity only) each row writes two columns instead of four.
   */
  constructor(capacity = 1024, options: { readonly parts?: boolean } = {}) {
    this.#parts = options.parts ?? true;
    const partsCapacity = this.#parts ? capacity : 0;
    this.#time = new Float64Array(capacity);
    this.#equity = new Float64Array(capacity);
    this.#cash = new Float64Array(partsCapacity);
    this.#positionValue = new Float64Array(partsCapacity);
  }

  /** Number of rows. */
  get length(): number {
    return this.#length;
  }

  /** Appends a row; `equity` is computed as `cash + positionValue`. */
  push(time: number, cash: number, positionValue: number): void {
    const i = this.#length;
    if (i === this.#time.length) this.#grow();
    // Written out rather than through #write: one call less to inline into the broker's per-candle step (a call not
    // inlined boxes its number arguments: two heap numbers per candle).
    this.#time[i] = time;
    if (this.#parts) {
      this.#cash[i] = cash;
      this.#positionValue[i] = positionValue;
    }
    this.#equity[i] = cash + positionValue;
    this.#length = i + 1;
  }

  /** Rewrites the last row (used when a position is closed at the close the row was marked at). */
  replaceLast(time: number, cash: number, positionValue: number): void {
    this.#write(this.#length - 1, time, cash, positionValue);
  }

  /** Removes every row, keeping the memory (a buffer reused run after run: see the broker's `equityCurve` option). */
  clear(): void {
    this.#length = 0;
  }

  /** Equity of the last row, or `NaN` when empty. */
  lastEquity(): number {
    return this.#length === 0 ? Number.NaN : this.#equity[this.#length - 1]!;
  }

  /**
   * Makes room for at least `rows` rows in all (one allocation, instead of doubling as rows come: re-allocating the
   * columns of a million-row curve twenty times costs more than writing the rows).
   */
  reserve(rows: number): void {
    if (rows > this.#time.length) this.#resize(rows);
  }

  /**
   * The rows so far as views sharing this buffer's memory (valid until the next append that grows the buffer, or the
   * next {@link reserve} that does).
   */
  view(): EquityCurve {
    const n = this.#length;
    return {
      time: this.#time.subarray(0, n),
      equity: this.#equity.subarray(0, n),
      cash: this.#cash.subarray(0, n),
      positionValue: this.#positionValue.subarray(0, n),
    };
  }

  #write(i: number, time: number, cash: number, positionValue: number): void {
    this.#time[i] = time;
    if (this.#parts) {
      this.#cash[i] = cash;
      this.#positionValue[i] = positionValue;
    }
    this.#equity[i] = cash + positionValue;
  }

  #grow(): void {
    this.#resize(Math.max(16, this.#time.length * 2));
  }

  #resize(capacity: number): void {
    const grown = (old: Float64Array): Float64Array => {
      const next = new Float64Array(capacity);
      next.set(old);
      return next;
    };
    this.#time = grown(this.#time);
    this.#equity = grown(this.#equity);
    if (this.#parts) {
      this.#cash = grown(this.#cash);
      this.#positionValue = grown(this.#positionValue);
    }
  }
}
