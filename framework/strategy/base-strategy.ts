import type { DataFrame } from 'danfojs-node';
import type { Candle } from '../core/candle';
import type { AccountView } from './account';
import type { Subscription } from '../core/subscription';
import type { Frame } from './frame';
import type { SearchSpace } from './parameters';
import type { Signal } from './signal';

/** A strategy parameter value: numbers, strings and booleans, so that parameters serialise and hash simply. */
export type ParameterValue = number | string | boolean;

/** A strategy's parameters: names to values, with the defaults declared on the class. */
export type StrategyParameters = Record<string, ParameterValue>;

/** The {@link BaseStrategy} class brand: `Symbol.for`, so that every copy of the framework shares it. */
export const STRATEGY_BRAND: unique symbol = Symbol.for('candlecraft.BaseStrategy');

/**
 * The base class of every strategy plugin (`strategies/*.ts`). A plugin module exports one class extending it
 * (as `default` or as a named export); the framework instantiates it with no arguments.
 *
 * Lifecycle, identical in backtest and live:
 * 1. {@link getRequiredSubscriptions} names the candles the strategy needs; the engine resolves the dataset (backtest)
 *    or the exchange feed (live) from it.
 * 2. {@link populateIndicators} receives every candle of the run as a danfojs `DataFrame` (columns `open_time`,
 *    `open`, `high`, `low`, `close`, `volume`) and returns it with indicator columns added (vectorised, once per
 *    replay). Indicator columns must be numeric or boolean and as long as the frame. Values may only depend on the
 *    current and earlier rows: `npm run check` tests that. A strategy whose indicators are loops over arrays extends
 *    {@link "strategy/column-strategy"!ColumnStrategy | ColumnStrategy} instead and gets them as arrays, no DataFrame.
 *    Informative subscriptions get {@link populateInformative}.
 * 3. {@link onData} is called once per closed candle in time order with the candle, a {@link Frame} on the
 *    current and earlier rows and a read-only {@link AccountView} of the broker (position, open orders, equity, cash);
 *    it returns a {@link Signal} or nothing. Signals during the first {@link warmup} candles are journaled but not
 *    acted on.
 *
 * Modelled on freqtrade's `IStrategy` (`populate_indicators`, `startup_candle_count`) and NautilusTrader's
 * `Strategy.on_bar`.
 */
export abstract class BaseStrategy {
  /**
   * Marks every strategy class, also one extending another copy of this module (a strategy file outside the checkout
   * imports `candlecraft` through CommonJS and gets its own copy, so `instanceof` cannot tell).
   */
  static readonly [STRATEGY_BRAND] = true;

  /** A short name for reports and run ids; defaults to the class name. */
  readonly name: string = this.constructor.name;

  /**
   * Warm-up in candles: signals on candles with index `< warmup` (counted from the first candle of the run's history)
   * are not acted on. Set it to at least the longest indicator look-back.
   */
  readonly warmup: number = 0;

  /**
   * Whether the strategy may signal shorts (`enter_short`), as freqtrade's `can_short`; default false. A spot account
   * cannot short: `npm run live -- --real-orders` refuses at start a strategy that sets it, and stops the run if a
   * strategy that does not set it opens a short anyway. Backtests and paper runs trade shorts either way.
   */
  readonly canShort: boolean = false;

  /**
   * Parameters with their defaults. Declare them as a field in the subclass, e.g.
   * `override readonly params = { fast: 12, slow: 26 };`. The CLI's `--param name=value` overrides a default
   * (a value must keep the default's type).
   */
  readonly params: StrategyParameters = {};

  /**
   * The values each parameter may take, next to its default: e.g.
   * `override readonly space = { fast: int(4, 30), slow: int(10, 60, { step: 2 }), signal: choice([5, 9, 12]) };`
   * (`int`, `float`, `choice` of `strategy/parameters`). `--param` values outside it are refused, and
   * `npm run optimize` searches it. A parameter without a range accepts any value of its default's type and is not
   * searched.
   */
  readonly space: SearchSpace = {};

  /**
   * An objective of the strategy's own for `npm run optimize -- --objective strategy`: a number to maximise from a
   * trial's metrics (the fields of `report/metrics`' `Metrics`, e.g. `metrics.sharpe`, `metrics.maxDrawdown`), or null
   * when the trial is not acceptable. Undefined: the strategy defines none.
   */
  readonly objective?: (metrics: Readonly<Record<string, number | null>>) => number | null;

  /** The candles this strategy needs: one or more (exchange, symbol, timeframe). The first is the one it trades. */
  abstract getRequiredSubscriptions(): readonly Subscription[];

  /**
   * Adds indicator columns to `df` and returns it (the same or a new `DataFrame` with the same rows in the same order).
   *
   * @param df - danfojs `DataFrame` with `open_time` (UTC epoch ms) and `open`, `high`, `low`, `close`, `volume`.
   */
  abstract populateIndicators(df: DataFrame): DataFrame | Promise<DataFrame>;

  /**
   * Adds indicator columns to the candles of an informative subscription (every subscription after the first), e.g. a
   * trend filter on 1h for a strategy trading 15m. Called once per replay over that subscription's whole history, like
   * {@link populateIndicators}. Its columns reach {@link onData}'s frame renamed freqtrade-style, `<column>_<timeframe>`
   * for the traded symbol (`ema_50_1h`, `close_1h`) and `<base>_<quote>_<column>_<timeframe>` for another symbol
   * (`eth_usdt_close_1h`), and each row shows the latest informative candle that had CLOSED when the traded candle
   * closed: a higher-timeframe candle is never visible before it closes. The default adds nothing (OHLCV only).
   *
   * @param df - danfojs `DataFrame` with `open_time`, `open`, `high`, `low`, `close`, `volume` of `subscription`.
   */
  populateInformative(df: DataFrame, _subscription: Subscription): DataFrame | Promise<DataFrame> {
    return df;
  }

  /**
   * Decides on a closed candle.
   *
   * @param candle - the candle that just closed (open time in UTC epoch ms).
   * @param frame - OHLCV and indicator values at this candle and earlier ones; later ones throw.
   * @param account - the broker's account after this candle's fills, marked at its close: the open position (size,
   *   average entry price, stop and take-profit prices, unrealised pnl), open orders, equity and cash. Read-only, and
   *   the same in backtest and live (the same broker computes it). A strategy that does not need it may declare
   *   `onData(candle, frame)` only.
   * @returns a {@link Signal}, or nothing.
   */
  abstract onData(candle: Candle, frame: Frame, account: AccountView): Signal | null | undefined | void;
}
