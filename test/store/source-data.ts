/**
 * Test helpers for the store and resampler tests: the real candle JSON files of `../shared/data`, read straight from
 * their JSON (not through the store or the pipeline), an independent resampler, and the shipped datasets folder.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, onTestFinished } from 'vitest';
import { allocateBatch, sourceCode } from '../../framework/core/candle';
import type { CandleBatch } from '../../framework/core/candle';

/** The real exchange data shared beside the checkout. */
export const SHARED_DATA = path.resolve(import.meta.dirname, '../../../shared/data');

/** The shipped datasets folder of this repository. */
export const DATASETS = path.resolve(import.meta.dirname, '../../datasets');

/** `[open_time_ms, open, high, low, close, volume]`, as in the JSON files. */
export type Row = readonly [number, number, number, number, number, number];

const cache = new Map<string, Row[]>();

/** The rows of a JSON file in `../shared/data`, e.g. `BTC_USDT-5m.json` (cached; do not mutate). */
export function jsonRows(file: string): Row[] {
  let rows = cache.get(file);
  if (rows === undefined) {
    rows = JSON.parse(readFileSync(path.join(SHARED_DATA, file), 'utf8')) as Row[];
    cache.set(file, rows);
  }
  return rows;
}

/** Rows as an imported batch (source `import`, receivedAt unknown). */
export function rowsToBatch(rows: readonly Row[]): CandleBatch {
  const batch = allocateBatch(rows.length);
  rows.forEach((row, i) => {
    [batch.openTime[i], batch.open[i], batch.high[i], batch.low[i], batch.close[i], batch.volume[i]] = row;
    batch.receivedAt[i] = Number.NaN;
    batch.source[i] = sourceCode('import');
  });
  return batch;
}

/** The OHLCV rows of a batch. */
export function batchRows(batch: CandleBatch): Row[] {
  const { open, high, low, close, volume } = batch;
  return Array.from(batch.openTime, (t, i) => [t, open[i]!, high[i]!, low[i]!, close[i]!, volume[i]!] as const);
}

/**
 * `expect(actual).toEqual(expected)` for long lists of rows, at a fraction of the cost: vitest's deep equality spent
 * seconds on the shipped datasets' rows (profiled). Values compare with `Object.is`, as `toEqual` compares numbers; the
 * first row that differs goes to `toEqual` with its index, so that a failure shows it.
 */
export function expectSameRows(actual: readonly Row[], expected: readonly Row[]): void {
  expect(actual.length, 'rows').toBe(expected.length);
  const differs = (row: Row, other: Row): boolean => row.length !== other.length || row.some((v, j) => !Object.is(v, other[j]));
  const index = actual.findIndex((row, i) => differs(row, expected[i]!));
  if (index >= 0) expect({ index, row: actual[index] }).toEqual({ index, row: expected[index] });
}

/**
 * Independent resampler for the tests: groups rows in a Map keyed by `Math.floor(t / len) * len` and aggregates the
 * groups that have `len / fromLen` rows (or every group when `keepIncomplete`). Volumes are summed and given with
 * Binance's 8 decimals.
 */
export function groupResample(rows: readonly Row[], fromLen: number, len: number, keepIncomplete = false): Row[] {
  const groups = new Map<number, Row[]>();
  for (const row of rows) {
    const key = Math.floor(row[0] / len) * len;
    const group = groups.get(key) ?? [];
    group.push(row);
    groups.set(key, group);
  }
  const out: Row[] = [];
  for (const [key, group] of groups) {
    if (group.length !== len / fromLen && !keepIncomplete) continue;
    let volume = 0;
    for (const r of group) volume += r[5];
    out.push([
      key,
      group[0]![1],
      Math.max(...group.map((r) => r[2])),
      Math.min(...group.map((r) => r[3])),
      group[group.length - 1]![4],
      Number(volume.toFixed(8)),
    ]);
  }
  return out;
}

/** `2021-04-22T02:10:00Z`-style UTC time → epoch ms. */
export function utc(iso: string): number {
  return Date.parse(iso);
}

/** A fresh temporary folder, removed when the current test finishes. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
