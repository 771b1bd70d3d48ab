import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from '../core/zod';
import { messageOf, StrategyLoadError } from '../core/errors';
import { importTypeScript } from '../core/runtime';
import type { Subscription } from '../core/subscription';
import { isTimeframe } from '../core/timeframe';
import { BaseStrategy, STRATEGY_BRAND, type ParameterValue } from './base-strategy';
import { COLUMN_STRATEGY_BRAND } from './column-strategy';
import { isOutsideProject, resolveImportsFromProject } from './outside-imports';
import { describeRange, inRange, parseValue } from './parameters';

/** A strategy instance together with where it came from. */
export interface LoadedStrategy {
  /** The instance, with parameter overrides applied. */
  readonly strategy: BaseStrategy;
  /** The plugin file as given by the user (for messages). */
  readonly file: string;
  /** The name of the exported class. */
  readonly className: string;
  /** The validated subscriptions; the first is the one the strategy trades. */
  readonly subscriptions: readonly Subscription[];
}

const REQUIRED_METHODS = ['populateIndicators(df)', 'onData(candle, frame)', 'getRequiredSubscriptions()'] as const;

const subscriptionSchema = z.strictObject({
  exchange: z.string().regex(/^[a-z0-9]+$/, 'a ccxt exchange id such as "binance"'),
  symbol: z.string().regex(/^[A-Z0-9]+\/[A-Z0-9]+$/, 'a unified symbol such as "BTC/USDT"'),
  timeframe: z.string().refine(isTimeframe, 'a timeframe such as "15m" or "1h"'),
});

/** What `getRequiredSubscriptions()` must return (made once: an optimisation loads the strategy once per trial). */
const subscriptionsSchema = z.array(subscriptionSchema).min(1);

/**
 * Imports a strategy plugin and checks it against the {@link BaseStrategy} contract.
 *
 * A file outside the checkout resolves its bare imports from the project (see {@link resolveImportsFromProject}).
 * The module must export exactly one class extending `BaseStrategy` (or mark one as `default`). The class is
 * instantiated with no arguments, then `params` overrides are applied and the subscriptions and warm-up are checked.
 *
 * @param file - path to the plugin, e.g. `strategies/macd.ts` (relative to the working directory).
 * @param overrides - parameter overrides as strings from the command line (`{ fast: "10" }`); each must name a declared
 *   parameter and parse as the default's type.
 * @throws {@link "core/errors"!StrategyLoadError | StrategyLoadError} naming the file and the problem: file not found,
 *   import failed, no strategy class (or several), a missing method, a constructor or `getRequiredSubscriptions` that
 *   throws, a malformed subscription, a bad warm-up, an unknown or ill-typed parameter.
 */
export async function loadStrategy(file: string, overrides: Readonly<Record<string, string>> = {}): Promise<LoadedStrategy> {
  const fail = (problem: string, cause?: unknown): never => {
    throw new StrategyLoadError(`${file}: ${problem}`, { cause });
  };
  const absolute = path.resolve(file);
  if (!existsSync(absolute)) fail('file not found');
  if (isOutsideProject(absolute)) resolveImportsFromProject();

  let module: Record<string, unknown> = {};
  try {
    module = await importTypeScript(absolute);
  } catch (error) {
    fail(`cannot import the module: ${messageOf(error)}`, error);
  }

  return strategyFromModule(module, file, overrides);
}

/**
 * The checks and instantiation of {@link loadStrategy} on a plugin module already imported (a worker thread of
 * `npm run optimize` imports it its own way).
 *
 * @throws {@link "core/errors"!StrategyLoadError | StrategyLoadError} as {@link loadStrategy} does, import aside.
 */
