/**
 * Running totals of closed trades: what the trade metrics (count, win rate, profit factor, expectancy) are computed
 * from, without keeping the trades.
 *
 * @module
 */
import type { Trade } from './types';

/**
 * Totals over closed trades, summed in the order they closed: `count` trades, `wins` with `pnl > 0`, `grossProfit`
 * the sum of those `pnl`s, `grossLoss` the sum of the others' `−pnl` (quote currency), `pnl` the sum of every `pnl`
 * (quote currency) and `returns` the sum of every `returnFraction`.
 */
export interface TradeTally {
  readonly count: number;
  readonly wins: number;
  readonly grossProfit: number;
  readonly grossLoss: number;
  readonly pnl: number;
  readonly returns: number;
}

/** A tally of no trade, to be added to with {@link addToTally}. */
export function emptyTally(): { -readonly [K in keyof TradeTally]: number } {
  return { count: 0, wins: 0, grossProfit: 0, grossLoss: 0, pnl: 0, returns: 0 };
}

/** Adds a closed trade's `pnl` (quote currency) and `returnFraction` to `tally`, in place. */
export function addToTally(tally: { -readonly [K in keyof TradeTally]: number }, pnl: number, returnFraction: number): void {
  tally.count += 1;
  if (pnl > 0) {
    tally.wins += 1;
    tally.grossProfit += pnl;
  } else {
    tally.grossLoss -= pnl;
  }
  tally.pnl += pnl;
  tally.returns += returnFraction;
}

/** The tally of `trades`, added in their order (the same sums, bit for bit, as a broker's running tally of them). */
export function tallyTrades(trades: readonly Trade[]): TradeTally {
  const tally = emptyTally();
  for (const t of trades) addToTally(tally, t.pnl, t.returnFraction);
  return tally;
}
