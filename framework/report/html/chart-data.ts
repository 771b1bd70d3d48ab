/**
 * The data the HTML report's charts draw, as plain JSON-ready arrays (embedded in the page and read by
 * `report-client.js`).
 *
 * @module
 */
import type { EquityCurve } from '../../broker/equity-curve';
import type { Trade } from '../../broker/types';
import type { CandleBatch } from '../../core/candle';
import { lowerBound } from '../../core/search';
import { timeframeGrid, type Timeframe } from '../../core/timeframe';
import type { FrameColumns } from '../../strategy/frame';
import type { IndicatorLayout, PaneSeriesStyle } from './indicator-layout';

/** Significant digits kept for derived chart values (indicators, equity): more than a chart can show. */
export const CHART_SIGNIFICANT_DIGITS = 7;

/**
 * Most bars a chart gets. A longer run is charted with each bar merging a whole number of candles (see
 * {@link ChartData}): a screen shows a few thousand bars at most, and a page with a million candles would be 100 MB.
 */
export const MAX_CHART_BARS = 50_000;

/** A value series of a chart; `null` where the value is not finite (no point drawn there). */
export interface ChartLine {
  readonly name: string;
  readonly values: readonly (number | null)[];
}

/** A series of an indicator pane. */
export interface ChartPaneSeries extends ChartLine {
  readonly style: PaneSeriesStyle;
}

/**
 * Everything the page's charts draw. Times are UTC **seconds** (what lightweight-charts expects), not ms, and
 * delta-encoded to keep the page small: `timeDeltas[0]` is the first time, each later entry the difference to the
 * previous time (`900` between 15m candles).
 *
 * Bars: when the run spans more than {@link MAX_CHART_BARS} candles, each bar merges the candles of one UTC-aligned
 * bucket of `candlesPerBar` timeframes (as a resample to that timeframe would: first open, highest high, lowest low,
 * last close, summed volume), indicator and equity values are those at the bucket's last candle, and fills sit on
 * the bar their fill's candle belongs to. `candlesPerBar` is 1 otherwise, and every candle is a bar.
 *
 * - `timeDeltas`, `open` … `volume`: the bars, candle values exactly as stored;
 * - `pricePrecision`: decimals of the bars' prices (at most 8; each is a candle price), for the price scale;
 * - `overlays`, `panes`: the indicator columns as
 *   {@link "report/html/indicator-layout"!layoutIndicators | layoutIndicators} placed them, rounded to
 *   {@link CHART_SIGNIFICANT_DIGITS} significant digits;
 * - `fillDeltas`: the bar of every trade's entry and exit fill (its candle's bar), in trade order (entry, exit, next
 *   entry, …: one position at a time, so in time order), delta-encoded like `timeDeltas`; the page draws an entry and
 *   an exit marker there, at the fill price, with the side and net return, from the trades data (`TradeRows` of
 *   `report/html/sections.ts`), which holds them already (sent once, a report of 40,000 trades is 7 MB smaller);
 * - `equity`: the equity curve (quote currency), rounded like the indicators; its `timeDeltas` are null when its times
 *   are the candles' (a backtest), else its own (the page computes the drawdown from it); `buyAndHold` at the same
 *   points: the equity of buying the asset with the whole start equity at the open of the first candle the metrics
 *   cover and holding it, `startEquity × close / open` before fees (null before that candle), the buy-and-hold
 *   benchmark of the metrics drawn as a line;
 * - `range`: the run's first and last candle, the initially visible span; `barSeconds`: a bar's length in seconds.
 */
export interface ChartData {
  readonly timeDeltas: readonly number[];
  readonly open: readonly number[];
  readonly high: readonly number[];
  readonly low: readonly number[];
  readonly close: readonly number[];
  readonly volume: readonly number[];
  readonly pricePrecision: number;
  readonly overlays: readonly ChartLine[];
  readonly panes: readonly { readonly name: string; readonly series: readonly ChartPaneSeries[] }[];
  readonly fillDeltas: readonly number[];
  readonly equity: {
    readonly timeDeltas: readonly number[] | null;
    readonly equity: readonly (number | null)[];
    readonly buyAndHold: readonly (number | null)[];
  };
  readonly range: { readonly from: number; readonly to: number };
  readonly barSeconds: number;
  readonly candlesPerBar: number;
}

