/**
 * `npm run data -- <command>`: looks after the stored datasets.
 *
 * ```text
 * npm run data -- list [--datasets datasets]                       # every dataset: span, candles, gaps
 * npm run data -- verify binance/BTC_USDT/5m [--allow-gaps]         # continuity report; exit code 1 when not OK
 * npm run data -- verify binance BTC/USDT 5m                        # the same dataset, named the other way
 * npm run data -- resample binance/BTC_USDT/5m 15m [--incomplete drop|keep] [--out <dir>] [--force]
 * npm run data -- import BTC_USDT-5m.json --exchange binance        # freqtrade JSON; symbol and timeframe from the name
 * npm run data -- import BTCUSDT-5m-2021-03.csv --exchange binance --symbol BTC/USDT --timeframe 5m
 * ```
 *
 * `verify` accepts the gaps listed in `<datasets>/<exchange>/known-gaps.json` (exchange outages); `--allow-gaps`
 * accepts every gap.
 *
 * Results go to standard output; logs to standard error.
 *
 * @module
 */
import path from 'node:path';
import { Command, Option } from 'commander';
import { z } from '../core/zod';
import { FrameworkError, InvalidTimeframeError } from '../core/errors';
import { createLogger } from '../core/logger';
import { describeSubscription, type Subscription } from '../core/subscription';
import { isoUtc } from '../core/time';
import type { IncompletePolicy } from '../pipeline/resample';
import { datasetDir, folderToSymbol, InvalidSubscriptionError } from '../store/layout';
import { choiceArg, parseCommandLine, validateOptions } from './args';
import { commonArgs, logLevel, runCommand, withCommonOptions, type CommonOptions } from './common';

interface DataCliOptions extends CommonOptions {
  readonly datasets: string;
}

const verifySchema = z.object({ ...commonArgs, datasets: z.string(), allowGaps: z.boolean().optional() });

const resampleSchema = z.object({
  ...commonArgs,
  datasets: z.string(),
  out: z.string().optional(),
  incomplete: choiceArg<IncompletePolicy>(['drop', 'keep']),
  force: z.boolean().optional(),
});

const importSchema = z.object({
  ...commonArgs,
  datasets: z.string(),
  exchange: z.string(),
  symbol: z.string().optional(),
  timeframe: z.string().optional(),
  force: z.boolean().optional(),
});

/** How many incomplete buckets `resample` lists before summarising the rest. */
const LISTED_BUCKETS = 20;

/**
 * A dataset named on the command line, either as one path-like argument (`binance/BTC_USDT/5m`) or as three
 * (`binance BTC/USDT 5m`); returns it and the arguments after it.
 *
 * @throws {@link InvalidSubscriptionError} when the arguments name no dataset.
 */
function parseDataset(args: readonly string[]): { readonly subscription: Subscription; readonly rest: string[] } {
  const [head, ...tail] = args;
  if (head !== undefined && head.includes('/')) {
    const [exchange, folder, timeframe, ...extra] = head.split('/');
    const symbol = folder === undefined ? undefined : folderToSymbol(folder);
    if (exchange !== undefined && symbol !== undefined && timeframe !== undefined && extra.length === 0) {
      return { subscription: { exchange, symbol, timeframe }, rest: tail };
    }
  } else if (head !== undefined && tail.length >= 2) {
    return { subscription: { exchange: head, symbol: tail[0]!, timeframe: tail[1]! }, rest: tail.slice(2) };
  }
  throw new InvalidSubscriptionError(
    `"${args.join(' ')}": name a dataset as <exchange>/<BASE>_<QUOTE>/<timeframe> (binance/BTC_USDT/5m) ` +
      'or <exchange> <symbol> <timeframe> (binance BTC/USDT 5m)',
  );
}

/** UTC open time to the minute, e.g. `2021-01-01 00:00`. */
function minuteUtc(ms: number | null): string {
  return ms === null ? '-' : isoUtc(ms).slice(0, 16).replace('T', ' ');
}

