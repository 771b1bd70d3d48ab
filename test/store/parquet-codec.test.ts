import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Table, tableFromArrays, tableFromIPC, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { readParquet, Table as WasmTable, writeParquet } from 'parquet-wasm';
import { describe, expect, it } from 'vitest';
import { allocateBatch, CANDLE_SOURCES, sliceBatch } from '../../framework/core/candle';
import type { CandleBatch } from '../../framework/core/candle';
import { CorruptDataError, InvalidCandleError } from '../../framework/core/errors';
import { decodeCandles, encodeCandles } from '../../framework/store/parquet-codec';
import { DATASETS, jsonRows, rowsToBatch } from './source-data';

/** 2,000 real BTC/USDT 5m candles with every source and a mix of known and unknown receivedAt. */
function mixedProvenance(): CandleBatch {
  const batch = rowsToBatch(jsonRows('BTC_USDT-5m.json').slice(10_000, 12_000));
  batch.openTime.forEach((t, i) => {
    batch.source[i] = i % CANDLE_SOURCES.length;
    batch.receivedAt[i] = i % 3 === 0 ? Number.NaN : t + 300_000 + i;
  });
  return batch;
}

const SHIPPED_1H = path.join(DATASETS, 'binance/BTC_USDT/1h/2021-02.parquet');

describe('parquet codec', () => {
  it('round-trips real candles with their provenance exactly', () => {
    const batch = mixedProvenance();
    const back = decodeCandles(encodeCandles(batch), 'memory');
    expect(back).toEqual(batch);
    expect(back.openTime.every((t) => Number.isSafeInteger(t))).toBe(true);
    expect(back.openTime[0]).toBe(jsonRows('BTC_USDT-5m.json')[10_000]![0]);
    expect(Array.from(back.receivedAt.subarray(0, 3))).toEqual([Number.NaN, back.openTime[1]! + 300_001, back.openTime[2]! + 300_002]);
  });

  it('is deterministic and round-trips an empty batch and views into a larger batch', () => {
    const batch = mixedProvenance();
    expect(encodeCandles(batch)).toEqual(encodeCandles(mixedProvenance()));
    expect(decodeCandles(encodeCandles(allocateBatch(0)), 'empty')).toEqual(allocateBatch(0));
    const view = sliceBatch(batch, 500, 700);
    expect(decodeCandles(encodeCandles(view), 'view')).toEqual(view);
  });

  it('refuses to encode what it could not store exactly', () => {
    const fractional = mixedProvenance();
    fractional.openTime[5] = 1.5;
    expect(() => encodeCandles(fractional)).toThrow(InvalidCandleError);
    const badSource = mixedProvenance();
    badSource.source[7] = 9;
    expect(() => encodeCandles(badSource)).toThrow(/source code 9 of row 7/);
  });

  it('names the file and the problem for truncated bytes', () => {
    const bytes = readFileSync(SHIPPED_1H);
    for (const cut of [bytes.subarray(0, bytes.length - 100), bytes.subarray(0, 7), new Uint8Array(0)]) {
      expect(() => decodeCandles(cut, SHIPPED_1H)).toThrow(CorruptDataError);
      expect(() => decodeCandles(cut, SHIPPED_1H)).toThrow(`${SHIPPED_1H}: not a readable Parquet file`);
    }
  });

  it('never returns wrong candles from a file with a flipped bit: it throws or gives the original', () => {
    const bytes = readFileSync(SHIPPED_1H);
    const original = decodeCandles(bytes, SHIPPED_1H);
    let thrown = 0;
    let tested = 0;
    for (let pos = 0; pos < bytes.length; pos += 47) {
      const flipped = Uint8Array.from(bytes);
      flipped[pos]! ^= 0x10;
      tested++;
      try {
        expect(decodeCandles(flipped, 'flipped.parquet')).toEqual(original);
      } catch (error) {
        expect(error).toBeInstanceOf(CorruptDataError);
        expect((error as Error).message.startsWith('flipped.parquet: ')).toBe(true);
        thrown++;
      }
    }
    // Flips in statistics or the writer's name change no candle; everything else must be caught.
    expect(thrown / tested).toBeGreaterThan(0.9);
    // A flip inside a data page is caught by the checksum.
    const dataPage = Uint8Array.from(bytes);
    dataPage[100]! ^= 0x01;
    expect(() => decodeCandles(dataPage, 'page.parquet')).toThrow(/page\.parquet: checksum mismatch/);
    // The reader still works after the failures above.
    expect(decodeCandles(bytes, SHIPPED_1H)).toEqual(original);
  });

  it('rejects a foreign Parquet file, naming the columns it has', () => {
    const foreign = tableFromArrays({ time: new Float64Array([1, 2]), price: new Float64Array([3, 4]) });
    const bytes = writeParquet(WasmTable.fromIPCStream(tableToIPC(foreign, 'stream')));
    expect(() => decodeCandles(bytes, 'foreign.parquet')).toThrow(
      'foreign.parquet: not a candle file: columns are [time, price], expected [open_time, open, high, low, close, volume, source, received_at]',
    );
  });

  it('rejects a file with the right column names but a wrong type', () => {
    const n = 2;
    const lookalike = tableFromArrays({
      open_time: new Float64Array([0, 60_000]),
      open: new Float64Array(n),
      high: new Float64Array(n),
      low: new Float64Array(n),
      close: new Float64Array(n),
      volume: new Float64Array(n),
      source: ['import', 'import'],
      received_at: new Float64Array(n),
    });
    const bytes = writeParquet(WasmTable.fromIPCStream(tableToIPC(lookalike, 'stream')));
    expect(() => decodeCandles(bytes, 'lookalike.parquet')).toThrow(
      'lookalike.parquet: column open_time is Float64, expected Timestamp<MILLISECOND, UTC>',
    );
  });

  it('rejects an unknown source, naming the row and the value', () => {
    // A real file's table with the source of row 1 replaced: everything else is a valid candle file.
    const table = tableFromIPC(readParquet(readFileSync(SHIPPED_1H)).intoIPCStream());
    const sources = Array.from({ length: table.numRows }, (_, i) => (i === 1 ? 'telepathy' : 'import'));
    const columns = Object.fromEntries(table.schema.fields.map((f) => [f.name, table.getChild(f.name)!]));
    const forged = new Table({ ...columns, source: vectorFromArray(sources, new Utf8()) });
    const bytes = writeParquet(WasmTable.fromIPCStream(tableToIPC(forged, 'stream')));
    expect(() => decodeCandles(bytes, 'forged.parquet')).toThrow(
      'forged.parquet: source of row 1 is "telepathy", expected one of import, resample, rest, websocket',
    );
  });
});

