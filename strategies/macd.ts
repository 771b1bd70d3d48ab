/**
 * MACD crossover, long only: the classic trend-following example.
 *
 * - Indicators: MACD 12/26/9 on the close, with exponential averages for both the oscillator and the signal line, as
 *   in Gerald Appel's definition: the framework's `ema`, a loop over typed arrays that gives `technicalindicators`'
 *   `EMA` (and its `MACD.calculate`) bit for bit, computed in `populateColumns` (a `ColumnStrategy`: the candles as arrays, no
 *   DataFrame), which makes an optimisation trial over a million candles many times cheaper.
 * - Enter long when the MACD histogram (MACD − signal) crosses above zero; exit when it crosses below zero.
 * - Trades binance BTC/USDT on 15-minute candles.
 *
 * Copy this file to start a strategy of your own: declare parameters in `params`, compute indicator columns over the
 * whole history (vectorised: in `populateColumns` on arrays as here, or in `populateIndicators` on a danfojs DataFrame
 * as `ema-cross.ts` does), and decide per closed candle in `onData`.
 */
import { choice, ColumnStrategy, ema, int, newColumn, type Candle, type CandleColumns, type Frame, type IndicatorColumns, type Signal } from '../framework';

export default class MacdCrossover extends ColumnStrategy {
  override readonly name = 'macd';

  /** MACD periods in candles. */
  override readonly params = { fast: 12, slow: 26, signal: 9 };

  /** What `--param` accepts and `npm run optimize` searches, per parameter. */
  override readonly space = { fast: int(4, 30), slow: int(10, 60, { step: 2 }), signal: choice([5, 9, 12]) };

  /**
   * The signal line exists after `slow + signal − 1` = 34 candles, but exponential averages need many more to forget
   * how they were seeded: `npm run check` measures 373 candles until every MACD column is within 1e-9 of its
   * whole-history value. 400 candles of 15m is about 4 days.
   */
  override readonly warmup = 400;

  getRequiredSubscriptions() {
    return [{ exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' }];
  }

  populateColumns({ close }: CandleColumns): IndicatorColumns {
    const macd = ema(close, this.params.fast); // the fast EMA, made the MACD in place:
    const slow = ema(close, this.params.slow);
    for (let i = 0; i < macd.length; i++) macd[i] = macd[i]! - slow[i]!; // NaN until the slow EMA has a value
    const signal = ema(macd, this.params.signal, slow); // into the slow EMA's array, no longer needed
    const hist = newColumn(macd.length); // every element written below (in a trial, a recycled array)
    for (let i = 0; i < hist.length; i++) hist[i] = macd[i]! - signal[i]!;
    return { macd, macd_signal: signal, macd_hist: hist };
  }

  onData(_candle: Candle, frame: Frame): Signal | null {
    const hist = frame.value('macd_hist');
    const previous = frame.value('macd_hist', 1);
    if (previous <= 0 && hist > 0) return { action: 'enter_long', tag: 'macd_cross_up' };
    if (previous >= 0 && hist < 0) return { action: 'exit_long', tag: 'macd_cross_down' };
    return null;
  }
}
