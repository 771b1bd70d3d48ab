import { batchLength, sliceBatch, type CandleBatch } from '../core/candle';
import type { FrameColumns } from '../strategy/frame';

/**
 * Indicator columns over the newest candles of a history: row `i` of each column is history row `offset + i`. The
 * newest `provenRows` rows are proven bit-for-bit equal to the computation over the whole history (`Infinity` when
 * `offset` is 0: the columns are that computation).
 */
export interface WindowedColumns {
  readonly columns: FrameColumns;
  readonly offset: number;
  readonly provenRows: number;
}

/** Tuning of {@link LiveIndicators}; candle counts. */
export interface LiveIndicatorOptions {
  /** The smallest window tried. Default 256. */
  readonly minWindow?: number;
  /**
   * How many of the newest rows must be bit-for-bit equal to the full computation. Default 64; raised later by
   * {@link LiveIndicators.prove}.
   */
  readonly verifyRows?: number;
  /** Recalibrate against the full history after this many candles. Default 2,000. */
  readonly recalibrateEvery?: number;
}

/**
 * Live indicator computation that equals the replay's bit for bit without recomputing the whole history per candle.
 *
 * The replay computes `populateIndicators` once over the whole history from its origin. Recomputing that on every live
 * candle is exact but grows with the history (about 10 ms per 1,000 candles here). Most indicators forget their
 * start: a finite window (SMA, RSI's Wilder average after enough candles, an EMA once `(1 − α)^n` is below half an ulp)
 * gives the same doubles over the newest candles as the full history does. So:
 *
 * 1. Calibrate: compute over the full history once, then over windows of the newest 256, 512, 1,024, … candles
 *    (from the first power of two holding `verifyRows` rows), and take the first window that, like the window half its
 *    size, gives newest `verifyRows` rows equal to the full
 *    computation bit for bit in every column (NaN equals NaN). Requiring two windows to agree is the margin: a
 *    geometric decay that reached equality at W is far below half an ulp at 2W, while an indicator whose rounding
 *    depends on where it started (a running-sum SMA) only matches by luck and rarely twice. Indicators that never
 *    forget their start (a cumulative sum such as OBV) never pass: the window becomes the whole history, which is
 *    exact and as slow as recomputing everything.
 * 2. Per candle: compute over that window only. A calibrating candle gets the full computation itself.
 * 3. Every `recalibrateEvery` candles, or when {@link LiveIndicators.prove} asks for more proven rows, calibrate again
 *    against the full history.
 *
 * The proof holds at calibration time; between calibrations it is an engineering bet on the decay, which
 * `npm run diff` checks after the fact. Rows older than the proven ones are not trusted: the engine checks any read of
 * them against the full computation before acting (see `LiveReadProof`).
 *
 * This is the warm-up analysis of `npm run check` run with zero tolerance, at the start of every live run.
 */
export class LiveIndicators {
  readonly #computeColumns: (candles: CandleBatch) => Promise<FrameColumns>;
  readonly #minWindow: number;
  #verifyRows: number;
  readonly #recalibrateEvery: number;
  #window = 0;
  #sinceCalibration = Number.POSITIVE_INFINITY;

  /**
   * @param computeColumns - the vectorised computation to window, e.g. the strategy's `populateIndicators` through
   *   `computeIndicatorColumns`.
   */
  constructor(computeColumns: (candles: CandleBatch) => Promise<FrameColumns>, options: LiveIndicatorOptions = {}) {
    this.#computeColumns = computeColumns;
    this.#minWindow = options.minWindow ?? 256;
    this.#verifyRows = options.verifyRows ?? 64;
    this.#recalibrateEvery = options.recalibrateEvery ?? 2_000;
  }

  /** The window in use, in candles (`Infinity`: the whole history); 0 before the first computation. */
  get window(): number {
    return this.#window;
  }

  /** How many of the newest rows a windowed computation is proven to give as the whole history does. */
  get provenRows(): number {
    return this.#verifyRows;
  }

  /**
   * Asks for at least `rows` newest rows proven from now on: when that is more than before, the next
   * {@link compute} calibrates again (against the full history, with windows large enough to hold them).
   */
  prove(rows: number): void {
    if (rows <= this.#verifyRows) return;
    this.#verifyRows = rows;
    this.#sinceCalibration = Number.POSITIVE_INFINITY;
  }

  /**
   * Indicator columns for the newest candles of `history`: the window, or more when `minRows` asks for more, or all
   * (on a calibrating candle, or when no window is proven).
   *
   * @param minRows - the fewest newest rows the result must cover.
   */
  async compute(history: CandleBatch, minRows = 0): Promise<WindowedColumns> {
    const n = batchLength(history);
    if (this.#sinceCalibration >= this.#recalibrateEvery) {
      this.#sinceCalibration = 0;
      const full = await this.#computeColumns(history);
      this.#window = await this.#calibrate(history, full);
      return { columns: full, offset: 0, provenRows: Number.POSITIVE_INFINITY };
    }
    this.#sinceCalibration += 1;
    const offset = Math.max(0, n - Math.max(this.#window, minRows));
    const columns = await this.#computeColumns(sliceBatch(history, offset, n));
    return { columns, offset, provenRows: offset === 0 ? Number.POSITIVE_INFINITY : this.#verifyRows };
  }

  async #calibrate(history: CandleBatch, full: FrameColumns): Promise<number> {
    const n = batchLength(history);
    let previousMatched = false;
    let first = this.#minWindow;
    while (first < this.#verifyRows) first *= 2;
    for (let window = first; window < n; window *= 2) {
      const part = await this.#computeColumns(sliceBatch(history, n - window, n));
      const matched = newestRowsEqual(full, part, Math.min(this.#verifyRows, window));
      if (matched && previousMatched) return window;
      previousMatched = matched;
    }
    return Number.POSITIVE_INFINITY;
  }
}

/** Whether the newest `rows` rows of every column of `full` equal those of `part`, bit for bit (NaN = NaN). */
function newestRowsEqual(full: FrameColumns, part: FrameColumns, rows: number): boolean {
  for (const [name, values] of Object.entries(full)) {
    const other = part[name];
    if (other === undefined) return false;
    for (let k = 1; k <= rows; k++) {
      if (!Object.is(values[values.length - k], other[other.length - k])) return false;
    }
  }
  return true;
}
