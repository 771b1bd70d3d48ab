/**
 * Plain records the paper broker produces: the open position, fills, closed trades and ignored signals.
 * Times are UTC epoch ms of a candle's open time; prices and money are in quote currency; quantities in base currency.
 *
 * @module
 */
import type { Signal } from '../strategy/signal';

/** Side of a position: `long` profits when the price rises, `short` when it falls. */
export type PositionSide = 'long' | 'short';

/**
 * Why a position was closed:
 * - `signal`: an `exit_long` / `exit_short` signal, filled at the next candle's open;
 * - `stop_loss` / `take_profit`: the position's stop or take-profit price was touched within a candle;
 * - `reversal`: an entry signal of the opposite side closed it (at the same open as the new entry);
 * - `end_of_data`: {@link "broker/paper-broker"!PaperBroker.closeAll | PaperBroker.closeAll} at the end of a run, at
 *   the last candle's close.
 */
export type ExitReason = 'signal' | 'stop_loss' | 'take_profit' | 'reversal' | 'end_of_data';

/**
 * The open position.
 *
 * - `quantity`: size in base currency, always > 0 (the side gives the sign: a short's marked value is
 *   `−quantity × price`);
 * - `entryPrice`: the entry fill price (slippage included), quote currency;
 * - `entryTime`: open time of the candle whose open filled the entry;
 * - `entryFee`: fee paid on the entry fill, quote currency;
 * - `stopPrice`, `takeProfitPrice`: absolute trigger prices derived from the entry signal's fractions;
 * - `tag`: the entry signal's tag.
 */
export interface Position {
  readonly side: PositionSide;
  readonly quantity: number;
  readonly entryPrice: number;
  readonly entryTime: number;
  readonly entryFee: number;
  readonly stopPrice?: number;
  readonly takeProfitPrice?: number;
  readonly tag?: string;
}

/**
 * One execution against the simulated market.
 *
 * - `time`: open time of the candle during which it filled;
 * - `side`: `buy` (long entry, short exit) or `sell` (long exit, short entry);
 * - `price`: fill price in quote currency, slippage included;
 * - `quantity`: base currency, > 0;
 * - `fee`: quote currency, `feeRate × price × quantity`;
 * - `reason`: `entry` for an entry, else the {@link ExitReason} of the exit.
 */
export interface Fill {
  readonly time: number;
  readonly side: 'buy' | 'sell';
  readonly price: number;
  readonly quantity: number;
  readonly fee: number;
  readonly reason: 'entry' | ExitReason;
}

/**
 * A closed round trip.
 *
 * - `entryTime`, `exitTime`: open times of the candles during which entry and exit filled;
 * - `entryPrice`, `exitPrice`: fill prices, quote currency, slippage included;
 * - `quantity`: base currency, > 0;
 * - `fees`: entry fee + exit fee, quote currency;
 * - `pnl`: net profit in quote currency: `quantity × (exitPrice − entryPrice) − fees` for a long,
 *   `quantity × (entryPrice − exitPrice) − fees` for a short;
 * - `returnPct`: net return as a fraction (not percent) of the capital committed at entry,
 *   `pnl / (quantity × entryPrice + entry fee)`, i.e. of the stake the sizing rule allotted;
 * - `entryTag`, `exitTag`: tags of the entry signal and of the exit (or reversing entry) signal.
 */
export interface Trade {
  readonly side: PositionSide;
  readonly entryTime: number;
  readonly entryPrice: number;
  readonly exitTime: number;
  readonly exitPrice: number;
  readonly quantity: number;
  readonly fees: number;
  readonly pnl: number;
  readonly returnPct: number;
  readonly exitReason: ExitReason;
  readonly entryTag?: string;
  readonly exitTag?: string;
}

/** What the broker did with a submitted signal: `acted` when it became an order; otherwise `reason` says why not. */
export interface SignalDecision {
  readonly acted: boolean;
  readonly reason?: string;
}

/** A signal the broker did not act on: `time` is the open time of the candle it was decided on. */
export interface IgnoredSignal {
  readonly time: number;
  readonly signal: Signal;
  readonly reason: string;
}
