/**
 * The paper broker's state as plain JSON: what {@link "broker/paper-broker"!PaperBroker.snapshot | snapshot} returns and
 * {@link "broker/paper-broker"!PaperBroker.restore | restore} continues from, so that a run killed between two
 * candles goes on with the same position, stops, pending orders and client order ids. Times are UTC epoch ms of a
 * candle's open time; money in quote currency; quantities in base currency.
 *
 * @module
 */
import { z } from '../core/zod';
import { FrameworkError } from '../core/errors';
import { signalSchema, type Signal } from '../strategy/signal';
import type { Order } from './orders';
import type { RoundTrip } from './round-trip';
import type { Position } from './types';

/** A pending order as JSON: the {@link Order} with `averagePrice` null while unfilled (JSON has no NaN). */
export interface PendingOrderState {
  readonly order: Omit<Order, 'averagePrice'> & { readonly averagePrice: number | null };
  readonly signal: Signal;
}

/**
 * Everything the broker needs to go on after the candle opening at `lastTime`:
 * - `cash`, `equity` (marked at that candle's close), `lastClose`;
 * - `position` (null when flat) and the open `roundTrip` (its entries and exits so far, null when flat);
 * - `pendingOrders`: accepted orders waiting for the next open, with the signals that decided them;
 * - `counter`: the next client-order-id counter (`next`) for orders decided on the candle opening at `decidedAt`;
 * - `exposedCandles`: candles with a position open so far (for the exposure metric).
 * Trades, fills and the equity curve already made are not part of it: the journal has them.
 */
export interface BrokerState {
  readonly version: 1;
  readonly lastTime: number;
  readonly lastClose: number;
  readonly cash: number;
  readonly equity: number;
  readonly exposedCandles: number;
  readonly position: Position | null;
  readonly roundTrip: RoundTrip | null;
  readonly pendingOrders: readonly PendingOrderState[];
  readonly counter: { readonly decidedAt: number; readonly next: number } | null;
}

const finite = z.number().finite();
const positive = finite.positive();
const side = z.enum(['long', 'short']);

const positionSchema = z.strictObject({
  side,
  quantity: positive,
  averageEntryPrice: positive,
  openedAt: finite,
  stopPrice: finite.optional(),
  takeProfitPrice: finite.optional(),
  tag: z.string().optional(),
});

const roundTripSchema = z.strictObject({
  side,
  openedAt: finite,
  enteredQuantity: positive,
  entryPrice: positive,
  entryFees: finite.nonnegative(),
  exitedQuantity: finite.nonnegative(),
  exitPrice: finite.nonnegative(),
  exitFees: finite.nonnegative(),
  entryTag: z.string().optional(),
});

const orderSchema = z.strictObject({
  clientOrderId: z.string().min(1),
  side: z.enum(['buy', 'sell']),
  type: z.enum(['market', 'stop', 'limit']),
  reason: z.enum(['entry', 'add', 'exit', 'partial_exit', 'reversal', 'stop_loss', 'take_profit', 'end_of_data', 'closed_on_exchange']),
  quantity: positive,
  decidedAt: finite,
  status: z.enum(['accepted', 'partially_filled', 'filled', 'cancelled', 'rejected']),
  filledQuantity: finite.nonnegative(),
  averagePrice: finite.nullable(),
  tag: z.string().optional(),
});

const brokerStateSchema = z.strictObject({
  version: z.literal(1),
  lastTime: finite,
  lastClose: positive,
  cash: finite,
  equity: finite,
  exposedCandles: z.number().int().nonnegative(),
  position: positionSchema.nullable(),
  roundTrip: roundTripSchema.nullable(),
  pendingOrders: z.array(z.strictObject({ order: orderSchema, signal: signalSchema })),
  counter: z.strictObject({ decidedAt: finite, next: z.number().int().nonnegative() }).nullable(),
});

/**
 * Checks a value read back (e.g. from a trading journal) as a {@link BrokerState}.
 *
 * @param where - names the source for the message, e.g. `runs/x/trading.jsonl line 12`.
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} with one line naming `where` and every bad field.
 */
export function parseBrokerState(value: unknown, where: string): BrokerState {
  const result = brokerStateSchema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || 'state'}: ${i.message}`).join('; ');
    throw new FrameworkError(`${where}: not a broker state: ${problems}`);
  }
  const state = result.data as BrokerState;
  if ((state.position === null) !== (state.roundTrip === null)) {
    throw new FrameworkError(`${where}: not a broker state: a position needs its round trip and a round trip its position`);
  }
  return state;
}
