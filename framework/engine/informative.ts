import type { CandleBatch } from '../core/candle';
import { messageOf, StrategyRuntimeError } from '../core/errors';
import type { Subscription } from '../core/subscription';
import { timeframeGrid } from '../core/timeframe';
import type { BaseStrategy } from '../strategy/base-strategy';
import type { FrameColumns } from '../strategy/frame';
import { candleDataFrame, extractColumns } from './indicators';
import { CANDLE_FRAME_COLUMNS } from '../strategy/frame';

/**
 * The frame column name of an informative subscription's column, freqtrade-style: `<column>_<timeframe>` for the
 * traded symbol (`close_1h`, `ema_50_1h`), `<base>_<quote>_<column>_<timeframe>` for another symbol
 * (`eth_usdt_close_1h`).
 */
export function informativeColumnName(traded: Subscription, informative: Subscription, column: string): string {
  const prefix = informative.symbol === traded.symbol ? '' : `${informative.symbol.replace('/', '_').toLowerCase()}_`;
  return `${prefix}${column}_${informative.timeframe}`;
}

/**
 * For each traded candle, the row of the informative series whose candle is the latest one CLOSED when the traded
 * candle closes: informative close (its next open time) ≤ traded close (−1 when none has).
 * A 1h candle opening at 00:00 closes at 01:00, so it is first visible to the 15m candle opening at 00:45, never to
 * 00:30. This is freqtrade's `merge_informative_pair` rule (merge on close time, forward-filled).
 *
 * @param tradedOpenTime - open times of the traded candles, ascending (UTC epoch ms).
 * @param informativeOpenTime - open times of the informative candles, ascending.
 * @returns for each traded candle, the informative row index, or −1.
 * @throws {@link "core/errors"!InvalidTimeframeError | InvalidTimeframeError} when a timeframe is not `<n><m|h|d|w|M>`.
 */
export function alignClosedCandles(
  tradedOpenTime: Float64Array,
  tradedTimeframe: string,
  informativeOpenTime: Float64Array,
  informativeTimeframe: string,
): Int32Array {
  const traded = timeframeGrid(tradedTimeframe).nextOpen;
  const informativeCloses = timeframeGrid(informativeTimeframe).nextOpen;
  const rows = new Int32Array(tradedOpenTime.length);
  let j = -1;
  for (let i = 0; i < tradedOpenTime.length; i++) {
    const closes = traded(tradedOpenTime[i]!);
    while (j + 1 < informativeOpenTime.length && informativeCloses(informativeOpenTime[j + 1]!) <= closes) j++;
    rows[i] = j;
  }
  return rows;
}

/**
 * Runs the strategy's `populateInformative` over an informative subscription's candles and returns every column
 * (OHLCV, `open_time` and the indicators added), one row per informative candle.
 *
 * @throws {@link "core/errors"!StrategyRuntimeError | StrategyRuntimeError} naming the file when `populateInformative`
 *   throws or breaks the DataFrame rules.
 */
export async function computeInformativeColumns(
  strategy: BaseStrategy,
  subscription: Subscription,
  candles: CandleBatch,
  file: string,
): Promise<FrameColumns> {
  const where = `${file}: populateInformative(${subscription.symbol} ${subscription.timeframe})`;
  let df = await candleDataFrame(candles);
  try {
    df = await strategy.populateInformative(df, subscription);
  } catch (error) {
    throw new StrategyRuntimeError(`${where} threw: ${messageOf(error)}`, { cause: error });
  }
  return extractColumns(df, candles, where);
}

/**
 * The informative columns as seen from the traded candles: each informative column (OHLCV and indicators) renamed
 * with {@link informativeColumnName} and re-indexed by {@link alignClosedCandles} (NaN before the first closed
 * informative candle).
 */
export function mergeInformative(
  traded: Subscription,
  tradedOpenTime: Float64Array,
  informative: Subscription,
  columns: FrameColumns,
): Record<string, Float64Array> {
  const rows = alignClosedCandles(tradedOpenTime, traded.timeframe, columns['open_time']!, informative.timeframe);
  const merged: Record<string, Float64Array> = {};
  for (const [name, values] of Object.entries(columns)) {
    if (name === CANDLE_FRAME_COLUMNS[0]) continue;
    const out = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = rows[i]! < 0 ? Number.NaN : values[rows[i]!]!;
    merged[informativeColumnName(traded, informative, name)] = out;
  }
  return merged;
}
