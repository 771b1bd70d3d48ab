/**
 * The benchmark's copy of `strategies/macd.ts` on 1m candles: the shipped strategy unchanged (parameters,
 * indicators, `onData`, warm-up) except that it trades binance BTC/USDT 1m, the timeframe of the bench's
 * 1,000,000-candle dataset (`bench/data`).
 */
import MacdCrossover from '../../strategies/macd';

export default class MacdOneMinute extends MacdCrossover {
  override getRequiredSubscriptions() {
    return [{ exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' }];
  }
}
