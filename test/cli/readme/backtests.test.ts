/**
 * README.md's backtest and data commands, as written (test/support/readme.ts), and its strategy example: it passes
 * `npm run check` and its parameters change what it trades.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { README, runReadmeGroup, sh } from '../../support/readme';

const outcomes = runReadmeGroup('backtests');

it('has a strategy example that uses its parameters and whose warm-up passes npm run check', async () => {
  const example = /```ts\n([\s\S]*?)```/.exec(README.slice(README.indexOf('## Writing a strategy')))![1]!;
  // In .tmp/ (ignored by git) its `import … from '../framework'` resolves as it does from strategies/.
  mkdirSync('.tmp', { recursive: true });
  writeFileSync('.tmp/readme-strategy.ts', example);
  const [check, example12, example5] = await Promise.all([
    sh('npm run check -- .tmp/readme-strategy.ts'),
    sh('npm run backtest -- .tmp/readme-strategy.ts --runs .tmp/readme-runs --quiet'),
    sh('npm run backtest -- .tmp/readme-strategy.ts --runs .tmp/readme-runs --quiet --param fast=5'),
  ]);
  expect(check.stdout).toMatch(/^Result: passed/m);
  expect(check.code).toBe(0);

  const trades = (stdout: string): number => Number(/^│ Trades\s+│\s+(\d+) │$/m.exec(stdout)![1]);
  // The README's own `npm run backtest -- strategies/macd.ts`, run above in this file.
  const shipped = outcomes.get('npm run backtest -- strategies/macd.ts');
  expect(shipped?.code, 'the README command npm run backtest -- strategies/macd.ts ran first').toBe(0);
  // MACD.calculate with exponential averages equals strategies/macd.ts's three EMAs (`ema`, README), so the example
  // with its default parameters trades as the shipped strategy; fast=5 trades differently.
  expect(trades(example12.stdout)).toBe(trades(shipped!.stdout));
  expect(trades(example5.stdout)).not.toBe(trades(example12.stdout));
}, 300_000);
