/**
 * `npm run optimize -- <strategy file> [options]`: a walk-forward parameter search over the strategy's stored candles.
 *
 * @module
 */
import path from 'node:path';
import { Command, Option } from 'commander';
import { availableParallelism } from 'node:os';
import { createLogger } from '../core/logger';
import { OBJECTIVES, parseObjective, type ObjectiveName } from '../optimize/objective';
import { optimize } from '../optimize/optimize';
import { formatWindows, writeBestParams } from '../optimize/results';
import { writeResultsPage } from '../optimize/results-page';
import { SAMPLERS, type SamplerName } from '../optimize/samplers';
import {
  brokerFromOptions,
  collectParam,
  logLevel,
  parseTime,
  runCommand,
  withBrokerOptions,
  withCommonOptions,
  type BrokerCliOptions,
  type CommonOptions,
} from './common';
import { startProgress, type Progress } from './progress';

interface OptimizeCliOptions extends CommonOptions, BrokerCliOptions {
  readonly from?: number;
  readonly to?: number;
  readonly datasets: string;
  readonly runs: string;
  readonly space: Record<string, string>;
  readonly objective: ObjectiveName;
  readonly minTrades: number;
  readonly sampler: SamplerName;
  readonly trials: number;
  readonly windows: number;
  readonly anchored?: boolean;
  readonly seed: number;
  readonly threads: number;
  readonly bus?: string;
}

const program = withCommonOptions(
  withBrokerOptions(new Command('optimize'))
    .description('Search a strategy\'s parameters with walk-forward validation; trials go to runs/optimize-<id>/ (the same command resumes)')
    .argument('<strategy>', 'strategy plugin file, e.g. strategies/macd.ts')
    .option('--from <time>', 'first candle open time, ISO 8601 (UTC unless zoned) or epoch ms', parseTime)
    .option('--to <time>', 'stop before this open time', parseTime)
    .option('--datasets <dir>', 'candle store root', 'datasets')
    .option('--runs <dir>', 'where optimize-<id>/ is written', 'runs')
    .option('--space <name=range>', 'override a parameter\'s range: fast=5..20, slow=10..60:2, signal=5,9,12 (repeatable)', collectParam, {})
    .addOption(new Option('--objective <name>', 'what to maximise').choices(OBJECTIVES).default('sharpe').argParser(parseObjective))
    .option('--min-trades <n>', 'constraint: at least n closed trades', wholeNumber, 0)
    .addOption(new Option('--sampler <name>', 'how trials are proposed').choices(SAMPLERS).default('tpe'))
    .option('--trials <n>', 'trials per walk-forward window', wholeNumber, 100)
    .option('--windows <n>', 'walk-forward windows (the range is cut into n + 1 spans)', wholeNumber, 4)
    .option('--anchored', 'in-sample spans all start at the first candle (default: rolling)')
    .option('--seed <n>', 'sampler seed: the same seed gives the same trials', wholeNumber, 1)
    .option('--threads <n>', 'worker threads', wholeNumber, availableParallelism())
    .option('--bus <url>', 'run the trials on npm run optimize-worker processes over RabbitMQ, e.g. amqp://guest:guest@127.0.0.1:5672'),
);

function wholeNumber(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`"${text}" is not a whole number`);
  return value;
}

program.action(async (file: string, options: OptimizeCliOptions) => {
  await runCommand(options.verbose === true, async () => {
    const logger = createLogger(logLevel(options));
    const started = performance.now();
    const stop = new AbortController();
    const interrupt = () => {
      process.stderr.write('\nstopping after the trials in flight; run the same command to resume\n');
      stop.abort();
    };
    process.once('SIGINT', interrupt);
    let progress: Progress | null = null;
    const result = await optimize({
      file,
      datasetsRoot: options.datasets,
      runsRoot: options.runs,
      broker: brokerFromOptions(options),
      space: options.space,
      objective: options.objective,
      minTrades: options.minTrades,
      sampler: options.sampler,
      trials: options.trials,
      windows: options.windows,
      anchored: options.anchored === true,
      seed: options.seed,
      threads: Math.max(1, options.threads),
      signal: stop.signal,
      ...(options.bus !== undefined && { bus: options.bus }),
      logger,
      ...(options.from !== undefined && { from: options.from }),
      ...(options.to !== undefined && { to: options.to }),
      onProgress: (done, total) => {
        progress ??= startProgress('optimize', total, options.quiet !== true);
        progress.update(done);
      },
    });
    (progress as Progress | null)?.stop();
    process.off('SIGINT', interrupt);
    const seconds = (performance.now() - started) / 1000;
    const dir = path.relative('.', result.dir);
    if (!result.complete) {
      process.stdout.write(`interrupted: ${result.rows.length} trials recorded in ${dir}/; run the same command to resume\n`);
      process.exitCode = 130;
      return;
    }
    const best = writeBestParams(result);
    const page = writeResultsPage(result);
    process.stdout.write(`${formatWindows(result)}\n`);
    process.stdout.write(
      `${result.rows.length} trials (${result.ran} run now) in ${seconds.toFixed(2)} s; written to ${dir}/\n` +
        `report: ${path.relative('.', page)}\n` +
        (best === null ? 'no trial met the constraints: no best-params.json\n' : `best parameters: ${path.relative('.', best)} (npm run backtest -- ${file} --params-file ${path.relative('.', best)})\n`),
    );
  });
});

await program.parseAsync();
