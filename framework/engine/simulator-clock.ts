/**
 * A live run on the project's exchange simulator keeps the simulator's data and the run's history apart: the history
 * starts {@link simulatorHistoryStart | one warm-up page} before the exchange's now and is fetched over the
 * simulator's REST API into the run's live store (never read from the datasets the simulator plays), and a killed run
 * continued on a restarted in-process simulator finds its clock where it would be had it kept running (from
 * {@link lastClockReading}, see `resumedExchangeTime` in `connector/dataset-simulator.ts`), so the span it was down is
 * backfilled over REST and nothing already traded is played again.
 *
 * @module
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { timeframeGrid, type Timeframe } from '../core/timeframe';
import { readJournal } from '../report/journal';
import type { ExchangeClockReading } from '../connector/dataset-simulator';

/**
 * Candles a new run on the simulator fetches as its warm-up (at least; more when the strategy's `warmup` asks): one
 * page of Binance's kline endpoint, as freqtrade's first refresh of a pair fetches one page of its exchange's
 * candle limit.
 */
export const SIMULATOR_WARMUP_CANDLES = 1_000;

/**
 * Where the history of a new live run on the simulator starts (UTC epoch ms): `max(SIMULATOR_WARMUP_CANDLES, warmup)`
 * candles of the longest of `timeframes` before the candle containing `now` (the exchange clock), on that timeframe's
 * grid (so on every shorter one's too).
 *
 * @throws {@link "core/errors"!InvalidTimeframeError | InvalidTimeframeError} for a bad timeframe.
 */
export function simulatorHistoryStart(now: number, timeframes: readonly Timeframe[], warmup: number): number {
  const longest = timeframes.map(timeframeGrid).reduce((a, b) => (b.nominalMs > a.nominalMs ? b : a));
  return longest.bucketStart(longest.bucketStart(now) - Math.max(SIMULATOR_WARMUP_CANDLES, warmup) * longest.nominalMs);
}

/**
 * The killed run's last reading of the exchange clock: the arrival time (`arrivedAt`) of the last candle in its
 * `candles.jsonl`, at the file's last modification; null when it journaled no candle.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} for a journal line that is not JSON.
 */
export function lastClockReading(runDir: string): ExchangeClockReading | null {
  const file = join(runDir, 'candles.jsonl');
  if (!existsSync(file)) return null;
  const exchangeTime = readJournal(runDir).candles.at(-1)?.arrivedAt;
  return exchangeTime === undefined ? null : { exchangeTime, realTime: statSync(file).mtimeMs };
}
