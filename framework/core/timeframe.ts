import { InvalidTimeframeError } from './errors';

/**
 * A candle timeframe in ccxt/Binance notation: a positive integer followed by a unit,
 * `m` (minutes), `h` (hours), `d` (days) or `w` (weeks), e.g. `1m`, `5m`, `15m`, `1h`, `4h`, `1d`.
 * Months (`1M`) are not supported: they have no fixed length.
 */
export type Timeframe = string;

const UNIT_MS: Readonly<Record<string, number>> = {
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const TIMEFRAME_PATTERN = /^([1-9][0-9]*)([mhdw])$/;

/**
 * Length of a timeframe in milliseconds.
 *
 * @param timeframe - e.g. `15m`.
 * @returns the timeframe's length in ms (`15m` → 900000).
 * @throws {@link "core/errors"!InvalidTimeframeError | InvalidTimeframeError} when `timeframe` is not `<n><m|h|d|w>`.
 */
export function timeframeToMs(timeframe: Timeframe): number {
  const match = TIMEFRAME_PATTERN.exec(timeframe);
  if (match === null) {
    throw new InvalidTimeframeError(
      `invalid timeframe "${timeframe}": expected a positive integer and a unit m, h, d or w (e.g. "15m", "1h")`,
    );
  }
  return Number(match[1]) * (UNIT_MS[match[2]!] as number);
}

/** Whether `name` is a timeframe {@link timeframeToMs} accepts (`15m`, `1h`, …). */
export function isTimeframe(name: string): boolean {
  return TIMEFRAME_PATTERN.test(name);
}

/**
 * Open time of the candle of `timeframe` that contains the instant `timeMs`: UTC-aligned buckets counted from the
 * Unix epoch (weeks are therefore aligned to Thursdays, as `timeMs - timeMs % 7d`; Binance aligns `1w` to Mondays,
 * so weekly candles are not supported by the resampler).
 *
 * @param timeMs - UTC epoch ms.
 * @param timeframe - e.g. `15m`.
 * @returns the bucket's open time in UTC epoch ms.
 * @throws {@link "core/errors"!InvalidTimeframeError | InvalidTimeframeError} when `timeframe` is not `<n><m|h|d|w>`.
 */
export function bucketOpenTime(timeMs: number, timeframe: Timeframe): number {
  const length = timeframeToMs(timeframe);
  return Math.floor(timeMs / length) * length;
}

/**
 * Whether `openTime` (UTC epoch ms) is a multiple of the timeframe's length, i.e. a valid candle open time.
 *
 * @throws {@link "core/errors"!InvalidTimeframeError | InvalidTimeframeError} when `timeframe` is not `<n><m|h|d|w>`.
 */
export function isAligned(openTime: number, timeframe: Timeframe): boolean {
  return openTime % timeframeToMs(timeframe) === 0;
}
