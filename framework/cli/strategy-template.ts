/**
 * What `npm run new-strategy` writes: the strategy plugin file for a name and a market, from the commented template
 * `framework/cli/templates/strategy.ts.txt` (a simple moving-average crossover that runs as it is). The command
 * (framework/cli/new-strategy.ts) writes it to disk.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FrameworkError, messageOf } from '../core/errors';
import { timeframeGrid } from '../core/timeframe';
import { UsageError } from './args';

/** The market a new strategy trades and the folder its file goes to. */
export interface NewStrategyTarget {
  /** ccxt exchange id, e.g. `binance`. */
  readonly exchange: string;
  /** Unified symbol, e.g. `BTC/USDT`. */
  readonly symbol: string;
  /** Candle timeframe, e.g. `1h`. */
  readonly timeframe: string;
  /** Folder the file is written to, e.g. `strategies`. */
  readonly dir: string;
}

/** A new strategy plugin: where it goes, its class name and its source. */
export interface NewStrategy {
  /** `<dir>/<kebab-name>.ts`. */
  readonly file: string;
  /** The PascalCase class name. */
  readonly className: string;
  readonly source: string;
}

/** Names a generated class must not take: the names the template imports, and the framework's own classes. */
const RESERVED_CLASS_NAMES = new Set(['BaseStrategy', 'Candle', 'DataFrame', 'Frame', 'Signal']);

const TEMPLATE = fileURLToPath(new URL('templates/strategy.ts.txt', import.meta.url));
const FRAMEWORK_DIR = fileURLToPath(new URL('..', import.meta.url));

/**
 * The strategy plugin for `name` (kebab-case `sma-cross`, snake_case or PascalCase/camelCase `SmaCross`) trading
 * `target`'s market: the file `<dir>/sma-cross.ts` holding class `SmaCross`.
 *
 * @throws {@link UsageError} naming a name that does not make a file and class name, a class name the framework
 *   takes, a symbol that is not `BASE/QUOTE`, an exchange id or a timeframe the strategy loader would refuse.
 */
export function newStrategy(name: string, target: NewStrategyTarget): NewStrategy {
  const { fileName, className } = strategyNames(name);
  checkMarket(target);
  const { exchange, symbol, timeframe, dir } = target;
  const file = path.join(dir, `${fileName}.ts`);
  const source = render({
    className,
    name: fileName,
    file: toPosix(file),
    exchange,
    symbol,
    timeframe,
    frameworkImport: importPath(dir),
  });
  return { file, className, source };
}

/**
 * Splits a name into words at `-`, `_`, spaces and camelCase boundaries (`SMACross` → `SMA`, `Cross`) and builds the
 * kebab-case file name and the PascalCase class name. Every word must be ASCII letters and digits and the name must
 * start with a letter, so that both are valid (a file name without surprises, a JavaScript class name).
 */
function strategyNames(name: string): { fileName: string; className: string } {
  const bad = (why: string): never => {
    throw new UsageError(
      `invalid strategy name "${name}": ${why}; write it in kebab-case (sma-cross) or PascalCase (SmaCross)`,
    );
  };
  if (!/^[A-Za-z]/.test(name)) bad('it must start with a letter');
  if (!/^[A-Za-z0-9_ -]+$/.test(name)) bad('use only letters, digits and "-" or "_" between words');
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[-_ ]+/)
    .filter((word) => word !== '');
  const fileName = words.map((word) => word.toLowerCase()).join('-');
  const className = words.map((word) => word[0]!.toUpperCase() + word.slice(1).toLowerCase()).join('');
  if (RESERVED_CLASS_NAMES.has(className)) bad(`the class name ${className} is taken by the framework`);
  return { fileName, className };
}

/** Checks the symbol and timeframe as the strategy loader will, so that the generated file loads. */
function checkMarket(target: NewStrategyTarget): void {
  if (!/^[A-Z0-9]+\/[A-Z0-9]+$/.test(target.symbol)) {
    throw new UsageError(`--symbol "${target.symbol}": expected a unified symbol BASE/QUOTE, e.g. BTC/USDT`);
  }
  if (!/^[a-z0-9]+$/.test(target.exchange)) {
    throw new UsageError(`--exchange "${target.exchange}": expected a ccxt exchange id, e.g. binance`);
  }
  try {
    timeframeGrid(target.timeframe);
  } catch (error) {
    throw new UsageError(`--timeframe: ${messageOf(error)}`, { cause: error });
  }
}

/** The import specifier of `framework/` as seen from a file in `dir`: `../framework` from `strategies/`. */
function importPath(dir: string): string {
  const relative = toPosix(path.relative(path.resolve(dir), FRAMEWORK_DIR));
  return relative.startsWith('.') ? relative : `./${relative}`;
}

/** Fills the template's `{{placeholder}}`s. */
function render(values: Readonly<Record<string, string>>): string {
  return readFileSync(TEMPLATE, 'utf8').replace(/\{\{(\w+)\}\}/g, (_match, key: string) => {
    const value = values[key];
    if (value === undefined) throw new FrameworkError(`${TEMPLATE}: unknown placeholder {{${key}}}`);
    return value;
  });
}

/** `file` with `/` between its parts, on every platform. */
export function toPosix(file: string): string {
  return file.split(path.sep).join('/');
}
