/**
 * A run's equity curve as a Parquet file, `runs/<run-id>/equity.parquet`: one row per candle, readable by pandas,
 * polars, DuckDB or {@link readEquityFile}. Columnar and binary because a curve has a row per candle: a million candles
 * are 15 MB here and were 145 MB (and most of a backtest's time) as JSON lines.
 *
 * Schema (every column required):
 *
 * | column | Arrow type | meaning |
 * |---|---|---|
 * | `time` | Timestamp(MILLISECOND, "UTC") | open time of the candle the row is marked at (its close), UTC epoch ms |
 * | `equity` | Float64 | `cash + position_value`, quote currency |
 * | `cash` | Float64 | quote currency |
 * | `position_value` | Float64 | the open position marked at the close, quote currency (negative for a short) |
 *
 * @module
 */
import { writeSync, closeSync, readFileSync } from 'node:fs';
import { Field, Float64, makeData, RecordBatch, Schema, Struct, Table as ArrowTable, tableToIPC } from 'apache-arrow';
import type { Vector } from 'apache-arrow';
import { Compression, Encoding, Table as WasmTable, writeParquet, WriterPropertiesBuilder } from 'parquet-wasm';
import type { EquityCurve } from '../broker/equity-curve';
import { CorruptDataError, FrameworkError } from '../core/errors';
import { errorText, isFloat64, isUtcMillis, readParquetTable, readTimestamps, TIMESTAMP_TYPE, timestampData } from '../store/arrow-columns';
import { createArtifact } from './artifact';

/** File name of the equity curve inside a run directory. */
export const EQUITY_FILE = 'equity.parquet';

const VALUE_COLUMNS = [
  ['equity', 'equity'],
  ['cash', 'cash'],
  ['position_value', 'positionValue'],
] as const;

const SCHEMA = new Schema([
  new Field('time', TIMESTAMP_TYPE, false),
  ...VALUE_COLUMNS.map(([name]) => new Field(name, new Float64(), false)),
]);

/** Snappy, plain values (dictionaries cost more than they save on a million distinct doubles), delta-coded times. */
function writerProperties() {
  return new WriterPropertiesBuilder()
    .setCompression(Compression.SNAPPY)
    .setDictionaryEnabled(false)
    .setColumnEncoding('time', Encoding.DELTA_BINARY_PACKED)
    .build();
}

/**
 * Writes `curve` to the new file `path` (schema in the module comment), Snappy-compressed.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} when `path` exists (nothing is overwritten), the columns
 *   differ in length, or a time is not an integer number of ms; other file-system errors propagate.
 */
export function writeEquityFile(path: string, curve: EquityCurve): void {
  const n = curve.time.length;
  for (const [, key] of VALUE_COLUMNS) {
    if (curve[key].length !== n) throw new FrameworkError(`${path}: equity column ${key} has ${curve[key].length} rows for ${n} times`);
  }
  const children = [
    timestampData(curve.time, false, (row, value) => new FrameworkError(`${path}: time of row ${row} is ${value}, expected an integer number of ms`)),
    ...VALUE_COLUMNS.map(([, key]) => makeData({ type: new Float64(), data: curve[key], length: n, nullCount: 0 })),
  ];
  const record = new RecordBatch(SCHEMA, makeData({ type: new Struct(SCHEMA.fields), length: n, nullCount: 0, children }));
  const ipc = tableToIPC(new ArrowTable(SCHEMA, record), 'stream');
  const bytes = writeParquet(WasmTable.fromIPCStream(ipc), writerProperties());
  const fd = createArtifact(path);
  try {
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads an equity file written by {@link writeEquityFile}.
 *
 * @returns the curve; times are exact integers (UTC epoch ms).
 * @throws {@link "core/errors"!CorruptDataError | CorruptDataError} naming `path` when it is not a readable Parquet
 *   file or its columns are not the schema's; file-system errors (a missing file) propagate.
 */
export function readEquityFile(path: string): EquityCurve {
  let table: ArrowTable;
  try {
    table = readParquetTable(readFileSync(path));
  } catch (error) {
    throw new CorruptDataError(`${path}: not a readable Parquet file (${errorText(error)})`, { cause: error });
  }
  const names = table.schema.fields.map((f) => f.name);
  const expected = SCHEMA.fields.map((f) => f.name);
  if (names.join() !== expected.join()) {
    throw new CorruptDataError(`${path}: not an equity file: columns are [${names.join(', ')}], expected [${expected.join(', ')}]`);
  }
  const column = (name: string): Vector => table.getChild(name) as Vector;
  if (!isUtcMillis(column('time').type)) throw new CorruptDataError(`${path}: column time is ${String(column('time').type)}, expected Timestamp<MILLISECOND, UTC>`);
  const time = new Float64Array(table.numRows);
  readTimestamps(column('time'), time, (row) => new CorruptDataError(`${path}: time of row ${row} is not a safe integer`));
  const values = VALUE_COLUMNS.map(([name]) => {
    const vector = column(name);
    if (!isFloat64(vector.type) || vector.nullCount > 0) {
      throw new CorruptDataError(`${path}: column ${name} is ${String(vector.type)} with ${vector.nullCount} nulls, expected Float64 without nulls`);
    }
    return (vector.toArray() as Float64Array).slice();
  });
  return { time, equity: values[0]!, cash: values[1]!, positionValue: values[2]! };
}
