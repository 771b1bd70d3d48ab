import { cpSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { allocateBatch, sourceCode } from '../../framework/core/candle';
import { CorruptDataError, DatasetNotFoundError, InvalidCandleError } from '../../framework/core/errors';
import { readDataset, readPartitionFile, writeCandles } from '../../framework/store/partitions';
import { batchRows, DATASETS, jsonRows, rowsToBatch, tempDir, utc } from './source-data';

const ETH_1H = { exchange: 'binance', symbol: 'ETH/USDT', timeframe: '1h' };
const ETH_1H_DIR = 'binance/ETH_USDT/1h';

/** A temporary datasets folder holding a copy of the shipped ETH/USDT 1h dataset. */
function copyOfEth1h(): string {
  const root = tempDir('partitions-');
  cpSync(path.join(DATASETS, ETH_1H_DIR), path.join(root, ETH_1H_DIR), { recursive: true });
  return root;
}

function fileBytes(root: string, month: string): Buffer {
  return readFileSync(path.join(root, ETH_1H_DIR, `${month}.parquet`));
}

describe('readDataset', () => {
  it('reads only the requested open times, from inclusive and to exclusive, across months', () => {
    const from = utc('2021-01-31T22:00:00Z');
    const to = utc('2021-02-01T03:00:00Z');
    const expected = jsonRows('ETH_USDT-1h.json').filter((r) => r[0] >= from && r[0] < to);
    expect(expected.length).toBe(5);
    expect(batchRows(readDataset(DATASETS, ETH_1H, { from, to }))).toEqual(expected);
    const fromOnly = jsonRows('ETH_USDT-1h.json').filter((r) => r[0] >= utc('2021-07-17T00:00:00Z'));
    expect(batchRows(readDataset(DATASETS, ETH_1H, { from: utc('2021-07-17T00:00:00Z') }))).toEqual(fromOnly);
    expect(readDataset(DATASETS, ETH_1H, { to: utc('2020-01-01T00:00:00Z') }).openTime.length).toBe(0);
  });

  it('reads only the partitions the range needs', () => {
    const root = copyOfEth1h();
    truncateSync(path.join(root, ETH_1H_DIR, '2021-03.parquet'), 10);
    const feb = readDataset(root, ETH_1H, { from: utc('2021-02-01T00:00:00Z'), to: utc('2021-03-01T00:00:00Z') });
    expect(feb.openTime.length).toBe(jsonRows('ETH_USDT-1h.json').filter((r) => monthOfRow(r[0]) === '2021-02').length);
    expect(() => readDataset(root, ETH_1H)).toThrow(CorruptDataError);
  });

  it('names the missing folder and lists the datasets that exist', () => {
    const missing = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '4h' };
    expect(() => readDataset(DATASETS, missing)).toThrow(DatasetNotFoundError);
    expect(() => readDataset(DATASETS, missing)).toThrow(
      `dataset binance BTC/USDT 4h not found: no partition files in ${path.join(DATASETS, 'binance/BTC_USDT/4h')}; ` +
        `datasets under ${DATASETS}: binance BTC/USDT 1m, binance BTC/USDT 5m, binance BTC/USDT 15m, binance BTC/USDT 1h, ` +
        'binance ETH/USDT 5m, binance ETH/USDT 15m, binance ETH/USDT 1h',
    );
    const empty = tempDir('empty-');
    mkdirSync(path.join(empty, ETH_1H_DIR), { recursive: true });
    expect(() => readDataset(empty, ETH_1H)).toThrow(`no datasets under ${empty}`);
  });

  it('reports a corrupted partition by name and leaves it untouched', () => {
    const root = copyOfEth1h();
    const file = path.join(root, ETH_1H_DIR, '2021-04.parquet');
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1]! ^= 0xff;
    writeFileSync(file, bytes);
    expect(() => readDataset(root, ETH_1H)).toThrow(CorruptDataError);
    expect(() => readDataset(root, ETH_1H)).toThrow(`${file}: `);
    expect(readFileSync(file)).toEqual(bytes);
    expect(readFileSync(path.join(DATASETS, ETH_1H_DIR, '2021-04.parquet'))).not.toEqual(bytes);
    expect(() => readPartitionFile(file)).toThrow(file);
  });

  it('rejects a partition holding candles of another month', () => {
    const root = copyOfEth1h();
    const dir = path.join(root, ETH_1H_DIR);
    cpSync(path.join(dir, '2021-01.parquet'), path.join(dir, '2021-08.parquet'));
    expect(() => readDataset(root, ETH_1H)).toThrow(
      `${path.join(dir, '2021-08.parquet')}: row 0 has open time 2021-01-01T00:00:00.000Z, outside the file's month`,
    );
  });
});

