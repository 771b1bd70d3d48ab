import { Option, type Command } from 'commander';
import type { BrokerConfig } from '../broker/broker-config';
import { FrameworkError, messageOf } from '../core/errors';
import type { LogLevel } from '../core/logger';
import { toEpochMs } from '../core/time';

/** Options every command takes. */
export interface CommonOptions {
  readonly verbose?: boolean;
  readonly quiet?: boolean;
}

/** Adds `--verbose` and `--quiet` to a command. */
export function withCommonOptions(command: Command): Command {
  return command
    .addOption(new Option('-v, --verbose', 'log debug details and print stack traces of errors').conflicts('quiet'))
    .addOption(new Option('-q, --quiet', 'log warnings and errors only'));
}

/** The log level the common options ask for. */
export function logLevel(options: CommonOptions): LogLevel {
  return options.verbose === true ? 'debug' : options.quiet === true ? 'warn' : 'info';
}

/**
 * Runs a command's body and turns a thrown error into one line on standard error and exit code 1.
 * Expected errors ({@link FrameworkError}) print their message alone; the stack follows only with `--verbose`.
 */
export async function runCommand(verbose: boolean, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    const message = messageOf(error);
    const kind = error instanceof FrameworkError ? 'error' : 'unexpected error';
    process.stderr.write(`${kind}: ${message}\n`);
    if (verbose && error instanceof Error && error.stack !== undefined) process.stderr.write(`${error.stack}\n`);
    else if (!(error instanceof FrameworkError)) process.stderr.write('(run with --verbose for the stack trace)\n');
    process.exitCode = 1;
  }
}

/** Parses `--from`/`--to` style dates (ISO 8601, no zone = UTC, or epoch ms/s) to UTC epoch ms. */
export function parseTime(value: string): number {
  return toEpochMs(value);
}

/** Collects repeated `--param name=value` options into a record. */
export function collectParam(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new FrameworkError(`--param "${value}": expected name=value, e.g. --param fast=10`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

/** The paper-broker options of `backtest` and `live`. */
export interface BrokerCliOptions {
  readonly cash?: number;
  readonly fee?: number;
  readonly slippageBps?: number;
  readonly stake?: number;
  readonly stakeQuote?: number;
}

/** Adds the paper-broker options (`--cash`, `--fee`, `--slippage-bps`, `--stake`, `--stake-quote`) to a command. */
export function withBrokerOptions(command: Command): Command {
  return command
    .option('--cash <quote>', 'initial cash in quote currency (default 10000)', Number)
    .option('--fee <fraction>', 'taker fee per fill as a fraction (default 0.001 = 0.1%)', Number)
    .option('--slippage-bps <bps>', 'adverse slippage on market fills, basis points (default 0)', Number)
    .option('--stake <fraction>', 'position size as a fraction of equity (default 1)', Number)
    .addOption(new Option('--stake-quote <quote>', 'position size as a fixed quote amount').argParser(Number).conflicts('stake'));
}

/** The broker settings the paper-broker options ask for (unset ones are left to the defaults). */
export function brokerFromOptions(options: BrokerCliOptions): Partial<BrokerConfig> {
  const stake =
    options.stakeQuote !== undefined
      ? { quote: options.stakeQuote }
      : options.stake !== undefined
        ? { fraction: options.stake }
        : undefined;
  return {
    ...(options.cash !== undefined && { initialCash: options.cash }),
    ...(options.fee !== undefined && { feeRate: options.fee }),
    ...(options.slippageBps !== undefined && { slippageBps: options.slippageBps }),
    ...(stake !== undefined && { stake }),
  };
}
