import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backtestErrorLine } from '../support/backtest-failure';
import { runCli } from '../support/cli';

const scratch = mkdtempSync(path.join(tmpdir(), 'bad-input-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The run folders under `dir` (none when it does not exist). */
const runsIn = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);

describe('one argument-validation layer: a bad value is one line naming the option, the value and what is allowed', () => {
  const runs = path.join(scratch, 'runs');
  const cases: readonly (readonly [string, readonly string[], string])[] = [
    ['backtest', ['strategies/macd.ts', '--param', 'fast'], 'error: --param "fast": expected name=value, e.g. --param fast=10'],
    ['backtest', ['strategies/macd.ts', '--from', 'yesterday'], 'error: --from "yesterday": expected a UTC date YYYY-MM-DD[THH:MM[:SS]] or epoch ms'],
    ['backtest', ['strategies/macd.ts', '--slippage-bps', 'abc'], 'error: --slippage-bps "abc": expected a number (basis points) in [0, 10000)'],
    ['backtest', ['strategies/macd.ts', '--max-gap', '2.5'], 'error: --max-gap "2.5": expected a whole number (candles) ≥ 0'],
    ['backtest', ['strategies/macd.ts', '--bogus'], "error: unknown option '--bogus'"],
    ['backtest', ['strategies/macd.ts', '--params-file', 'nope.json'], 'error: --params-file "nope.json": no such file; expected a parameters file such as npm run optimize\'s best-params.json, or "latest"'],
    ['check', ['strategies/macd.ts', '--cuts', 'many'], 'error: --cuts "many": expected a whole number (histories) ≥ 1'],
    ['live', ['strategies/macd.ts', '--exchange', 'kraken'], 'error: --exchange "kraken": expected one of binance, sim'],
    ['live', ['strategies/macd.ts', '--exchange', 'sim', '--start', 'June'], 'error: --start "June": expected a UTC date YYYY-MM-DD[THH:MM[:SS]] or epoch ms'],
    ['live', ['strategies/macd.ts', '--exchange', 'sim', '--real-orders', '--reconcile-every', '0'], 'error: --reconcile-every "0": expected a number (seconds) > 0'],
    ['sim', ['--dataset', 'binance/BTC_USDT', '--duration', '1'], 'error: --dataset "binance/BTC_USDT": expected <exchange>/<BASE>_<QUOTE>/<timeframe>'],
    ['download', ['binance', 'BTC/USDT', '15m', '--since', 'last week'], 'error: --since "last week": expected a UTC date'],
    ['data', ['resample', 'binance/BTC_USDT/5m', '30m', '--incomplete', 'fill', '--out', path.join(scratch, 'resampled')], 'error: --incomplete "fill": expected one of drop, keep'],
  ];

  it.each(cases)('%s %j', async (command, args, line) => {
    const { code, stdout, stderr } = await runCli(`framework/cli/${command}.ts`, [...args, ...(['backtest', 'live'].includes(command) ? ['--runs', runs] : [])]);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr.trim().startsWith(line)).toBe(true);
    expect(stdout).toBe('');
    expect(runsIn(runs)).toEqual([]);
    expect(existsSync(path.join(scratch, 'resampled'))).toBe(false);
  }, 180_000);

  it('--verbose keeps the stack trace', async () => {
    const { code, stderr } = await runCli('framework/cli/backtest.ts', ['strategies/macd.ts', '--from', 'yesterday', '--verbose', '--runs', runs]);
    expect(code).toBe(2);
    expect(stderr).toContain('error: --from "yesterday"');
    expect(stderr).toMatch(/UsageError: --from "yesterday"[^\n]*\n\s+at /);
  }, 180_000);

  // Raised by the backtest itself (runBacktest), printed by npm run backtest as the error of the next test: in this
  // process (test/support/backtest-failure.ts).
  it('an unknown parameter name is one line listing the parameters (exit 1, nothing written)', async () => {
    const line = await backtestErrorLine({ file: 'strategies/macd.ts', params: { fats: '5' }, runsRoot: runs });
    expect(line).toBe('error: strategies/macd.ts: unknown parameter "fats"; parameters are: fast, slow, signal');
    expect(runsIn(runs)).toEqual([]);
  });

  it('--from after --to says so and shows the span the dataset has (exit 1, nothing written)', async () => {
    const { code, stderr } = await runCli('framework/cli/backtest.ts', ['strategies/macd.ts', '--from', '2021-03-01', '--to', '2021-02-01', '--runs', runs]);
    expect(code).toBe(1);
    // The span of the shipped BTC/USDT 15m: datasets/README.md, 2020-12-01 00:00 to 2021-07-17 20:45.
    expect(stderr.trim()).toBe(
      'error: no candles for binance BTC/USDT 15m from 2021-03-01T00:00:00.000Z to 2021-02-01T00:00:00.000Z: ' +
        '--from is not before --to; the dataset has candles from 2020-12-01T00:00:00.000Z to 2021-07-17T20:45:00.000Z',
    );
    expect(runsIn(runs)).toEqual([]);
  }, 180_000);
});

