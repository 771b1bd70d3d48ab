/**
 * `npm run backtest -- <strategy file> [options]`: backtests a strategy on its stored candles and prints the report.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { checkBacktest, formatBacktestCheck } from '../analysis/backtest-check';
import { createLogger } from '../core/logger';
import { runBacktest } from '../engine/backtest';
import { readParamsFile } from '../optimize/results';
import { formatReport } from '../report/table';
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

interface BacktestCliOptions extends CommonOptions, BrokerCliOptions {
  readonly from?: number;
  readonly to?: number;
  readonly datasets: string;
  readonly runs: string;
  readonly param: Record<string, string>;
  readonly paramsFile?: string;
  readonly check: boolean;
  readonly allowLookahead?: boolean;
}

const program = withCommonOptions(
  withBrokerOptions(new Command('backtest'))
    .description('Backtest a strategy on its stored candles (datasets/) and write the run to runs/<run-id>/')
    .argument('<strategy>', 'strategy plugin file, e.g. strategies/macd.ts')
    .option('--from <time>', 'first candle open time, ISO 8601 (UTC unless zoned) or epoch ms', parseTime)
    .option('--to <time>', 'stop before this open time', parseTime)
    .option('--datasets <dir>', 'candle store root', 'datasets')
    .option('--runs <dir>', 'where run folders are written', 'runs')
    .option('--param <name=value>', 'override a strategy parameter (repeatable)', collectParam, {})
    .option('--params-file <file>', 'parameters (and, unless --from/--to are given, the span) from a file such as npm run optimize\'s best-params.json')
    .option('--no-check', 'skip the sampled lookahead check run after the backtest')
    .option('--allow-lookahead', 'exit 0 even when the lookahead check finds a bias (it is still reported)'),
);

program.action(async (file: string, options: BacktestCliOptions) => {
  await runCommand(options.verbose === true, async () => {
    const logger = createLogger(logLevel(options));
    const fromFile = options.paramsFile === undefined ? undefined : readParamsFile(readFileSync(options.paramsFile, 'utf8'), options.paramsFile);
    const from = options.from ?? fromFile?.from;
    const to = options.to ?? fromFile?.to;
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

await program.parseAsync();
