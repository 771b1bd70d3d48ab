/**
 * Arrow helpers shared by the project's Parquet files (candles, equity curves, signal journals, trades): columns built
 * row by row (timestamps in UTC epoch ms as Arrow `Timestamp(MILLISECOND, "UTC")`, numbers, strings, booleans, with
 * their validity bitmaps), tables handed to the Parquet codec, and a Parquet file read back into one Arrow table.
 *
 * @module
 */
import { arrow } from './arrow';
import type { Data, DataType, Field, Table as ArrowTable, Vector } from 'apache-arrow';
import type { Table as WasmTable } from 'parquet-wasm';
import { parquet } from './parquet';
import { endianness } from 'node:os';
import { CorruptDataError, messageOf } from '../core/errors';

const TWO_32 = 2 ** 32;
/** Positions of the low and high 32-bit word of an int64 in memory (platform byte order). */
const [LOW, HIGH] = endianness() === 'LE' ? [0, 1] : [1, 0];

/** Arrow type of every timestamp column the project writes: ms since the epoch, UTC. */
export const TIMESTAMP_TYPE = new arrow.TimestampMillisecond('UTC');

/**
 * Batch size passed to the Parquet reader. The reader caps it at the file's row count
 * (`ParquetRecordBatchReaderBuilder::build` in the Rust `parquet` crate), so every file comes back as one batch.
 */
const READ_BATCH_SIZE = 2 ** 31 - 1;

/**
 * Reads a whole Parquet file into one Arrow table (one record batch, columns zero-copy where Arrow allows).
 *
 * @param where - what the bytes are (normally the file path), named in the error.
 * @throws {@link "core/errors"!CorruptDataError | CorruptDataError} naming `where` when the bytes are not a readable
 *   Parquet file.
 */
export function readParquetTable(bytes: Uint8Array, where: string): ArrowTable {
  try {
    return arrow.tableFromIPC(parquet.readParquet(bytes, { batchSize: READ_BATCH_SIZE }).intoIPCStream());
  } catch (error) {
    throw new CorruptDataError(`${where}: not a readable Parquet file (${messageOf(error)})`, { cause: error });
  }
}

/** A column of a table being built: its field and its data. */
export type TableColumn = readonly [Field, Data];

/**
 * The columns `fields` / `children` (each `length` rows) as a table of the Parquet codec (parquet-wasm), which takes
 * it as an Arrow IPC stream.
 */
export function codecTable(fields: readonly Field[], children: readonly Data[], length: number): WasmTable {
  const schema = new arrow.Schema([...fields]);
  const batch = new arrow.RecordBatch(schema, arrow.makeData({ type: new arrow.Struct(schema.fields), length, nullCount: 0, children: [...children] }));
  return parquet.Table.fromIPCStream(arrow.tableToIPC(new arrow.Table(schema, batch), 'stream'));
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
  const validity = new Bitmap(n);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (nullable && Number.isNaN(v)) continue;
    if (!Number.isSafeInteger(v)) throw notInteger(i, v);
    // The int64 as two 32-bit words, two's complement (a BigInt per row costs ten times more).
    words[2 * i + LOW] = v % TWO_32;
    words[2 * i + HIGH] = Math.floor(v / TWO_32);
    validity.set(i);
  }
  return arrow.makeData({ type: TIMESTAMP_TYPE, data: ints, length: n, ...validity.validity() });
}

/** {@link timestampData} as the column `name`. */
export function timestampColumn(
  name: string,
  values: Float64Array,
  nullable: boolean,
  notInteger: (row: number, value: number) => Error,
): TableColumn {
  return [new arrow.Field(name, TIMESTAMP_TYPE, nullable), timestampData(values, nullable, notInteger)];
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
  return arrow.DataType.isTimestamp(type) && type.unit === arrow.TimeUnit.MILLISECOND && type.timezone === 'UTC';
}

/** Whether `type` is a 64-bit float. */
export function isFloat64(type: DataType): boolean {
  return arrow.DataType.isFloat(type) && type.precision === arrow.Precision.DOUBLE;
}

