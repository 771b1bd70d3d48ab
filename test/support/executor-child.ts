/**
 * Child process of `test/execution/executor-resume.test.ts`: an {@link OrderExecutor} journaling to `EX_DIR`, trading
 * on the simulator at `EX_REST` with the test's credentials, mirrors one paper entry of 0.02 BTC. The test's simulator
 * withholds the order's answer, so the child waits in the request until the test SIGKILLs it.
 *
 * Run: `EX_DIR=<run folder> EX_REST=<simulator origin> node bin/run.mjs test/support/executor-child.ts`.
 */
import { clientOrderId } from '../../framework/broker/orders';
import { OrderExecutor } from '../../framework/execution/executor';
import { createExchange } from '../../framework/feeds/live/exchange';

/** The credentials of the test's simulator account. */
export const CHILD_CREDENTIALS = { apiKey: 'resume-key', secret: 'resume-secret' };

/** The paper entry the child mirrors (and the test finds on the exchange). */
export const CHILD_ENTRY = {
  clientOrderId: clientOrderId('resume', Date.UTC(2021, 2, 1, 9), 0),
  side: 'buy',
  type: 'market',
  reason: 'entry',
  quantity: 0.02,
  decidedAt: Date.UTC(2021, 2, 1, 9),
  status: 'accepted',
  filledQuantity: 0,
  averagePrice: Number.NaN,
} as const;

if (process.env['EX_DIR'] !== undefined) {
  const rest = process.env['EX_REST']!;
  const exchange = createExchange('binance', { urls: { restUrl: rest, wsUrl: `${rest.replace('http', 'ws')}/ws` }, enableRateLimit: false, credentials: CHILD_CREDENTIALS });
  exchange.timeout = 600_000; // the answer never comes: the child waits in the request until it is killed
  const executor = new OrderExecutor({ venue: exchange, symbol: 'BTC/USDT', strategy: 'resume', dir: process.env['EX_DIR'] });
  await executor.start();
  executor.listener({ order: CHILD_ENTRY, targetQuantity: 0.02 });
  await executor.flush();
}
