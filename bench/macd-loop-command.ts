/**
 * The hand-written MACD loop as a command, the baseline of `npm run backtest`'s time: reads the bench's 1M 1m candles
 * through the same Parquet reader and candle pipeline (`replayCandles`), runs {@link macdLoop} and prints its result.
 * `node bin/run.mjs bench/macd-loop-command.ts` (as the npm scripts run the commands).
 *
 * @module
 */
import { replayCandles } from '../framework/feeds/replay';
import { BENCH_1M, BENCH_ROOT } from './data';
import { macdLoop } from './macd-loop';

const run = macdLoop(replayCandles(BENCH_ROOT, BENCH_1M));
process.stdout.write(`${JSON.stringify(run)}\n`);
