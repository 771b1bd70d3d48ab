/**
 * The ledger of one round trip (flat → position → flat): what its entries, adds and exits filled, from which the
 * closed {@link Trade} is made. Plain data, so that a broker snapshot carries it as JSON.
 *
 * @module
 */
import type { ExitReason, PositionSide, Trade } from './types';

/**
 * An open round trip: quantities in base currency, quantity-weighted average fill prices and summed fees in quote
 * currency. `openedAt` is the open time of the candle whose open filled the first entry; `entryTag` that entry
 * signal's tag.
 */
export interface RoundTrip {
  readonly side: PositionSide;
  readonly openedAt: number;
  readonly enteredQuantity: number;
  readonly entryPrice: number;
  readonly entryFees: number;
  readonly exitedQuantity: number;
  readonly exitPrice: number;
  readonly exitFees: number;
  readonly entryTag?: string;
}

/** A round trip opened by an entry fill. */
export function openRoundTrip(side: PositionSide, time: number, price: number, quantity: number, fee: number, tag: string | undefined): RoundTrip {
  return roundTrip(side, time, tag, quantity, price, fee, 0, 0, 0);
}

/** `trip` with an add's fill (it increases the position). */
export function addEntry(trip: RoundTrip, price: number, quantity: number, fee: number): RoundTrip {
  const enteredQuantity = trip.enteredQuantity + quantity;
  const entryPrice = (trip.enteredQuantity * trip.entryPrice + quantity * price) / enteredQuantity;
  return roundTrip(trip.side, trip.openedAt, trip.entryTag, enteredQuantity, entryPrice, trip.entryFees + fee, trip.exitedQuantity, trip.exitPrice, trip.exitFees);
}

/** `trip` with an exit's fill (it reduces the position). */
export function addExit(trip: RoundTrip, price: number, quantity: number, fee: number): RoundTrip {
  const exitedQuantity = trip.exitedQuantity + quantity;
  const exitPrice = trip.exitedQuantity === 0 ? price : (trip.exitedQuantity * trip.exitPrice + quantity * price) / exitedQuantity;
  return roundTrip(trip.side, trip.openedAt, trip.entryTag, trip.enteredQuantity, trip.entryPrice, trip.entryFees, exitedQuantity, exitPrice, trip.exitFees + fee);
}

/**
 * A round trip with its keys in the order of the spreads it replaces (`{ ...trip, exitFees }` and the like), written
 * out: a spread copies through a runtime call, once per fill of a long backtest.
 */
function roundTrip(
  side: PositionSide,
  openedAt: number,
  entryTag: string | undefined,
  enteredQuantity: number,
  entryPrice: number,
  entryFees: number,
  exitedQuantity: number,
  exitPrice: number,
  exitFees: number,
): RoundTrip {
  return entryTag === undefined
    ? { side, openedAt, enteredQuantity, entryPrice, entryFees, exitedQuantity, exitPrice, exitFees }
    : { side, openedAt, enteredQuantity, entryPrice, entryFees, exitedQuantity, exitPrice, exitFees, entryTag };
}

/**
 * The closed trade of a round trip whose exits have made the position flat (see {@link Trade} for the formulas; the
 * exits' quantities sum to the entered quantity).
 *
 * @param exitTime - open time of the candle during which the last exit filled.
 */
export function closeRoundTrip(trip: RoundTrip, exitTime: number, exitReason: ExitReason, exitTag: string | undefined): Trade {
  const { enteredQuantity: quantity, entryPrice, exitPrice } = trip;
  const fees = trip.entryFees + trip.exitFees;
  const pnl = (trip.side === 'long' ? quantity * (exitPrice - entryPrice) : quantity * (entryPrice - exitPrice)) - fees;
  const trade: { -readonly [K in keyof Trade]: Trade[K] } = {
    side: trip.side,
    entryTime: trip.openedAt,
    entryPrice,
    exitTime,
    exitPrice,
    quantity,
    fees,
    pnl,
    returnFraction: pnl / (quantity * entryPrice + trip.entryFees),
    exitReason,
  };
  // Added one by one rather than spread into the literal: spreading costs a runtime call per trade (tens of
  // thousands in a long backtest); the keys and their order are the same.
  if (trip.entryTag !== undefined) trade.entryTag = trip.entryTag;
  if (exitTag !== undefined) trade.exitTag = exitTag;
  return trade;
}