describe('writeCandles', () => {
  it('merges into the existing month: a candle with the same open time is replaced, the result sorted', () => {
    const root = copyOfEth1h();
    const before = readDataset(root, ETH_1H);
    const untouchedMonth = fileBytes(root, '2021-03');
    // Two revised candles (given out of order) of 2021-02 and one new candle after the data ends (2021-07-17 21:00).
    const revised = [utc('2021-02-10T05:00:00Z'), utc('2021-02-03T00:00:00Z'), utc('2021-07-17T21:00:00Z')];
    const batch = allocateBatch(3);
    revised.forEach((t, i) => {
      batch.openTime[i] = t;
      batch.open[i] = 1000 + i;
      batch.high[i] = 1010 + i;
      batch.low[i] = 990 + i;
      batch.close[i] = 1005 + i;
      batch.volume[i] = 7 + i;
      batch.receivedAt[i] = t + 3_600_000 + 250;
      batch.source[i] = sourceCode('rest');
    });
    const written = writeCandles(root, ETH_1H, batch);
    expect(written).toEqual([path.join(root, ETH_1H_DIR, '2021-02.parquet'), path.join(root, ETH_1H_DIR, '2021-07.parquet')]);

    const after = readDataset(root, ETH_1H);
    expect(after.openTime.length).toBe(before.openTime.length + 1);
    const rows = new Map(batchRows(after).map((r, i) => [r[0], { row: r, source: after.source[i]!, receivedAt: after.receivedAt[i]! }]));
    revised.forEach((t, i) => {
      expect(rows.get(t)).toEqual({
        row: [t, 1000 + i, 1010 + i, 990 + i, 1005 + i, 7 + i],
        source: sourceCode('rest'),
        receivedAt: t + 3_600_250,
      });
    });
    // Every other candle is as before, and the order is strictly increasing.
    const kept = batchRows(before).filter((r) => !revised.includes(r[0]));
    expect(batchRows(after).filter((r) => !revised.includes(r[0]))).toEqual(kept);
    expect(after.openTime.every((t, i) => i === 0 || t > after.openTime[i - 1]!)).toBe(true);
    expect(fileBytes(root, '2021-03')).toEqual(untouchedMonth);
    expect(readdirSync(path.join(root, ETH_1H_DIR)).filter((n) => !n.endsWith('.parquet'))).toEqual([]);
  });

  it('creates a new dataset, and the later of two rows with the same open time wins', () => {
    const root = tempDir('new-dataset-');
    const rows = jsonRows('BTC_USDT-1h.json').slice(0, 3);
    const batch = rowsToBatch([...rows, [rows[1]![0], 1, 2, 0.5, 1.5, 9]]);
    writeCandles(root, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' }, batch);
    const back = readDataset(root, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' });
    expect(batchRows(back)).toEqual([rows[0], [rows[1]![0], 1, 2, 0.5, 1.5, 9], rows[2]]);
  });

  it('writes nothing when a candle is misaligned or an existing partition to merge is corrupted', () => {
    const root = copyOfEth1h();
    const jan = fileBytes(root, '2021-01');
    const misaligned = rowsToBatch([[utc('2021-01-05T10:30:00Z'), 1, 1, 1, 1, 1]]);
    expect(() => writeCandles(root, ETH_1H, misaligned)).toThrow(InvalidCandleError);
    expect(() => writeCandles(root, ETH_1H, misaligned)).toThrow('cannot store candles in binance ETH/USDT 1h: row 0');

    const mayFile = path.join(root, ETH_1H_DIR, '2021-05.parquet');
    truncateSync(mayFile, 1000);
    const damaged = readFileSync(mayFile);
    const janAndMay = rowsToBatch([
      [utc('2021-01-05T10:00:00Z'), 1, 1, 1, 1, 1],
      [utc('2021-05-05T10:00:00Z'), 1, 1, 1, 1, 1],
    ]);
    expect(() => writeCandles(root, ETH_1H, janAndMay)).toThrow(`${mayFile}: not a readable Parquet file`);
    expect(fileBytes(root, '2021-01')).toEqual(jan);
    expect(readFileSync(mayFile)).toEqual(damaged);
  });

  it('leaves no temporary file behind when the final rename fails', () => {
    const root = tempDir('rename-fails-');
    const subscription = { exchange: 'binance', symbol: 'ETH/USDT', timeframe: '1h' };
    const dir = path.join(root, ETH_1H_DIR);
    mkdirSync(path.join(dir, '2020-12.parquet', 'blocker'), { recursive: true });
    const batch = rowsToBatch(jsonRows('ETH_USDT-1h.json').slice(0, 2));
    expect(() => writeCandles(root, subscription, batch)).toThrow(/rename/);
    expect(readdirSync(dir)).toEqual(['2020-12.parquet']);
  });
});

function monthOfRow(t: number): string {
  return new Date(t).toISOString().slice(0, 7);
}
