/**
 * The order model shared by the backtest, paper live and real live runs: orders with deterministic client order ids,
 * their states, and the events a broker emits when it creates or fills one (what an exchange executor mirrors).
 * Times are UTC epoch ms of a candle's open time; prices in quote currency; quantities in base currency.
 *
 * Modelled on NautilusTrader's order lifecycle (`nautilus_trader/model/orders`): an order is accepted, then partially
 * filled or filled, or cancelled, or rejected; its client order id is assigned by the trader, not the venue.
 *
 * @module
 */
import { createHash } from 'node:crypto';

/** `buy` increases a long (or reduces a short); `sell` reduces a long (or opens/increases a short). */
export type OrderSide = 'buy' | 'sell';

/** Lifecycle of an order: `accepted` (working), then `partially_filled` / `filled`, or `cancelled` / `rejected`. */
export type OrderStatus = 'accepted' | 'partially_filled' | 'filled' | 'cancelled' | 'rejected';

/**
 * Why an order exists:
 * - `entry`: opens a position (signal `enter_*` while flat);
 * - `add`: scales into an open position (signal `enter_*` with `add: true` on the held side; a DCA buy);
 * - `exit`: closes the whole position (signal `exit_*` without `size`);
 * - `partial_exit`: closes part of it (signal `exit_*` with `size`);
 * - `reversal`: closes the position because an entry of the other side was signalled;
 * - `stop_loss` / `take_profit`: the position's stop or take-profit level was touched;
 * - `end_of_data`: the backtest's last candle closed an open position;
 * - `closed_on_exchange`: reconciliation found the exchange no longer holds what the run holds.
 */
export type OrderReason =
  | 'entry'
  | 'add'
  | 'exit'
  | 'partial_exit'
  | 'reversal'
  | 'stop_loss'
  | 'take_profit'
  | 'end_of_data'
  | 'closed_on_exchange';

/**
 * An order of the simulated (paper) broker.
 *
 * - `clientOrderId`: deterministic, see {@link clientOrderId}; the same id is used for the exchange order that mirrors
 *   it, so a retry or a restart sends the same id and the exchange refuses a duplicate (`''` from a paper broker made
 *   with `orderIds: false`: an optimisation trial's, whose orders nothing mirrors);
 * - `decidedAt`: open time of the candle on whose close it was decided (signal orders) or during which it triggered
 *   (stop-loss / take-profit orders);
 * - `quantity`: base currency, > 0, fixed when the order is created;
 * - `filledQuantity`: base currency filled so far; `averagePrice`: average fill price (NaN before any fill).
 */
export interface Order {
  readonly clientOrderId: string;
  readonly side: OrderSide;
  readonly type: 'market' | 'stop' | 'limit';
  readonly reason: OrderReason;
  readonly quantity: number;
  readonly decidedAt: number;
  readonly status: OrderStatus;
  readonly filledQuantity: number;
  readonly averagePrice: number;
  readonly tag?: string;
}

/**
 * What a broker tells its order listeners (an exchange executor mirrors these):
 * - `order`: the order as just created (`accepted`) or changed;
 * - `targetQuantity`: the signed base quantity the position will hold once every accepted order has filled
 *   (`+` long, `−` short, 0 flat). An executor drives the exchange holding towards it.
 */
export interface OrderEvent {
  readonly order: Order;
  readonly targetQuantity: number;
}

/** Receives {@link OrderEvent}s synchronously, in the order the broker makes them. */
export type OrderListener = (event: OrderEvent) => void;

/**
 * The deterministic client order id of the `counter`-th order (0-based) decided on the candle opening at `decidedAt`
 * by the strategy identified by `strategyKey` (e.g. `<strategy id>:<parameters hash>`): the same inputs give the same
 * id, so a retried or restarted run re-sends the same id.
 *
 * Format: `cc` + the first 8 hex digits of SHA-256(`strategyKey`) + `-` + `decidedAt / 1000` in base 36 + `-` +
 * `counter` in base 36; at most 26 characters, within Binance's `newClientOrderId` rule `^[.A-Z:/a-z0-9_-]{1,36}$`.
 *
 * @throws RangeError when `decidedAt` is not a whole number of seconds ≥ 0 or `counter` is not an integer ≥ 0.
 */
export function clientOrderId(strategyKey: string, decidedAt: number, counter: number): string {
  if (!Number.isInteger(decidedAt / 1000) || decidedAt < 0) {
    throw new RangeError(`clientOrderId: decidedAt ${decidedAt} is not a whole number of seconds since 1970 (UTC ms)`);
  }
  if (!Number.isInteger(counter) || counter < 0) throw new RangeError(`clientOrderId: counter ${counter} is not an integer ≥ 0`);
  return `cc${keyDigits(strategyKey)}-${(decidedAt / 1000).toString(36)}-${counter.toString(36)}`;
}

/** The last strategy key hashed and its digits: a broker asks for one key all run long (a hash per order: 3 µs here). */
let hashed = { strategyKey: '', digits: '' };

/** The first 8 hex digits of SHA-256(`strategyKey`). */
function keyDigits(strategyKey: string): string {
  if (hashed.strategyKey !== strategyKey || hashed.digits === '') {
    hashed = { strategyKey, digits: createHash('sha256').update(strategyKey).digest('hex').slice(0, 8) };
  }
  return hashed.digits;
}