/**
 * The bars a run is charted in (see {@link ChartData}): `rows` holds the index of each bar's last candle, in order;
 * `barMs` is a bar's length in ms (`candlesPerBar` timeframes; a nominal month of 365 / 12 days for `1M`);
 * `barOpen(time)` is the open time of the bar holding the instant `time` (UTC epoch ms): when bars are candles, the
 * open time of its candle on the timeframe's grid (Mondays for `1w`, the 1st of the month for `1M`).
 */
export interface ChartBars {
  readonly rows: Int32Array;
  readonly candlesPerBar: number;
  readonly barMs: number;
  /** Open time (UTC epoch ms) of the bar holding the instant `time` (UTC epoch ms). */
  readonly barOpen: (time: number) => number;
}

/**
 * The bars of candles with open times `openTime` (ascending, UTC epoch ms) of `timeframe`: one per candle up to
 * {@link MAX_CHART_BARS} candles' span, else UTC-aligned buckets of the fewest whole timeframes that keep the bars
 * within it.
 */
export function chartBars(openTime: Float64Array, timeframe: Timeframe): ChartBars {
  const grid = timeframeGrid(timeframe);
  const n = openTime.length;
  const candlesPerBar = Math.max(1, Math.ceil(((openTime[n - 1]! - openTime[0]!) / grid.nominalMs + 1) / MAX_CHART_BARS));
  const barMs = candlesPerBar * grid.nominalMs;
  const barOpen = candlesPerBar === 1 ? grid.bucketStart : (time: number) => time - (time % barMs);
  return { rows: bucketLasts(openTime, barOpen), candlesPerBar, barMs, barOpen };
}

/**
 * What {@link chartData} needs: the candles and their bars, the frame columns and how to lay them out, the trades, the
 * equity.
 */
export interface ChartDataInput {
  readonly candles: CandleBatch;
  readonly bars: ChartBars;
  readonly indicators: FrameColumns;
  readonly layout: IndicatorLayout;
  readonly trades: readonly Trade[];
  readonly equity: EquityCurve;
  /** Open times (UTC epoch ms) of the run's first and last candle. */
  readonly firstCandle: number;
  readonly lastCandle: number;
  /** Open time (UTC epoch ms) of the first candle the metrics cover (after a backtest's warm-up). */
  readonly metricsFrom: number;
}

/** Builds the {@link ChartData} of a run. Pure. */
export function chartData(input: ChartDataInput): ChartData {
  const { candles, indicators, layout } = input;
  const { rows: bars, candlesPerBar, barMs, barOpen } = input.bars;
  const column = (name: string): readonly (number | null)[] => rounded(indicators[name]!, bars);
  const equityBars = sameValues(input.equity.time, candles.openTime) ? null : bucketLasts(input.equity.time, barOpen);
  const merged = mergedCandles(candles, bars);
  return {
    timeDeltas: deltas(candles.openTime, bars, barOpen),
    ...merged,
    pricePrecision: decimals([merged.open, merged.high, merged.low, merged.close]),
    overlays: layout.overlays.map((name) => ({ name, values: column(name) })),
    panes: layout.panes.map((pane) => ({
      name: pane.name,
      series: pane.columns.map(({ name, style }) => ({ name, style, values: column(name) })),
    })),
    fillDeltas: fillDeltas(input.trades, barOpen),
    equity: {
      timeDeltas: equityBars === null ? null : deltas(input.equity.time, equityBars, barOpen),
      equity: rounded(input.equity.equity, equityBars ?? bars),
      buyAndHold: rounded(buyAndHold(candles, input.equity, input.metricsFrom), equityBars ?? bars),
    },
    range: { from: seconds(input.firstCandle), to: seconds(input.lastCandle) },
    barSeconds: barMs / 1000,
    candlesPerBar,
  };
}

/** Index of the last row of each bar: rows of ascending `times` (UTC epoch ms) grouped by the bar they fall in. */
function bucketLasts(times: Float64Array, barOpen: (time: number) => number): Int32Array {
  const lasts = new Int32Array(times.length);
  let bars = 0;
  for (let i = 0; i < times.length; i++) {
    if (i + 1 === times.length || barOpen(times[i + 1]!) !== barOpen(times[i]!)) lasts[bars++] = i;
  }
  return lasts.subarray(0, bars);
}