// Each subcommand loads what it reads and writes with (the store, Parquet, the pipeline, the table printer) itself, once
// its options are valid: a bad value fails without them, and `list` does not load what `import` needs.

async function list(options: DataCliOptions): Promise<void> {
  const [{ summarizeDatasets }, { default: Table }] = await Promise.all([import('../data/summary'), import('cli-table3')]);
  const summaries = summarizeDatasets(options.datasets);
  if (summaries.length === 0) {
    process.stdout.write(`no datasets under ${options.datasets}\n`);
    return;
  }
  const table = new Table({
    head: ['dataset', 'candles', 'first open time (UTC)', 'last open time (UTC)', 'gaps', 'missing candles'],
    colAligns: ['left', 'right', 'left', 'left', 'right', 'right'],
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    style: { head: [], border: [] },
  });
  for (const s of summaries) {
    table.push([describeSubscription(s.subscription), s.candles, minuteUtc(s.first), minuteUtc(s.last), s.gaps, s.missing]);
  }
  process.stdout.write(`${table.toString()}\n`);
}

async function verify(args: readonly string[], options: z.output<typeof verifySchema>): Promise<void> {
  const { subscription, rest } = parseDataset(args);
  if (rest.length > 0) throw new InvalidSubscriptionError(`verify: unexpected argument(s) after the dataset: ${rest.join(' ')}`);
  const [{ formatContinuityReport, verifyCandles }, { readKnownGaps }, { readDataset }] = await Promise.all([
    import('../pipeline/verify'),
    import('../store/known-gaps'),
    import('../store/partitions'),
  ]);
  const where = datasetDir(options.datasets, subscription);
  const report = verifyCandles(readDataset(options.datasets, subscription), subscription.timeframe, where, {
    known: readKnownGaps(options.datasets, subscription.exchange),
    allowGaps: options.allowGaps === true,
  });
  process.stdout.write(`${formatContinuityReport(report, describeSubscription(subscription))}\n`);
  if (!report.ok) process.exitCode = 1;
}

