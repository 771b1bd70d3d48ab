import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type CliOutcome } from '../support/cli';
import { batchFromCandles, CANDLE_SOURCES, type Candle } from '../../framework/core/candle';
import type { Subscription } from '../../framework/core/subscription';
import { readDataset, writeCandles } from '../../framework/store/partitions';
import { readKnownGaps } from '../../framework/store/known-gaps';
import { listDatasets } from '../../framework/store/layout';
import { verifyCandles } from '../../framework/pipeline/verify';
import { loadJsonCandles } from '../support/shared-data';
import { BTC_5M, plainGaps, rowsOf, slice } from './support';

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
const minuteUtc = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
const iso = (ms: number): string => new Date(ms).toISOString();

/** The gap lines of a continuity report, written out from `[first missing, last missing, count]` runs. */
function gapLines(gaps: readonly [number, number, number][]): string[] {
  return gaps.map(([start, end, missing]) =>
    missing === 1 ? `1 candle missing at ${iso(start)}` : `${missing} candles missing from ${iso(start)} to ${iso(end)}`,
  );
}

describe('npm run data -- list', () => {
  it('prints every dataset with its span, candle count, gaps and missing candles', async () => {
    const root = copyOfDatasets('list');
    const { code, stdout } = await data('list', '--datasets', root);
    expect(code).toBe(0);
    const rows = stdout
      .split('\n')
      .filter((line) => line.includes('binance '))
      .map((line) => line.split('│').map((cell) => cell.trim()).filter((cell) => cell !== ''));
    const row = (dataset: string, candles: readonly Candle[], tfMs: number): string[] => {
      const times = candles.map((c) => c.openTime);
      const gaps = plainGaps(times, tfMs);
      return [dataset, String(times.length), minuteUtc(times[0]!), minuteUtc(times.at(-1)!), String(gaps.length), String(gaps.reduce((s, g) => s + g[2], 0))];
    };
    const btc15m = rowsOf(readDataset(root, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' }));
    const eth15m = rowsOf(readDataset(root, { exchange: 'binance', symbol: 'ETH/USDT', timeframe: '15m' }));
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
  it('rebuilds the shipped 15m from the 5m, lists the dropped buckets, and refuses to overwrite without --force', async () => {
    const root = copyOfDatasets('resample');
    rmSync(path.join(root, 'binance', 'BTC_USDT', '15m'), { recursive: true });
    const { code, stdout } = await data('resample', 'binance/BTC_USDT/5m', '15m', '--datasets', root);
    expect(code).toBe(0);

    // Independently: group the 5m candles of ../shared/data by 15-minute bucket; full buckets make a candle.
    const buckets = new Map<number, Candle[]>();
    for (const c of BTC_5M) {
      const bucket = c.openTime - (c.openTime % (15 * MINUTE));
      buckets.set(bucket, [...(buckets.get(bucket) ?? []), c]);
    }
    const expected: Candle[] = [];
    const dropped: number[] = [];
    for (const [openTime, parts] of buckets) {
      if (parts.length < 3) {
        dropped.push(openTime);
        continue;
      }
      expected.push({
        openTime,
        open: parts[0]!.open,
        high: Math.max(...parts.map((p) => p.high)),
        low: Math.min(...parts.map((p) => p.low)),
        close: parts[2]!.close,
        volume: parts.reduce((s, p) => s + p.volume, 0),
      });
    }
    const sub15m: Subscription = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' };
    const written = readDataset(root, sub15m);
    const rows = rowsOf(written);
    expect(rows.map(({ volume: _v, ...ohlc }) => ohlc)).toEqual(expected.map(({ volume: _v, ...ohlc }) => ohlc));
    // Volumes: the resampler rounds the sum to Binance's 8 decimals.
    expect(Math.max(...rows.map((r, i) => Math.abs(r.volume - expected[i]!.volume)))).toBeLessThanOrEqual(5e-9);
    expect(Array.from(written.source, (s) => CANDLE_SOURCES[s])).toEqual(rows.map(() => 'resample'));
    // ... and byte for byte the shipped 15m dataset.
    expect(rows).toEqual(rowsOf(readDataset('datasets', sub15m)));

    expect(stdout).toContain(`binance BTC/USDT 15m: ${expected.length} candles written`);
    expect(stdout).toContain(`incomplete buckets dropped: ${dropped.length}`);
    for (const t of dropped) expect(stdout).toContain(`  - ${iso(t)}`);

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
