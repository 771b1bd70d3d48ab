import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type CliOutcome } from '../support/cli';
import { UsageError } from '../../framework/cli/args';
import { newStrategy as renderStrategy } from '../../framework/cli/strategy-template';
import { runCheck } from '../../framework/analysis/check';
import { runBacktest } from '../../framework/engine/backtest';
import { replayCandles } from '../../framework/feeds/replay';
import { loadStrategy } from '../../framework/strategy/loader';

const exec = promisify(execFile);

// Inside the project (not the OS temp folder) so that the generated file resolves `technicalindicators` from
// node_modules, as a file in strategies/ does. `.tmp/` is git-ignored.
mkdirSync('.tmp', { recursive: true });
const scratch = mkdtempSync(path.join('.tmp', 'authoring-'));
const strategiesDir = path.join(scratch, 'strategies');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function newStrategy(...args: string[]): Promise<CliOutcome> {
  return runCli('framework/cli/new-strategy.ts', args);
}

/** Simple moving average of `values[i - period + 1 .. i]`, summed afresh for every candle; NaN before `period`. */
function sma(values: Float64Array, period: number): number[] {
  return Array.from(values, (_, i) => {
    if (i < period - 1) return Number.NaN;
    let sum = 0;
    for (let j = i - period + 1; j <= i; j++) sum += values[j]!;
    return sum / period;
  });
}

