/**
 * `npm run backtest -- <strategy file> [options]`: backtests a strategy on its stored candles and prints the report.
 *
 * @module
 */
import path from 'node:path';
import { Command } from 'commander';
import { createLogger } from '../core/logger';
import { runBacktest } from '../engine/backtest';
import { formatReport } from '../report/table';
import { collectParam, logLevel, parseTime, runCommand, withCommonOptions, type CommonOptions } from './common';

interface BacktestCliOptions extends CommonOptions {
  readonly from?: number;
  readonly to?: number;
  readonly datasets: string;
  readonly runs: string;
  readonly cash?: number;
  readonly fee?: number;
  readonly slippageBps?: number;
  readonly stake?: number;
  readonly stakeQuote?: number;
  readonly param: Record<string, string>;
}

const program = withCommonOptions(
  new Command('backtest')
    .description('Backtest a strategy on its stored candles (datasets/) and write the run to runs/<run-id>/')
    .argument('<strategy>', 'strategy plugin file, e.g. strategies/macd.ts')
    .option('--from <time>', 'first candle open time, ISO 8601 (UTC unless zoned) or epoch ms', parseTime)
    .option('--to <time>', 'stop before this open time', parseTime)
    .option('--datasets <dir>', 'candle store root', 'datasets')
    .option('--runs <dir>', 'where run folders are written', 'runs')
    .option('--cash <quote>', 'initial cash in quote currency (default 10000)', Number)
    .option('--fee <fraction>', 'taker fee per fill as a fraction (default 0.001 = 0.1%)', Number)
    .option('--slippage-bps <bps>', 'adverse slippage on market fills, basis points (default 0)', Number)
    .option('--stake <fraction>', 'position size as a fraction of equity (default 1)', Number)
    .option('--stake-quote <quote>', 'position size as a fixed quote amount instead', Number)
    .option('--param <name=value>', 'override a strategy parameter (repeatable)', collectParam, {}),
);

program.action(async (file: string, options: BacktestCliOptions) => {
  await runCommand(options.verbose === true, async () => {
    const logger = createLogger(logLevel(options));
    const stake =
      options.stakeQuote !== undefined
        ? { quote: options.stakeQuote }
        : options.stake !== undefined
          ? { fraction: options.stake }
          : undefined;
    const started = performance.now();
    const result = await runBacktest({
      file,
      params: options.param,
      datasetsRoot: options.datasets,
      runsRoot: options.runs,
      logger,
      ...(options.from !== undefined && { from: options.from }),
      ...(options.to !== undefined && { to: options.to }),
      broker: {
        ...(options.cash !== undefined && { initialCash: options.cash }),
        ...(options.fee !== undefined && { feeRate: options.fee }),
        ...(options.slippageBps !== undefined && { slippageBps: options.slippageBps }),
        ...(stake !== undefined && { stake }),
      },
    });
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(`${formatReport(result.summary)}\n`);
    process.stdout.write(
      `${result.summary.candles} candles in ${seconds.toFixed(2)} s; run written to ${path.relative('.', result.dir)}/\n`,
    );
  });
});

await program.parseAsync();
