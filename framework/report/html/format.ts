/**
 * Text for the HTML report: HTML escaping and the human formats of numbers, money, fractions and durations
 * (the conventions of the terminal report in `report/table.ts`).
 *
 * @module
 */
import { isoUtc } from '../../core/time';

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** `text` with `& < > " '` replaced by character references: safe in element content and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * JSON for a `<script type="application/json">` element: `JSON.stringify(value)` with `<`, `>`, `&`, U+2028 and
 * U+2029 written as `\uXXXX` escapes, so no string can close the element (`</script>`) or open a comment; `JSON.parse`
 * reads it back unchanged.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `v` with `digits` decimals and thousands separators; `n/a` for null or NaN, `∞` / `-∞` when infinite. */
export function formatNumber(v: number | null, digits: number): string {
  if (v === null || Number.isNaN(v)) return 'n/a';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '-∞';
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
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
