import { isoUtc } from '../core/time';

/**
 * How the report table and the HTML report show numbers, money, percents, durations and times.
 *
 * @module
 */

/** `v` with `digits` decimals and thousands separators; `n/a` for null or NaN, `∞` / `-∞` when infinite. */
export function formatNumber(v: number | null, digits: number): string {
  if (v === null || Number.isNaN(v)) return 'n/a';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '-∞';
  return fixedFormat(digits).format(v);
}

const fixedFormats = new Map<number, Intl.NumberFormat>();

/**
 * The `en-US` format with exactly `digits` decimals, made once per `digits`: `toLocaleString(locale, options)` is
 * specified as formatting with a new `Intl.NumberFormat(locale, options)`, whose construction costs far more than the
 * formatting (a report formats every trade's prices).
 */
function fixedFormat(digits: number): Intl.NumberFormat {
  let format = fixedFormats.get(digits);
  if (format === undefined) {
    format = new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
    fixedFormats.set(digits, format);
  }
  return format;
}

/** A fraction as a percent: `0.1234` → `12.34%`. */
export function formatPercent(v: number | null, digits = 2): string {
  return v === null ? 'n/a' : `${formatNumber(v * 100, digits)}%`;
}

/** Money with 2 decimals and its currency: `1,234.50 USDT`. */
export function formatMoney(v: number | null, currency: string): string {
  return v === null ? 'n/a' : `${formatNumber(v, 2)} ${currency}`;
}

/** A duration in ms as days, hours and minutes: `3d 4h 15m`; `0m` when under half a minute. */
export function formatDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const min = minutes % 60;
  const parts = [d > 0 ? `${d}d` : '', h > 0 ? `${h}h` : '', min > 0 ? `${min}m` : ''].filter((p) => p !== '');
  return parts.length === 0 ? '0m' : parts.join(' ');
}

/** A UTC epoch-ms time to the minute: `2021-01-02 03:04`. */
export function formatMinute(ms: number): string {
  return isoUtc(ms).slice(0, 16).replace('T', ' ');
}
