/**
 * `npm run optimize -- <strategy file> [options]`: a walk-forward parameter search over the strategy's stored candles.
 *
 * @module
 */
import path from 'node:path';
import { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { z } from '../core/zod';
import { createLogger } from '../core/logger';
import { OBJECTIVES, type ObjectiveName } from '../optimize/objective';
import { SAMPLERS } from '../optimize/samplers';
import { choiceArg, collectRepeated, namedValuesArg, numberArg, parseCommandLine, replayArgs, validateOptions, withReplayOptions } from './args';
import { brokerArgs, brokerFromOptions, commonArgs, logLevel, runCommand, withBrokerOptions, withCommonOptions } from './common';
import { startProgress, type Progress } from './progress';

/** Repeated `--space name=range` → a record of range texts (the strategy's space parses them). */
const spaceArg = namedValuesArg('expected name=range, e.g. --space fast=5..20');

const wholeNumber = (what: string, min: number) => numberArg({ what, integer: true, min });

const optionsSchema = z.object({
  ...commonArgs,
  ...brokerArgs,
  ...replayArgs,
  runs: z.string(),
  space: spaceArg,
  // `total-return` is accepted for `total_return`.
  objective: z.string().transform((text) => text.replace(/-/g, '_')).pipe(choiceArg(OBJECTIVES)) as z.ZodType<ObjectiveName, string>,
  minTrades: wholeNumber('closed trades', 0),
  sampler: choiceArg(SAMPLERS),
  trials: wholeNumber('trials per window', 1),
  windows: wholeNumber('walk-forward windows', 1),
  anchored: z.boolean().optional(),
  seed: wholeNumber('seed', 0),
  threads: wholeNumber('worker threads', 1),
  bus: z.string().regex(/^amqps?:\/\//, 'expected an amqp:// URL').optional(),
});

const program = withCommonOptions(
  withBrokerOptions(withReplayOptions(new Command('optimize')))
    .description('Search a strategy\'s parameters with walk-forward validation; trials go to runs/optimize-<id>/ (the same command resumes)')
    .argument('<strategy>', 'strategy plugin file, e.g. strategies/macd.ts')
    .option('--runs <dir>', 'where optimize-<id>/ is written', 'runs')
    .option('--space <name=range>', 'override a parameter\'s range: fast=5..20, slow=10..60:2, signal=5,9,12 (repeatable)', collectRepeated, [])
    .option('--objective <name>', `what to maximise: ${OBJECTIVES.join(', ')}`, 'sharpe')
    .option('--min-trades <n>', 'constraint: at least n closed trades', '0')
    .option('--sampler <name>', `how trials are proposed: ${SAMPLERS.join(', ')}`, 'tpe')
    .option('--trials <n>', 'trials per walk-forward window', '100')
    .option('--windows <n>', 'walk-forward windows (the range is cut into n + 1 spans)', '4')
    .option('--anchored', 'in-sample spans all start at the first candle (default: rolling)')
    .option('--seed <n>', 'sampler seed: the same seed gives the same trials', '1')
    .option('--threads <n>', 'worker threads', String(availableParallelism()))
    .option('--bus <url>', 'run the trials on npm run optimize-worker processes over RabbitMQ, e.g. amqp://guest:guest@127.0.0.1:5672'),
);

program.action(async (file: string, raw: Record<string, unknown>) => {
  await runCommand(raw['verbose'] === true, async () => {
    const options = validateOptions(optionsSchema, raw);
    const logger = createLogger(logLevel(options));
    // The search (the worker pool, the store, the engine) and its results page are loaded only for valid options: a bad
    // value fails without them.
    const [{ optimize }, { formatWindows, writeBestParams }, { writeResultsPage }] = await Promise.all([
      import('../optimize/optimize'),
      import('../optimize/results'),
      import('../optimize/results-page'),
    ]);
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

await parseCommandLine(program);
