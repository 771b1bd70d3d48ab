/**
 * `npm run backtest -- <strategy file> [options]`: backtests a strategy on its stored candles and prints the report.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { FrameworkError } from '../core/errors';
import path from 'node:path';
import { Command } from 'commander';
import { z } from '../core/zod';
import { createLogger } from '../core/logger';
import { DEFAULT_MAX_GAP } from '../pipeline/gap-policy';
import type { ParamsFileContents } from '../optimize/results';
import { numberArg, paramsArg, parseCommandLine, replayArgs, UsageError, validateOptions, withReplayOptions } from './args';
import {
  brokerArgs,
  brokerFromOptions,
  commonArgs,
  logLevel,
  runCommand,
  withBrokerOptions,
  withCommonOptions,
  withParamOption,
} from './common';
import { startProgress, type Progress } from './progress';

const optionsSchema = z.object({
  ...commonArgs,
  ...brokerArgs,
  ...replayArgs,
  runs: z.string(),
  param: paramsArg,
  maxGap: numberArg({ what: 'candles', integer: true, min: 0 }),
  paramsFile: z.string().optional(),
  check: z.boolean(),
  allowLookahead: z.boolean().optional(),
});

const program = withCommonOptions(
  withParamOption(withBrokerOptions(withReplayOptions(new Command('backtest'))))
    .description('Backtest a strategy on its stored candles (datasets/) and write the run to runs/<run-id>/')
    .argument('<strategy>', 'strategy plugin file, e.g. strategies/macd.ts')
    .option('--runs <dir>', 'where run folders are written', 'runs')
    .option('--params-file <file>', 'parameters (and, unless --from/--to are given, the span) from a file such as npm run optimize\'s best-params.json; "latest": the one it wrote last')
    .option('--no-check', 'skip the sampled lookahead check run after the backtest')
    .option('--allow-lookahead', 'exit 0 even when the lookahead check finds a bias (it is still reported)')
    .option(
      '--max-gap <candles>',
      'refuse to trade across a gap of more missing candles than this (known exchange maintenance gaps excepted)',
      String(DEFAULT_MAX_GAP),
    ),
);

program.action(async (file: string, raw: Record<string, unknown>) => {
  await runCommand(raw['verbose'] === true, async () => {
    const options = validateOptions(optionsSchema, raw);
    const logger = createLogger(logLevel(options));
    const fromFile = options.paramsFile === undefined ? undefined : await readParamsOption(options.paramsFile, options.runs);
    const from = options.from ?? fromFile?.from;
    const to = options.to ?? fromFile?.to;
    // The engine, the check and the report table (the store, Parquet, cli-table3) are loaded only for valid options: a
    // bad value fails without them.
    const [{ runBacktest }, { checkBacktest, formatBacktestCheck }, { formatReport }] = await Promise.all([
      import('../engine/backtest'),
      import('../analysis/backtest-check'),
      import('../report/table'),
    ]);
    const started = performance.now();
    let progress: Progress | null = null;
    const result = await runBacktest({
      onProgress: (done, total) => {
        progress ??= startProgress('backtest', total, options.quiet !== true);
        progress.update(done);
      },
      file,
      params: { ...fromFile?.params, ...options.param },
      datasetsRoot: options.datasets,
      runsRoot: options.runs,
      logger,
      maxGap: options.maxGap,
      ...(from !== undefined && { from }),
      ...(to !== undefined && { to }),
      broker: brokerFromOptions(options),
    });
    (progress as Progress | null)?.stop();
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(`${formatReport(result.summary)}\n`);
    process.stdout.write(
      `${result.summary.candles} candles in ${seconds.toFixed(2)} s; run written to ${path.relative('.', result.dir)}/\n` +
        `report: ${path.relative('.', result.report)}\n`,
    );
    if (!options.check) return;
    const check = await checkBacktest(result);
    const lines = formatBacktestCheck(check, seconds * 1000);
    if (!check.lookahead.biased) {
      process.stdout.write(`${lines.join('\n')}\n`);
      return;
    }
    process.stderr.write(`${lines.join('\n')}\n`);
    if (options.allowLookahead === true) return;
    process.stderr.write('exit 1: pass --allow-lookahead to accept the bias, or --no-check to skip the check\n');
    process.exitCode = 1;
  });
});

/**
 * The parameters (and span) of `--params-file <file | latest>`. The optimizer's results module, which reads the file,
 * is loaded only here (it brings the optimizer's table printer).
 *
 * @throws UsageError for a file that does not exist; FrameworkError for one that does not hold parameters, or `latest`
 *   without one.
 */
async function readParamsOption(option: string, runsRoot: string): Promise<ParamsFileContents> {
  const { BEST_PARAMS_FILE, readParamsFile } = await import('../optimize/results');
  const file = option === 'latest' ? latestBestParams(runsRoot, BEST_PARAMS_FILE) : option;
  if (!existsSync(file)) throw new UsageError(`--params-file "${file}": no such file; expected a parameters file such as npm run optimize's ${BEST_PARAMS_FILE}, or "latest"`);
  return readParamsFile(readFileSync(file, 'utf8'), file);
}

/**
 * `--params-file latest`: the `best-params.json` (`fileName`) that `npm run optimize` wrote last under
 * `runsRoot` (by modification time; its folders are named by a hash of their settings, not by time).
 *
 * @throws FrameworkError when there is none.
 */
function latestBestParams(runsRoot: string, fileName: string): string {
  const files = existsSync(runsRoot)
    ? readdirSync(runsRoot)
        .filter((name) => name.startsWith('optimize-'))
        .map((name) => path.join(runsRoot, name, fileName))
        .filter((file) => existsSync(file))
    : [];
  if (files.length === 0) {
    throw new FrameworkError(`--params-file latest: no ${fileName} in ${runsRoot}/optimize-*/; run npm run optimize first, or name the file`);
  }
  return files.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]!;
}

await parseCommandLine(program);
