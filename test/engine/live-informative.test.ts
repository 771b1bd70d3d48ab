/**
 * `npm run live`'s informative subscriptions on the in-process simulator, through the real feeds:
 * strategies/macd-trend-filter.ts (15m traded, 1h informative). Its `candles.jsonl` lists every live 1h candle once, in
 * order, with the dataset's values, each before the 15m candle it closed with (the barrier across feeds), and
 * `npm run diff`'s replay of the run gives the same signals.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runLive } from '../../framework/node/live';
import { diffRun } from '../../framework/parity/diff';
import { readDataset } from '../../framework/store/partitions';

const FILE = 'strategies/macd-trend-filter.ts';
const H1 = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' } as const;
const HOUR = 3_600_000;
const scratch = mkdtempSync(path.join(tmpdir(), 'live-informative-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

it('journals each live 1h candle once, before the 15m candle it closed with; the replay agrees', { timeout: 240_000 }, async () => {
  const live = await runLive({
    file: FILE,
    simulator: { start: Date.UTC(2021, 0, 10), speed: 10_000 },
    storeRoot: path.join(scratch, 'store'),
    runsRoot: path.join(scratch, 'runs'),
    maxCandles: 80,
  });
  expect(live.liveCandles).toHaveLength(80);
  const lines = readFileSync(path.join(live.dir, 'candles.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { openTime: number; close: number; market?: string });
  const hourly = lines.filter((l) => l.market !== undefined);
  expect(new Set(hourly.map((l) => l.market))).toEqual(new Set(['binance BTC/USDT 1h']));

  // The 1h candles journaled are the dataset's, consecutive, each once, with its values.
  const dataset = readDataset('datasets', H1, { from: hourly[0]!.openTime, to: hourly.at(-1)!.openTime + 1 });
  expect(hourly.map((l) => l.openTime)).toEqual(Array.from(dataset.openTime));
  expect(hourly.map((l) => l.close)).toEqual(Array.from(dataset.close));
  // 80 traded 15m candles span 20 hours: every hour closing among them after the first is journaled.
  expect(hourly.length).toBeGreaterThanOrEqual(80 / 4 - 1);

  // Each 15m line comes after every 1h line closing at or before its close (later 1h lines may come before it too).
  let hourlyClosedUpTo = -Infinity;
  let checked = 0;
  for (const line of lines) {
    if (line.market !== undefined) hourlyClosedUpTo = line.openTime + HOUR;
    else if (line.openTime + 15 * 60_000 > hourly[0]!.openTime + HOUR) {
      expect(hourlyClosedUpTo, `15m candle ${new Date(line.openTime).toISOString()}`).toBeGreaterThanOrEqual(Math.floor((line.openTime + 15 * 60_000) / HOUR) * HOUR);
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(60);

  const diff = await diffRun(FILE, live.dir);
  expect(diff.mismatches).toEqual([]);
  expect(diff.matched).toBe(diff.liveSignals);
  expect(diff.indicatorDrift).toBe(0);
});
