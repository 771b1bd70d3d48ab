import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backtestErrorLine } from '../support/backtest-failure';
import { runCli, type CliOutcome } from '../support/cli';

const scratch = mkdtempSync(path.join(tmpdir(), 'backtest-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const runs = path.join(scratch, 'runs');

function backtest(...args: string[]): Promise<CliOutcome> {
  return runCli('framework/cli/backtest.ts', [...args, '--runs', runs]);
}

/** Size and modification time of every file below `dir`, to show that a failed run changed nothing. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const stat = statSync(file);
    out[path.relative(dir, file)] = `${stat.size}:${stat.mtimeMs}`;
  }
  return out;
}

// The report a successful run prints and the files it writes are checked on the README's own backtests
// (test/cli/readme/backtests.test.ts).
describe('npm run backtest', () => {
  it('fails with one line naming a missing strategy file, no stack trace', async () => {
    const { code, stderr } = await backtest('strategies/nope.ts');
    expect(code).toBe(1);
    expect(stderr.trim()).toBe('error: strategies/nope.ts: file not found');
  });

  // The errors below are raised by the backtest itself (runBacktest), which npm run backtest runs and prints as the one
  // above: in this process (test/support/backtest-failure.ts).
  it('names a missing dataset and lists the ones that exist', async () => {
    const store = path.join(scratch, 'empty-store');
    cpSync('datasets/binance/ETH_USDT', path.join(store, 'binance/ETH_USDT'), { recursive: true });
    const line = await backtestErrorLine({ file: 'strategies/macd.ts', datasetsRoot: store, runsRoot: runs });
    expect(line).toMatch(/^error: .*binance\/BTC_USDT\/15m.*/);
    expect(line).toContain('binance ETH/USDT 1h');
    expect(line.split('\n')).toHaveLength(1);
  });

  it('names a corrupted partition and leaves the store unchanged', async () => {
    const store = path.join(scratch, 'corrupt-store');
    cpSync('datasets/binance/BTC_USDT/15m', path.join(store, 'binance/BTC_USDT/15m'), { recursive: true });
    const victim = path.join(store, 'binance/BTC_USDT/15m/2021-03.parquet');
    const bytes = readFileSync(victim);
    writeFileSync(victim, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const before = fingerprint(store);
    const line = await backtestErrorLine({ file: 'strategies/macd.ts', datasetsRoot: store, runsRoot: runs });
    expect(line).toContain('2021-03.parquet');
    expect(line.split('\n')).toHaveLength(1);
    expect(fingerprint(store)).toEqual(before);
  });

  it('stops a lookahead strategy with a clear error', async () => {
    const line = await backtestErrorLine({ file: 'test/fixtures/strategies/peeks-ahead.ts', runsRoot: runs });
    expect(line).toContain('error: test/fixtures/strategies/peeks-ahead.ts: onData at candle 2020-12-01T00:00:00.000Z: lookahead');
  });

  it('writes no run folder for any of them', () => {
    expect(existsSync(runs) ? readdirSync(runs) : []).toEqual([]);
  });
});
