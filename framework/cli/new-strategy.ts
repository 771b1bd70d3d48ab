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
 * The template is `framework/cli/templates/strategy.ts.txt`, filled by framework/cli/strategy-template.ts;
 * `docs/strategy-guide.md` explains what it contains.
 * A note on standard error says when the candle store (`--datasets`) has no candles for the market yet.
 *
 * @module
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { FrameworkError } from '../core/errors';
import { parseCommandLine } from './args';
import { datasetDir } from '../store/layout';
import { runCommand, withCommonOptions, type CommonOptions } from './common';
import { newStrategy, toPosix } from './strategy-template';

interface NewStrategyOptions extends CommonOptions {
  readonly symbol: string;
  readonly timeframe: string;
  readonly exchange: string;
  readonly dir: string;
  readonly datasets: string;
  readonly force?: boolean;
}

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
    const { exchange, symbol, timeframe, dir } = options;
    const { file, className, source } = newStrategy(name, { exchange, symbol, timeframe, dir });
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
