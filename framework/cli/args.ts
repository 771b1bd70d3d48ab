/**
 * The one place where command-line values are parsed and validated, for every command.
 *
 * commander splits the command line and collects each option as the text the user typed (no parsing in commander);
 * each command then validates all of its options at once with a zod schema built from the value kinds below. A bad
 * value becomes one line naming the option, the value and what is allowed, e.g.
 * `--from "yesterday": expected a UTC date YYYY-MM-DD[THH:MM[:SS]] or epoch ms`, and the command exits with
 * {@link USAGE_EXIT_CODE} before anything is read or written. commander's own errors (an unknown option, a missing
 * argument) exit with the same code.
 *
 * @module
 */
import { Command, CommanderError } from 'commander';
import { z } from '../core/zod';
import { FrameworkError } from '../core/errors';
import { toEpochMs } from '../core/time';

/** Exit code of a command given a bad option or argument (the POSIX convention for usage errors; cf. `grep`, `diff`). */
export const USAGE_EXIT_CODE = 2;

/** A command-line value that does not parse or is out of range; the message names the option, the value and what is allowed. */
export class UsageError extends FrameworkError {}

/** A parser of one option's text: returns the value, or throws an `Error` whose message says what is allowed. */
type ValueParser<T> = (text: string) => T;

/** A zod schema for one option given as text, parsed by `parse` (its error message becomes the issue's). */
function fromText<T>(parse: ValueParser<T>): z.ZodType<T, string> {
  return z.string().transform((text, context) => {
    try {
      return parse(text);
    } catch (error) {
      context.addIssue({ code: 'custom', message: error instanceof Error ? error.message : String(error) });
      return z.NEVER;
    }
  }) as unknown as z.ZodType<T, string>;
}

const DATE_EXPECTED = 'expected a UTC date YYYY-MM-DD[THH:MM[:SS]] or epoch ms';

/** A date: ISO 8601 (UTC unless zoned: `2021-01-01`, `2021-01-01T12:00`, `2021-01-01T12:00+02:00`) or epoch ms → UTC epoch ms. */
export const dateArg = fromText((text) => {
  if (text.trim() === '') throw new Error(DATE_EXPECTED);
  try {
    return toEpochMs(text);
  } catch {
    throw new Error(DATE_EXPECTED);
  }
});

/** Bounds and wording of a number option. */
export interface NumberSpec {
  /** What the number is, for the message, e.g. "basis points". */
  readonly what: string;
  readonly min?: number;
  /** Whether `min` itself is allowed; default true. */
  readonly minInclusive?: boolean;
  readonly max?: number;
  /** Whether `max` itself is allowed; default true. */
  readonly maxInclusive?: boolean;
  /** Whole numbers only. */
  readonly integer?: boolean;
}

/** The allowed values of a {@link NumberSpec} in words, e.g. `basis points in [0, 10000)`. */
function describeNumber(spec: NumberSpec): string {
  const kind = spec.integer === true ? `a whole number (${spec.what})` : `a number (${spec.what})`;
  if (spec.min !== undefined && spec.max !== undefined) {
    return `${kind} in ${spec.minInclusive === false ? '(' : '['}${spec.min}, ${spec.max}${spec.maxInclusive === false ? ')' : ']'}`;
  }
  if (spec.min !== undefined) return `${kind} ${spec.minInclusive === false ? '>' : '≥'} ${spec.min}`;
  if (spec.max !== undefined) return `${kind} ${spec.maxInclusive === false ? '<' : '≤'} ${spec.max}`;
  return kind;
}

/** A number within the bounds of `spec`. */
export function numberArg(spec: NumberSpec): z.ZodType<number, string> {
  return fromText((text) => {
    const n = Number(text);
    const ok =
      text.trim() !== '' &&
      Number.isFinite(n) &&
      (spec.integer !== true || Number.isInteger(n)) &&
      (spec.min === undefined || (spec.minInclusive === false ? n > spec.min : n >= spec.min)) &&
      (spec.max === undefined || (spec.maxInclusive === false ? n < spec.max : n <= spec.max));
    if (!ok) throw new Error(`expected ${describeNumber(spec)}`);
    return n;
  });
}

