import type { Candle } from '../../framework/core/candle';
import type { AccountView } from '../../framework/strategy/account';
import type { Signal } from '../../framework/strategy/signal';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * A test strategy's decision on candle `i` of `candles`, from the account view, that uses every scaling path: daily
 * DCA adds (each resetting a 2% stop from the new average), partial exits above +3% (long, checked every 6 hours) or
 * below −1% (short), a full exit after 2 days, and midday shorts after three falling closes (a reversal when long),
 * with a 1% stop and a 1.5% take-profit.
 */
export function scalingRule(candles: readonly Candle[], i: number, account: AccountView): Signal | null {
  if (i < 3) return null;
  const candle = candles[i]!;
  const p = account.position;
  const close = candle.close;
  if (p?.side === 'long' && close > p.averageEntryPrice * 1.03 && candle.openTime % (6 * HOUR) === 0) {
    return { action: 'exit_long', size: { fraction: 0.4 } };
  }
  if (p?.side === 'short' && close < p.averageEntryPrice * 0.99) return { action: 'exit_short', size: { fraction: 0.5 } };
  if (p?.side === 'long' && candle.openTime - p.openedAt > 2 * DAY) return { action: 'exit_long', tag: 'old' };
  if (candle.openTime % DAY === 0) return { action: 'enter_long', add: true, size: { quote: 500 }, stopLoss: 0.02, tag: 'dca' };
  const falling = candles[i - 2]!.close > candles[i - 1]!.close && candles[i - 1]!.close > close;
  if (candle.openTime % DAY === 12 * HOUR && falling) {
    return { action: 'enter_short', size: { quote: 2_000 }, stopLoss: 0.01, takeProfit: 0.015, tag: 'down3' };
  }
  return null;
}

