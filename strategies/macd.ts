/**
 * MACD crossover, long only: the classic trend-following example.
 *
 * - Indicators: MACD 12/26/9 on the close, with exponential averages for both the oscillator and the signal line, as
 *   in Gerald Appel's definition: `technicalindicators`' EMA fed one close at a time (`streamToCandles`), which gives
 *   its `MACD.calculate` bit for bit at a third of the cost over a long history.
 * - Enter long when the MACD histogram (MACD − signal) crosses above zero; exit when it crosses below zero.
 * - Trades binance BTC/USDT on 15-minute candles.
 *
 * Copy this file to start a strategy of your own: declare parameters in `params`, compute indicator columns in
 * `populateIndicators` (vectorised, over the whole history), and decide per closed candle in `onData`.
 */
import { EMA } from 'technicalindicators';
import { BaseStrategy, choice, int, streamToCandles, type Candle, type DataFrame, type Frame, type Signal } from '../framework';

export default class MacdCrossover extends BaseStrategy {
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

  populateIndicators(df: DataFrame): DataFrame {
    const closes = df['close'].values as number[];
    const ema = (period: number, values: number[]) => streamToCandles(new EMA({ period, values: [] }), values);
    const fast = ema(this.params.fast, closes);
    const slow = ema(this.params.slow, closes);
    const macd = fast.map((f, i) => f - slow[i]!); // NaN until the slow EMA has a value
    const signal = ema(this.params.signal, macd);
    df.addColumn('macd', macd, { inplace: true });
    df.addColumn('macd_signal', signal, { inplace: true });
    df.addColumn('macd_hist', macd.map((m, i) => m - signal[i]!), { inplace: true });
    return df;
  }

  onData(_candle: Candle, frame: Frame): Signal | null {
    const hist = frame.value('macd_hist');
    const previous = frame.value('macd_hist', 1);
    if (previous <= 0 && hist > 0) return { action: 'enter_long', tag: 'macd_cross_up' };
    if (previous >= 0 && hist < 0) return { action: 'exit_long', tag: 'macd_cross_down' };
    return null;
  }
}