/** A Float64 column without nulls (the values are not copied). */
export function float64Column(name: string, values: Float64Array): TableColumn {
  const type = new arrow.Float64();
  return [new arrow.Field(name, type, false), arrow.makeData({ type, data: values, length: values.length, nullCount: 0 })];
}

/** An Arrow bitmap of `length` bits, all clear at first (as validity: bit i set = row i holds a value). */
export class Bitmap {
  /** The bits, least significant first within each byte (Arrow's layout). */
  readonly bytes: Uint8Array;
  #set = 0;

  /** @param length - number of bits (rows). */
  constructor(readonly length: number) {
    this.bytes = new Uint8Array((length + 7) >> 3);
  }

  /** Sets bit `i` (once per bit: the count of set bits is kept). */
  set(i: number): void {
    this.bytes[i >> 3]! |= 1 << (i & 7);
    this.#set++;
  }

  /** As a validity bitmap: `nullCount` and, when there are nulls, `nullBitmap`, as `makeData` takes them. */
  validity(): { nullCount: number; nullBitmap: Uint8Array | null } {
    const nullCount = this.length - this.#set;
    return { nullCount, nullBitmap: nullCount > 0 ? this.bytes : null };
  }
}

/** A nullable Float64 column being filled (undefined is null). */
export class NullableFloat64Column {
  readonly #values: Float64Array;
  readonly #validity: Bitmap;

  /** @param length - number of rows. */
  constructor(length: number) {
    this.#values = new Float64Array(length);
    this.#validity = new Bitmap(length);
  }

  /** Sets row `i` (undefined: leaves it null). */
  set(i: number, value: number | undefined): void {
    if (value === undefined) return;
    this.#values[i] = value;
    this.#validity.set(i);
  }

  /** The filled column, named `name`. */
  column(name: string): TableColumn {
    const type = new arrow.Float64();
    return [new arrow.Field(name, type, true), arrow.makeData({ type, data: this.#values, length: this.#values.length, ...this.#validity.validity() })];
  }
}

/**
 * A Utf8 column being filled (undefined is null). A run's strings are few distinct ones (actions, tags, reasons, exit
 * reasons) repeated: each is UTF-8-encoded once.
 */
export class Utf8Column {
  readonly #values: (string | undefined)[];
  readonly #encoded = new Map<string, Uint8Array>();

  /** @param length - number of rows. */
  constructor(length: number) {
    this.#values = new Array(length);
  }

  /** Sets row `i` (undefined: leaves it null). */
  set(i: number, value: string | undefined): void {
    this.#values[i] = value;
  }

  /** The filled column, named `name`; `nullable` declares whether the field may hold nulls. */
  column(name: string, nullable: boolean): TableColumn {
    const values = this.#values;
    const valueOffsets = new Int32Array(values.length + 1);
    const validity = new Bitmap(values.length);
    let size = 0;
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (value !== undefined) {
        size += this.#bytes(value).length;
        validity.set(i);
      }
      valueOffsets[i + 1] = size;
    }
    const data = new Uint8Array(size);
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (value !== undefined) data.set(this.#bytes(value), valueOffsets[i]!);
    }
    const type = new arrow.Utf8();
    return [new arrow.Field(name, type, nullable), arrow.makeData({ type, data, valueOffsets, length: values.length, ...validity.validity() })];
  }

  #bytes(text: string): Uint8Array {
    let bytes = this.#encoded.get(text);
    if (bytes === undefined) this.#encoded.set(text, (bytes = new TextEncoder().encode(text)));
    return bytes;
  }
}

/** A Bool column without nulls: bit i of `bits` is row i. */
export function boolColumn(name: string, bits: Bitmap): TableColumn {
  const type = new arrow.Bool();
  return [new arrow.Field(name, type, false), arrow.makeData({ type, data: bits.bytes, length: bits.length, nullCount: 0 })];
}
