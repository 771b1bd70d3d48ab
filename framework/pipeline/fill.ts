/**
 * Gap filling, for the strategies that ask for it. The pipeline itself never invents candles; this is the only place
 * where candles are made up, and only when a caller chooses a policy other than `none`.
 *
 * @module
 */
import { allocateBatch, copyRow, type CandleBatch } from '../core/candle';
import { timeframeGrid, type Timeframe } from '../core/timeframe';
import { findGaps } from './gaps';

/**
 * How to treat missing candles:
 * - `none`: leave the gaps (the default everywhere);
 * - `previous-close`: insert a flat candle for each missing open time, with open = high = low = close = the close of
 *   the last real candle before the gap and volume 0 — what an exchange reports for a minute without trades, and the
 *   convention of freqtrade's `ohlcv_fill_up_missing_data`.
 */
export type FillPolicy = 'none' | 'previous-close';

/**
 * Fills the gaps of a batch according to `policy`.
 *
 * Inserted candles keep the `source` of the candle before the gap and have an unknown `receivedAt` (NaN); they can be
 * told apart from real candles by being flat with volume 0 at an open time the input did not have.
 *
 * @param batch - candles sorted by open time with unique open times (e.g.
 *   {@link "pipeline/pipeline"!processCandles | processCandles} output); not changed.
 * @param timeframe - the candles' timeframe, e.g. `5m`.
 * @param policy - see {@link FillPolicy}.
 * @returns `batch` itself for `none` or when there is no gap; otherwise a new batch with the gaps filled.
 * @throws {@link "core/errors"!InvalidTimeframeError | InvalidTimeframeError} when `timeframe` is not valid.
 */
export function fillGaps(batch: CandleBatch, timeframe: Timeframe, policy: FillPolicy): CandleBatch {
  if (policy === 'none') return batch;
  const gaps = findGaps(batch.openTime, timeframe);
  if (gaps.length === 0) return batch;
  const { nextOpen } = timeframeGrid(timeframe);
  const n = batch.openTime.length;
  const out = allocateBatch(n + gaps.reduce((sum, g) => sum + g.missing, 0));
  let row = 0;
  let next = 0;
  for (let i = 0; i < n; i++) {
    copyRow(batch, i, out, row++);
    const gap = gaps[next];
    if (gap === undefined || gap.start !== nextOpen(batch.openTime[i]!)) continue;
    const close = batch.close[i]!;
    for (let k = 0, t = gap.start; k < gap.missing; k++, row++, t = nextOpen(t)) {
      out.openTime[row] = t;
      out.open[row] = close;
      out.high[row] = close;
      out.low[row] = close;
      out.close[row] = close;
      out.volume[row] = 0;
      out.receivedAt[row] = Number.NaN;
      out.source[row] = batch.source[i]!;
    }
    next++;
  }
  return out;
}

