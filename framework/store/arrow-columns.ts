/**
 * Arrow column helpers shared by the project's Parquet files (candles, equity curves): timestamps in UTC epoch ms
 * to and from Arrow `Timestamp(MILLISECOND, "UTC")`, and reading a Parquet file into one Arrow table.
 *
 * @module
 */
import { DataType, makeData, Precision, Table as ArrowTable, tableFromIPC, TimestampMillisecond, TimeUnit } from 'apache-arrow';
import type { Vector } from 'apache-arrow';
import { readParquet } from 'parquet-wasm';
import { endianness } from 'node:os';

const TWO_32 = 2 ** 32;
/** Positions of the low and high 32-bit word of an int64 in memory (platform byte order). */
const [LOW, HIGH] = endianness() === 'LE' ? [0, 1] : [1, 0];

/** Arrow type of every timestamp column the project writes: ms since the epoch, UTC. */
export const TIMESTAMP_TYPE = new TimestampMillisecond('UTC');

/**
 * Batch size passed to the Parquet reader. The reader caps it at the file's row count
 * (`ParquetRecordBatchReaderBuilder::build` in the Rust `parquet` crate), so every file comes back as one batch.
 */
const READ_BATCH_SIZE = 2 ** 31 - 1;

/**
 * Reads a whole Parquet file into one Arrow table (one record batch, columns zero-copy where Arrow allows).
 *
 * @throws Error from parquet-wasm when the bytes are not a readable Parquet file.
 */
export function readParquetTable(bytes: Uint8Array): ArrowTable {
  return tableFromIPC(readParquet(bytes, { batchSize: READ_BATCH_SIZE }).intoIPCStream());
}

/**
 * Arrow data of a timestamp column from UTC epoch-ms values; NaN becomes null when `nullable`.
 *
 * @param notInteger - the error to throw for row `row` holding `value`, which is not a safe integer (or NaN when not
 *   `nullable`).
 */
export function timestampData(values: Float64Array, nullable: boolean, notInteger: (row: number, value: number) => Error) {
  const n = values.length;
  const ints = new BigInt64Array(n);
  const words = new Int32Array(ints.buffer);
  const validity = new Uint8Array((n + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (nullable && Number.isNaN(v)) {
      nullCount++;
      continue;
    }
    if (!Number.isSafeInteger(v)) throw notInteger(i, v);
    // The int64 as two 32-bit words, two's complement (a BigInt per row costs ten times more).
    words[2 * i + LOW] = v % TWO_32;
    words[2 * i + HIGH] = Math.floor(v / TWO_32);
    validity[i >> 3]! |= 1 << (i & 7);
  }
  return makeData({ type: TIMESTAMP_TYPE, data: ints, length: n, nullCount, nullBitmap: nullCount > 0 ? validity : null });
}

/**
 * Copies a timestamp column into `out` as exact integers (Arrow gives int64 as bigint, or number in some builds);
 * nulls become NaN.
 *
 * @param notSafe - the error to throw for a row whose value does not fit a double exactly.
 */
export function readTimestamps(vector: Vector, out: Float64Array, notSafe: (row: number) => Error): void {
  let row = 0;
  for (const chunk of vector.data) {
    const values = chunk.values as ArrayLike<bigint | number>;
    // From the two 32-bit words when Arrow gives int64s (exact below 2^53, which the check below requires).
    const words = values instanceof BigInt64Array ? new Int32Array(values.buffer, values.byteOffset, 2 * values.length) : null;
    const nulls = chunk.nullCount > 0 ? (chunk.nullBitmap ?? null) : null;
    for (let i = 0; i < chunk.length; i++, row++) {
      const bit = chunk.offset + i;
      if (nulls !== null && ((nulls[bit >> 3]! >> (bit & 7)) & 1) === 0) {
        out[row] = Number.NaN;
        continue;
      }
      const ms = words === null ? Number(values[i]!) : words[2 * i + HIGH]! * TWO_32 + (words[2 * i + LOW]! >>> 0);
      if (!Number.isSafeInteger(ms)) throw notSafe(row);
      out[row] = ms;
    }
  }
}

/** Whether `type` is a UTC millisecond timestamp. */
export function isUtcMillis(type: DataType): boolean {
  return DataType.isTimestamp(type) && type.unit === TimeUnit.MILLISECOND && type.timezone === 'UTC';
}

/** Whether `type` is a 64-bit float. */
export function isFloat64(type: DataType): boolean {
  return DataType.isFloat(type) && type.precision === Precision.DOUBLE;
}

/** The message of a thrown value. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