describe('npm run new-strategy', () => {
  it('writes a strategy that loads, trades on SMA crossings, passes npm run check and strict tsc', async () => {
    const market = ['--symbol', 'ETH/USDT', '--timeframe', '1h'];
    const created = await newStrategy('TrendFollower', ...market, '--dir', strategiesDir);
    expect(created.code).toBe(0);
    const file = path.join(strategiesDir, 'trend-follower.ts');
    expect(created.stdout).toContain(`created ${file}: class TrendFollower, binance ETH/USDT 1h`);
    expect(created.stderr).toBe('');

    const loaded = await loadStrategy(file);
    expect(loaded.strategy.constructor.name).toBe('TrendFollower');
    expect(loaded.strategy.name).toBe('trend-follower');
    expect(loaded.subscriptions).toEqual([{ exchange: 'binance', symbol: 'ETH/USDT', timeframe: '1h' }]);
    expect(loaded.strategy.params).toEqual({ fast: 10, slow: 30, stopLoss: 0.03, takeProfit: 0.06 });

    const { summary, engine, broker } = await runBacktest({ file, runsRoot: path.join(scratch, 'runs') });
    expect(summary.metrics.trades).toBeGreaterThanOrEqual(1);

    // The signals are exactly the crossings of a 10- and a 30-candle SMA of the close, computed here directly.
    const candles = replayCandles('datasets', loaded.subscriptions[0]!);
    const fast = sma(candles.close, 10);
    const slow = sma(candles.close, 30);
    const expected: [number, string][] = [];
    for (let i = 1; i < fast.length; i++) {
      if (fast[i - 1]! <= slow[i - 1]! && fast[i]! > slow[i]!) expected.push([candles.openTime[i]!, 'enter_long']);
      if (fast[i - 1]! >= slow[i - 1]! && fast[i]! < slow[i]!) expected.push([candles.openTime[i]!, 'exit_long']);
    }
    expect(expected.length).toBeGreaterThan(10);
    expect(engine.signals.map((s) => [s.openTime, s.action])).toEqual(expected);

    // Each trade entered at the open after an acted entry signal, with a 3% stop and a 6% take-profit.
    const hour = 3_600_000;
    const entries = new Set(engine.signals.filter((s) => s.action === 'enter_long' && s.acted).map((s) => s.openTime));
    for (const trade of broker.trades) expect(entries.has(trade.entryTime - hour)).toBe(true);
    expect(broker.trades.some((t) => t.exitReason === 'stop_loss')).toBe(true);
    const stopped = broker.trades.find((t) => t.exitReason === 'stop_loss')!;
    const candleAt = candles.openTime.indexOf(stopped.exitTime);
    // A stop fills at the stop price, or at the open when the candle opened beyond it.
    expect(stopped.exitPrice).toBeCloseTo(Math.min(stopped.entryPrice * 0.97, candles.open[candleAt]!), 6);

    // No lookahead, and the declared warm-up covers what the indicators need (npm run check's analyses).
    const check = await runCheck({ file });
    expect(check.lookahead.biased).toBe(false);
    expect(check.warmup.enough).toBe(true);

    // The generated file passes the project's strict compiler settings.
    const tsconfig = path.join(scratch, 'tsconfig.json');
    writeFileSync(tsconfig, JSON.stringify({ extends: path.resolve('tsconfig.json'), include: ['strategies/*.ts'] }));
    const tsc = await exec(process.execPath, ['node_modules/typescript/bin/tsc', '-p', tsconfig]).then(
      () => '',
      (error: { stdout: string }) => error.stdout,
    );
    expect(tsc.split('\n').filter((line) => line.includes('trend-follower.ts'))).toEqual([]);
  });

  // The file and its source for a name and a market are worked out by newStrategy (framework/cli/strategy-template.ts),
  // which npm run new-strategy writes to disk (the test above): in this process.
  it('turns the name into a kebab-case file and a PascalCase class, with the market asked for', () => {
    const cases = [
      ['SMACross', 'sma-cross.ts', 'SmaCross'],
      ['my_rsi2', 'my-rsi2.ts', 'MyRsi2'],
      ['breakout-4h', 'breakout-4h.ts', 'Breakout4h'],
    ] as const;
    const dir = path.join(scratch, 'names');
    for (const [name, file, className] of cases) {
      const created = renderStrategy(name, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m', dir });
      expect(created.file).toBe(path.join(dir, file));
      expect(created.className).toBe(className);
      expect(created.source).toContain(`export default class ${className} extends BaseStrategy {`);
      expect(created.source).toContain(`override readonly name = '${file.replace('.ts', '')}';`);
      expect(created.source).toContain(`symbol: 'BTC/USDT', timeframe: '15m'`);
      expect(created.source).toContain(`from '../../../framework';`);
    }
  });

  it('refuses to overwrite an existing file unless --force is given', async () => {
    const dir = path.join(scratch, 'overwrite');
    expect((await newStrategy('keep-me', '--dir', dir)).code).toBe(0);
    const file = path.join(dir, 'keep-me.ts');
    const generated = readFileSync(file, 'utf8');
    writeFileSync(file, '// my own work\n');

    const refused = await newStrategy('keep-me', '--dir', dir, '--timeframe', '15m');
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe(`error: ${file} already exists: not overwritten (--force replaces it)`);
    expect(readFileSync(file, 'utf8')).toBe('// my own work\n');

    const forced = await newStrategy('keep-me', '--dir', dir, '--force');
    expect(forced.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(generated);
  });

  it('rejects bad names and markets with one line and writes nothing', async () => {
    const dir = path.join(scratch, 'bad');
    const cases = [
      ['2fast', {}, 'invalid strategy name "2fast": it must start with a letter'],
      ['my/strategy', {}, 'invalid strategy name "my/strategy": use only letters, digits'],
      ['sma.cross', {}, 'invalid strategy name "sma.cross": use only letters, digits'],
      ['', {}, 'invalid strategy name "": it must start with a letter'],
      ['Frame', {}, 'the class name Frame is taken by the framework'],
      ['data-frame', {}, 'the class name DataFrame is taken by the framework'],
      ['ok', { symbol: 'BTCUSDT' }, '--symbol "BTCUSDT": expected a unified symbol BASE/QUOTE'],
      ['ok', { timeframe: '1Y' }, '--timeframe: invalid timeframe "1Y"'],
    ] as const;
    // One as a real process: a bad argument or option value is the usage exit code, one line, nothing written.
    const refused = await newStrategy('2fast', '--dir', dir);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(cases[0][2]);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
    // Each of them in this process: a UsageError, which npm run new-strategy prints as that one line, exit 2.
    for (const [name, market, message] of cases) {
      let thrown: unknown;
      try {
        renderStrategy(name, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h', dir, ...market });
      } catch (error) {
        thrown = error;
      }
      expect(thrown, name).toBeInstanceOf(UsageError);
      expect((thrown as UsageError).message).toContain(message);
      expect((thrown as UsageError).message.split('\n')).toHaveLength(1);
    }
  });
});
