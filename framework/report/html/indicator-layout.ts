/**
 * Where each indicator column of a run goes on the HTML report's price chart: over the candles or in a pane below.
 *
 * @module
 */
import type { CandleBatch } from '../../core/candle';
import type { FrameColumns } from '../../strategy/frame';
import { CANDLE_FRAME_COLUMNS } from '../../strategy/frame';

/** How a pane column is drawn: a line, or a histogram of bars from zero (e.g. a MACD histogram). */
export type PaneSeriesStyle = 'line' | 'histogram';

/** A pane below the candles: its name (the columns' shared prefix) and its columns in frame order. */
export interface IndicatorPane {
  readonly name: string;
  readonly columns: readonly { readonly name: string; readonly style: PaneSeriesStyle }[];
}

/**
 * Placement of a run's indicator columns: `overlays` are drawn over the candles on the price scale, `panes` each get
 * their own pane with their own scale, `skipped` holds columns with no finite value (nothing to draw).
 */
export interface IndicatorLayout {
  readonly overlays: readonly string[];
  readonly panes: readonly IndicatorPane[];
  readonly skipped: readonly string[];
}

/** Slack around the candles' price range, as a fraction of that range, within which an overlay must stay. */
export const OVERLAY_RANGE_SLACK = 0.1;

/** Largest median of `|value / close − 1|` over the rows for a column to count as tracking the price. */
export const OVERLAY_MAX_MEDIAN_DEVIATION = 0.2;

/**
 * Splits the indicator columns of a frame (every column except `open_time` and OHLCV) into price overlays and panes.
 *
 * Heuristic, column by column, over the rows where the column is finite (of `rows`, when given):
 *
 * 1. no finite value (e.g. all NaN) → skipped;
 * 2. an overlay when both hold:
 *    - **in the price range**: every value lies within `[lowest low − s, highest high + s]`, where
 *      `s` = {@link OVERLAY_RANGE_SLACK} × (highest high − lowest low) (so Bollinger or Keltner bands that poke out a
 *      little still count);
 *    - **tracks the price**: the median over the rows of `|value / close − 1|` is at most
 *      {@link OVERLAY_MAX_MEDIAN_DEVIATION} (so an oscillator such as RSI 0–100 on an asset that happens to trade
 *      near 100 is not drawn over its candles);
 *
 *    moving averages (EMA, SMA), bands and stop levels are overlays;
 * 3. otherwise a pane: columns whose names share the part before the first `_` share one pane, named by that part
 *    (`macd`, `macd_signal`, `macd_hist` → pane `macd`; `rsi` → pane `rsi`), panes in the order their first column
 *    appears in the frame. In a pane, a column whose name ends in `hist` or `histogram` is drawn as a histogram, the
 *    others as lines.
 *
 * @param columns - the frame's columns ({@link FrameColumns}), each as long as `candles`.
 * @param candles - the candles the columns were computed over (for the price range and the closes).
 * @param rows - the rows to judge by, ascending (the HTML report passes the rows its charts draw, one per bar); default
 *   every row.
 */
export function layoutIndicators(columns: FrameColumns, candles: CandleBatch, rows?: ArrayLike<number>): IndicatorLayout {
  const [lowest, highest] = priceRange(candles);
  const slack = OVERLAY_RANGE_SLACK * (highest - lowest);
  const overlays: string[] = [];
  const skipped: string[] = [];
  const panes = new Map<string, { name: string; style: PaneSeriesStyle }[]>();
  for (const [name, values] of Object.entries(columns)) {
    if ((CANDLE_FRAME_COLUMNS as readonly string[]).includes(name)) continue;
    const stats = columnStats(values, candles.close, rows);
    if (stats === null) {
      skipped.push(name);
    } else if (
      stats.min >= lowest - slack &&
      stats.max <= highest + slack &&
      stats.medianDeviation <= OVERLAY_MAX_MEDIAN_DEVIATION
    ) {
      overlays.push(name);
    } else {
      const group = name.split('_')[0] || name;
      const style: PaneSeriesStyle = /(^|_)hist(ogram)?$/i.test(name) ? 'histogram' : 'line';
      const pane = panes.get(group) ?? [];
      pane.push({ name, style });
      panes.set(group, pane);
    }
  }
  return { overlays, panes: [...panes].map(([name, paneColumns]) => ({ name, columns: paneColumns })), skipped };
}

/** Lowest low and highest high of the candles. */
function priceRange(candles: CandleBatch): [number, number] {
  let lowest = Number.POSITIVE_INFINITY;
  let highest = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < candles.low.length; i++) {
    lowest = Math.min(lowest, candles.low[i]!);
    highest = Math.max(highest, candles.high[i]!);
  }
  return [lowest, highest];
}

/**
 * The `k`-th smallest value (0-based) of `values` (no NaN), reordering `values` in place: quickselect with Hoare's
 * partition around a median-of-three pivot (C. A. R. Hoare, "Algorithm 65: Find", CACM 4(7), 1961).
 */
function kthSmallest(values: Float64Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (lo < hi) {
    const a = values[lo]!;
    const b = values[(lo + hi) >>> 1]!;
    const c = values[hi]!;
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i] = values[j]!;
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return values[k]!;
  }
  return values[k]!;
}

/**
 * Min, max and median relative deviation from the close over the finite values (at `rows`, else every row); null when
 * there are none.
 */
function columnStats(
  values: Float64Array,
  close: Float64Array,
  rows: ArrayLike<number> | undefined,
): { min: number; max: number; medianDeviation: number } | null {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  const n = rows?.length ?? values.length;
  const deviations = new Float64Array(n);
  let count = 0;
  let nans = 0;
  for (let k = 0; k < n; k++) {
    const i = rows === undefined ? k : rows[k]!;
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    min = Math.min(min, v);
    max = Math.max(max, v);
    const deviation = Math.abs(v / close[i]! - 1);
    if (Number.isNaN(deviation)) nans += 1;
    else deviations[count++] = deviation;
  }
  if (count + nans === 0) return null;
  // The middle element of the deviations in ascending order (NaN last), found by selection rather than a full sort.
  const middle = (count + nans) >> 1;
  return { min, max, medianDeviation: middle < count ? kthSmallest(deviations.subarray(0, count), middle) : Number.NaN };
}
