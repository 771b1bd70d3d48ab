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

/** The exchange clock as a run last saw it: `exchangeTime` (UTC epoch ms, exchange clock) read at `realTime` (local). */
export interface ExchangeClockReading {
  readonly exchangeTime: number;
  readonly realTime: number;
}

/**
 * Where a restarted simulator's clock resumes (UTC epoch ms): the last reading plus the real time since, at `speed`
 * exchange ms per real ms, as if the simulated exchange had kept running while the run was down; or the last reading
 * itself when that would be at or past `lastOpenTime` (the open time of the simulator's last traded candle), so that a
 * run restarted long after its kill goes on with the data that is left rather than finding it ended.
 */
export function resumedExchangeTime(last: ExchangeClockReading, realNow: number, speed: number, lastOpenTime: number): number {
  const resumed = last.exchangeTime + Math.max(0, realNow - last.realTime) * speed;
  return resumed < lastOpenTime ? Math.floor(resumed) : last.exchangeTime;
}

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
