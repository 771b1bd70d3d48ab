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

/**
 * A round trip as the broker keeps it while it is open: changed in place by each fill (a new object per fill cost a
 * million-candle backtest 200 bytes of garbage per fill). Never handed out: a broker snapshot copies it.
 */
export type OpenRoundTrip = { -readonly [K in keyof RoundTrip]: RoundTrip[K] };

/** A round trip opened by an entry fill. */
export function openRoundTrip(side: PositionSide, time: number, price: number, quantity: number, fee: number, tag: string | undefined): OpenRoundTrip {
  const trip: OpenRoundTrip = {
    side,
    openedAt: time,
    enteredQuantity: quantity,
    entryPrice: price,
    entryFees: fee,
    exitedQuantity: 0,
    exitPrice: 0,
    exitFees: 0,
  };
  if (tag !== undefined) trip.entryTag = tag;
  return trip;
}

/** Books an add's fill (it increases the position) into `trip`. */
export function addEntry(trip: OpenRoundTrip, price: number, quantity: number, fee: number): void {
  const enteredQuantity = trip.enteredQuantity + quantity;
  trip.entryPrice = (trip.enteredQuantity * trip.entryPrice + quantity * price) / enteredQuantity;
  trip.enteredQuantity = enteredQuantity;
  trip.entryFees += fee;
}

/** Books an exit's fill (it reduces the position) into `trip`. */
export function addExit(trip: OpenRoundTrip, price: number, quantity: number, fee: number): void {
  const exitedQuantity = trip.exitedQuantity + quantity;
  trip.exitPrice = trip.exitedQuantity === 0 ? price : (trip.exitedQuantity * trip.exitPrice + quantity * price) / exitedQuantity;
  trip.exitedQuantity = exitedQuantity;
  trip.exitFees += fee;
}

/**
 * The closed trade of a round trip whose exits have made the position flat (see {@link Trade} for the formulas; the
 * exits' quantities sum to the entered quantity).
 *
 * @param exitTime - open time of the candle during which the last exit filled.
 */
export function closeRoundTrip(trip: RoundTrip, exitTime: number, exitReason: ExitReason, exitTag: string | undefined): Trade {
  const { enteredQuantity: quantity, entryPrice, exitPrice } = trip;
  const fees = tripFees(trip);
  const pnl = tripPnl(trip);
  const trade: { -readonly [K in keyof Trade]: Trade[K] } = {
    side: trip.side,
    entryTime: trip.openedAt,
    entryPrice,
    exitTime,
    exitPrice,
    quantity,
    fees,
    pnl,
    returnFraction: tripReturn(trip, pnl),
    exitReason,
  };
  // Added one by one rather than spread into the literal: spreading costs a runtime call per trade (tens of
  // thousands in a long backtest); the keys and their order are the same.
  if (trip.entryTag !== undefined) trade.entryTag = trip.entryTag;
  if (exitTag !== undefined) trade.exitTag = exitTag;
  return trade;
}

/** The fees of a closed round trip (quote currency): the {@link Trade.fees} of its trade. */
function tripFees(trip: RoundTrip): number {
  return trip.entryFees + trip.exitFees;
}

/** The net result of a closed round trip (quote currency): the {@link Trade.pnl} of its trade. */
export function tripPnl(trip: RoundTrip): number {
  const { enteredQuantity: quantity, entryPrice, exitPrice } = trip;
  return (trip.side === 'long' ? quantity * (exitPrice - entryPrice) : quantity * (entryPrice - exitPrice)) - tripFees(trip);
}

/** The {@link Trade.returnFraction} of a closed round trip whose net result is `pnl`. */
export function tripReturn(trip: RoundTrip, pnl: number): number {
  return pnl / (trip.enteredQuantity * trip.entryPrice + trip.entryFees);
}
