/**
 * What a real-orders run mirrors on the exchange, without the executor itself: the trading node's workers decide which
 * paper order events to send to the trade desk with these, and must not load ccxt (about 340 files) to do so; the
 * executor ({@link "execution/executor"!OrderExecutor | OrderExecutor}), which talks to the exchange, lives beside the
 * connector.
 *
 * @module
 */
import { FrameworkError } from '../core/errors';
import type { OrderEvent } from '../broker/orders';

/**
 * Whether the executor mirrors `event` on the exchange (see {@link "execution/executor"!OrderExecutor.onOrderEvent |
 * OrderExecutor.onOrderEvent}): market orders and stop / limit orders that filled, a settled `closed_on_exchange`;
 * never the report's close at the end of a run.
 */
export function isMirrored(event: OrderEvent): boolean {
  const { order } = event;
  if (order.reason === 'end_of_data') return false;
  if (order.reason === 'closed_on_exchange') return order.status === 'filled' || order.status === 'cancelled';
  return order.type === 'market' || order.status === 'filled' || order.status === 'partially_filled';
}

/** A short asked of a spot account, which cannot hold a negative quantity. Stops the run. */
export class SpotShortError extends FrameworkError {}
