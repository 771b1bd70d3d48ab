/**
 * Walk-forward windows: in-sample spans where parameters are searched, each followed by the out-of-sample span where
 * the chosen parameters are scored.
 *
 * @module
 */
import { FrameworkError } from '../core/errors';
import type { TimeframeGrid } from '../core/timeframe';

/** Rows `[start, end)` of the candles, with their open times: `[from, to)` in UTC epoch ms, as `--from`/`--to`. */
export interface Span {
  readonly start: number;
  readonly end: number;
  readonly from: number;
  readonly to: number;
}

/** One walk-forward window: the in-sample span searched, and the next span, where its best parameters are scored. */
export interface WalkForwardWindow {
  readonly index: number;
  readonly inSample: Span;
  readonly outOfSample: Span;
}

/**
 * Splits `openTime` (ascending UTC epoch ms, one per candle) into `windows + 1` spans of equal candle counts
 * (the last takes the remainder). Window k searches span k (rolling) or spans 0..k (`anchored`) and is scored on
 * span k + 1 only, as in R. Pardo, "The Evaluation and Optimization of Trading Strategies" (2008), ch. 11. A span's
 * `to` is the open time of the next span's first candle (or the open time after the last candle's on `grid`, the
 * candles' timeframe: the 1st of the next month for `1M`), so
 * `npm run backtest -- --from <from> --to <to>` replays exactly its candles.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} when `windows` is not a whole number ≥ 1, or a span would hold fewer than
 *   `minCandles` candles.
 */
export function walkForwardWindows(
  openTime: ArrayLike<number>,
  grid: TimeframeGrid,
  windows: number,
  anchored: boolean,
  minCandles: number,
): readonly WalkForwardWindow[] {
  const n = openTime.length;
  if (!Number.isInteger(windows) || windows < 1) throw new FrameworkError(`--windows ${windows}: expected a whole number ≥ 1`);
  const size = Math.floor(n / (windows + 1));
  if (size < minCandles) {
    throw new FrameworkError(
      `--windows ${windows}: ${n} candles make spans of ${size} candles, fewer than the ${minCandles} needed ` +
        `(the strategy's warm-up + 2); use fewer windows or a longer --from/--to range`,
    );
  }
  const boundary = (k: number) => (k >= windows + 1 ? n : k * size);
  const span = (a: number, b: number): Span => ({
    start: boundary(a),
    end: boundary(b),
    from: openTime[boundary(a)]!,
    to: boundary(b) >= n ? grid.nextOpen(openTime[n - 1]!) : openTime[boundary(b)]!,
  });
  return Array.from({ length: windows }, (_, k) => ({
    index: k,
    inSample: span(anchored ? 0 : k, k + 1),
    outOfSample: span(k + 1, k + 2),
  }));
}