/** One of `choices`. */
export function choiceArg<const T extends string>(choices: readonly T[]): z.ZodType<T, string> {
  return fromText((text) => {
    if (!(choices as readonly string[]).includes(text)) throw new Error(`expected one of ${choices.join(', ')}`);
    return text as T;
  });
}

/** A comma-separated list of `choices` (empty items ignored). */
export function choiceListArg<const T extends string>(choices: readonly T[]): z.ZodType<T[], string> {
  return fromText((text) => {
    const items = text.split(',').filter((k) => k !== '');
    const unknown = items.filter((k) => !(choices as readonly string[]).includes(k));
    if (unknown.length > 0) throw new Error(`unknown ${unknown.join(', ')}; expected a comma-separated list of ${choices.join(', ')}`);
    return items as T[];
  });
}

/** An `http://host:port` address (a simulator's). */
export const httpUrlArg = fromText((text) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error('expected an http:// address, e.g. http://127.0.0.1:8765');
  }
  if (url.protocol !== 'http:') throw new Error('expected an http:// address, e.g. http://127.0.0.1:8765');
  return url;
});

/**
 * Repeated `--param name=value` options (collected by {@link collectRepeated}) → a record of parameter texts. The
 * strategy loader checks the names against the strategy's parameters and parses the values as their defaults' types.
 */
export const paramsArg = namedValuesArg('expected name=value, e.g. --param fast=10');

/**
 * Repeated `name=text` options → a record of texts by name; an item without a name before its `=` is refused with
 * `message`.
 */
export function namedValuesArg(message: string): z.ZodType<Record<string, string>, string[]> {
  return z.array(z.string()).transform((items, context) => {
    const out: Record<string, string> = {};
    for (const [i, item] of items.entries()) {
      const at = item.indexOf('=');
      if (at <= 0) {
        context.addIssue({ code: 'custom', path: [i], message });
        return z.NEVER;
      }
      out[item.slice(0, at)] = item.slice(at + 1);
    }
    return out;
  });
}

/** commander collector of a repeatable option: every occurrence's text, in order. */
export function collectRepeated(value: string, previous: readonly string[] = []): string[] {
  return [...previous, value];
}

/** `slippageBps` → `--slippage-bps`. */
function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * Validates a command's options (commander's record of texts) against `schema`.
 *
 * @returns the parsed, typed options.
 * @throws {@link UsageError} for the first bad value: `--<option> "<value>": <what is allowed>`; a cross-option rule's
 *   issue (added at the path of the option it blames) reads the same way.
 */
export function validateOptions<S extends z.ZodType>(schema: S, raw: Readonly<Record<string, unknown>>): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const [key, index] = issue.path;
  if (typeof key !== 'string') throw new UsageError(issue.message);
  const given = raw[key];
  const value = Array.isArray(given) && typeof index === 'number' ? given[index] : given;
  const shown = typeof value === 'string' ? ` ${JSON.stringify(value)}` : '';
  throw new UsageError(`${flagOf(key)}${shown}: ${issue.message}`);
}

/**
 * Parses `argv` with `program` (and its subcommands), turning commander's own usage errors (an unknown option, a
 * missing argument, a conflict) into exit code {@link USAGE_EXIT_CODE}; commander has already printed their one line.
 * `--help` exits 0.
 */
export async function parseCommandLine(program: Command, argv: readonly string[] = process.argv): Promise<void> {
  const override = (command: Command): void => {
    command.exitOverride();
    command.commands.forEach(override);
  };
  override(program);
  try {
    await program.parseAsync(argv as string[]);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    process.exitCode = error.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
  }
}

/**
 * Adds the options of a command that replays stored candles: `--from` and `--to` (the span, `[from, to)`) and
 * `--datasets` (the candle store root, default `datasets`); validate them with {@link replayArgs}.
 */
export function withReplayOptions(command: Command): Command {
  return command
    .option('--from <time>', 'first candle open time: a UTC date YYYY-MM-DD[THH:MM[:SS]] or epoch ms')
    .option('--to <time>', 'stop before this open time (exclusive), same forms as --from')
    .option('--datasets <dir>', 'candle store root', 'datasets');
}

/** The schema of {@link withReplayOptions}' options, to spread into a command's option schema: UTC epoch ms and a folder. */
export const replayArgs = {
  from: dateArg.optional(),
  to: dateArg.optional(),
  datasets: z.string(),
};
