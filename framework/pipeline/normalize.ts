/**
 * Normalisation: the first step of the candle pipeline. Turns a candle as it arrives (from a JSON file, a REST body,
 * a WebSocket frame) into a {@link StoredCandle} with UTC epoch-ms timestamps and numeric OHLCV.
 *
 * @module
 */
import { CANDLE_SOURCES, type CandleSource, type StoredCandle } from '../core/candle';
import { InvalidCandleError, InvalidTimestampError } from '../core/errors';
import { toEpochMs, type TimestampInput } from '../core/time';

/**
 * A candle before normalisation.
 *
 * - `openTime`: the candle's open time in any form {@link toEpochMs} accepts (epoch ms, epoch seconds, ISO 8601 with or
 *   without a zone — no zone means UTC — or a `Date`);
 * - `open`, `high`, `low`, `close`: prices in quote currency; `volume` in base currency; each a number or a numeric
 *   string (Binance sends strings such as `"19695.87000000"`);
 * - `source`: where it came from; defaults to the `defaultSource` given to {@link normalizeCandle};
 * - `receivedAt`: when it was received, in any {@link TimestampInput} form; `null` or absent when unknown.
 */
export interface RawCandle {
  readonly openTime: TimestampInput;
  readonly open: number | string;
  readonly high: number | string;
  readonly low: number | string;
  readonly close: number | string;
  readonly volume: number | string;
  readonly source?: CandleSource;
  readonly receivedAt?: TimestampInput | null;
}

/** A decimal number, optionally signed, with an optional exponent (`19695.87`, `-1`, `.5`, `1e-8`). */
const NUMERIC_STRING = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Normalises one raw candle. Numbers are passed through unchanged (finiteness and OHLC consistency are the
 * validator's job, see {@link "pipeline/validate"!candleProblem | candleProblem}); numeric strings become numbers.
 *
 * @param raw - the candle as received.
 * @param defaultSource - the source recorded when `raw.source` is absent.
 * @returns the candle with `openTime` and `receivedAt` in UTC epoch ms (`receivedAt` `null` when unknown).
 * @throws {@link "core/errors"!InvalidTimestampError | InvalidTimestampError} when `openTime` or `receivedAt` is not a
 *   timestamp; the message names the field and the value.
 * @throws {@link "core/errors"!InvalidCandleError | InvalidCandleError} when a price or the volume is neither a number
 *   nor a numeric string, or `source` is not a {@link CandleSource}; the message names the field and the value.
 */
export function normalizeCandle(raw: RawCandle, defaultSource: CandleSource): StoredCandle {
  const source = raw.source ?? defaultSource;
  if (!CANDLE_SOURCES.includes(source)) {
    throw new InvalidCandleError(`invalid source ${show(source)}: expected one of ${CANDLE_SOURCES.join(', ')}`);
  }
  return {
    openTime: timestampField('openTime', raw.openTime),
    open: numberField('open', raw.open),
    high: numberField('high', raw.high),
    low: numberField('low', raw.low),
    close: numberField('close', raw.close),
    volume: numberField('volume', raw.volume),
    source,
    receivedAt: raw.receivedAt === undefined || raw.receivedAt === null ? null : timestampField('receivedAt', raw.receivedAt),
  };
}

function timestampField(field: string, value: TimestampInput): number {
  try {
    return toEpochMs(value);
  } catch (error) {
    if (error instanceof InvalidTimestampError) {
      throw new InvalidTimestampError(`${field}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

function numberField(field: string, value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && NUMERIC_STRING.test(value.trim())) return Number(value);
  throw new InvalidCandleError(`invalid ${field} ${show(value)}: expected a number or a numeric string`);
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/**
 * An OHLCV row as ccxt's `fetchOHLCV` returns it, `[open time ms, open, high, low, close, volume]`, as a raw candle
 * (missing fields become NaN, which validation then rejects).
 *
 * @param provenance - the row's `source` and `receivedAt` (UTC epoch ms), when known.
 */
export function rawCandleFromOhlcv(
  row: ArrayLike<number | undefined>,
  provenance: { readonly source?: CandleSource; readonly receivedAt?: number } = {},
): RawCandle {
  return {
    openTime: row[0] ?? Number.NaN,
    open: row[1] ?? Number.NaN,
    high: row[2] ?? Number.NaN,
    low: row[3] ?? Number.NaN,
    close: row[4] ?? Number.NaN,
    volume: row[5] ?? Number.NaN,
    ...provenance,
  };
}
