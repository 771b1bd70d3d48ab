/**
 * Helpers for adding indicator outputs to a candle `DataFrame`.
 *
 * @module
 */
import { newColumn } from './column-pool';

/**
 * Aligns an indicator's output with the candles it was computed from: `technicalindicators` returns one value per
 * candle from the end of the indicator's look-back onwards, so its output is shorter than the input. This pads the
 * front with NaN so that `result[i]` belongs to candle `i`.
 *
 * @param values - the indicator output, oldest first; `undefined` entries (e.g. MACD's signal before it is seeded) become NaN.
 * @param length - the number of candles (rows of the DataFrame).
 * @returns a plain array of `length` numbers (danfojs columns are plain arrays).
 * @throws RangeError when `values` is longer than `length`.
 */
export function alignToCandles(values: readonly (number | undefined)[], length: number): number[] {
  return aligned(values.length, length, (k) => values[k]);
}

/**
 * Aligns a multi-output indicator with the candles, one column per field: `technicalindicators`' MACD, Bollinger
 * Bands, Stochastic and the like return one object per value (`{ MACD, signal, histogram }`), shorter than the input
 * as for {@link alignToCandles}. `result[field][i]` belongs to candle `i`; the front and `undefined` fields are NaN.
 * Equal to `alignToCandles(values.map((v) => v[field]), length)` per field, in one pass and without the intermediate
 * arrays (over a million candles that is the difference between one and four arrays per field).
 *
 * @example
 * ```ts
 * const macd = MACD.calculate({ values: closes, fastPeriod: 12, slowPeriod: 26, signalPeriod: 9,
 *   SimpleMAOscillator: false, SimpleMASignal: false });
 * const { MACD: line, histogram } = alignFieldsToCandles(macd, closes.length, ['MACD', 'histogram']);
 * df.addColumn('macd_hist', histogram, { inplace: true });
 * ```
 *
 * @param values - the indicator output, oldest first.
 * @param length - the number of candles (rows of the DataFrame).
 * @param fields - the fields to make columns of.
 * @returns for each field, a plain array of `length` numbers.
 * @throws RangeError when `values` is longer than `length`.
 */
export function alignFieldsToCandles<T extends object, F extends keyof T & string>(
  values: readonly T[],
  length: number,
  fields: readonly F[],
): Record<F, number[]> {
  const columns = {} as Record<F, number[]>;
  for (const field of fields) columns[field] = aligned(values.length, length, (k) => values[k]![field] as number | undefined);
  return columns;
}

/**
 * What {@link streamToCandles} runs: an indicator that takes one value at a time, as `technicalindicators`' streaming
 * API does (`new EMA({ period: 12, values: [] })`, `SMA`, `WMA`, `RSI`, …): `nextValue` returns the indicator after
 * that value, or `undefined` while it has seen too few values.
 */
export interface StreamingIndicator {
  /** Takes the next input value; returns the indicator after it, or `undefined` during the look-back. */
  nextValue(value: number): number | undefined;
}

/**
 * Runs a streaming indicator over `values` as a candle-aligned column: `result[i]` is what `nextValue(values[i])`
 * returned, NaN while the indicator has no value yet. A NaN input is not fed and gives NaN, so an indicator of another
 * indicator (a signal line over an oscillator) starts where its input does, as in `technicalindicators`' MACD.
 *
 * `technicalindicators`' `calculate` of a multi-output indicator builds an object per candle through a generator; its
 * `EMA` fed one value at a time gives the same numbers for a fraction of the cost: MACD 12/26/9 as three EMAs equals its
 * `MACD.calculate` bit for bit (tested) in about a third of the time over a million candles.
 *
 * @example
 * ```ts
 * const ema = (period: number, values: ArrayLike<number>) => streamToCandles(new EMA({ period, values: [] }), values);
 * const fast = ema(12, closes);
 * const slow = ema(26, closes);
 * const macd = fast.map((f, i) => f - slow[i]!); // NaN until the slow EMA has a value
 * const signal = ema(9, macd);
 * ```
 *
 * @param indicator - a fresh indicator (it keeps its state: one instance per column).
 * @param values - the input, one value per candle, oldest first (e.g. the closes).
 * @returns a plain array of `values.length` numbers (danfojs columns are plain arrays).
 */
