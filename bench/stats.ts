/**
 * Small statistics and reporting helpers of the benchmark: medians, percentiles, and figures checked against the
 * targets of issue 6.
 *
 * @module
 */

/** The median of `values` (mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/**
 * The `p`-th percentile of `values` (0–100) by linear interpolation between closest ranks (numpy's default,
 * `method="linear"`); NaN when empty.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

/** A target: the figure must be at least (`min`) or at most (`max`) `value`, in the figure's unit. */
export interface Target {
  readonly kind: 'min' | 'max';
  readonly value: number;
}

/**
 * One measured figure: its median over the measured runs, the runs themselves, and its target (if it has one).
 * `unit` names what the numbers are (`candles/s`, `ms`, `MB`, `ns/candle`, `×`).
 */
export interface Figure {
  readonly id: string;
  readonly label: string;
  readonly unit: string;
  readonly value: number;
  readonly runs: readonly number[];
  readonly target?: Target;
  /** How the figure was measured, for the reader of results.json. */
  readonly note?: string;
}

/** PASS/MISS of a figure against its target, and by how much (null without a target). */
export interface Verdict {
  readonly pass: boolean;
  /** Human text: `PASS (1.8× margin)`, `MISS (needs 3.2× faster: 312,000 of 1,000,000 candles/s)`. */
  readonly text: string;
  /** value / target for `min` targets, target / value for `max` targets: ≥ 1 passes. */
  readonly ratio: number;
}

/** Checks a figure against its target. */
export function verdict(figure: Figure): Verdict | null {
  const { target, value } = figure;
  if (target === undefined) return null;
  const ratio = target.kind === 'min' ? value / target.value : target.value / value;
  const pass = ratio >= 1;
  const shown = `${formatNumber(value)} ${figure.unit} vs ${target.kind === 'min' ? '≥' : '<'} ${formatNumber(target.value)}`;
  if (pass) return { pass, ratio, text: `PASS (${ratio.toFixed(2)}× margin)` };
  const gap = target.kind === 'min' ? `${formatNumber(target.value - value)} ${figure.unit} short` : `${formatNumber(value - target.value)} ${figure.unit} over`;
  return { pass, ratio, text: `MISS by ${(1 / ratio).toFixed(2)}× (${gap}; ${shown})` };
}

/** A number for the table: thousands separators, 3 significant digits below 100. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

/** Runs `body` `warmups` times unmeasured, then `runs` times, and returns what each measured run returned. */
export async function repeat<T>(warmups: number, runs: number, body: (run: number) => Promise<T>): Promise<T[]> {
  for (let i = 0; i < warmups; i++) await body(-1 - i);
  const out: T[] = [];
  for (let i = 0; i < runs; i++) out.push(await body(i));
  return out;
}

/** The median of one numeric field over runs. */
export function medianOf<T>(runs: readonly T[], pick: (run: T) => number): number {
  return median(runs.map(pick));
}
