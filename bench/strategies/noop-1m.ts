/**
 * A strategy that does nothing, for the engine-overhead case of the benchmark: no indicator, never a signal.
 * What a backtest of it costs per candle is the engine's own cost (candle, broker, frame, `onData` call).
 */
import { BaseStrategy, type DataFrame, type Signal } from '../../framework';

export default class DoNothing extends BaseStrategy {
  override readonly name = 'noop';

  getRequiredSubscriptions() {
    return [{ exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' }];
  }

  populateIndicators(df: DataFrame): DataFrame {
    return df;
  }

  onData(): Signal | null {
    return null;
  }
}
