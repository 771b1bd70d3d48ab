/**
 * Backtest cases of the benchmark: the in-process throughput of `runBacktest` (Parquet read to report), the same run
 * split by stage, the whole `npm run backtest` command as a child process, and its peak RSS.
 *
 * @module
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { checkBacktest } from '../framework/analysis/backtest-check';
import { brokerConfig } from '../framework/broker/broker-config';
import { PaperBroker } from '../framework/broker/paper-broker';
import { batchLength } from '../framework/core/candle';
import { closeBacktestRun, runBacktest } from '../framework/engine/backtest';
import { Engine } from '../framework/engine/engine';
import { processCandles } from '../framework/pipeline/pipeline';
import { writeHtmlReport } from '../framework/report/html-report';
import { writeRunArtifacts } from '../framework/report/run-writer';
import { datasetDir } from '../framework/store/layout';
import { readDataset } from '../framework/store/partitions';
import type { BaseStrategy } from '../framework/strategy/base-strategy';
import { loadStrategy } from '../framework/strategy/loader';
import { BENCH_ROOT } from './data';

/** Where the bench's backtests write their run folders (deleted after each run). */
export const BENCH_RUNS = join(BENCH_ROOT, 'runs');

/** The strategy of the backtest cases: `strategies/macd.ts` on the bench's 1m candles. */
export const MACD_1M = 'bench/strategies/macd-1m.ts';

/** Candles processed before the per-candle loop rate is timed (the loop's rate is taken over the rest). */
const RATE_FROM = 10_000;

/** Wall-clock ms of each stage of one in-process backtest, in the order they run. */
export interface BacktestStages {
  readonly candles: number;
  readonly signals: number;
  /** `readDataset`: the monthly Parquet partitions decoded into one candle batch (checksums verified). */
  readonly parquetRead: number;
  /** `processCandles`: the candle pipeline (validation, ordering, de-duplication, gaps). */
  readonly pipeline: number;
  /** Loading the strategy module and instance (cached after the first import). */
  readonly strategyLoad: number;
  /** `candleDataFrame`: the danfojs DataFrame `populateIndicators` receives. */
  readonly dataFrameBuild: number;
  /** The strategy's `populateIndicators` (its indicator math and its DataFrame calls). */
  readonly populateIndicators: number;
  /** `extractColumns`: the DataFrame's columns back as Float64Arrays. */
  readonly columnExtraction: number;
  /** The per-candle loop: broker `onCandle`, `onData`, signals to the broker and the journal. */
  readonly loop: number;
  /** Closing the position, the metrics and `run.json`. */
  readonly metrics: number;
  /** `summary.json`, `trades.parquet`, `signals.parquet`, `equity.parquet`. */
  readonly runFiles: number;
  /** `report.html`. */
  readonly html: number;
  /** Everything from the Parquet read to the last report file (strategy load excluded: a module import). */
  readonly total: number;
}

/**
 * One in-process backtest of `file` over the whole bench dataset, composed of the same library calls as `runBacktest`
 * (read, pipeline, engine replay, broker, metrics, run files, HTML report) and timed per stage. The only
 * instrumentation is a timing wrapper around the strategy instance's `populateIndicators` and the replay's progress
 * callback (the loop's rate is measured from candle 10,000 on, where the indicator columns are done).
 */
export async function stagedBacktest(file: string): Promise<BacktestStages> {
  const now = (): number => performance.now();
  const t0 = now();
  const loaded = await loadStrategy(file);
  const strategyLoad = now() - t0;
  const subscription = loaded.subscriptions[0]!;
  const strategy = loaded.strategy;

  const tRead = now();
  const raw = readDataset(BENCH_ROOT, subscription);
  const tPipeline = now();
  const candles = processCandles(raw, subscription.timeframe, { where: datasetDir(BENCH_ROOT, subscription) }).candles;
  const tReplay = now();

  const marks = timePopulate(strategy);
  let tRateFrom = Number.NaN;
  const broker = new PaperBroker(brokerConfig());
  const engine = new Engine({ strategy, broker, file, subscription });
  const indicators = await engine.replay(candles, {
    onProgress: (done) => {
      if (done === RATE_FROM) tRateFrom = now();
    },
  });
  const tLoopEnd = now();
  delete (strategy as Partial<BaseStrategy>).populateIndicators;
  const n = batchLength(candles);
  const loop = ((tLoopEnd - tRateFrom) / (n - RATE_FROM)) * n;

  const { dir, summary } = closeBacktestRun({
    file,
    strategy,
    subscription,
    candles,
    engine,
    broker,
    runsRoot: BENCH_RUNS,
    origin: { firstCandle: candles.openTime[0]!, datasetsRoot: BENCH_ROOT, store: null },
    startedAt: Date.now(),
  });
  const tRunFiles = now();
  await writeRunArtifacts(dir, { summary, trades: broker.trades, signals: engine.journal, equity: broker.equityCurve });
  const tHtml = now();
  writeHtmlReport(dir, { summary, candles, indicators, trades: broker.trades, signals: engine.journal.outcomes(), equity: broker.equityCurve });
  const tEnd = now();
  rmSync(dir, { recursive: true, force: true });
  return {
    candles: n,
    signals: engine.journal.length,
    parquetRead: tPipeline - tRead,
    pipeline: tReplay - tPipeline,
    strategyLoad,
    dataFrameBuild: marks.start - tReplay,
    populateIndicators: marks.end - marks.start,
    columnExtraction: tLoopEnd - marks.end - loop,
    loop,
    metrics: tRunFiles - tLoopEnd,
    runFiles: tHtml - tRunFiles,
    html: tEnd - tHtml,
    total: tEnd - tRead,
  };
}

