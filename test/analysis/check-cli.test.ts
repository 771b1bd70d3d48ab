import { describe, expect, it } from 'vitest';
import { checkRow } from '../support/check-table';
import { runCli, type CliOutcome } from '../support/cli';
import { replayCandles } from '../../framework/feeds/replay';

const BTC_15M = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' } as const;

function check(...args: string[]): Promise<CliOutcome> {
  return runCli('framework/cli/check.ts', [...args, '--quiet']);
}

describe('npm run check', () => {
  // No lookahead in the shipped MACD: on the README's own `npm run check -- strategies/macd.ts` (test/cli/readme/live.test.ts).
  it('passes MACD with a warm-up long enough', async () => {
    const long = await check('test/fixtures/strategies/macd-long-warmup.ts', '--to', '2021-04-01');
    const candles = replayCandles('datasets', BTC_15M, { to: Date.UTC(2021, 3, 1) }).openTime.length;
    expect(long.stdout).toContain(`binance BTC/USDT 15m: ${candles} candles, 2020-12-01 00:00 → 2021-03-31 23:45 UTC`);
    expect(long.stdout).toContain('Result: passed: no lookahead bias found; declared warm-up 500 ≥');
    expect(long.code).toBe(0);
  });

  it('exits 1 on a biased strategy, naming the column and its first differing candle', async () => {
    const { code, stdout } = await check('test/fixtures/strategies/lookahead-shift.ts');
    expect(code).toBe(1);
    const [, verdict, difference] = checkRow(stdout, 'next_close', 0);
    expect(verdict).toBe('BIASED');
    expect(difference).toMatch(/^2020-12-01 00:00: 19605\.75 vs NaN \(history cut at 2020-12-01 00:00\)$/);
    expect(stdout).toContain('Result: FAILED: lookahead bias in next_close, signals');
  });

  it('exits 1 on a warm-up too short for its indicator', async () => {
    const { code, stdout } = await check('test/fixtures/strategies/short-warmup.ts', '--to', '2021-04-01', '--cuts', '5');
    expect(code).toBe(1);
    expect(checkRow(stdout, 'ema', 0)[1]).toBe('ok');
    const [, needed, bitExact, verdict] = checkRow(stdout, 'ema', 1);
    expect(Number(needed)).toBeGreaterThan(199);
    expect(bitExact).toMatch(/^(\d+|> \d+)$/);
    expect(verdict).toBe('TOO SHORT');
    expect(stdout).toMatch(/Result: FAILED: no lookahead bias found; declared warm-up 10 is too short: ema needs \d+/);
  });

  it('reports a bad option in one line', async () => {
    const { code, stdout, stderr } = await check('strategies/macd.ts', '--cuts', '0');
    expect(code).toBe(2); // a bad option value: the usage exit code
    expect(stdout).toBe('');
    expect(stderr).toBe('error: --cuts "0": expected a whole number (histories) ≥ 1\n');
  });
});
