import { Option, type Command } from 'commander';
import type { BrokerConfig } from '../broker/broker-config';
import { FrameworkError, messageOf } from '../core/errors';
import type { LogLevel } from '../core/logger';
import type { ApiCredentials } from '../feeds/live/exchange';
import { z } from '../core/zod';
import { collectRepeated, numberArg, USAGE_EXIT_CODE, UsageError } from './args';

/** Options every command takes. */
export interface CommonOptions {
  readonly verbose?: boolean | undefined;
  readonly quiet?: boolean | undefined;
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
 * Runs a command's body and turns a thrown error into one line on standard error and exit code 1
 * ({@link USAGE_EXIT_CODE} for a bad option value, a {@link UsageError}).
 * Expected errors ({@link FrameworkError}) print their message alone; the stack follows only with `--verbose`.
 */
export async function runCommand(verbose: boolean, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    const message = messageOf(error);
    const kind = error instanceof FrameworkError ? 'error' : 'unexpected error';
    process.exitCode = error instanceof UsageError ? USAGE_EXIT_CODE : 1;
    process.stderr.write(`${kind}: ${message}\n`);
    if (verbose && error instanceof Error && error.stack !== undefined) process.stderr.write(`${error.stack}\n`);
    else if (!(error instanceof FrameworkError)) process.stderr.write('(run with --verbose for the stack trace)\n');
  }
}

/** The schema of the common options, to spread into a command's option schema. */
export const commonArgs = {
  verbose: z.boolean().optional(),
  quiet: z.boolean().optional(),
};

/** The paper-broker options of `backtest` and `live`, validated by {@link brokerArgs}. */
export interface BrokerCliOptions {
  readonly cash?: number | undefined;
  readonly fee?: number | undefined;
  readonly slippageBps?: number | undefined;
  readonly stake?: number | undefined;
  readonly stakeQuote?: number | undefined;
}

/** Adds the paper-broker options (`--cash`, `--fee`, `--slippage-bps`, `--stake`, `--stake-quote`) to a command. */
export function withBrokerOptions(command: Command): Command {
  return command
    .option('--cash <quote>', 'initial cash in quote currency (default 10000)')
    .option('--fee <fraction>', 'taker fee per fill as a fraction (default 0.001 = 0.1%)')
    .option('--slippage-bps <bps>', 'adverse slippage on market fills, basis points (default 0)')
    .option('--stake <fraction>', 'position size as a fraction of equity (default 1)')
    .addOption(new Option('--stake-quote <quote>', 'position size as a fixed quote amount').conflicts('stake'));
}

/** The schema of the paper-broker options; the bounds are {@link "broker/broker-config"!brokerConfig | brokerConfig}'s. */
export const brokerArgs = {
  cash: numberArg({ what: 'quote currency', min: 0, minInclusive: false }).optional(),
  fee: numberArg({ what: 'a fraction: 0.001 = 0.1%', min: 0, max: 1, maxInclusive: false }).optional(),
  slippageBps: numberArg({ what: 'basis points', min: 0, max: 10_000, maxInclusive: false }).optional(),
  stake: numberArg({ what: 'a fraction of equity', min: 0, minInclusive: false, max: 1 }).optional(),
  stakeQuote: numberArg({ what: 'quote currency', min: 0, minInclusive: false }).optional(),
};

/** Adds the repeatable `--param name=value` option; validate it with {@link paramsArg}. */
export function withParamOption(command: Command): Command {
  return command.option('--param <name=value>', 'override a strategy parameter (repeatable)', collectRepeated, []);
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

const API_KEY_VARIABLE = 'CANDLECRAFT_API_KEY';
const API_SECRET_VARIABLE = 'CANDLECRAFT_API_SECRET';

/**
 * The exchange account's API credentials, from the environment (`CANDLECRAFT_API_KEY`, `CANDLECRAFT_API_SECRET`;
 * never from the command line, where they would land in the shell history and the process list).
 *
 * @param what - what needs them, for the message (`--real-orders`).
 * @throws FrameworkError naming the missing variables (never their values).
 */
export function credentialsFromEnvironment(what: string): ApiCredentials {
  const apiKey = process.env[API_KEY_VARIABLE] ?? '';
  const secret = process.env[API_SECRET_VARIABLE] ?? '';
  const missing = [apiKey === '' && API_KEY_VARIABLE, secret === '' && API_SECRET_VARIABLE].filter((v) => v !== false);
  if (missing.length > 0) throw new FrameworkError(`${what} needs the API credentials in the environment: set ${missing.join(' and ')}`);
  return { apiKey, secret };
}
