/**
 * What a replay does about gaps: a gap inside a known exchange outage (a maintenance window listed with the datasets)
 * is accepted; any other gap longer than the allowed number of missing candles stops the replay, which then never
 * trades across a hole it cannot see into (freqtrade warns about missing candles; here an unknown hole is an error
 * unless allowed, because trading across it silently fills at prices the data does not hold).
 *
 * @module
 */
import { FrameworkError } from '../core/errors';
import { isoUtc } from '../core/time';
import { nextOpenTime, type Timeframe } from '../core/timeframe';
import type { Gap } from './gaps';

/**
 * A span of time in which the exchange itself produced no candles (maintenance, an outage), e.g. Binance's
 * 2021-04-25 04:00–08:45 UTC: `from` inclusive, `to` exclusive, UTC epoch ms; `note` says what it was.
 */
export interface KnownGap {
  readonly from: number;
  readonly to: number;
  readonly note: string;
}

/** The default number of missing candles a replay trades across (a backtest's `--max-gap`): three. */
export const DEFAULT_MAX_GAP = 3;

/** A replay stopped by a gap longer than it allows; names the gap. */
export class GapError extends FrameworkError {}

/** Whether every missing candle of `gap` (open times `start`…`end`, each lasting one timeframe) lies inside one known gap. */
export function isKnownGap(gap: Gap, timeframe: Timeframe, known: readonly KnownGap[]): boolean {
  const end = nextOpenTime(gap.end, timeframe);
  return known.some((k) => k.from <= gap.start && end <= k.to);
}

/** The gaps of `gaps` that are not known exchange outages, in order. */
export function unknownGaps(gaps: readonly Gap[], timeframe: Timeframe, known: readonly KnownGap[]): Gap[] {
  return gaps.filter((g) => !isKnownGap(g, timeframe, known));
}

/**
 * Checks a replay's gaps against the policy.
 *
 * @param gaps - the gaps of the candles to replay (from `findGaps`).
 * @param maxGap - the most missing candles an unknown gap may have (0 = none allowed).
 * @param where - the dataset, for the message, e.g. `binance BTC/USDT 15m`.
 * @throws {@link GapError} for the first unknown gap longer than `maxGap`: `binance BTC/USDT 15m: 2976 candles missing
 *   from 2021-03-01T00:00:00.000Z to 2021-03-31T23:45:00.000Z (more than --max-gap 3)…`.
 */
export function enforceGapPolicy(
  gaps: readonly Gap[],
  timeframe: Timeframe,
  known: readonly KnownGap[],
  maxGap: number,
  where: string,
): void {
  const gap = unknownGaps(gaps, timeframe, known).find((g) => g.missing > maxGap);
  if (gap === undefined) return;
  throw new GapError(
    `${where}: ${gap.missing} candles missing from ${isoUtc(gap.start)} to ${isoUtc(gap.end)} (more than --max-gap ${maxGap}); ` +
      `refusing to trade across it: backtest a range that avoids it (--from/--to), or allow it with --max-gap ${gap.missing}`,
  );
}
