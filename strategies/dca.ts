/**
 * Dollar-cost averaging: buy a fixed quote amount on a calendar schedule, scale out on a take-profit.
 *
 * - Schedule: every `every` candles of the traded timeframe, aligned to UTC epoch time (with 1h candles and
 *   `every = 24`, each day at 00:00 UTC; `every = 168` would be weekly). The shipped datasets have no 1d candles, so
 *   the schedule is daily on 1h candles; on a 1d subscription `every = 1` is daily and `every = 7` weekly.
 * - On a scheduled candle buy `quote` USDT (an add: `add: true` scales into the open position instead of being
 *   ignored as "already long").
 * - Half-way between two buys (at 12:00 UTC for a daily schedule): when the close is above the position's average
 *   entry price × (1 + `takeProfit`), sell `scaleOut` of the position (a partial exit; the average entry price stays,
 *   so in a rising market it sells again at the next check while it keeps buying on schedule).
 * - It reads its position from the account view (`onData`'s third argument), the same in backtest and live.
 * - Trades binance BTC/USDT on 1-hour candles.
 */
import { BaseStrategy, type AccountView, type Candle, type DataFrame, type Frame, type Signal } from '../framework';

/** One candle of the traded 1h timeframe, ms: the schedule counts in candles. */
const HOUR = 3_600_000;

export default class Dca extends BaseStrategy {
  override readonly name = 'dca';

  /** quote: USDT per buy; every: candles between buys; takeProfit: fraction above the average; scaleOut: fraction sold. */
  override readonly params = { quote: 100, every: 24, takeProfit: 0.1, scaleOut: 0.5 };

  getRequiredSubscriptions() {
    return [{ exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' }];
  }

  populateIndicators(df: DataFrame): DataFrame {
    return df;
  }

  onData(candle: Candle, _frame: Frame, account: AccountView): Signal | null {
    const period = this.params.every * HOUR;
    const phase = candle.openTime % period;
    if (phase === 0) return { action: 'enter_long', add: true, size: { quote: this.params.quote }, tag: 'dca' };
    const position = account.position;
    const checkpoint = phase === Math.floor(this.params.every / 2) * HOUR;
    if (checkpoint && position !== null && candle.close > position.averageEntryPrice * (1 + this.params.takeProfit)) {
      return { action: 'exit_long', size: { fraction: this.params.scaleOut }, tag: 'scale_out' };
    }
    return null;
  }
}
