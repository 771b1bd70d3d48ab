/**
 * On the simulator a run's history is its live store from one warm-up page back (README "History on the simulator"),
 * and what the store lacks there comes over the simulator's REST API. A store that holds only later candles, as another
 * run on the same simulator can leave it, must not become the history's start: the run fetches the history whole from
 * the warm-up page's start. Seen in a fresh-clone CI run: after the README's trading node, the store held candles from
 * 2021-06-01 01:15 only (why none earlier was not found), the README's live run started its history there, and
 * `npm run diff` found a signal the replay had and the run had not ("different origin"). Red here without the fix: the
 * history started at the store's first candle.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { readDataset, writeCandles } from '../../framework/store/partitions';
import { runCli } from '../support/cli';

const scratch = mkdtempSync(path.join(tmpdir(), 'live-sim-history-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

it('fetches the whole warm-up page over REST when the store holds only later candles, and equals the replay', async () => {
  const store = path.join(scratch, 'live-data');
  const runs = path.join(scratch, 'runs');
  // 2021-06-01 00:00 to 08:00 UTC, as a run that started at 2021-06-01 leaves its store: nothing before.
  const span = { from: Date.UTC(2021, 5, 1), to: Date.UTC(2021, 5, 1, 8) };
  const later = readDataset('datasets', { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' }, span);
  writeCandles(store, { exchange: 'sim', symbol: 'BTC/USDT', timeframe: '15m' }, later);

  const args = ['strategies/macd.ts', '--exchange', 'sim', '--speed', '6000', '--max-candles', '30', '--store', store, '--runs', runs];
  const live = await runCli('framework/cli/live.ts', args);
  expect(live.code, live.stderr).toBe(0);
  const [runId] = readdirSync(runs);
  const run = path.join(runs, runId!);
  const { origin } = JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8')) as { origin: { firstCandle: number; from: number } };
  // The history starts where the warm-up page does (2021-05-21 or so), not at the store's first candle.
  expect(origin.firstCandle).toBe(origin.from);
  expect(origin.firstCandle).toBeLessThan(Date.UTC(2021, 5, 1));

  const diff = await runCli('framework/cli/diff.ts', ['strategies/macd.ts', '--run', run]);
  expect(diff.code, diff.stdout + diff.stderr).toBe(0);
  expect(diff.stdout).toMatch(/^signals: \d+ in the run, \d+ in the replay; \d+ matched, 0 mismatched \(0 unexplained\)$/m);
});