/** The bars' OHLCV: first open, highest high, lowest low, last close and summed volume of each bar's candles. */
function mergedCandles(candles: CandleBatch, bars: Int32Array): Pick<ChartData, 'open' | 'high' | 'low' | 'close' | 'volume'> {
  const open: number[] = new Array(bars.length);
  const high: number[] = new Array(bars.length);
  const low: number[] = new Array(bars.length);
  const close: number[] = new Array(bars.length);
  const volume: number[] = new Array(bars.length);
  let first = 0;
  for (let b = 0; b < bars.length; b++) {
    const last = bars[b]!;
    let h = candles.high[first]!;
    let l = candles.low[first]!;
    let v = candles.volume[first]!;
    for (let i = first + 1; i <= last; i++) {
      h = Math.max(h, candles.high[i]!);
      l = Math.min(l, candles.low[i]!);
      v += candles.volume[i]!;
    }
    open[b] = candles.open[first]!;
    high[b] = h;
    low[b] = l;
    close[b] = candles.close[last]!;
    volume[b] = v;
    first = last + 1;
  }
  return { open, high, low, close, volume };
}

/**
 * Buy-and-hold equity at each row of the equity curve (see {@link ChartData}); NaN before `from` and where the curve's
 * time is not a candle's.
 */
function buyAndHold(candles: CandleBatch, curve: EquityCurve, from: number): Float64Array {
  const out = new Float64Array(curve.time.length).fill(Number.NaN);
  const start = lowerBound(candles.openTime, from);
  const first = lowerBound(curve.time, from);
  if (start >= candles.openTime.length || first >= curve.time.length) return out;
  const units = curve.equity[first - (first > 0 ? 1 : 0)]! / candles.open[start]!;
  let k = start;
  for (let i = first; i < curve.time.length; i++) {
    while (k < candles.openTime.length && candles.openTime[k]! < curve.time[i]!) k++;
    if (candles.openTime[k] === curve.time[i]) out[i] = units * candles.close[k]!;
  }
  return out;
}

function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** The values at the rows `at`, rounded to {@link CHART_SIGNIFICANT_DIGITS}; null where not finite. */
function rounded(values: ArrayLike<number>, at: Int32Array): (number | null)[] {
  const out: (number | null)[] = new Array(at.length);
  // An equity curve repeats its value for as long as no position is open: round each run of equal values once.
  let last = Number.NaN;
  let lastRounded: number | null = null;
  for (let i = 0; i < at.length; i++) {
    const v = values[at[i]!]!;
    if (!Object.is(v, last)) {
      last = v;
      lastRounded = Number.isFinite(v) ? Number(v.toPrecision(CHART_SIGNIFICANT_DIGITS)) : null;
    }
    out[i] = lastRounded;
  }
  return out;
}

/** The bars' open times (of the rows `at` of `times`, UTC epoch ms) as UTC seconds, delta-encoded (see {@link ChartData}). */
function deltas(times: Float64Array, at: Int32Array, barOpen: (time: number) => number): number[] {
  const out: number[] = new Array(at.length);
  let previous = 0;
  for (let b = 0; b < at.length; b++) {
    const time = seconds(barOpen(times[at[b]!]!));
    out[b] = time - previous;
    previous = time;
  }
  return out;
}

function sameValues(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The bars (UTC seconds) of the trades' entry and exit fills, in trade order, delta-encoded (see {@link ChartData}). */
function fillDeltas(trades: readonly Trade[], barOpen: (time: number) => number): number[] {
  const out: number[] = new Array(2 * trades.length);
  let previous = 0;
  trades.forEach((t, i) => {
    const entry = seconds(barOpen(t.entryTime));
    const exit = seconds(barOpen(t.exitTime));
    out[2 * i] = entry - previous;
    out[2 * i + 1] = exit - entry;
    previous = exit;
  });
  return out;
}

/** Decimals needed to show every one of `prices` exactly, at most 8 (Binance's finest tick). */
function decimals(prices: readonly (readonly number[])[]): number {
  let most = 0;
  let scale = 1;
  for (const values of prices) {
    for (let i = 0; i < values.length && most < 8; i++) {
      const v = values[i]!;
      // Already shown exactly with `most` decimals (a decimal with that many round-trips to v, so JavaScript's shortest
      // one has no more), and not written in exponent form (|v| < 1e-6): skip the string.
      if (Math.round(v * scale) / scale === v && (v === 0 || Math.abs(v) >= 1e-6)) continue;
      const text = String(v);
      const dot = text.indexOf('.');
      if (dot >= 0) most = Math.max(most, text.length - dot - 1);
      else if (text.includes('e-')) most = 8;
      scale = 10 ** Math.min(most, 8);
    }
  }
  return Math.min(most, 8);
}
