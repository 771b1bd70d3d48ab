import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type CliOutcome } from '../support/cli';
import { batchFromCandles } from '../../framework/core/candle';
import type { Subscription } from '../../framework/core/subscription';
import { readDataset, writeCandles } from '../../framework/store/partitions';
import { readKnownGaps } from '../../framework/store/known-gaps';
import { listDatasets } from '../../framework/store/layout';
import { verifyCandles } from '../../framework/pipeline/verify';
import { loadJsonCandles } from '../support/shared-data';
import { BTC_5M, btc15mFrom5m, plainGaps, slice } from './support';

const scratch = mkdtempSync(path.join(tmpdir(), 'data-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function data(...args: string[]): Promise<CliOutcome> {
  return runCli('framework/cli/data.ts', args);
}

/** A fresh copy of the shipped datasets. */
function copyOfDatasets(name: string): string {
  const root = path.join(scratch, name);
  cpSync('datasets', root, { recursive: true });
  return root;
}

/** Bytes of every file below `dir`, to show that a refused command changed nothing. */
function contents(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out[path.relative(dir, path.join(entry.parentPath, entry.name))] = readFileSync(path.join(entry.parentPath, entry.name), 'base64');
  }
  return out;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const iso = (ms: number): string => new Date(ms).toISOString();

/** The gap lines of a continuity report, written out from `[first missing, last missing, count]` runs. */
function gapLines(gaps: readonly [number, number, number][]): string[] {
  return gaps.map(([start, end, missing]) =>
    missing === 1 ? `1 candle missing at ${iso(start)}` : `${missing} candles missing from ${iso(start)} to ${iso(end)}`,
  );
}

describe('npm run data -- list', () => {
  // Every dataset with its span, candle count, gaps and missing candles: on the README's own `npm run data -- list`
  // (test/cli/readme/backtests.test.ts).
  it('says so when there is no dataset', async () => {
    const { code, stdout } = await data('list', '--datasets', path.join(scratch, 'empty'));
    expect(code).toBe(0);
    expect(stdout).toContain('no datasets under');
  });
});

describe('npm run data -- verify', () => {
  it('accepts the real maintenance gap of the 1m data as a known outage; without the list it is NOT OK, exit 1', async () => {
    const root = copyOfDatasets('verify');
    const gaps = plainGaps(loadJsonCandles('BTC_USDT-1m.json').map((c) => c.openTime), MINUTE);
    expect(gaps).toHaveLength(1);
    const known = await data('verify', 'binance/BTC_USDT/1m', '--datasets', root);
    expect(known.code).toBe(0);
    expect(known.stdout).toContain('binance BTC/USDT 1m: OK');
    expect(known.stdout).toContain(`gaps:       1 (${gaps[0]![2]} missing candles; 1 known exchange outages)`);
    expect(known.stdout).toContain(`    - ${gapLines(gaps)[0]} (known exchange outage)`);

    rmSync(path.join(root, 'binance', 'known-gaps.json'));
    const { code, stdout } = await data('verify', 'binance/BTC_USDT/1m', '--datasets', root);
    expect(code).toBe(1);
    expect(stdout).toContain('binance BTC/USDT 1m: NOT OK (1 gaps)');
    expect(stdout).toContain(`gaps:       1 (${gaps[0]![2]} missing candles; 0 known exchange outages)`);
    expect(stdout).toContain(`    - ${gapLines(gaps)[0]}\n`);

    const allowed = await data('verify', 'binance/BTC_USDT/1m', '--datasets', root, '--allow-gaps');
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain('binance BTC/USDT 1m: OK');
  }, 240_000);

  it('finds every shipped dataset OK: its gaps are the Binance outages of known-gaps.json', () => {
    const known = readKnownGaps('datasets', 'binance');
    const datasets = listDatasets('datasets');
    expect(datasets).toHaveLength(7);
    for (const s of datasets) {
      const report = verifyCandles(readDataset('datasets', s), s.timeframe, s.symbol, { known });
      expect(report.gaps.length).toBeGreaterThan(0);
      expect({ dataset: s, ok: report.ok, known: report.known.length }).toEqual({ dataset: s, ok: true, known: report.gaps.length });
    }
  });

  it('reports a month removed from a copy, with the dataset named as exchange, symbol and timeframe', async () => {
    const root = copyOfDatasets('verify-hole');
    rmSync(path.join(root, 'binance', 'BTC_USDT', '1h', '2021-03.parquet'));
    const { code, stdout } = await data('verify', 'binance', 'BTC/USDT', '1h', '--datasets', root);
    expect(code).toBe(1);
    const times = loadJsonCandles('BTC_USDT-1h.json')
      .map((c) => c.openTime)
      .filter((t) => t < Date.UTC(2021, 2, 1) || t >= Date.UTC(2021, 3, 1));
    const gaps = plainGaps(times, HOUR);
    expect(gaps.some(([start, end]) => start === Date.UTC(2021, 2, 1) && end === Date.UTC(2021, 2, 31, 23))).toBe(true);
    const listed = stdout.split('\n').filter((l) => l.startsWith('    - ')).map((l) => l.slice(6).replace(' (known exchange outage)', ''));
    expect(listed).toEqual(gapLines(gaps));
    expect(stdout).toContain('binance BTC/USDT 1h: NOT OK (1 gaps)'); // the deleted month; the outages are known
    expect(stdout).toContain(`candles:    ${times.length}`);
  });

  it('says OK and exits 0 for continuous candles', async () => {
    const root = path.join(scratch, 'verify-ok');
    const sub: Subscription = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '5m' };
    const continuous = slice(BTC_5M, Date.UTC(2021, 2, 7), Date.UTC(2021, 3, 19));
    expect(plainGaps(continuous.map((c) => c.openTime), 5 * MINUTE)).toEqual([]);
    writeCandles(root, sub, batchFromCandles(continuous.map((c) => ({ ...c, source: 'import', receivedAt: null }))));
    const { code, stdout } = await data('verify', 'binance/BTC_USDT/5m', '--datasets', root);
    expect(code).toBe(0);
    expect(stdout).toContain('binance BTC/USDT 5m: OK');
    expect(stdout).toContain(`candles:    ${continuous.length}`);
  });

  it('fails with one line naming a dataset that does not exist', async () => {
    const { code, stderr } = await data('verify', 'binance/BTC_USDT/4h', '--datasets', 'datasets');
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: dataset binance BTC\/USDT 4h not found/);
  });
});

