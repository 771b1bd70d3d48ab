/**
 * Plain records the paper broker produces: the open position, fills, closed trades (round trips) and ignored signals.
 * Times are UTC epoch ms of a candle's open time; prices and money are in quote currency; quantities in base currency.
 *
 * @module
 */
import type { Signal } from '../strategy/signal';
import type { OrderReason, OrderSide } from './orders';

/** Side of a position: `long` profits when the price rises, `short` when it falls. */
export type PositionSide = 'long' | 'short';

/**
 * Why a position was closed (the reason of the order that made it flat):
 * - `signal`: an `exit_long` / `exit_short` signal (with or without `size`), filled at the next candle's open;
 * - `stop_loss` / `take_profit`: the position's stop or take-profit price was touched within a candle;
 * - `reversal`: an entry signal of the opposite side closed it (at the same open as the new entry);
 * - `end_of_data`: {@link "broker/paper-broker"!PaperBroker.closeAll | PaperBroker.closeAll} at the end of a run, at
 *   the last candle's close;
 * - `closed_on_exchange`: reconciliation found the position sold outside the run (by hand on the exchange), closed at
 *   the exchange's price (see {@link "broker/paper-broker"!PaperBroker.closeOnExchange | PaperBroker.closeOnExchange}).
 */
export type ExitReason = 'signal' | 'stop_loss' | 'take_profit' | 'reversal' | 'end_of_data' | 'closed_on_exchange';

/**
 * The open position (one per broker: the traded symbol).
 *
 * - `quantity`: size in base currency, always > 0 (the side gives the sign: a short's marked value is
 *   `−quantity × price`);
 * - `averageEntryPrice`: quantity-weighted average fill price of the entry and every add (slippage included, fees
 *   not: they are paid out of cash and counted in the trade's `fees`); a partial exit leaves it unchanged;
 * - `openedAt`: open time of the candle whose open filled the first entry;
 * - `stopPrice`, `takeProfitPrice`: absolute trigger prices of the position, set from the average entry price by the
 *   entry signal's `stopLoss` / `takeProfit` fractions and reset from the new average by an add that carries them;
 * - `tag`: the entry signal's tag.
 */
export interface Position {
  readonly side: PositionSide;
  readonly quantity: number;
  readonly averageEntryPrice: number;
  readonly openedAt: number;
  readonly stopPrice?: number;
  readonly takeProfitPrice?: number;
  readonly tag?: string;
}

/**
 * One execution against the simulated market.
 *
 * - `time`: open time of the candle during which it filled;
 * - `clientOrderId`: the order it filled (see {@link "broker/orders"!Order | Order});
 * - `side`: `buy` (long entry or add, short exit) or `sell` (long exit, short entry or add);
 * - `price`: fill price in quote currency, slippage included;
 * - `quantity`: base currency, > 0;
 * - `fee`: quote currency, `feeRate × price × quantity`;
 * - `reason`: the order's reason (`entry`, `add`, `exit`, `partial_exit`, `reversal`, `stop_loss`, `take_profit`,
 *   `end_of_data`).
 */
export interface Fill {
  readonly time: number;
  readonly clientOrderId: string;
  readonly side: OrderSide;
  readonly price: number;
  readonly quantity: number;
  readonly fee: number;
  readonly reason: OrderReason;
}

/**
 * A closed round trip: from the first entry fill while flat to the fill that made the position flat again, with
 * every add and partial exit in between.
 *
 * - `entryTime`: open time of the candle whose open filled the first entry; `exitTime`: of the candle during which
 *   the last exit filled;
 * - `quantity`: total base quantity entered (entry plus adds), > 0; the exits sum to the same quantity;
 * - `entryPrice`: quantity-weighted average price of the entry and adds; `exitPrice`: quantity-weighted average price
 *   of the exits (partial exits and the final one); both fill prices in quote currency, slippage included;
 * - `fees`: the fees of every fill of the round trip, quote currency;
 * - `pnl`: realised net profit in quote currency, `quantity × (exitPrice − entryPrice) − fees` for a long,
 *   `quantity × (entryPrice − exitPrice) − fees` for a short (= Σ exit notionals − Σ entry notionals − fees for a
 *   long, since the exits sum to `quantity`);
 * - `returnFraction`: net return as a fraction (not percent) of the capital committed by the entries,
 *   `pnl / (quantity × entryPrice + Σ entry and add fees)`;
 * - `exitReason`: why the last exit happened (a partial exit followed by a signal exit is `signal`);
 * - `entryTag`, `exitTag`: tags of the entry signal and of the last exit (or reversing entry) signal.
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
  readonly returnFraction: number;
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
