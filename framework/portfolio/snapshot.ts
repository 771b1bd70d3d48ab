/**
 * A strategy's {@link "portfolio/portfolio"!StrategySnapshot | StrategySnapshot} from its paper broker's state, as a
 * worker publishes it after every candle it acts on (and the trading journal checkpoints it).
 *
 * @module
 */
import type { BrokerState } from '../broker/broker-state';
import type { Trade } from '../broker/types';
import type { StrategySnapshot } from './portfolio';

/**
 * The snapshot of a strategy holding `state` after `trades`, started with `initialCash` (quote currency):
 * realised PnL is the sum of the closed trades' PnL (fees included); unrealised PnL is the rest of the change in
 * equity (`equity − initialCash − realised`: the open position marked at the last close, its entry fees included);
 * the position, if any, is marked at the last close, signed (short negative).
 */
export function strategySnapshot(
  strategyId: string,
  symbol: string,
  state: BrokerState,
  trades: readonly Trade[],
  initialCash: number,
): StrategySnapshot {
  const realisedPnl = trades.reduce((sum, t) => sum + t.pnl, 0);
  const p = state.position;
  return {
    strategyId,
    time: state.lastTime,
    equity: state.equity,
    cash: state.cash,
    realisedPnl,
    unrealisedPnl: state.equity - initialCash - realisedPnl,
    positions: p === null ? [] : [{ symbol, quantity: p.side === 'long' ? p.quantity : -p.quantity, markPrice: state.lastClose }],
  };
}
