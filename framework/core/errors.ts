/**
 * Typed errors for expected failures. Every error carries a message that names what was wrong and where,
 * so the CLI can print it as one line without a stack trace.
 *
 * @module
 */

/** Base class of every expected error of the framework; the CLI prints `message` alone for these. */
export class FrameworkError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * A timeframe string that is not of the form `<n><unit>` with unit `m`, `h`, `d`, `w` or `M` (e.g. `15m`, `1h`, `1M`),
 * or one used where it does not fit (a fixed length asked of `1M`, a resampling whose candles would straddle).
 */
export class InvalidTimeframeError extends FrameworkError {}

/** A timestamp that cannot be normalised to UTC epoch milliseconds. */
export class InvalidTimestampError extends FrameworkError {}

/** A candle that fails validation (non-finite number, high/low inconsistent, negative volume, misaligned open time). */
export class InvalidCandleError extends FrameworkError {}

/** A dataset (exchange/symbol/timeframe folder of Parquet partitions) that does not exist or holds no candles. */
export class DatasetNotFoundError extends FrameworkError {}

/** A stored file that cannot be decoded (a corrupted or foreign Parquet file); the file is left untouched. */
export class CorruptDataError extends FrameworkError {}

/** A strategy plugin that cannot be loaded or breaks the strategy contract; the message names the file. */
export class StrategyLoadError extends FrameworkError {}

/** A strategy method that threw, or a signal that does not match the {@link "strategy/signal"!Signal | Signal} shape; names file and candle. */
export class StrategyRuntimeError extends FrameworkError {}

/** A strategy that asked {@link "strategy/frame"!Frame | Frame} for a candle later than the current one. */
export class LookaheadError extends FrameworkError {}

/** The message of an unknown thrown value: an `Error`'s `message`, anything else as a string. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
