import { InvalidTimestampError } from './errors';

/** A timestamp in any of the forms the pipeline accepts; see {@link toEpochMs}. */
export type TimestampInput = number | string | Date;

/** Epoch values below this (in absolute value) are taken as seconds, at or above as milliseconds: 1e11 s is year 5138. */
const SECONDS_LIMIT = 1e11;

const ISO_PATTERN = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const HAS_ZONE = /(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Normalises a timestamp to UTC epoch milliseconds.
 *
 * Accepted forms:
 * - a number: epoch milliseconds, or epoch seconds when its magnitude is below 1e11 (fractions of a second allowed);
 * - a numeric string: the same rule;
 * - an ISO 8601 string, with a zone (`Z`, `+02:00`) or without one, in which case it is read as UTC
 *   (never as the machine's local time);
 * - a `Date`.
 *
 * @returns an integer number of UTC epoch ms.
 * @throws {@link "core/errors"!InvalidTimestampError | InvalidTimestampError} for anything else (NaN, an unparsable
 *   string, an invalid `Date`), naming the value.
 */
export function toEpochMs(value: TimestampInput): number {
  if (value instanceof Date) return checked(value.getTime(), value);
  if (typeof value === 'number') return fromNumber(value, value);
  if (typeof value === 'string') {
    const text = value.trim();
    if (/^-?\d+(\.\d+)?$/.test(text)) return fromNumber(Number(text), value);
    if (!ISO_PATTERN.test(text)) throw invalid(value);
    const zoned = HAS_ZONE.test(text) ? text : `${text.length === 10 ? `${text}T00:00` : text}Z`;
    return checked(Date.parse(zoned.replace(' ', 'T')), value);
  }
  throw invalid(value);
}

function fromNumber(n: number, original: unknown): number {
  if (!Number.isFinite(n)) throw invalid(original);
  return checked(Math.abs(n) < SECONDS_LIMIT ? Math.round(n * 1000) : Math.round(n), original);
}

function checked(ms: number, original: unknown): number {
  if (!Number.isFinite(ms)) throw invalid(original);
  return ms;
}

function invalid(value: unknown): InvalidTimestampError {
  const shown = value instanceof Date ? 'Invalid Date' : JSON.stringify(value) ?? String(value);
  return new InvalidTimestampError(
    `invalid timestamp ${shown}: expected epoch ms, epoch seconds, an ISO 8601 string or a Date`,
  );
}

const DAY_MS = 86_400_000;
const YEAR_10000 = Date.UTC(10_000, 0, 1);
/** The UTC day of the last {@link isoUtc} call and its `YYYY-MM-DDT` text: runs of times fall on the same day. */
let cachedDay = Number.NaN;
let cachedPrefix = '';

/**
 * Formats UTC epoch ms as an ISO 8601 string in UTC, e.g. `2021-01-01T00:00:00.000Z`: `Date.prototype.toISOString`'s
 * text. The date part is made by `toISOString` once per UTC day and the time of day by arithmetic (a backtest formats a
 * time per signal and trade; `toISOString` costs several times more).
 *
 * @throws RangeError for a time outside the range of `Date` (as `toISOString`).
 */
export function isoUtc(ms: number): string {
  // Before 1970 and from year 10000 (`+010000-…`, six-digit years) by `toISOString` itself.
  if (!Number.isInteger(ms) || ms < 0 || ms >= YEAR_10000) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  if (day !== cachedDay) {
    cachedPrefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    cachedDay = day;
  }
  const t = ms - day * DAY_MS;
  const h = Math.floor(t / 3_600_000);
  const m = Math.floor(t / 60_000) % 60;
  const s = Math.floor(t / 1000) % 60;
  const milli = t % 1000;
  return `${cachedPrefix}${h < 10 ? '0' : ''}${h}:${m < 10 ? '0' : ''}${m}:${s < 10 ? '0' : ''}${s}.${milli < 100 ? (milli < 10 ? '00' : '0') : ''}${milli}Z`;
}