async function resample(args: readonly string[], options: z.output<typeof resampleSchema>): Promise<void> {
  const { subscription, rest } = parseDataset(args);
  const [timeframe, ...extra] = rest;
  if (timeframe === undefined || extra.length > 0) {
    throw new InvalidTimeframeError(`resample: expected the dataset then one target timeframe, got "${args.join(' ')}"`);
  }
  const logger = createLogger(logLevel(options));
  const { resampleDataset } = await import('../data/resample-dataset');
  const result = resampleDataset(options.datasets, subscription, timeframe, {
    incomplete: options.incomplete,
    force: options.force === true,
    logger,
    ...(options.out !== undefined && { out: options.out }),
  });
  const kept = result.policy === 'keep';
  const lines = [
    `${describeSubscription(result.target)}: ${result.candles} candles written (${minuteUtc(result.first)} to ` +
      `${minuteUtc(result.last)} UTC) from ${describeSubscription(result.source)}`,
    `incomplete buckets ${kept ? 'kept' : 'dropped'}: ${result.incomplete.length}`,
    ...result.incomplete.slice(0, LISTED_BUCKETS).map((t) => `  - ${isoUtc(t)}`),
  ];
  if (result.incomplete.length > LISTED_BUCKETS) lines.push(`  - … and ${result.incomplete.length - LISTED_BUCKETS} more`);
  if (result.rejected > 0) lines.push(`invalid source candles left out: ${result.rejected} (logged)`);
  lines.push(`dataset: ${path.relative('.', result.dir) || '.'}/`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function importFile(file: string, options: z.output<typeof importSchema>): Promise<void> {
  const { importCandles, marketFromFileName } = await import('../data/import-candles');
  const named = marketFromFileName(file);
  const symbol = options.symbol ?? named?.symbol;
  const timeframe = options.timeframe ?? named?.timeframe;
  if (symbol === undefined || timeframe === undefined) {
    throw new FrameworkError(
      `${file}: name the market with --symbol BTC/USDT --timeframe 5m (only a freqtrade file name such as BTC_USDT-5m.json says it)`,
    );
  }
  const result = importCandles(file, options.datasets, { exchange: options.exchange, symbol, timeframe }, options.force === true);
  const missing = result.gaps.reduce((sum, g) => sum + g.missing, 0);
  const lines = [
    `${describeSubscription(result.subscription)}: ${result.stored} candles imported (${minuteUtc(result.first)} to ` +
      `${minuteUtc(result.last)} UTC) from ${file}: ${result.rows} rows, ${result.rejected.length} rejected, ` +
      `${result.duplicates} duplicates dropped, ${result.gaps.length} gaps (${missing} missing candles)`,
    ...result.rejected.slice(0, LISTED_BUCKETS).map((r) => `  rejected: ${r.reason}`),
    `dataset: ${path.relative('.', result.dir) || '.'}/`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Adds `--datasets` and the common options to a subcommand. */
function withDatasets(command: Command): Command {
  return withCommonOptions(command.option('--datasets <dir>', 'candle store root', 'datasets'));
}

const program = new Command('data').description('List, verify, resample and import the stored datasets');

withDatasets(program.command('list').description('List every dataset: span, candles, gaps')).action(
  (options: DataCliOptions) => runCommand(options.verbose === true, () => list(options)),
);

withDatasets(
  program
    .command('verify')
    .description('Check a dataset for duplicates, disorder, invalid candles and gaps; exit code 1 when not OK')
    .argument('<dataset...>', 'binance/BTC_USDT/5m, or binance BTC/USDT 5m')
    .option('--allow-gaps', 'accept every gap (by default only the exchange outages listed in <datasets>/<exchange>/known-gaps.json)'),
).action((args: string[], raw: Record<string, unknown>) =>
  runCommand(raw['verbose'] === true, async () => verify(args, validateOptions(verifySchema, raw))),
);

withDatasets(
  program
    .command('resample')
    .description('Aggregate a dataset into a coarser timeframe, written next to it')
    .argument('<dataset-and-timeframe...>', 'binance/BTC_USDT/5m 15m, or binance BTC/USDT 5m 15m')
    .option('--incomplete <policy>', 'buckets missing candles: drop them, or keep them aggregated from what is there (drop, keep)', 'drop')
    .option('--out <dir>', 'candle store root to write the resampled dataset to (default: --datasets)')
    .option('--force', 'write into the target dataset even if it exists (replacing candles at the same open times)'),
).action((args: string[], raw: Record<string, unknown>) =>
  runCommand(raw['verbose'] === true, async () => resample(args, validateOptions(resampleSchema, raw))),
);

withDatasets(
  program
    .command('import')
    .description('Import a CSV or JSON candle file (freqtrade JSON, Binance kline CSV, or CSV with a header) into the store')
    .argument('<file>', 'e.g. BTC_USDT-5m.json (freqtrade), BTCUSDT-5m-2021-03.csv (Binance), candles.csv (open_time,open,high,low,close,volume)')
    .addOption(new Option('--exchange <id>', 'the exchange the candles are from, e.g. binance').makeOptionMandatory())
    .option('--symbol <symbol>', 'unified symbol, e.g. BTC/USDT (default: from a freqtrade file name)')
    .option('--timeframe <timeframe>', 'e.g. 5m (default: from a freqtrade file name)')
    .option('--force', 'merge into a dataset that already exists (replacing candles at the same open times)'),
).action((file: string, raw: Record<string, unknown>) =>
  runCommand(raw['verbose'] === true, async () => importFile(file, validateOptions(importSchema, raw))),
);

await parseCommandLine(program);
