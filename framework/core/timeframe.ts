import { InvalidTimeframeError } from './errors';

/**
 * A candle timeframe in ccxt/Binance notation: a positive integer followed by a unit, `m` (minutes), `h` (hours),
 * `d` (days), `w` (weeks) or `M` (calendar months), e.g. `1m`, `5m`, `15m`, `1h`, `4h`, `1d`, `3d`, `1w`, `1M`.
 * Where each candle opens is described by {@link TimeframeGrid}.
 */
export type Timeframe = string;

const DAY_MS = 86_400_000;

const UNIT_MS: Readonly<Record<string, number>> = {
  m: 60_000,
  h: 3_600_000,
  d: DAY_MS,
  w: 7 * DAY_MS,
};

/** 1970-01-05, the first Monday after the epoch (1970-01-01 was a Thursday). */
const FIRST_MONDAY_MS = 4 * DAY_MS;

/** The length of a year used for annualising (365 days); a calendar month's nominal length is a twelfth of it. */
const YEAR_MS = 365 * DAY_MS;

const TIMEFRAME_PATTERN = /^([1-9][0-9]*)([mhdwM])$/;

/**
 * The open times of a timeframe's candles, as exchanges define them (Binance's kline intervals, which ccxt exchanges
 * follow):
 * - minutes, hours and days (other than `3d`): multiples of the length counted from the Unix epoch, UTC;
 * - `3d`: every third day from 1970-01-02, i.e. days since the epoch ≡ 1 (mod 3): Binance's 3-day candles open on
 *   2017-08-17, 2017-08-20, …;
 * - weeks: Monday 00:00 UTC (every n-th Monday from 1970-01-05 for `nw`);
 * - `1M`: the first day of each calendar month, 00:00 UTC (every n-th month from January 1970 for `nM`); these candles
 *   have no fixed length (28 to 31 days).
 *
 * Obtained from {@link timeframeGrid}. All times are UTC epoch ms.
 */
export interface TimeframeGrid {
  /** The timeframe, e.g. `1w`. */
  readonly timeframe: Timeframe;
  /** Every candle's length in ms, or `null` for calendar months (variable length). */
  readonly fixedMs: number | null;
  /** An open time of a fixed-length grid modulo its length (ms; `0` for epoch-aligned grids, 4 days for weeks). */
  readonly offsetMs: number;
  /** A typical candle length in ms: `fixedMs`, or 365 days / 12 per month (so a year has 12 monthly periods). */
  readonly nominalMs: number;
  /** Where the candles open, for error messages: e.g. `on Mondays at 00:00 UTC`. */
  readonly rule: string;
  /** Open time of the candle containing the instant `timeMs`. */
  bucketStart(timeMs: number): number;
  /** Open time of the candle after the one opening at `openTime` (its close time + 1 ms). */
  nextOpen(openTime: number): number;
  /** Open time of the candle before the one opening at `openTime`. */
  previousOpen(openTime: number): number;
  /** Whether `timeMs` is a candle open time of this timeframe. */
  isAligned(timeMs: number): boolean;
}

const grids = new Map<Timeframe, TimeframeGrid>();

/**
 * The grid of candle open times of `timeframe` (see {@link TimeframeGrid}); made once per timeframe.
 *
 * @throws {@link "core/errors"!InvalidTimeframeError | InvalidTimeframeError} when `timeframe` is not
 *   `<n><m|h|d|w|M>`.
 */
export function timeframeGrid(timeframe: Timeframe): TimeframeGrid {
  let grid = grids.get(timeframe);
  if (grid === undefined) {
    grid = makeGrid(timeframe);
    grids.set(timeframe, grid);
  }
  return grid;
}

function makeGrid(timeframe: Timeframe): TimeframeGrid {
  const match = TIMEFRAME_PATTERN.exec(timeframe);
  if (match === null) {
    throw new InvalidTimeframeError(
      `invalid timeframe "${timeframe}": expected a positive integer and a unit m, h, d, w or M (e.g. "15m", "1h", "1w", "1M")`,
    );
  }
  const count = Number(match[1]);
  const unit = match[2]!;
  if (unit === 'M') return monthGrid(timeframe, count);
  const length = count * (UNIT_MS[unit] as number);
  if (unit === 'w') {
    const rule = count === 1 ? 'on Mondays at 00:00 UTC' : `every ${count} weeks on Mondays at 00:00 UTC from 1970-01-05`;
    return fixedGrid(timeframe, length, FIRST_MONDAY_MS % length, rule);
  }
  if (timeframe === '3d') {
    return fixedGrid(timeframe, length, DAY_MS, 'every third day at 00:00 UTC from 1970-01-02 (as Binance)');
  }
  return fixedGrid(timeframe, length, 0, `at multiples of ${timeframe} from 1970-01-01 00:00 UTC`);
}

function fixedGrid(timeframe: Timeframe, length: number, offset: number, rule: string): TimeframeGrid {
  return {
    timeframe,
    rule,
    fixedMs: length,
    offsetMs: offset,
    nominalMs: length,
    bucketStart: (t) => offset + Math.floor((t - offset) / length) * length,
    nextOpen: (t) => t + length,
    previousOpen: (t) => t - length,
    isAligned: (t) => (t - offset) % length === 0,
  };
}

