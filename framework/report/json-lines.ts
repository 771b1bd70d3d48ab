/**
 * How the run files write records as JSON: JSON Lines (https://jsonlines.org), epoch-ms times with an ISO 8601 copy,
 * and the numbers JSON cannot hold (NaN, ±Infinity) as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
 *
 * @module
 */
import { isoUtc } from '../core/time';

/** JSON cannot hold NaN or ±Infinity: a `JSON.stringify` replacer that writes them as strings. */
export function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

/**
 * `JSON.stringify(record, jsonNumbers)`, one line. The replacer, called from native code for every key, costs more
 * than the serialisation itself; it changes only non-finite numbers, so a record without any is serialised without
 * it (same text). A backtest of a million 1m candles writes 83,000 signal lines.
 */
export function jsonLine(record: object): string {
  return hasNonFinite(record) ? JSON.stringify(record, jsonNumbers) : JSON.stringify(record);
}

/** A copy of `record` with `<key>Iso` (ISO 8601 UTC) inserted after each listed epoch-ms field. */
export function withIso(record: object, timeKeys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in record) {
    const value = (record as Record<string, unknown>)[key];
    out[key] = value;
    if (typeof value === 'number' && timeKeys.includes(key)) out[`${key}Iso`] = isoUtc(value);
  }
  return out;
}

/**
 * Whether a non-finite number (NaN, ±Infinity) may be anywhere in `value` (own enumerable values, recursively; a value
 * with `toJSON` counts as maybe, its JSON being another value).
 */
function hasNonFinite(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (value === null || typeof value !== 'object') return false;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return true;
  for (const key in value) if (hasNonFinite((value as Record<string, unknown>)[key])) return true;
  return false;
}
