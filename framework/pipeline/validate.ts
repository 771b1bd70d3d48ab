/**
 * Validation: the second step of the candle pipeline. Decides whether a candle is usable and, if not, says why.
 *
 * @module
 */
import type { Candle } from '../core/candle';
import { isoUtc } from '../core/time';
import { timeframeGrid, type Timeframe, type TimeframeGrid } from '../core/timeframe';

/**
 * Checks one candle given as its six numbers; returns `null` when it is valid, otherwise a readable reason.
 * Made by {@link ohlcvValidator} so that columnar callers validate millions of rows without building objects.
 */
export type OhlcvCheck = (
  openTime: number,
  open: number,
  high: number,
  low: number,
  close: number,
  volume: number,
) => string | null;

const PRICE_FIELDS = ['open', 'high', 'low', 'close'] as const;

/**
 * A validator for candles of `timeframe`. A candle is valid when:
 * - all six numbers are finite;
 * - `open`, `high`, `low`, `close` are > 0 (quote currency);
 * - `volume` ≥ 0 (zero-volume flat candles from quiet markets are valid);
 * - `high` ≥ max(`open`, `close`) and `low` ≤ min(`open`, `close`) (hence `high` ≥ `low`);
 * - `openTime` (UTC epoch ms) is an open time of the timeframe as the exchanges define it (see
 *   {@link "core/timeframe"!TimeframeGrid | TimeframeGrid}: weeks on Mondays, `3d` as Binance, `1M` calendar months).
 *
 * @param timeframe - e.g. `5m`.
 * @returns a check that gives `null` for a valid candle, or every problem found, naming the field(s) and their
 *   values, joined by `; ` (e.g. `high 99 is below max(open 100, close 98)`).
 * @throws {@link "core/errors"!InvalidTimeframeError | InvalidTimeframeError} when `timeframe` is not valid.
 */
export function ohlcvValidator(timeframe: Timeframe): OhlcvCheck {
  const grid = timeframeGrid(timeframe);
  const aligned = grid.isAligned;
  return (openTime, open, high, low, close, volume) => {
    // One branch for the common case; NaN fails every comparison, and `low > 0`, `low ≤ open, close ≤ high < ∞`
    // bound all prices, so this is exactly the list above.
    if (
      low > 0 &&
      low <= open &&
      low <= close &&
      high >= open &&
      high >= close &&
      high < Number.POSITIVE_INFINITY &&
      volume >= 0 &&
      volume < Number.POSITIVE_INFINITY &&
      aligned(openTime)
    ) {
      return null;
    }
    return describeProblems({ openTime, open, high, low, close, volume }, grid);
  };
}

/**
 * Checks one candle; see {@link ohlcvValidator} for the rules.
 *
 * @param c - the candle (open time in UTC epoch ms).
 * @param timeframe - the timeframe it belongs to, e.g. `5m`.
 * @returns `null` when valid, otherwise a readable reason naming the field(s) and values.
 * @throws {@link "core/errors"!InvalidTimeframeError | InvalidTimeframeError} when `timeframe` is not valid.
 */
export function candleProblem(c: Candle, timeframe: Timeframe): string | null {
  return ohlcvValidator(timeframe)(c.openTime, c.open, c.high, c.low, c.close, c.volume);
}

function describeProblems(c: Candle, grid: TimeframeGrid): string {
  const nonFinite = (['openTime', ...PRICE_FIELDS, 'volume'] as const).filter((f) => !Number.isFinite(c[f]));
  if (nonFinite.length > 0) return nonFinite.map((f) => `${f} ${c[f]} is not a finite number`).join('; ');
  const problems: string[] = [];
  for (const f of PRICE_FIELDS) {
    if (c[f] <= 0) problems.push(`${f} ${c[f]} is not positive`);
  }
  if (c.volume < 0) problems.push(`volume ${c.volume} is negative`);
  if (c.high < Math.max(c.open, c.close)) problems.push(`high ${c.high} is below max(open ${c.open}, close ${c.close})`);
  if (c.low > Math.min(c.open, c.close)) problems.push(`low ${c.low} is above min(open ${c.open}, close ${c.close})`);
  if (!grid.isAligned(c.openTime)) {
    problems.push(`openTime ${c.openTime} (${isoUtc(c.openTime)}) is not aligned to the ${grid.timeframe} timeframe (its candles open ${grid.rule})`);
  }
  return problems.join('; ');
}
