/**
 * MACD crossover, long only: the classic trend-following example.
 *
 * - Indicators: MACD 12/26/9 on the close (`technicalindicators`' MACD with exponential averages for both the
 *   oscillator and the signal line, as in Gerald Appel's definition).
 * - Enter long when the MACD histogram (MACD − signal) crosses above zero; exit when it crosses below zero.
 * - Trades binance BTC/USDT on 15-minute candles.
 *
 * Copy this file to start a strategy of your own: declare parameters in `params`, compute indicator columns in
 * `populateIndicators` (vectorised, over the whole history), and decide per closed candle in `onData`.
 */
import { MACD } from 'technicalindicators';
import { BaseStrategy, alignFieldsToCandles, type Candle, type DataFrame, type Frame, type Signal } from '../framework';

export default class MacdCrossover extends BaseStrategy {
  override readonly name = 'macd';

  /** MACD periods in candles. */
  override readonly params = { fast: 12, slow: 26, signal: 9 };

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
    const macd = MACD.calculate({
      values: closes,
      fastPeriod: this.params.fast,
      slowPeriod: this.params.slow,
      signalPeriod: this.params.signal,
      SimpleMAOscillator: false,
      SimpleMASignal: false,
    });
    const { MACD: line, signal, histogram } = alignFieldsToCandles(macd, closes.length, ['MACD', 'signal', 'histogram']);
    df.addColumn('macd', line, { inplace: true });
    df.addColumn('macd_signal', signal, { inplace: true });
    df.addColumn('macd_hist', histogram, { inplace: true });
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
