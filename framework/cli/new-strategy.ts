/**
 * `npm run new-strategy -- <name> [options]`: writes a new strategy plugin from a commented template that runs as it
 * is (a simple moving-average crossover with a stop-loss and a take-profit).
 *
 * ```text
 * npx tsx framework/cli/new-strategy.ts <name> [--symbol BTC/USDT] [--timeframe 1h] [--exchange binance]
 *                                              [--dir strategies] [--datasets datasets] [--force]
 * ```
 *
 * The name may be written in kebab-case (`sma-cross`), snake_case or PascalCase/camelCase (`SmaCross`); the file is
 * `<dir>/<kebab-name>.ts` and the class `<PascalName>`. An existing file is never overwritten without `--force`.
 * The template is `framework/cli/templates/strategy.ts.txt`; `docs/strategy-guide.md` explains what it contains.
 * A note on standard error says when the candle store (`--datasets`) has no candles for the market yet.
 *
 * @module
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { FrameworkError, messageOf } from '../core/errors';
import { parseCommandLine, UsageError } from './args';
import { timeframeGrid } from '../core/timeframe';
import { datasetDir } from '../store/layout';
import { runCommand, withCommonOptions, type CommonOptions } from './common';

interface NewStrategyOptions extends CommonOptions {
  readonly symbol: string;
  readonly timeframe: string;
  readonly exchange: string;
  readonly dir: string;
  readonly datasets: string;
  readonly force?: boolean;
}

/** Names a generated class must not take: the names the template imports, and the framework's own classes. */
const RESERVED_CLASS_NAMES = new Set(['BaseStrategy', 'Candle', 'DataFrame', 'Frame', 'Signal']);

const TEMPLATE = fileURLToPath(new URL('templates/strategy.ts.txt', import.meta.url));
const FRAMEWORK_DIR = fileURLToPath(new URL('..', import.meta.url));

const program = withCommonOptions(
  new Command('new-strategy')
    .description('Write a new strategy plugin from the commented template (an SMA crossover that runs as it is)')
    .argument('<name>', 'strategy name, e.g. sma-cross or SmaCross: file <dir>/sma-cross.ts, class SmaCross')
    .option('--symbol <symbol>', 'unified symbol to trade', 'BTC/USDT')
    .option('--timeframe <timeframe>', 'candle timeframe, e.g. 15m, 1h, 1d', '1h')
    .option('--exchange <id>', 'ccxt exchange id', 'binance')
    .option('--dir <folder>', 'folder to write the file to', 'strategies')
    .option('--datasets <dir>', 'candle store root checked for a dataset of the market', 'datasets')
    .option('--force', 'overwrite an existing file'),
);

program.action(async (name: string, options: NewStrategyOptions) => {
  await runCommand(options.verbose === true, async () => {
    const { fileName, className } = strategyNames(name);
    checkMarket(options);
    const { exchange, symbol, timeframe, dir } = options;
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
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(file, source, { flag: options.force === true ? 'w' : 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      throw new FrameworkError(`${file} already exists: not overwritten (--force replaces it)`, { cause: error });
    }
    process.stdout.write(
      `created ${file}: class ${className}, ${exchange} ${symbol} ${timeframe}\n` +
        `run it:  npm run backtest -- ${toPosix(file)}\n`,
    );
    const dataset = datasetDir(options.datasets, { exchange, symbol, timeframe });
    if (!existsSync(dataset)) process.stderr.write(`note: no stored candles in ${dataset}; a backtest needs them\n`);
  });
});

await parseCommandLine(program);

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
function checkMarket(options: NewStrategyOptions): void {
  if (!/^[A-Z0-9]+\/[A-Z0-9]+$/.test(options.symbol)) {
    throw new UsageError(`--symbol "${options.symbol}": expected a unified symbol BASE/QUOTE, e.g. BTC/USDT`);
  }
  if (!/^[a-z0-9]+$/.test(options.exchange)) {
    throw new UsageError(`--exchange "${options.exchange}": expected a ccxt exchange id, e.g. binance`);
  }
  try {
    timeframeGrid(options.timeframe);
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

function toPosix(file: string): string {
  return file.split(path.sep).join('/');
}
