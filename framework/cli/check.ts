/**
 * `npm run check -- <strategy file> [options]`: tests a strategy for lookahead bias and an insufficient warm-up, the
 * checks of freqtrade's `lookahead-analysis` and `recursive-analysis`. Exits 1 when either fails.
 *
 * @module
 */
import { Command } from 'commander';
import { z } from '../core/zod';
import { createLogger } from '../core/logger';
import { numberArg, paramsArg, parseCommandLine, replayArgs, validateOptions, withReplayOptions } from './args';
import { commonArgs, logLevel, runCommand, withCommonOptions, withParamOption } from './common';

const optionsSchema = z.object({
  ...commonArgs,
  ...replayArgs,
  param: paramsArg,
  cuts: numberArg({ what: 'histories', integer: true, min: 1 }).optional(),
  signalCuts: numberArg({ what: 'histories', integer: true, min: 0 }).optional(),
  tolerance: numberArg({ what: 'a relative tolerance', min: 0 }).optional(),
});

const program = withCommonOptions(
  withParamOption(withReplayOptions(new Command('check')))
    .description('Check a strategy for lookahead bias and a too-short warm-up on its stored candles (datasets/)')
    .argument('<strategy>', 'strategy plugin file, e.g. strategies/macd.ts')
    .option('--cuts <n>', 'truncated histories spread over the data (default 20)')
    .option('--signal-cuts <n>', 'further truncated histories ending at signal candles, at most (default 10)')
    .option('--tolerance <fraction>', 'relative tolerance of the warm-up analysis (default 1e-9)'),
);

program.action(async (file: string, raw: Record<string, unknown>) => {
  await runCommand(raw['verbose'] === true, async () => {
    const options = validateOptions(optionsSchema, raw);
    // The checks (the engine, the store) and their report table are loaded only for valid options: a bad value fails
    // without them.
    const [{ runCheck }, { formatCheckReport }] = await Promise.all([import('../analysis/check'), import('../analysis/report')]);
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

await parseCommandLine(program);
