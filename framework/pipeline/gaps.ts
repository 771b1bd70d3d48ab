/**
 * Gap detection: finds the candles missing from a sorted series of open times.
 *
 * @module
 */
import { isoUtc } from '../core/time';
import { timeframeGrid, type Timeframe } from '../core/timeframe';

/**
 * A run of consecutive missing candles.
 * - `start`: open time of the first missing candle (UTC epoch ms);
 * - `end`: open time of the last missing candle (UTC epoch ms; equals `start` when one candle is missing);
 * - `missing`: how many candles are missing.
 */
export interface Gap {
  readonly start: number;
  readonly end: number;
  readonly missing: number;
}

/**
 * Finds the gaps in a series of open times. Between two consecutive open times `a < b`, the missing candles are the
 * open times of the timeframe after `a` and strictly before `b` (`a + k·length`, k ≥ 1, for fixed-length timeframes;
 * the next calendar months for `1M`). Steps that are not positive (unsorted or repeated input) are ignored.
 *
 * @param openTime - candle open times in UTC epoch ms, sorted ascending and unique (e.g. pipeline output).
 * @param timeframe - e.g. `5m`.
 * @returns the gaps in ascending order; empty when the series is continuous.
 * @throws {@link "core/errors"!InvalidTimeframeError | InvalidTimeframeError} when `timeframe` is not valid.
 */
export function findGaps(openTime: Float64Array, timeframe: Timeframe): Gap[] {
  const grid = timeframeGrid(timeframe);
  const length = grid.fixedMs;
  if (length === null) return walkGaps(openTime, grid.nextOpen);
  const gaps: Gap[] = [];
  for (let i = 1; i < openTime.length; i++) {
    const previous = openTime[i - 1]!;
    const step = openTime[i]! - previous;
    if (step > length) {
      const missing = Math.ceil(step / length) - 1;
      gaps.push({ start: previous + length, end: previous + missing * length, missing });
    }
  }
  return gaps;
}

/** {@link findGaps} for candles of variable length: steps from each open time to the next one by `nextOpen`. */
function walkGaps(openTime: Float64Array, nextOpen: (openTime: number) => number): Gap[] {
  const gaps: Gap[] = [];
  for (let i = 1; i < openTime.length; i++) {
    const start = nextOpen(openTime[i - 1]!);
    let end = start;
    let missing = 0;
    for (let t = start; t < openTime[i]!; t = nextOpen(t)) {
      end = t;
      missing++;
    }
    if (missing > 0) gaps.push({ start, end, missing });
  }
  return gaps;
}

/** A gap as one line of text, e.g. `46 candles missing from 2020-12-21T14:10:00.000Z to 2020-12-21T17:55:00.000Z`. */
export function describeGap(g: Gap): string {
  return g.missing === 1
    ? `1 candle missing at ${isoUtc(g.start)}`
    : `${g.missing} candles missing from ${isoUtc(g.start)} to ${isoUtc(g.end)}`;
}
