/**
 * Helpers for adding indicator outputs to a candle `DataFrame`.
 *
 * @module
 */

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
  if (values.length > length) {
    throw new RangeError(`indicator output has ${values.length} values for ${length} candles`);
  }
  const padding = length - values.length;
  // A counted loop: `Array.from` with a callback costs several times more over a million candles.
  const out: number[] = new Array(length);
  for (let i = 0; i < padding; i++) out[i] = Number.NaN;
  for (let i = padding; i < length; i++) out[i] = values[i - padding] ?? Number.NaN;
  return out;
}
