/**
 * The benchmark's inputs, generated on first use under `bench/data/` (git-ignored, never committed) in the project's
 * Parquet layout (`<root>/<exchange>/<BASE>_<QUOTE>/<timeframe>/<YYYY-MM>.parquet`).
 *
 * ## Derivation (deterministic: the same shipped candles always give the same bench candles)
 *
 * A long series is made from the real Binance candles in `datasets/` by chaining copies of them, alternately forward
 * and time-reversed ("ping-pong" tiling):
 *
 * - copy 0, 2, 4, …: the real candles in order, unchanged;
 * - copy 1, 3, 5, …: the real candles in reverse order, each with open and close swapped (high, low and volume kept).
 *
 * A forward copy ends at the last real close and the reversed copy after it opens at that same price; the reversed copy
 * ends at the first real open, where the next forward copy opens. So the series is continuous (each open equals the
 * previous close as far as the real data's own opens do), every candle is a real candle's range and volume, prices
 * never leave the real data's range (no drift from compounding returns), and OHLC stays consistent. Open times are
 * re-labelled onto a gap-free grid from {@link BENCH_START}; the real data's maintenance gaps disappear.
 *
 * | dataset | source | candles |
 * |---|---|---|
 * | `binance/BTC_USDT/1m` | `datasets/binance/BTC_USDT/1m` (42,915 real 1m candles, 2021-04-20 → 2021-05-20) | 1,000,000 |
 * | `binance/BTC_USDT/15m` | `datasets/binance/BTC_USDT/15m` (the real 15m candles, 2020-12 → 2021-07) | 110,000 |
 *
 * The 15m dataset gives `strategies/macd.ts` (which trades BTC/USDT 15m) 100,000 candles of history plus live candles
 * for the simulator to play.
 *
 * @module
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allocateBatch, batchLength, sourceCode, type CandleBatch } from '../framework/core/candle';
import type { Subscription } from '../framework/core/subscription';
import { timeframeToMs, type Timeframe } from '../framework/core/timeframe';
import { datasetDir } from '../framework/store/layout';
import { readDataset, writeCandles } from '../framework/store/partitions';

/** Where the bench datasets live (the `--datasets` root of the bench's backtests and live runs). */
export const BENCH_ROOT = 'bench/data';

/** Open time of the first bench candle: 2019-01-01 00:00 UTC. */
export const BENCH_START = Date.UTC(2019, 0, 1);

/** The 1,000,000-candle 1m dataset of the backtest cases. */
export const BENCH_1M: Subscription = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' };
/** Candles in {@link BENCH_1M}. */
export const BENCH_1M_CANDLES = 1_000_000;

/** The 15m dataset of the live latency case (`strategies/macd.ts`). */
export const BENCH_15M: Subscription = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' };
/** Candles in {@link BENCH_15M}: 100,000 of history and 10,000 to play live. */
export const BENCH_15M_CANDLES = 110_000;

/** Bumped whenever the derivation changes, so that stale generated data is rebuilt. */
const DERIVATION_VERSION = 1;
const MANIFEST = 'bench-manifest.json';

/**
 * The ping-pong tiling of `source` (see the module comment) to `count` candles with open times `start + k × timeframe`.
 * Source `import`, `receivedAt` unknown (NaN).
 */
export function pingPong(source: CandleBatch, count: number, start: number, timeframe: Timeframe): CandleBatch {
  const n = batchLength(source);
  if (n === 0) throw new Error('pingPong: the source has no candles');
  const tf = timeframeToMs(timeframe);
  const out = allocateBatch(count);
  const imported = sourceCode('import');
  for (let k = 0; k < count; k++) {
    const copy = Math.floor(k / n);
    const j = k - copy * n;
    const forward = copy % 2 === 0;
    const src = forward ? j : n - 1 - j;
    out.openTime[k] = start + k * tf;
    out.open[k] = forward ? source.open[src]! : source.close[src]!;
    out.close[k] = forward ? source.close[src]! : source.open[src]!;
    out.high[k] = source.high[src]!;
    out.low[k] = source.low[src]!;
    out.volume[k] = source.volume[src]!;
    out.receivedAt[k] = Number.NaN;
    out.source[k] = imported;
  }
  return out;
}

/**
 * Makes sure the bench datasets exist under {@link BENCH_ROOT}, generating the missing (or outdated) ones from the
 * shipped `datasets/`.
 *
 * @returns the datasets generated now (empty when all were there).
 */
export function ensureBenchData(log: (line: string) => void): string[] {
  const made: string[] = [];
  for (const [subscription, count] of [
    [BENCH_1M, BENCH_1M_CANDLES],
    [BENCH_15M, BENCH_15M_CANDLES],
  ] as const) {
    const dir = datasetDir(BENCH_ROOT, subscription);
    const manifest = { version: DERIVATION_VERSION, source: datasetDir('datasets', subscription), candles: count, start: BENCH_START };
    const path = join(dir, MANIFEST);
    if (existsSync(path) && readFileSync(path, 'utf8') === JSON.stringify(manifest)) continue;
    const started = performance.now();
    rmSync(dir, { recursive: true, force: true });
    const source = readDataset('datasets', subscription);
    writeCandles(BENCH_ROOT, subscription, pingPong(source, count, BENCH_START, subscription.timeframe));
    writeFileSync(path, JSON.stringify(manifest));
    log(`generated ${dir}: ${count.toLocaleString('en-US')} candles from ${batchLength(source).toLocaleString('en-US')} real ones in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    made.push(dir);
  }
  return made;
}
