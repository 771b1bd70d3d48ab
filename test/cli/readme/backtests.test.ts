/**
 * README.md's backtest and data commands, as written (test/support/readme.ts), and its strategy example: it passes
 * `npm run check` and its parameters change what it trades. The example's check and backtests run in this process
 * (`runCheck` and `runBacktest`, what `npm run check` and `npm run backtest` call): they are about the example, not the
 * commands, which the README lines above run as child processes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { runCheck } from '../../../framework/analysis/check';
import { runBacktest } from '../../../framework/engine/backtest';
import { README, runReadmeGroup } from '../../support/readme';

const outcomes = runReadmeGroup('backtests');

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
