import { batchLength, sliceBatch, type CandleBatch } from '../core/candle';
import type { FrameColumns } from '../strategy/frame';

/** Indicator columns over the newest candles of a history: row `i` of each column is history row `offset + i`. */
export interface WindowedColumns {
  readonly columns: FrameColumns;
  readonly offset: number;
}

/** Tuning of {@link LiveIndicators}; candle counts. */
export interface LiveIndicatorOptions {
  /** The smallest window tried. Default 256. */
  readonly minWindow?: number;
  /** How many of the newest rows must be bit-for-bit equal to the full computation. Default 64. */
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
 * 1. Calibrate: compute over the full history once, then over windows of the newest 256, 512, 1,024, … candles,
 *    and take the first window that, like the window half its size, gives newest `verifyRows` rows equal to the full
 *    computation bit for bit in every column (NaN equals NaN). Requiring two windows to agree is the margin: a
 *    geometric decay that reached equality at W is far below half an ulp at 2W, while an indicator whose rounding
 *    depends on where it started (a running-sum SMA) only matches by luck and rarely twice. Indicators that never
 *    forget their start (a cumulative sum such as OBV) never pass: the window becomes the whole history, which is
 *    exact and as slow as recomputing everything.
 * 2. Per candle: compute over that window only.
 * 3. Every `recalibrateEvery` candles, calibrate again against the full history.
 *
 * The proof holds at calibration time; between calibrations it is an engineering bet on the decay, which
 * `npm run diff` checks after the fact (a mismatch is then explained as a different indicator window).
 *
 * This is the warm-up analysis of `npm run check` run with zero tolerance, at the start of every live run.
 */
export class LiveIndicators {
  readonly #computeColumns: (candles: CandleBatch) => Promise<FrameColumns>;
  readonly #minWindow: number;
  readonly #verifyRows: number;
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

  /**
   * Indicator columns for the newest candles of `history`: the window, or more when `minRows` asks for more, or all.
   *
   * @param minRows - the fewest newest rows the result must cover.
   */
  async compute(history: CandleBatch, minRows = 0): Promise<WindowedColumns> {
    const n = batchLength(history);
    if (this.#sinceCalibration >= this.#recalibrateEvery) {
      this.#sinceCalibration = 0;
      const full = await this.#computeColumns(history);
      this.#window = await this.#calibrate(history, full);
      if (this.#window >= n) return { columns: full, offset: 0 };
    }
    this.#sinceCalibration += 1;
    const offset = Math.max(0, n - Math.max(this.#window, minRows));
    return { columns: await this.#computeColumns(sliceBatch(history, offset, n)), offset };
  }

  async #calibrate(history: CandleBatch, full: FrameColumns): Promise<number> {
    const n = batchLength(history);
    let previousMatched = false;
    for (let window = this.#minWindow; window < n; window *= 2) {
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
