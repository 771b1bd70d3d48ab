/**
 * README.md's backtest and data commands, as written (test/support/readme.ts), and its strategy example: it passes
 * `npm run check` and its parameters change what it trades. The example's check and backtests run in this process
 * (`runCheck` and `runBacktest`, what `npm run check` and `npm run backtest` call): they are about the example, not the
 * commands, which the README lines above run as child processes.
 *
 * What `npm run backtest`, `npm run data -- list` and `npm run data -- resample` print and write is checked here on the
 * README's own runs of them (rather than on runs of the same commands of their own in test/cli/backtest-cli.test.ts,
 * test/cli/backtest-lookahead.test.ts and test/data/data-cli.test.ts, each a child process of seconds of CPU).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../../framework/analysis/check';
import { CANDLE_SOURCES, type Candle } from '../../../framework/core/candle';
import type { Subscription } from '../../../framework/core/subscription';
import { runBacktest } from '../../../framework/engine/backtest';
import { readEquityFile } from '../../../framework/report/equity-file';
import { readDataset } from '../../../framework/store/partitions';
import { BTC_5M, btc15mFrom5m, plainGaps, rowsOf } from '../../data/support';
import { README, runReadmeGroup, type ShellOutcome } from '../../support/readme';
import { loadJsonCandles } from '../../support/shared-data';

const outcomes = runReadmeGroup('backtests');

/** The outcome of README command `command` (run above in this file), which exited 0. */
function ran(command: string): ShellOutcome {
  const outcome = outcomes.get(command);
  expect(outcome?.code, `the README command ${command} ran above and exited 0`).toBe(0);
  return outcome!;
}

describe('npm run backtest (the README runs)', () => {
  it.each([
    ['strategies/macd.ts', 'binance BTC/USDT 15m', 21_912],
    ['strategies/rsi-mean-reversion.ts', 'binance ETH/USDT 1h', 5_482],
    ['strategies/ema-cross.ts', 'binance BTC/USDT 1h', 5_482],
  ])('%s prints the report and writes the run', (file, market, candles) => {
    const { stdout } = ran(`npm run backtest -- ${file}`);
    expect(stdout).toContain(market);
    expect(stdout).toContain(`${candles} candles`);
    for (const metric of ['Total return', 'CAGR', 'Sharpe', 'Sortino', 'Calmar', 'Max drawdown', 'Win rate', 'Profit factor', 'Expectancy', 'Exposure', 'Buy & hold']) {
      expect(stdout).toContain(metric);
    }
    const dir = /run written to (.+)\/$/m.exec(stdout)![1]!;
    const summary = JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8')) as { candles: number; mode: string };
    expect(summary).toMatchObject({ candles, mode: 'backtest' });

    // Every candle of the run: equity = cash + marked position value.
    const equity = readEquityFile(path.join(dir, 'equity.parquet'));
    expect(equity.time).toHaveLength(candles);
    equity.equity.forEach((value, i) => expect(value).toBeCloseTo(equity.cash[i]! + equity.positionValue[i]!, 6));
  });

  it('checks a clean strategy for lookahead by itself: exit 0, the check reported on one line with its cost', () => {
    const { stdout, stderr } = ran('npm run backtest -- strategies/ema-cross.ts');
    expect(stderr).not.toContain('LOOKAHEAD');
    expect(stdout).toMatch(/^lookahead check: \d+ truncated replays, no lookahead bias found \([\d.]+ s, \d+% of the backtest\)$/m);
  });
});

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const minuteUtc = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

