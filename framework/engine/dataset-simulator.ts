/**
 * The in-process simulator of `npm run live --exchange sim` and `npm run node --exchange sim`, playing the shipped
 * datasets of a run's subscriptions.
 *
 * @module
 */
import type { Subscription } from '../core/subscription';
import { FrameworkError } from '../core/errors';
import type { FaultConfig } from '../sim/config';
import { startSimulator, type Simulator } from '../sim/simulator';
import { readDataset } from '../store/partitions';
import { resumedExchangeTime, type ExchangeClockReading } from './simulator-clock';

/**
 * Starts the simulator on the datasets under `root` of `subscriptions`, from exchange time `options.start` (UTC epoch
 * ms) at `options.speed` exchange ms per real ms, with `options.faults`. Returns it and the open time of each
 * subscription's first and last candle (in `subscriptions`' order; `undefined` for an empty dataset).
 *
 * With `options.resume` (the exchange clock as a killed run last saw it), the clock starts instead where
 * {@link resumedExchangeTime} puts it: after everything the run traded, the time it was down later.
 *
 * @throws FrameworkError when the subscriptions are on more than one exchange (the simulator plays one); the store's
 *   errors for a missing or unreadable dataset.
 */
export async function startDatasetSimulator(
  root: string,
  subscriptions: readonly Subscription[],
  options: { readonly start: number; readonly speed: number; readonly faults?: FaultConfig; readonly resume?: ExchangeClockReading },
): Promise<{ readonly simulator: Simulator; readonly firstOpenTimes: readonly (number | undefined)[]; readonly lastOpenTimes: readonly (number | undefined)[] }> {
  if (subscriptions.some((s) => s.exchange !== subscriptions[0]!.exchange)) {
    throw new FrameworkError('the simulator plays one exchange: every subscription must be on the same exchange');
  }
  const markets = subscriptions.map((s) => ({ symbol: s.symbol, timeframe: s.timeframe, candles: readDataset(root, s) }));
  const lastTraded = markets[0]?.candles.openTime.at(-1) ?? Number.POSITIVE_INFINITY;
  const simulator = await startSimulator({
    markets,
    startTime: options.resume === undefined ? options.start : resumedExchangeTime(options.resume, Date.now(), options.speed, lastTraded),
    speed: options.speed,
    ...(options.faults !== undefined && { faults: options.faults }),
  });
  return { simulator, firstOpenTimes: markets.map((m) => m.candles.openTime[0]), lastOpenTimes: markets.map((m) => m.candles.openTime.at(-1)) };
}
