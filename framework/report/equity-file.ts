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
import { closeSync, readFileSync, rmSync } from 'node:fs';
import { arrow } from '../store/arrow';
import type { Data, Timestamp, Vector } from 'apache-arrow';
import type { RecordBatch as WasmRecordBatch } from 'parquet-wasm';
import { parquet } from '../store/parquet';
import type { EquityCurve } from '../broker/equity-curve';
import { CorruptDataError, FrameworkError } from '../core/errors';
import { codecTable, isFloat64, isUtcMillis, readParquetTable, readTimestamps, TIMESTAMP_TYPE, timestampData } from '../store/arrow-columns';
import { writeAll } from '../store/durable';
import { createArtifact } from './artifact';

/** File name of the equity curve inside a run directory. */
export const EQUITY_FILE = 'equity.parquet';

const VALUE_COLUMNS = [
  ['equity', 'equity'],
  ['cash', 'cash'],
  ['position_value', 'positionValue'],
] as const;

const SCHEMA = new arrow.Schema([
  new arrow.Field('time', TIMESTAMP_TYPE, false),
  ...VALUE_COLUMNS.map(([name]) => new arrow.Field(name, new arrow.Float64(), false)),
]);

/**
 * Rows per Parquet row group. The codec's WebAssembly memory grows to hold what it is given and never shrinks: written
 * whole, a million-candle curve grew it by 64 MB for the rest of the process; a row group at a time, not at all.
 */
const ROWS_PER_GROUP = 65_536;

/** Snappy, plain values (dictionaries cost more than they save on a million distinct doubles), delta-coded times. */
function writerProperties() {
  return new parquet.WriterPropertiesBuilder()
    .setCompression(parquet.Compression.SNAPPY)
    .setDictionaryEnabled(false)
    .setColumnEncoding('time', parquet.Encoding.DELTA_BINARY_PACKED)
    .setMaxRowGroupSize(ROWS_PER_GROUP)
    .build();
}

/**
 * Writes `curve` to the new file `path` (schema in the module comment), Snappy-compressed, in row groups of 65,536
 * rows streamed through the codec (parquet-wasm's `transformParquetStream`).
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} when `path` exists (nothing is overwritten), the columns
 *   differ in length, or a time is not an integer number of ms (then no file is created); other file-system and codec
 *   errors propagate, and the file begun is removed.
 */
export async function writeEquityFile(path: string, curve: EquityCurve): Promise<void> {
  const n = curve.time.length;
  for (const [, key] of VALUE_COLUMNS) {
    if (curve[key].length !== n) throw new FrameworkError(`${path}: equity column ${key} has ${curve[key].length} rows for ${n} times`);
  }
  // Every time is converted, and so checked, before the file is created.
  const time = timestampData(curve.time, false, (row, value) => new FrameworkError(`${path}: time of row ${row} is ${value}, expected an integer number of ms`));
  const fd = createArtifact(path);
  try {
    const bytes = await parquet.transformParquetStream(rowGroups(time, curve), writerProperties());
    for await (const chunk of bytes as AsyncIterable<Uint8Array>) {
      writeAll(fd, chunk);
    }
  } catch (error) {
    rmSync(path, { force: true });
    throw error;
  } finally {
    closeSync(fd);
  }
}

/**
 * The curve as a stream of the codec's record batches of {@link ROWS_PER_GROUP} rows, each made when asked for; an
 * empty curve is one empty batch (the codec takes the schema from the first batch).
 */
function rowGroups(time: Data<Timestamp>, curve: EquityCurve): ReadableStream<WasmRecordBatch> {
  let start = 0;
  let sent = false;
  return new ReadableStream<WasmRecordBatch>({
    pull(controller) {
      if (sent && start >= time.length) {
        controller.close();
        return;
      }
      const length = Math.min(ROWS_PER_GROUP, time.length - start);
      const children = [
        time.slice(start, length),
        ...VALUE_COLUMNS.map(([, key]) => arrow.makeData({ type: new arrow.Float64(), data: curve[key].subarray(start, start + length), length, nullCount: 0 })),
      ];
      const table = codecTable(SCHEMA.fields, children, length);
      controller.enqueue(table.recordBatch(0)!);
      table.free();
      start += length;
      sent = true;
    },
  });
}

/**
 * Reads an equity file written by {@link writeEquityFile}.
 *
 * @returns the curve; times are exact integers (UTC epoch ms).
 * @throws {@link "core/errors"!CorruptDataError | CorruptDataError} naming `path` when it is not a readable Parquet
 *   file or its columns are not the schema's; file-system errors (a missing file) propagate.
 */
export function readEquityFile(path: string): EquityCurve {
  const table = readParquetTable(readFileSync(path), path);
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
