/**
 * The stale rule: a traded candle that reaches the run too long after it closed is not traded. See {@link staleReason}.
 *
 * @module
 */
import { FrameworkError } from '../core/errors';
import { isoUtc } from '../core/time';
import type { TimeframeGrid } from '../core/timeframe';

/** How late a candle may arrive, in timeframes after its close, before it is stale: 1 (one timeframe) by default. */
export const DEFAULT_STALE_AFTER = 1;

/**
 * Whether a traded candle is stale, and the decision's reason if so: it closed (its grid's next open time) more than
 * `staleAfter` timeframes before it arrived (`arrivedAt`, the exchange clock when it reached the run, UTC epoch ms).
 * A stale candle extends the history and `onData` runs on it, but its signal is not handed to the broker: the market
 * it was decided on is gone (a candle backfilled after a reconnect, hours late, must not open a position as if it had
 * just closed). The same inputs give the same reason, so the replay of a live run (`npm run diff`) reproduces the live
 * decision from the journal's `arrivedAt`.
 *
 * Lateness is counted in the grid's candles after the close (`timeframesAfter`): on calendar months (`1M`) a
 * candle of January closes on February 1st 00:00 UTC and, with a limit of 1, may arrive until March 1st 00:00 UTC
 * (28 or 29 days later), never by a nominal month length.
 *
 * @param openTime - the candle's open time, UTC epoch ms.
 * @param grid - its timeframe's grid (`timeframeGrid(timeframe)`).
 * @param arrivedAt - the exchange clock when it arrived, UTC epoch ms.
 * @param staleAfter - timeframes (> 0) a candle may arrive after its close and still be traded.
 * @returns `stale: arrived <ISO>, <n> timeframes after its close at <ISO> (limit <staleAfter>)`, or null when fresh
 *   (arrived at most `staleAfter` timeframes after its close).
 */
export function staleReason(openTime: number, grid: TimeframeGrid, arrivedAt: number, staleAfter: number): string | null {
  const closedAt = grid.nextOpen(openTime);
  const late = arrivedAt - closedAt;
  if (late <= 0 || staleAfter === Number.POSITIVE_INFINITY) return null;
  // Fixed-length grids: the comparison in ms, as before calendar months were counted (same decisions in older runs).
  const timeframes = timeframesAfter(grid, closedAt, arrivedAt);
  if (grid.fixedMs !== null ? late <= staleAfter * grid.fixedMs : timeframes <= staleAfter) return null;
  return `stale: arrived ${isoUtc(arrivedAt)}, ${timeframes.toFixed(2)} timeframes after its close at ${isoUtc(closedAt)} (limit ${staleAfter})`;
}

/**
 * How many candles of `grid` fit between `openTime` (an open time of the grid) and the later instant `time`: the
 * whole candles, plus the elapsed fraction of the candle `time` falls in (by that candle's own length: 28 to 31 days
 * on calendar months).
 */
function timeframesAfter(grid: TimeframeGrid, openTime: number, time: number): number {
  if (grid.fixedMs !== null) return (time - openTime) / grid.fixedMs;
  let whole = 0;
  let open = openTime;
  for (let next = grid.nextOpen(open); next <= time; next = grid.nextOpen(open)) {
    open = next;
    whole += 1;
  }
  return whole + (time - open) / (grid.nextOpen(open) - open);
}

/**
 * Checks a stale limit given by a user (`--stale-after`).
 *
 * @returns `value` when it is a positive number of timeframes (`Infinity` turns the rule off).
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} naming the value and what is allowed.
 */
export function checkStaleAfter(value: number): number {
  if (!(value > 0)) {
    throw new FrameworkError(`stale-after ${value}: expected a positive number of timeframes (e.g. 1, 0.5, 3; Infinity turns the rule off)`);
  }
  return value;
}