describe('gap policy of a backtest', () => {
  const store = path.join(scratch, 'holed');
  cpSync('datasets/binance/BTC_USDT/1h', path.join(store, 'binance/BTC_USDT/1h'), { recursive: true });
  cpSync('datasets/binance/known-gaps.json', path.join(store, 'binance/known-gaps.json'));
  rmSync(path.join(store, 'binance/BTC_USDT/1h/2021-03.parquet'));

  it('refuses to trade across a deleted month, naming the gap; writes nothing', async () => {
    const runs = path.join(scratch, 'gap-runs');
    const { code, stdout, stderr } = await runCli('framework/cli/backtest.ts', ['strategies/ema-cross.ts', '--datasets', store, '--runs', runs, '--quiet']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    // March 2021 has 31 × 24 = 744 hourly candles, from 2021-03-01T00:00 to 2021-03-31T23:00.
    expect(stderr.trim().split('\n').filter((l) => l.startsWith('error:'))).toEqual([
      'error: binance BTC/USDT 1h: 744 candles missing from 2021-03-01T00:00:00.000Z to 2021-03-31T23:00:00.000Z ' +
        '(more than --max-gap 3); refusing to trade across it: backtest a range that avoids it (--from/--to), or allow it with --max-gap 744',
    ]);
    expect(runsIn(runs)).toEqual([]);
  }, 180_000);

  it('trades a range that avoids it, and across it with --max-gap 744; known outages pass with a warning', async () => {
    const runs = path.join(scratch, 'gap-runs-ok');
    // Without the lookahead check run after a backtest (--no-check): these runs are about the gaps.
    const after = await runCli('framework/cli/backtest.ts', ['strategies/ema-cross.ts', '--datasets', store, '--runs', runs, '--quiet', '--no-check', '--from', '2021-04-01']);
    expect(after.code).toBe(0);
    // 2021-04-20 02:00–04:00 and 2021-04-25 05:00–08:00 are Binance outages listed in known-gaps.json.
    expect(after.stderr).toContain('binance BTC/USDT 1h: 2 candles missing from 2021-04-20T02:00:00.000Z to 2021-04-20T03:00:00.000Z, a known exchange outage');
    const allowed = await runCli('framework/cli/backtest.ts', ['strategies/ema-cross.ts', '--datasets', store, '--runs', runs, '--quiet', '--no-check', '--max-gap', '744']);
    expect(allowed.code).toBe(0);
    // The 1h dataset holds 5,482 candles; March 743 of them (744 hours less the outage hour 2021-03-06 02:00).
    expect(allowed.stdout).toContain(`${5482 - 743} candles`);
    expect(runsIn(runs)).toHaveLength(2);
  }, 180_000);
});
