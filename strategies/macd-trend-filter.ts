/**
 * MACD crossover on 15-minute candles, filtered by the 1-hour trend: an example of an informative subscription.
 *
 * - Traded: binance BTC/USDT 15m, MACD 12/26/9 as in `macd.ts`.
 * - Informative: binance BTC/USDT 1h with a 50-candle EMA of its close. `onData` sees it as `ema_trend_1h` (and the
 *   1h OHLCV as `close_1h`, `open_1h`, …), always from the latest 1h candle that had CLOSED when the 15m candle
 *   closed: the 1h candle of 00:00–01:00 first appears on the 15m candle of 00:45.
 * - Enter long on a MACD cross up only while the last closed 1h close is above its EMA; exit on a cross down.
 */
import { EMA, MACD } from 'technicalindicators';
import {
  BaseStrategy,
  alignToCandles,
  type Candle,
  type DataFrame,
  type Frame,
  type Signal,
  type Subscription,
} from '../framework';

export default class MacdTrendFilter extends BaseStrategy {
  override readonly name = 'macd-trend-filter';

  override readonly params = { fast: 12, slow: 26, signal: 9, trend: 50 };

  /**
   * 800 candles of 15m = 200 hours: MACD needs about 373 candles to forget its seed (`npm run check`), and the 1h EMA-50
   * about four times its period in hours.
   */
  override readonly warmup = 800;

  getRequiredSubscriptions() {
    return [
      { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' },
      { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' },
    ];
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
    df.addColumn('macd_hist', alignToCandles(macd.map((m) => m.histogram), closes.length), { inplace: true });
    return df;
  }

  override populateInformative(df: DataFrame, _subscription: Subscription): DataFrame {
    const closes = df['close'].values as number[];
    df.addColumn('ema_trend', alignToCandles(EMA.calculate({ values: closes, period: this.params.trend }), closes.length), {
      inplace: true,
    });
    return df;
  }

  onData(_candle: Candle, frame: Frame): Signal | null {
    const hist = frame.value('macd_hist');
    const previous = frame.value('macd_hist', 1);
    const uptrend = frame.value('close_1h') > frame.value('ema_trend_1h');
    if (previous <= 0 && hist > 0 && uptrend) return { action: 'enter_long', tag: 'macd_up_in_1h_uptrend' };
    if (previous >= 0 && hist < 0) return { action: 'exit_long', tag: 'macd_cross_down' };
    return null;
  }
}
