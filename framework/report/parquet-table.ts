/**
 * Building and storing the Arrow tables of a run's Parquet files (`signals.parquet`, `trades.parquet`): column
 * builders filled row by row, and the file written and read whole through parquet-wasm.
 *
 * @module
 */
import { closeSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { Bool, Field, Float64, makeData, RecordBatch, Schema, Struct, Table as ArrowTable, tableToIPC, Utf8 } from 'apache-arrow';
import type { Data } from 'apache-arrow';
import { Table as WasmTable, writeParquet, type WriterProperties } from 'parquet-wasm';
import { CorruptDataError } from '../core/errors';
import { errorText, readParquetTable } from '../store/arrow-columns';
import { createArtifact } from './artifact';

/** A column of a table being built: its field and its data. */
export type TableColumn = readonly [Field, Data];

/** One table of `length` rows from its columns, in order. */
export function columnsTable(columns: readonly TableColumn[], length: number): ArrowTable {
  const schema = new Schema(columns.map(([field]) => field));
  const children = columns.map(([, data]) => data);
  return new ArrowTable(schema, new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, nullCount: 0, children })));
}

/**
 * Writes `table` as the new Parquet file `path`, whole (a run's signals or trades: tens of thousands of rows at most).
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} when `path` exists (nothing is overwritten); codec and
 *   file-system errors propagate, and the file begun is removed.
 */
export function writeParquetArtifact(path: string, table: ArrowTable, properties: WriterProperties): void {
  const wasmTable = WasmTable.fromIPCStream(tableToIPC(table, 'stream'));
  const fd = createArtifact(path);
  try {
    const bytes = writeParquet(wasmTable, properties);
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done);
  } catch (error) {
    rmSync(path, { force: true });
    throw error;
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a run's Parquet file into one Arrow table.
 *
 * @throws {@link "core/errors"!CorruptDataError | CorruptDataError} naming `path` when it is not a readable Parquet
 *   file; file-system errors (a missing file) propagate.
 */
export function readParquetArtifact(path: string): ArrowTable {
  const bytes = readFileSync(path);
  try {
    return readParquetTable(bytes);
  } catch (error) {
    throw new CorruptDataError(`${path}: not a readable Parquet file (${errorText(error)})`, { cause: error });
  }
}

/** A Float64 column without nulls (the values are not copied). */
export function float64Column(name: string, values: Float64Array): TableColumn {
  const type = new Float64();
  return [new Field(name, type, false), makeData({ type, data: values, length: values.length, nullCount: 0 })];
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
    const type = new Float64();
    return [new Field(name, type, true), makeData({ type, data: this.#values, length: this.#values.length, ...this.#validity.validity() })];
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
    const type = new Utf8();
    return [new Field(name, type, nullable), makeData({ type, data, valueOffsets, length: values.length, ...validity.validity() })];
  }

  #bytes(text: string): Uint8Array {
    let bytes = this.#encoded.get(text);
    if (bytes === undefined) this.#encoded.set(text, (bytes = new TextEncoder().encode(text)));
    return bytes;
  }
}

/** A Bool column without nulls: bit i of `bits` is row i. */
export function boolColumn(name: string, bits: Bitmap): TableColumn {
  const type = new Bool();
  return [new Field(name, type, false), makeData({ type, data: bits.bytes, length: bits.length, nullCount: 0 })];
}
