import { describe, expect, it } from 'vitest';
import { runCli, type CliOutcome } from '../support/cli';
import { replayCandles } from '../../framework/feeds/replay';

const BTC_15M = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' } as const;

function check(...args: string[]): Promise<CliOutcome> {
  return runCli('framework/cli/check.ts', [...args, '--quiet']);
}

/** The cells of the row for column `name` in the lookahead table (`table` 0) or the warm-up table (1). */
function row(stdout: string, name: string, table: 0 | 1): string[] {
  const line = stdout.split('\n').filter((l) => l.startsWith(`│ ${name} `))[table];
  expect(line, `a row for ${name}`).toBeDefined();
  return line!.split('│').slice(1, -1).map((cell) => cell.trim());
}

describe('npm run check', () => {
  it('passes MACD with a warm-up long enough, and finds no lookahead in the shipped MACD', async () => {
    const [long, shipped] = await Promise.all([
      check('test/fixtures/strategies/macd-long-warmup.ts', '--to', '2021-04-01'),
      check('strategies/macd.ts', '--to', '2021-04-01'),
    ]);
    const candles = replayCandles('datasets', BTC_15M, { to: Date.UTC(2021, 3, 1) }).openTime.length;
    expect(long.stdout).toContain(`binance BTC/USDT 15m: ${candles} candles, 2020-12-01 00:00 → 2021-03-31 23:45 UTC`);
    expect(long.stdout).toContain('Result: passed: no lookahead bias found; declared warm-up 500 ≥');
    expect(long.code).toBe(0);

    for (const name of ['macd', 'macd_signal', 'macd_hist']) expect(row(shipped.stdout, name, 0)[1]).toBe('ok');
    expect(shipped.stdout).toContain('no lookahead bias found');
    // The shipped warm-up (100 candles) is shorter than its EMAs need within 1e-9 (warmup.test.ts measures it):
    // the check fails on that alone, and says so.
    const short = ['macd', 'macd_signal', 'macd_hist'].some((name) => row(shipped.stdout, name, 1)[3] === 'TOO SHORT');
    expect(shipped.code).toBe(short ? 1 : 0);
  });

  it('exits 1 on a biased strategy, naming the column and its first differing candle', async () => {
    const { code, stdout } = await check('test/fixtures/strategies/lookahead-shift.ts');
    expect(code).toBe(1);
    const [, verdict, difference] = row(stdout, 'next_close', 0);
    expect(verdict).toBe('BIASED');
    expect(difference).toMatch(/^2020-12-01 00:00: 19605\.75 vs NaN \(history cut at 2020-12-01 00:00\)$/);
    expect(stdout).toContain('Result: FAILED: lookahead bias in next_close, signals');
  });

  it('exits 1 on a warm-up too short for its indicator', async () => {
    const { code, stdout } = await check('test/fixtures/strategies/short-warmup.ts', '--to', '2021-04-01', '--cuts', '5');
    expect(code).toBe(1);
    expect(row(stdout, 'ema', 0)[1]).toBe('ok');
    const [, needed, bitExact, verdict] = row(stdout, 'ema', 1);
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
