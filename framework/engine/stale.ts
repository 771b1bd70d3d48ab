/**
 * The stale rule: a traded candle that reaches the run too long after it closed is not traded. See {@link staleReason}.
 *
 * @module
 */
import { FrameworkError } from '../core/errors';
import { isoUtc } from '../core/time';

/** How late a candle may arrive, in timeframes after its close, before it is stale: 1 (one timeframe) by default. */
export const DEFAULT_STALE_AFTER = 1;

/**
 * Whether a traded candle is stale, and the decision's reason if so: it closed (open time + timeframe) more than
 * `staleAfter` timeframes before it arrived (`arrivedAt`, the exchange clock when it reached the run, UTC epoch ms).
 * A stale candle extends the history and `onData` runs on it, but its signal is not handed to the broker: the market
 * it was decided on is gone (a candle backfilled after a reconnect, hours late, must not open a position as if it had
 * just closed). The same inputs give the same reason, so the replay of a live run (`npm run diff`) reproduces the live
 * decision from the journal's `arrivedAt`.
 *
 * @param openTime - the candle's open time, UTC epoch ms.
 * @param timeframeMs - its timeframe, ms.
 * @param arrivedAt - the exchange clock when it arrived, UTC epoch ms.
 * @param staleAfter - timeframes (> 0) a candle may arrive after its close and still be traded.
 * @returns `stale: arrived <ISO>, <n> timeframes after its close at <ISO> (limit <staleAfter>)`, or null when fresh
 *   (arrived at most `staleAfter` timeframes after its close).
 */
export function staleReason(openTime: number, timeframeMs: number, arrivedAt: number, staleAfter: number): string | null {
  const closedAt = openTime + timeframeMs;
  const late = arrivedAt - closedAt;
  if (late <= staleAfter * timeframeMs) return null;
  return `stale: arrived ${isoUtc(arrivedAt)}, ${(late / timeframeMs).toFixed(2)} timeframes after its close at ${isoUtc(closedAt)} (limit ${staleAfter})`;
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
