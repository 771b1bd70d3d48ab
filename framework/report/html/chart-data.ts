/**
 * The data the HTML report's charts draw, as plain JSON-ready arrays (embedded in the page and read by
 * `report-client.js`).
 *
 * @module
 */
import type { EquityCurve } from '../../broker/equity-curve';
import type { PositionSide, Trade } from '../../broker/types';
import type { CandleBatch } from '../../core/candle';
import { timeframeToMs, type Timeframe } from '../../core/timeframe';
import type { FrameColumns } from '../../strategy/frame';
import type { IndicatorLayout, PaneSeriesStyle } from './indicator-layout';

/** Significant digits kept for derived chart values (indicators, equity): more than a chart can show. */
export const CHART_SIGNIFICANT_DIGITS = 7;

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
 * A trade's entry or exit fill, drawn at its fill price on the candle it filled in.
 * `time` in UTC seconds; `returnPct`: the trade's net return (fraction), on exits only.
 */
export interface ChartMarker {
  readonly time: number;
  readonly kind: 'entry' | 'exit';
  readonly side: PositionSide;
  readonly price: number;
  readonly returnPct?: number;
}

/**
 * Everything the page's charts draw. Times are UTC **seconds** (what lightweight-charts expects), not ms, and
 * delta-encoded to keep the page small: `timeDeltas[0]` is the first time, each later entry the difference to the
 * previous time (`900` between 15m candles).
 *
 * - `timeDeltas`, `open` … `volume`: the candles, values exactly as stored;
 * - `pricePrecision`: decimals of the candle prices (at most 8), for the price scale;
 * - `overlays`, `panes`: the indicator columns as
 *   {@link "report/html/indicator-layout"!layoutIndicators | layoutIndicators} placed them, rounded to
 *   {@link CHART_SIGNIFICANT_DIGITS} significant digits;
 * - `markers`: entry and exit fills, in time order;
 * - `equity`: the equity curve (quote currency), rounded like the indicators; its `timeDeltas` are null when its times
 *   are the candles' (a backtest), else its own (the page computes the drawdown from it);
 * - `range`: the run's first and last candle, the initially visible span; `barSeconds`: the timeframe in seconds.
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
  readonly markers: readonly ChartMarker[];
  readonly equity: {
    readonly timeDeltas: readonly number[] | null;
    readonly equity: readonly (number | null)[];
  };
  readonly range: { readonly from: number; readonly to: number };
  readonly barSeconds: number;
}

/** What {@link chartData} needs: the candles, the frame columns and how to lay them out, the trades, the equity. */
export interface ChartDataInput {
  readonly candles: CandleBatch;
  readonly indicators: FrameColumns;
  readonly layout: IndicatorLayout;
  readonly trades: readonly Trade[];
  readonly equity: EquityCurve;
  readonly timeframe: Timeframe;
  /** Open times (UTC epoch ms) of the run's first and last candle. */
  readonly firstCandle: number;
  readonly lastCandle: number;
}

/** Builds the {@link ChartData} of a run. Pure. */
export function chartData(input: ChartDataInput): ChartData {
  const { candles, indicators, layout } = input;
  const column = (name: string): readonly (number | null)[] => rounded(indicators[name]!);
  return {
    timeDeltas: deltas(candles.openTime),
    open: plain(candles.open),
    high: plain(candles.high),
    low: plain(candles.low),
    close: plain(candles.close),
    volume: plain(candles.volume),
    pricePrecision: decimals(candles),
    overlays: layout.overlays.map((name) => ({ name, values: column(name) })),
    panes: layout.panes.map((pane) => ({
      name: pane.name,
      series: pane.columns.map(({ name, style }) => ({ name, style, values: column(name) })),
    })),
    markers: markers(input.trades),
    equity: {
      timeDeltas: sameValues(input.equity.time, candles.openTime) ? null : deltas(input.equity.time),
      equity: rounded(input.equity.equity),
    },
    range: { from: seconds(input.firstCandle), to: seconds(input.lastCandle) },
    barSeconds: timeframeToMs(input.timeframe) / 1000,
  };
}

/** The values as a plain array (a counted loop: JSON-ready, several times faster than `Array.from` on a million rows). */
function plain(values: Float64Array): number[] {
  const out: number[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]!;
  return out;
}

function seconds(ms: number): number {
  return Math.floor(ms / 1000);
}

function rounded(values: ArrayLike<number>): (number | null)[] {
  const out: (number | null)[] = new Array(values.length);
  // An equity curve repeats its value for as long as no position is open: round each run of equal values once.
  let last = Number.NaN;
  let lastRounded: number | null = null;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Object.is(v, last)) {
      last = v;
      lastRounded = Number.isFinite(v) ? Number(v.toPrecision(CHART_SIGNIFICANT_DIGITS)) : null;
    }
    out[i] = lastRounded;
  }
  return out;
}

/** Epoch-ms times as UTC seconds, delta-encoded (see {@link ChartData}). */
function deltas(times: Float64Array): number[] {
  const out: number[] = new Array(times.length);
  for (let i = 0; i < times.length; i++) out[i] = seconds(times[i]!) - (i === 0 ? 0 : seconds(times[i - 1]!));
  return out;
}

function sameValues(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Entry and exit markers of the trades, sorted by time (a reversal's exit before its new entry). */
function markers(trades: readonly Trade[]): ChartMarker[] {
  const out: ChartMarker[] = [];
  for (const t of trades) {
    out.push({ time: seconds(t.entryTime), kind: 'entry', side: t.side, price: t.entryPrice });
    out.push({ time: seconds(t.exitTime), kind: 'exit', side: t.side, price: t.exitPrice, returnPct: t.returnPct });
  }
  // Stable sort: at equal times keep exits of earlier trades before entries of later ones.
  return out.sort((a, b) => a.time - b.time);
}

/** Decimals needed to show every candle price exactly, at most 8 (Binance's finest tick). */
function decimals(candles: CandleBatch): number {
  let most = 0;
  let scale = 1;
  for (const prices of [candles.open, candles.high, candles.low, candles.close]) {
    for (let i = 0; i < prices.length && most < 8; i++) {
      const v = prices[i]!;
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