/** Calendar months, `count` at a time, counted from January 1970. */
function monthGrid(timeframe: Timeframe, count: number): TimeframeGrid {
  const monthIndex = (t: number): number => {
    const d = new Date(t);
    return (d.getUTCFullYear() - 1970) * 12 + d.getUTCMonth();
  };
  const monthStart = (index: number): number => Date.UTC(1970 + Math.floor(index / 12), ((index % 12) + 12) % 12, 1);
  // ±∞ and NaN map to themselves, as they do on fixed-length grids.
  const bucketStart = (t: number): number => {
    if (!Number.isFinite(t)) return t;
    const m = monthIndex(t);
    return monthStart(m - (((m % count) + count) % count));
  };
  return {
    timeframe,
    fixedMs: null,
    offsetMs: 0,
    nominalMs: (count * YEAR_MS) / 12,
    rule:
      count === 1
        ? 'on the 1st of each month at 00:00 UTC'
        : `on the 1st of every ${count}th month at 00:00 UTC from January 1970`,
    bucketStart,
    nextOpen: (t) => (Number.isFinite(t) ? monthStart(monthIndex(t) + count) : t),
    previousOpen: (t) => (Number.isFinite(t) ? monthStart(monthIndex(t) - count) : t),
    isAligned: (t) => Number.isFinite(t) && bucketStart(t) === t,
  };
}

/**
 * Length of every candle of a fixed-length timeframe, in milliseconds (`15m` → 900000, `1w` → 604800000).
 *
 * @throws {@link "core/errors"!InvalidTimeframeError | InvalidTimeframeError} when `timeframe` is not valid, or is in
 *   calendar months (`1M`: use {@link timeframeGrid}'s `nextOpen`, or `nominalMs` for a typical length).
 */
export function timeframeToMs(timeframe: Timeframe): number {
  const grid = timeframeGrid(timeframe);
  if (grid.fixedMs === null) {
    throw new InvalidTimeframeError(
      `timeframe "${timeframe}" has no fixed length in ms (calendar months run 28 to 31 days)`,
    );
  }
  return grid.fixedMs;
}

/** Whether `name` is a timeframe {@link timeframeGrid} accepts (`15m`, `1h`, `1w`, `1M`, …). */
export function isTimeframe(name: string): boolean {
  return TIMEFRAME_PATTERN.test(name);
}

/**
 * Open time of the candle of `timeframe` that contains the instant `timeMs`, on the exchanges' grid
 * ({@link TimeframeGrid}: weeks open on Mondays, `3d` as Binance, `1M` on the 1st of the month).
 *
 * @param timeMs - UTC epoch ms.
 * @param timeframe - e.g. `15m`.
 * @returns the bucket's open time in UTC epoch ms.
 * @throws {@link "core/errors"!InvalidTimeframeError | InvalidTimeframeError} when `timeframe` is not valid.
 */
export function bucketOpenTime(timeMs: number, timeframe: Timeframe): number {
  return timeframeGrid(timeframe).bucketStart(timeMs);
}

/**
 * Open time of the candle after the one opening at `openTime` (UTC epoch ms), i.e. that candle's close time + 1 ms.
 *
 * @throws {@link "core/errors"!InvalidTimeframeError | InvalidTimeframeError} when `timeframe` is not valid.
 */
export function nextOpenTime(openTime: number, timeframe: Timeframe): number {
  return timeframeGrid(timeframe).nextOpen(openTime);
}

/**
 * Whether `openTime` (UTC epoch ms) is a candle open time of `timeframe` ({@link TimeframeGrid}).
 *
 * @throws {@link "core/errors"!InvalidTimeframeError | InvalidTimeframeError} when `timeframe` is not valid.
 */
export function isAligned(openTime: number, timeframe: Timeframe): boolean {
  return timeframeGrid(timeframe).isAligned(openTime);
}

/**
 * Whether every candle of `fine` lies inside one candle of `coarse` (so `coarse` candles can be aggregated from
 * `fine` ones): `1h` in `1d`, `1d` in `3d`, `1w` and `1M`; not `1w` in `1M`, nor `3d` in `1w`.
 *
 * @throws {@link "core/errors"!InvalidTimeframeError | InvalidTimeframeError} when a timeframe is not valid.
 */
export function nestsIn(fine: Timeframe, coarse: Timeframe): boolean {
  const f = timeframeGrid(fine);
  const c = timeframeGrid(coarse);
  if (f.fixedMs === null) {
    return c.fixedMs === null && Number(coarse.slice(0, -1)) % Number(fine.slice(0, -1)) === 0;
  }
  if (c.fixedMs === null) return DAY_MS % f.fixedMs === 0 && f.offsetMs === 0;
  return c.fixedMs % f.fixedMs === 0 && (c.offsetMs - f.offsetMs) % f.fixedMs === 0;
}