export function strategyFromModule(
  module: Record<string, unknown>,
  file: string,
  overrides: Readonly<Record<string, string>> = {},
): LoadedStrategy {
  const fail = (problem: string, cause?: unknown): never => {
    throw new StrategyLoadError(`${file}: ${problem}`, { cause });
  };
  const [exportName, StrategyClass] = findStrategyClass(module, fail);
  const columnar = (StrategyClass as unknown as Record<symbol, unknown>)[COLUMN_STRATEGY_BRAND] === true;
  const required = columnar ? [...REQUIRED_METHODS, 'populateColumns(candles)'] : REQUIRED_METHODS;
  const missing = required.filter((m) => typeof StrategyClass.prototype[m.split('(')[0]!] !== 'function');
  if (missing.length > 0) fail(`class ${StrategyClass.name} does not implement ${missing.join(', ')}`);

  let strategy: BaseStrategy = undefined as never;
  try {
    strategy = new StrategyClass();
  } catch (error) {
    fail(`the constructor of ${StrategyClass.name} threw: ${messageOf(error)}`, error);
  }
  if (!Number.isInteger(strategy.warmup) || strategy.warmup < 0) {
    fail(`warmup must be a non-negative whole number of candles, got ${String(strategy.warmup)}`);
  }
  if (typeof strategy.canShort !== 'boolean') fail(`canShort must be true or false, got ${String(strategy.canShort)}`);
  applyOverrides(strategy, overrides, fail);

  let declared: unknown;
  try {
    declared = strategy.getRequiredSubscriptions();
  } catch (error) {
    fail(`getRequiredSubscriptions() threw: ${messageOf(error)}`, error);
  }
  const parsed = subscriptionsSchema.safeParse(declared);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'result'}: ${i.message}`).join('; ');
    fail(`getRequiredSubscriptions() must return at least one { exchange, symbol, timeframe }: ${issues}`);
  }
  return { strategy, file, className: exportName, subscriptions: parsed.data as Subscription[] };
}

type StrategyConstructor = new () => BaseStrategy;

function findStrategyClass(
  module: Record<string, unknown>,
  fail: (problem: string) => never,
): [string, StrategyConstructor] {
  const isStrategyClass = (value: unknown): value is StrategyConstructor =>
    typeof value === 'function' &&
    (value.prototype instanceof BaseStrategy || (value !== BaseStrategy && (value as unknown as Record<symbol, unknown>)[STRATEGY_BRAND] === true));
  if (isStrategyClass(module['default'])) return ['default', module['default']];
  const found = Object.entries(module).filter((entry): entry is [string, StrategyConstructor] => isStrategyClass(entry[1]));
  if (found.length === 1) return found[0]!;
  if (found.length > 1) {
    return fail(`exports several strategy classes (${found.map(([n]) => n).join(', ')}); export the one to run as default`);
  }
  const exported = Object.keys(module);
  return fail(
    `exports no class extending BaseStrategy (exports: ${exported.length > 0 ? exported.join(', ') : 'nothing'}); ` +
      `write "export default class MyStrategy extends BaseStrategy { ... }"`,
  );
}

function applyOverrides(
  strategy: BaseStrategy,
  overrides: Readonly<Record<string, string>>,
  fail: (problem: string) => never,
): void {
  const params = strategy.params as Record<string, ParameterValue>;
  for (const [name, range] of Object.entries(strategy.space)) {
    if (!Object.hasOwn(params, name)) fail(`space declares "${name}", which is not a parameter (parameters are: ${Object.keys(params).join(', ')})`);
    if (!inRange(params[name]!, range)) fail(`the default of parameter "${name}", ${String(params[name])}, is not ${describeRange(range)}`);
  }
  for (const [name, text] of Object.entries(overrides)) {
    if (!Object.hasOwn(params, name)) {
      fail(`unknown parameter "${name}"; parameters are: ${Object.keys(params).join(', ') || 'none'}`);
    }
    const value = parseValue(text, params[name]!);
    if (value === null) fail(`parameter "${name}" must be ${typeof params[name] === 'boolean' ? 'true or false' : 'a number'}, got "${text}"`);
    const range = strategy.space[name];
    if (range !== undefined && !inRange(value!, range)) fail(`parameter "${name}" must be ${describeRange(range)}, got "${text}"`);
    params[name] = value!;
  }
}
