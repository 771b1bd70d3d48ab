/**
 * A backtest that fails, run in this process rather than as `npm run backtest` in a child process (seconds of CPU
 * each, mostly start-up). `npm run backtest` runs `runBacktest` with the options it was given and prints an error it
 * throws as `runCommand` (framework/cli/common.ts) prints any: a {@link FrameworkError}'s message alone, after
 * `error: `, exit code 1 (the stack only with --verbose); test/cli/backtest-cli.test.ts and test/cli/bad-input.test.ts
 * run such failures as real processes.
 */
import { expect } from 'vitest';
import { FrameworkError } from '../../framework/core/errors';
import { runBacktest, type BacktestOptions } from '../../framework/engine/backtest';

/** The line `npm run backtest` prints on standard error for the error `runBacktest(options)` fails with; fails the test when it succeeds or throws anything but a FrameworkError. */
export async function backtestErrorLine(options: BacktestOptions): Promise<string> {
  const error = await runBacktest(options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `runBacktest(${options.file}) fails with a FrameworkError: one line, no stack trace`).toBeInstanceOf(FrameworkError);
  return `error: ${(error as FrameworkError).message}`;
}
