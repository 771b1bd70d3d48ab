/**
 * Strategies whose indicators are loops over arrays: the candles in as arrays, the indicator columns out, no
 * DataFrame built.
 *
 * @module
 */
import type { DataFrame } from 'danfojs-node';
import { BaseStrategy } from './base-strategy';
import { CANDLE_FRAME_COLUMNS } from './frame';

/** The {@link ColumnStrategy} class brand: `Symbol.for`, so that every copy of the framework shares it. */
export const COLUMN_STRATEGY_BRAND: unique symbol = Symbol.for('candlecraft.ColumnStrategy');

/**
 * The candles handed to {@link ColumnStrategy.populateColumns}, one array per column of the candle DataFrame
 * (`open_time` in UTC epoch ms, `open`, `high`, `low`, `close`, `volume`), one value per candle, oldest first. They are
 * the engine's own candle arrays, not copies (an optimisation shares them between all its trials): read them, never
 * write to them.
 */
export type CandleColumns = Readonly<Record<(typeof CANDLE_FRAME_COLUMNS)[number], ArrayLike<number>>>;

/**
 * Indicator columns returned by {@link ColumnStrategy.populateColumns}: name to values, one number per candle (NaN
 * where the indicator has no value yet), in the order they should appear in the frame. A `Float64Array` becomes the
 * frame's column as it is (do not change it afterwards); any other array is copied into one.
 */
export type IndicatorColumns = Readonly<Record<string, ArrayLike<number>>>;

/**
 * A strategy that computes its indicators on arrays: it declares {@link populateColumns} instead of
 * `populateIndicators`, and the engine calls that everywhere (backtest, live, `npm run check`, every trial of
 * `npm run optimize`) with the candles as arrays, building no DataFrame. The rules are `populateIndicators`' rules:
 * one value per candle, row `i` depending on rows `0 … i` only (`npm run check` tests it), and no column named
 * `open_time` or after an OHLCV column. Everything else (`params`, `warmup`, `onData`, informative subscriptions through
 * `populateInformative`) is {@link BaseStrategy}'s.
 *
 * Over a long history this saves what a danfojs DataFrame costs (its Series, index and row arrays): over 1,000,000
 * candles, most of an optimisation trial of `strategies/macd.ts` (see the README's performance section).
 */
export abstract class ColumnStrategy extends BaseStrategy {
  /** Marks every column strategy class, also one extending another copy of this module (see `STRATEGY_BRAND`). */
  static readonly [COLUMN_STRATEGY_BRAND] = true;

  /**
   * The indicator columns of the candles.
   *
   * @param candles - the candles as arrays (see {@link CandleColumns}: read only).
   */
  abstract populateColumns(candles: CandleColumns): IndicatorColumns | Promise<IndicatorColumns>;

  /**
   * The DataFrame form of {@link populateColumns}, for code that holds a candle DataFrame: `df` with the columns of
   * `populateColumns` over its candle columns added, in their order. The engine does not call it (it calls
   * `populateColumns` on the candles themselves).
   */
  override async populateIndicators(df: DataFrame): Promise<DataFrame> {
    const column = (name: string): Float64Array => Float64Array.from(df.column(name).values as number[]);
    const candles = Object.fromEntries(CANDLE_FRAME_COLUMNS.map((name) => [name, column(name)])) as unknown as CandleColumns;
    const columns = await this.populateColumns(candles);
    for (const [name, values] of Object.entries(columns)) df.addColumn(name, Array.from(values), { inplace: true });
    return df;
  }
}

/** Whether `strategy` is a {@link ColumnStrategy} (of any copy of the framework). */
export function isColumnStrategy(strategy: BaseStrategy): strategy is ColumnStrategy {
  return (strategy.constructor as unknown as Record<symbol, unknown>)[COLUMN_STRATEGY_BRAND] === true;
}
