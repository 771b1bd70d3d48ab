/**
 * EMA crossover, long and short, with a stop-loss and a take-profit on every entry.
 *
 * - Indicators: a fast and a slow exponential moving average of the close (`technicalindicators`' EMA).
 * - Enter long when the fast EMA crosses above the slow one, short when it crosses below (an open position on the
 *   other side is closed first). Each entry carries a 2% stop-loss and a 4% take-profit, as fractions of the entry
 *   price; the broker checks them against every later candle's high and low.
 * - Trades binance BTC/USDT on 1-hour candles.
 */
import { EMA } from 'technicalindicators';
import { BaseStrategy, alignToCandles, type Candle, type DataFrame, type Frame, type Signal } from '../framework';

export default class EmaCross extends BaseStrategy {
  override readonly name = 'ema-cross';

  override readonly params = { fast: 9, slow: 21, stopLoss: 0.02, takeProfit: 0.04 };

  /** `npm run check`: the slow EMA needs 190 candles to be within 1e-9 of its whole-history value. */
  override readonly warmup = 200;

  getRequiredSubscriptions() {
    return [{ exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' }];
  }

  populateIndicators(df: DataFrame): DataFrame {
    const closes = df['close'].values as number[];
    df.addColumn('ema_fast', alignToCandles(EMA.calculate({ values: closes, period: this.params.fast }), closes.length), {
      inplace: true,
    });
    df.addColumn('ema_slow', alignToCandles(EMA.calculate({ values: closes, period: this.params.slow }), closes.length), {
      inplace: true,
    });
    return df;
  }

  onData(_candle: Candle, frame: Frame): Signal | null {
    const above = frame.value('ema_fast') > frame.value('ema_slow');
    const wasAbove = frame.value('ema_fast', 1) > frame.value('ema_slow', 1);
    const exits = { stopLoss: this.params.stopLoss, takeProfit: this.params.takeProfit };
    if (above && !wasAbove) return { action: 'enter_long', ...exits, tag: 'ema_cross_up' };
    if (!above && wasAbove) return { action: 'enter_short', ...exits, tag: 'ema_cross_down' };
    return null;
  }
}
