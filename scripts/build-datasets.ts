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
 * Each input candle is validated (pipeline rules) and open times must be strictly increasing; a bad file stops the
 * build with an error naming the file and row. Candles are merged into the existing partitions (a candle with the same
 * open time is replaced), so re-running gives byte-identical files. Prints a summary of every dataset built.
 *
 * @module
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { allocateBatch, batchLength, sourceCode } from '../framework/core/candle';
import type { CandleBatch } from '../framework/core/candle';
import { FrameworkError, InvalidCandleError } from '../framework/core/errors';
import { describeSubscription } from '../framework/core/subscription';
import type { Subscription } from '../framework/core/subscription';
import { isoUtc } from '../framework/core/time';
import type { Timeframe } from '../framework/core/timeframe';
import { resampleCandles } from '../framework/pipeline/resample';
import { ohlcvValidator } from '../framework/pipeline/validate';
import { listPartitions } from '../framework/store/layout';
import { readDataset, writeCandles } from '../framework/store/partitions';

const EXCHANGE = 'binance';

/** The source files and what is built from each. */
const SOURCES: readonly { file: string; symbol: string; timeframe: Timeframe; resampleTo: readonly Timeframe[] }[] = [
  { file: 'BTC_USDT-5m.json', symbol: 'BTC/USDT', timeframe: '5m', resampleTo: ['15m'] },
  { file: 'ETH_USDT-5m.json', symbol: 'ETH/USDT', timeframe: '5m', resampleTo: ['15m'] },
  { file: 'BTC_USDT-1h.json', symbol: 'BTC/USDT', timeframe: '1h', resampleTo: [] },
  { file: 'ETH_USDT-1h.json', symbol: 'ETH/USDT', timeframe: '1h', resampleTo: [] },
  { file: 'BTC_USDT-1m.json', symbol: 'BTC/USDT', timeframe: '1m', resampleTo: [] },
];

/**
 * Reads an OHLCV JSON file (`[[open_time_ms, open, high, low, close, volume], ...]`) as imported candles.
 *
 * @throws {@link InvalidCandleError} naming the file and row for a malformed or invalid row, or open times that are
 * not strictly increasing.
 */
function loadOhlcvJson(path: string, timeframe: Timeframe): CandleBatch {
  const rows: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!Array.isArray(rows)) throw new InvalidCandleError(`${path}: expected a JSON array of candles`);
  const check = ohlcvValidator(timeframe);
  const batch = allocateBatch(rows.length);
  batch.receivedAt.fill(Number.NaN);
  batch.source.fill(sourceCode('import'));
  rows.forEach((row: unknown, i) => {
    if (!Array.isArray(row) || row.length !== 6 || !row.every((v) => typeof v === 'number')) {
      throw new InvalidCandleError(`${path}: row ${i} is ${JSON.stringify(row)}, expected [open_time_ms, o, h, l, c, v]`);
    }
    const [t, o, h, l, c, v] = row as [number, number, number, number, number, number];
    const problem = check(t, o, h, l, c, v);
    if (problem !== null) throw new InvalidCandleError(`${path}: row ${i}: ${problem}`);
    if (i > 0 && t <= batch.openTime[i - 1]!) {
      const previous = isoUtc(batch.openTime[i - 1]!);
      throw new InvalidCandleError(`${path}: row ${i} (${isoUtc(t)}) does not follow row ${i - 1} (${previous})`);
    }
    batch.openTime[i] = t;
    batch.open[i] = o;
    batch.high[i] = h;
    batch.low[i] = l;
    batch.close[i] = c;
    batch.volume[i] = v;
  });
  return batch;
}

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
    const candles = loadOhlcvJson(join(shared, source.file), source.timeframe);
    writeCandles(out, subscription, candles);
    lines.push(summarize(out, subscription, `imported from ${source.file}`));
    for (const target of source.resampleTo) {
      const resampled = resampleCandles(candles, source.timeframe, target, { incomplete: 'drop' });
      const derived: Subscription = { ...subscription, timeframe: target };
      writeCandles(out, derived, resampled.candles);
      const dropped = resampled.incomplete.length;
      lines.push(summarize(out, derived, `resampled from ${source.timeframe}; ${dropped} incomplete buckets dropped`));
    }
  }
  console.log(lines.join('\n'));
}

try {
  main();
} catch (error) {
  if (!(error instanceof FrameworkError)) throw error;
  console.error(`build-datasets: ${error.message}`);
  process.exitCode = 1;
}