describe('npm run data -- resample', () => {
  // Rebuilding the shipped 15m from the 5m (the candles, the dropped buckets listed): on the README's own
  // `npm run data -- resample binance/BTC_USDT/5m 15m --out .tmp/datasets --force` (test/cli/readme/backtests.test.ts).
  it('refuses to overwrite the 15m without --force, and with --force --incomplete keep adds the incomplete buckets', async () => {
    const root = copyOfDatasets('resample');
    const { expected, dropped } = btc15mFrom5m();
    const sub15m: Subscription = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' };
    expect(readDataset(root, sub15m).openTime.length).toBe(expected.length);

    const before = contents(root);
    const refused = await data('resample', 'binance', 'BTC/USDT', '5m', '15m', '--datasets', root);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: binance BTC\/USDT 15m already exists in .*; pass --force/);
    expect(contents(root)).toEqual(before);

    const forced = await data('resample', 'binance/BTC_USDT/5m', '15m', '--incomplete', 'keep', '--force', '--datasets', root);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain(`binance BTC/USDT 15m: ${expected.length + dropped.length} candles written`);
    expect(forced.stdout).toContain(`incomplete buckets kept: ${dropped.length}`);
    expect(readDataset(root, sub15m).openTime.length).toBe(expected.length + dropped.length);
  });
});