describe('npm run data (the README runs)', () => {
  it('list prints every dataset with its span, candle count, gaps and missing candles', () => {
    const { stdout } = ran('npm run data -- list');
    const rows = stdout
      .split('\n')
      .filter((line) => line.includes('binance '))
      .map((line) => line.split('│').map((cell) => cell.trim()).filter((cell) => cell !== ''));
    const row = (dataset: string, candles: readonly Candle[], tfMs: number): string[] => {
      const times = candles.map((c) => c.openTime);
      const gaps = plainGaps(times, tfMs);
      return [dataset, String(times.length), minuteUtc(times[0]!), minuteUtc(times.at(-1)!), String(gaps.length), String(gaps.reduce((s, g) => s + g[2], 0))];
    };
    const btc15m = rowsOf(readDataset('datasets', { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' }));
    const eth15m = rowsOf(readDataset('datasets', { exchange: 'binance', symbol: 'ETH/USDT', timeframe: '15m' }));
    expect(rows).toEqual([
      row('binance BTC/USDT 1m', loadJsonCandles('BTC_USDT-1m.json'), MINUTE),
      row('binance BTC/USDT 5m', BTC_5M, 5 * MINUTE),
      row('binance BTC/USDT 15m', btc15m, 15 * MINUTE),
      row('binance BTC/USDT 1h', loadJsonCandles('BTC_USDT-1h.json'), HOUR),
      row('binance ETH/USDT 5m', loadJsonCandles('ETH_USDT-5m.json'), 5 * MINUTE),
      row('binance ETH/USDT 15m', eth15m, 15 * MINUTE),
      row('binance ETH/USDT 1h', loadJsonCandles('ETH_USDT-1h.json'), HOUR),
    ]);
    expect(rows[0]).toEqual(['binance BTC/USDT 1m', '42915', '2021-04-20 20:42', '2021-05-20 20:40', '1', '284']);
  });

  it('resample rebuilds the shipped 15m from the 5m and lists the dropped buckets', () => {
    const { stdout } = ran('npm run data -- resample binance/BTC_USDT/5m 15m --out .tmp/datasets --force');
    // Independently: the 5m candles of ../shared/data grouped by 15-minute bucket; full buckets make a candle.
    const { expected, dropped } = btc15mFrom5m();
    const sub15m: Subscription = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' };
    const written = readDataset('.tmp/datasets', sub15m);
    const rows = rowsOf(written);
    expect(rows.map(({ volume: _v, ...ohlc }) => ohlc)).toEqual(expected.map(({ volume: _v, ...ohlc }) => ohlc));
    // Volumes: the resampler rounds the sum to Binance's 8 decimals.
    expect(Math.max(...rows.map((r, i) => Math.abs(r.volume - expected[i]!.volume)))).toBeLessThanOrEqual(5e-9);
    expect(Array.from(written.source, (s) => CANDLE_SOURCES[s])).toEqual(rows.map(() => 'resample'));
    // ... and byte for byte the shipped 15m dataset.
    expect(rows).toEqual(rowsOf(readDataset('datasets', sub15m)));

    expect(stdout).toContain(`binance BTC/USDT 15m: ${expected.length} candles written`);
    expect(stdout).toContain(`incomplete buckets dropped: ${dropped.length}`);
    for (const t of dropped) expect(stdout).toContain(`  - ${new Date(t).toISOString()}`);
  });
});

it('has a strategy example that uses its parameters and whose warm-up passes npm run check', async () => {
  const example = /```ts\n([\s\S]*?)```/.exec(README.slice(README.indexOf('## Writing a strategy')))![1]!;
  // In .tmp/ (ignored by git) its `import … from '../framework'` resolves as it does from strategies/.
  mkdirSync('.tmp', { recursive: true });
  writeFileSync('.tmp/readme-strategy.ts', example);
  const file = '.tmp/readme-strategy.ts';
  const check = await runCheck({ file });
  expect(check.lookahead.biased).toBe(false);
  expect(check.warmup.enough).toBe(true);
  expect(check.passed).toBe(true);
  const example12 = await runBacktest({ file, runsRoot: '.tmp/readme-runs' });
  const example5 = await runBacktest({ file, runsRoot: '.tmp/readme-runs', params: { fast: '5' } });
  expect(example5.summary.strategy.parameters).toMatchObject({ fast: 5 });

  const trades = (stdout: string): number => Number(/^│ Trades\s+│\s+(\d+) │$/m.exec(stdout)![1]);
  // The README's own `npm run backtest -- strategies/macd.ts`, run above in this file.
  const shipped = outcomes.get('npm run backtest -- strategies/macd.ts');
  expect(shipped?.code, 'the README command npm run backtest -- strategies/macd.ts ran first').toBe(0);
  // MACD.calculate with exponential averages equals strategies/macd.ts's three EMAs (`ema`, README), so the example
  // with its default parameters trades as the shipped strategy; fast=5 trades differently.
  expect(example12.summary.metrics.trades).toBe(trades(shipped!.stdout));
  expect(example5.summary.metrics.trades).not.toBe(example12.summary.metrics.trades);
}, 300_000);
