/**
 * Builds the shipped datasets from the real Binance candle files in the shared data folder.
 *
 * ```sh
 * npx tsx scripts/build-datasets.ts [--shared ../shared/data] [--out datasets]
 * ```
 *
 * - imports `BTC_USDT` and `ETH_USDT` 5m and 1h and `BTC_USDT` 1m (OHLCV JSON: `[open_time_ms, o, h, l, c, v]`,
 *   format in `SOURCES.md`) as exchange `binance`, source `import`, `receivedAt` unknown;
 * - derives 15m for both symbols from the 5m candles with {@link resampleCandles}, dropping incomplete buckets.
 *
 * Each file goes through `importCandles` (the `npm run data -- import` path: candle pipeline, then the store's
 * writer); a missing or unreadable file, or any row the pipeline rejects, stops the build with one line naming the
 * file (and the row). Candles are merged into the existing partitions (a candle with the same
 * open time is replaced), so re-running gives byte-identical files. Prints a summary of every dataset built.
 *
 * @module
 */

import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { batchLength } from '../framework/core/candle';
import { messageOf } from '../framework/core/errors';
import { describeSubscription } from '../framework/core/subscription';
import type { Subscription } from '../framework/core/subscription';
import { isoUtc } from '../framework/core/time';
import type { Timeframe } from '../framework/core/timeframe';
import { CandleFileError, importCandles } from '../framework/data/import-candles';
import { resampleDataset } from '../framework/data/resample-dataset';
import { listPartitions } from '../framework/store/layout';
import { readDataset } from '../framework/store/partitions';

const EXCHANGE = 'binance';

/** The source files and what is built from each. */
const SOURCES: readonly { file: string; symbol: string; timeframe: Timeframe; resampleTo: readonly Timeframe[] }[] = [
  { file: 'BTC_USDT-5m.json', symbol: 'BTC/USDT', timeframe: '5m', resampleTo: ['15m'] },
  { file: 'ETH_USDT-5m.json', symbol: 'ETH/USDT', timeframe: '5m', resampleTo: ['15m'] },
  { file: 'BTC_USDT-1h.json', symbol: 'BTC/USDT', timeframe: '1h', resampleTo: [] },
  { file: 'ETH_USDT-1h.json', symbol: 'ETH/USDT', timeframe: '1h', resampleTo: [] },
  { file: 'BTC_USDT-1m.json', symbol: 'BTC/USDT', timeframe: '1m', resampleTo: [] },
];

/** One line of the summary: dataset, candle count, first and last open time, partition count, note. */
function summarize(out: string, subscription: Subscription, note: string): string {
  const stored = readDataset(out, subscription);
  const n = batchLength(stored);
  const span = `${isoUtc(stored.openTime[0]!)} → ${isoUtc(stored.openTime[n - 1]!)}`;
  return `| ${describeSubscription(subscription)} | ${n} | ${span} | ${listPartitions(out, subscription).length} | ${note} |`;
}

function main(): void {
  const { values } = parseArgs({
    options: { shared: { type: 'string', default: '../shared/data' }, out: { type: 'string', default: 'datasets' } },
  });
  const shared = values.shared;
  const out = values.out;
  const lines = ['| dataset | candles | open times (UTC) | partitions | note |', '|---|---|---|---|---|'];
  for (const source of SOURCES) {
    const subscription: Subscription = { exchange: EXCHANGE, symbol: source.symbol, timeframe: source.timeframe };
    const file = join(shared, source.file);
    // The shipped data must be clean: any rejected row stops the build.
    const imported = importCandles(file, out, subscription, true);
    if (imported.rejected.length > 0) throw new CandleFileError(imported.rejected[0]!.reason);
    lines.push(summarize(out, subscription, `imported from ${source.file}`));
    for (const target of source.resampleTo) {
      const resampled = resampleDataset(out, subscription, target, { incomplete: 'drop', force: true });
      const dropped = resampled.incomplete.length;
      lines.push(summarize(out, resampled.target, `resampled from ${source.timeframe}; ${dropped} incomplete buckets dropped`));
    }
  }
  console.log(lines.join('\n'));
}

try {
  main();
} catch (error) {
  console.error(`build-datasets: ${messageOf(error)}`);
  process.exitCode = 1;
}