/** Wraps the instance's `populateIndicators` to record when it starts and ends (awaiting a returned promise). */
function timePopulate(strategy: BaseStrategy): { start: number; end: number } {
  const marks = { start: Number.NaN, end: Number.NaN };
  const original = strategy.populateIndicators;
  Object.defineProperty(strategy, 'populateIndicators', {
    configurable: true,
    writable: true,
    value: async (df: Parameters<BaseStrategy['populateIndicators']>[0]) => {
      marks.start = performance.now();
      const out = await original.call(strategy, df);
      marks.end = performance.now();
      return out;
    },
  });
  return marks;
}

/** One `runBacktest` call (the library function behind `npm run backtest`), timed as a whole. */
export interface WholeRun {
  readonly candles: number;
  /** ms from the call to its return: strategy load, Parquet read, pipeline, replay, metrics, every run file. */
  readonly total: number;
  /** ms from the end of the per-candle loop to the return: closing, metrics and every run file (the report stage). */
  readonly report: number;
  /** Peak RSS of this process so far, MB (`process.resourceUsage().maxRSS`). */
  readonly maxRssMb: number;
}

/** Times `runBacktest` of `file` on the bench dataset (the run folder is deleted afterwards). */
export async function inProcessBacktest(file: string): Promise<WholeRun> {
  let loopEnd = Number.NaN;
  let candles = 0;
  const t0 = performance.now();
  const result = await runBacktest({
    file,
    datasetsRoot: BENCH_ROOT,
    runsRoot: BENCH_RUNS,
    onProgress: (done, total) => {
      if (done === total) {
        loopEnd = performance.now();
        candles = total;
      }
    },
  });
  const t1 = performance.now();
  rmSync(result.dir, { recursive: true, force: true });
  return { candles, total: t1 - t0, report: t1 - loopEnd, maxRssMb: process.resourceUsage().maxRSS / 1024 };
}

/** One backtest followed by the lookahead check `npm run backtest` runs by itself: ms of each, and the check's cuts. */
export interface CheckedRun {
  readonly candles: number;
  readonly backtestMs: number;
  readonly checkMs: number;
  readonly cuts: number;
  readonly biased: boolean;
}

/** `runBacktest` of `file` over the bench dataset, then `checkBacktest` on it, each timed (run folder deleted). */
export async function checkedBacktest(file: string): Promise<CheckedRun> {
  const t0 = performance.now();
  const result = await runBacktest({ file, datasetsRoot: BENCH_ROOT, runsRoot: BENCH_RUNS });
  const backtestMs = performance.now() - t0;
  const check = await checkBacktest(result);
  rmSync(result.dir, { recursive: true, force: true });
  return {
    candles: batchLength(result.candles),
    backtestMs,
    checkMs: check.ms,
    cuts: check.lookahead.cuts.length,
    biased: check.lookahead.biased,
  };
}

/** One `npm run backtest` child process: wall-clock ms and peak RSS (MB, null when it cannot be measured). */
export interface CommandRun {
  readonly wallMs: number;
  readonly maxRssMb: number | null;
}

/** Whether GNU time is there to report the peak RSS of a child process. */
const GNU_TIME = '/usr/bin/time';

/**
 * Runs `npm run backtest -- <file> --datasets bench/data --runs bench/data/runs --quiet` as a child process and
 * times it from spawn to exit (npm and the command's start-up included: what a researcher waits for). Under GNU time (`-v`)
 * when available, whose "Maximum resident set size" is the peak RSS of the largest process of the command (the
 * node process running the backtest).
 *
 * @throws Error when the command fails.
 */
export function backtestCommand(file: string): CommandRun {
  mkdirSync(BENCH_RUNS, { recursive: true });
  const before = new Set(readdirSync(BENCH_RUNS));
  const npmArgs = ['run', '--silent', 'backtest', '--', file, '--datasets', BENCH_ROOT, '--runs', BENCH_RUNS, '--quiet'];
  const useTime = existsSync(GNU_TIME);
  const t0 = performance.now();
  const child = useTime
    ? spawnSync(GNU_TIME, ['-v', 'npm', ...npmArgs], { encoding: 'utf8', maxBuffer: 64 << 20 })
    : spawnSync('npm', npmArgs, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const wallMs = performance.now() - t0;
  for (const name of readdirSync(BENCH_RUNS)) if (!before.has(name)) rmSync(join(BENCH_RUNS, name), { recursive: true, force: true });
  if (child.status !== 0) {
    throw new Error(`npm ${npmArgs.join(' ')} failed (exit ${child.status}): ${child.stderr.slice(-2000)}`);
  }
  const rss = useTime ? /Maximum resident set size \(kbytes\): (\d+)/.exec(child.stderr) : null;
  return { wallMs, maxRssMb: rss === null ? null : Number(rss[1]) / 1024 };
}
