/**
 * RSI mean reversion, long only, half the equity per trade.
 *
 * - Indicators: Wilder's RSI over `period` candles (`technicalindicators`' RSI) and a 200-candle simple moving average
 *   as a trend filter.
 * - Enter long when RSI crosses back above `oversold` while the close is above the SMA (buy the dip in an uptrend);
 *   exit when RSI rises above `overbought`.
 * - Trades binance ETH/USDT on 1-hour candles; each entry uses half of the current equity (`size: { fraction: 0.5 }`).
 */
import { RSI, SMA } from 'technicalindicators';
import { BaseStrategy, alignToCandles, type Candle, type DataFrame, type Frame, type Signal } from '../framework';

export default class RsiMeanReversion extends BaseStrategy {
  override readonly name = 'rsi-mean-reversion';

  override readonly params = { period: 14, oversold: 30, overbought: 70, trend: 200 };

  /** The 200-candle SMA is the longest look-back. */
  override readonly warmup = 200;

  getRequiredSubscriptions() {
    return [{ exchange: 'binance', symbol: 'ETH/USDT', timeframe: '1h' }];
  }

  populateIndicators(df: DataFrame): DataFrame {
    const closes = df['close'].values as number[];
    const rsi = RSI.calculate({ values: closes, period: this.params.period });
    const sma = SMA.calculate({ values: closes, period: this.params.trend });
    df.addColumn('rsi', alignToCandles(rsi, closes.length), { inplace: true });
    df.addColumn('sma_trend', alignToCandles(sma, closes.length), { inplace: true });
    return df;
  }

  onData(candle: Candle, frame: Frame): Signal | null {
    const rsi = frame.value('rsi');
    const crossedUp = frame.value('rsi', 1) < this.params.oversold && rsi >= this.params.oversold;
    if (crossedUp && candle.close > frame.value('sma_trend')) {
      return { action: 'enter_long', size: { fraction: 0.5 }, tag: 'rsi_oversold_bounce' };
    }
    if (rsi > this.params.overbought) return { action: 'exit_long', tag: 'rsi_overbought' };
    return null;
  }
}