export function streamToCandles(indicator: StreamingIndicator, values: ArrayLike<number>): number[] {
  const out: number[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    out[i] = Number.isNaN(value) ? Number.NaN : (indicator.nextValue(value) ?? Number.NaN);
  }
  return out;
}

/**
 * `length` values: NaN for the first `length − outputs`, then output `k` (`valueAt(k)`, NaN when undefined) at row
 * `length − outputs + k`. A counted loop: `Array.from` with a callback costs several times more over a million candles.
 */
function aligned(outputs: number, length: number, valueAt: (k: number) => number | undefined): number[] {
  if (outputs > length) throw new RangeError(`indicator output has ${outputs} values for ${length} candles`);
  const padding = length - outputs;
  const out: number[] = new Array(length);
  for (let i = 0; i < padding; i++) out[i] = Number.NaN;
  for (let i = padding; i < length; i++) out[i] = valueAt(i - padding) ?? Number.NaN;
  return out;
}

/**
 * The exponential moving average of `values` as a candle-aligned column, computed on typed arrays: bit for bit what
 * `streamToCandles(new EMA({ period, values: [] }), values)` gives with `technicalindicators`' `EMA` (version 3.1, its
 * default configuration: no `precision` rounding), in a plain loop instead of one generator step per value, several
 * times faster over a long history.
 *
 * The arithmetic is that library's (`lib/moving_averages/EMA.js` and `SMA.js`): NaN inputs are skipped and give NaN;
 * the first `period − 1` values fed give NaN; the `period`-th gives the seed, their simple average summed from 0 in input
 * order, `(sum − 0 + value) / period`; from then on `ema = (value − ema) × k + ema` with `k = 2 / (period + 1)`. A seed
 * of 0 or NaN (falsy in that library's check) is not returned: its first value is `(value − seed) × k + seed` on the
 * same input, as the library's generator computes it.
 *
 * @param values - the input, one value per candle, oldest first (e.g. the closes, or an oscillator with leading NaN).
 * @param period - look-back in values, a positive integer.
 * @param out - where to write the result, as long as `values` (it may be `values` itself, or an array no longer
 *   needed: over a million candles a fresh array costs more than the average); default a new array (in an
 *   optimisation trial, an array of an earlier trial: see `ColumnPool`; every element is written either way).
 * @returns `out`: a `Float64Array` of `values.length`.
 * @throws RangeError when `period` is not a positive integer or `out` is not as long as `values`.
 */
export function ema(values: ArrayLike<number>, period: number, out: Float64Array = newColumn(values.length)): Float64Array {
  if (!Number.isInteger(period) || period < 1) throw new RangeError(`ema: period must be a positive integer, got ${period}`);
  const k = 2 / (period + 1);
  const n = values.length;
  if (out.length !== n) throw new RangeError(`ema: out has ${out.length} values for ${n} inputs`);
  let seen = 0;
  let sum = 0;
  let previous = Number.NaN;
  let i = 0;
  for (; i < n && seen < period; i++) {
    const value = values[i]!;
    if (Number.isNaN(value)) {
      out[i] = Number.NaN;
      continue;
    }
    seen++;
    if (seen < period) {
      sum = sum + value;
      out[i] = Number.NaN;
      continue;
    }
    const seed = (sum - 0 + value) / period;
    previous = seed ? seed : (value - seed) * k + seed;
    out[i] = previous;
  }
  for (; i < n; i++) {
    const value = values[i]!;
    if (Number.isNaN(value)) {
      out[i] = Number.NaN;
      continue;
    }
    previous = (value - previous) * k + previous;
    out[i] = previous;
  }
  return out;
}
