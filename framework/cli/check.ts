/**
 * `npm run check -- <strategy file> [options]`: tests a strategy for lookahead bias and an insufficient warm-up, the
 * checks of freqtrade's `lookahead-analysis` and `recursive-analysis`. Exits 1 when either fails.
 *
 * @module
 */
import { Command } from 'commander';
import { runCheck } from '../analysis/check';
import { formatCheckReport } from '../analysis/report';
import { createLogger } from '../core/logger';
import { collectParam, logLevel, parseTime, runCommand, withCommonOptions, type CommonOptions } from './common';

interface CheckCliOptions extends CommonOptions {
  readonly from?: number;
  readonly to?: number;
  readonly datasets: string;
  readonly param: Record<string, string>;
  readonly cuts?: number;
  readonly signalCuts?: number;
  readonly tolerance?: number;
}

const program = withCommonOptions(
  new Command('check')
    .description('Check a strategy for lookahead bias and a too-short warm-up on its stored candles (datasets/)')
    .argument('<strategy>', 'strategy plugin file, e.g. strategies/macd.ts')
    .option('--from <time>', 'first candle open time, ISO 8601 (UTC unless zoned) or epoch ms', parseTime)
    .option('--to <time>', 'stop before this open time', parseTime)
    .option('--datasets <dir>', 'candle store root', 'datasets')
    .option('--param <name=value>', 'override a strategy parameter (repeatable)', collectParam, {})
    .option('--cuts <n>', 'truncated histories spread over the data (default 20)', Number)
    .option('--signal-cuts <n>', 'further truncated histories ending at signal candles, at most (default 10)', Number)
    .option('--tolerance <fraction>', 'relative tolerance of the warm-up analysis (default 1e-9)', Number),
);

program.action(async (file: string, options: CheckCliOptions) => {
  await runCommand(options.verbose === true, async () => {
    const started = performance.now();
    const result = await runCheck({
      file,
      params: options.param,
      datasetsRoot: options.datasets,
      logger: createLogger(logLevel(options)),
      ...(options.from !== undefined && { from: options.from }),
      ...(options.to !== undefined && { to: options.to }),
      lookahead: {
        ...(options.cuts !== undefined && { cuts: options.cuts }),
        ...(options.signalCuts !== undefined && { signalCuts: options.signalCuts }),
      },
      warmup: { ...(options.tolerance !== undefined && { tolerance: options.tolerance }) },
    });
    process.stdout.write(`${formatCheckReport(result)}\n`);
    process.stdout.write(`checked in ${((performance.now() - started) / 1000).toFixed(2)} s\n`);
    if (!result.passed) process.exitCode = 1;
  });
});

await program.parseAsync();
