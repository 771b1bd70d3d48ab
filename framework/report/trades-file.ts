/**
 * A run's closed trades as a Parquet file, `runs/<run-id>/trades.parquet`: one row per round trip, in the order they
 * closed. Readable by pandas, polars, DuckDB or {@link readTradesFile}. Columnar and binary like the equity curve and
 * the signal journal: the 41,700 trades of a million 1m candles were 16 MB of JSON lines, most of it numbers turned
 * into text, and are 2 MB here.
 *
 * Schema (every column required unless noted):
 *
 * | column | Arrow type | meaning |
 * |---|---|---|
 * | `side` | Utf8 | `long` or `short` |
 * | `entry_time`, `exit_time` | Timestamp(MILLISECOND, "UTC") | open times of the candles the entry and the exit filled on, UTC epoch ms |
 * | `entry_price`, `exit_price` | Float64 | fill prices, quote currency (slippage included) |
 * | `quantity` | Float64 | base currency |
 * | `fees` | Float64 | entry and exit fees, quote currency |
 * | `pnl` | Float64 | net profit, quote currency (fees included) |
 * | `return_fraction` | Float64 | net return as a fraction of the amount committed (0.01 = 1%) |
 * | `exit_reason` | Utf8 | why it closed: `signal`, `stop_loss`, `take_profit`, `reversal`, `end_of_data` |
 * | `entry_tag`, `exit_tag` | Utf8, nullable | the signals' tags |
 *
 * Files written before `return_fraction` had its name call it `return_pct` (it held the same fraction);
 * {@link readTradesFile} reads them too.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import type { Vector } from 'apache-arrow';
import { parquet } from '../store/parquet';
import type { ExitReason, PositionSide, Trade } from '../broker/types';
import { CorruptDataError, FrameworkError } from '../core/errors';
import {
  float64Column,
  isFloat64,
  isUtcMillis,
  readParquetTable,
  readTimestamps,
  timestampColumn,
  Utf8Column,
  type TableColumn,
} from '../store/arrow-columns';
import { writeParquetArtifact } from './artifact';

/** File name of the trades inside a run directory. */
export const TRADES_FILE = 'trades.parquet';

/** The Float64 columns and the trade field each holds. */
const NUMBER_COLUMNS = [
  ['entry_price', 'entryPrice'],
  ['exit_price', 'exitPrice'],
  ['quantity', 'quantity'],
  ['fees', 'fees'],
  ['pnl', 'pnl'],
  ['return_fraction', 'returnFraction'],
] as const;

const COLUMN_NAMES = [
  'side',
  'entry_time',
  'entry_price',
  'exit_time',
  'exit_price',
  'quantity',
  'fees',
  'pnl',
  'return_fraction',
  'exit_reason',
  'entry_tag',
  'exit_tag',
];

/** Earlier names of columns, by their current names: files of older runs are read under the current ones. */
const FORMER_NAMES: Readonly<Record<string, string>> = { return_pct: 'return_fraction' };

/**
 * Writes `trades` to the new file `path` (schema in the module comment), Snappy-compressed.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} when `path` exists (nothing is overwritten) or a time is
 *   not an integer number of ms (then no file is created); codec and file-system errors propagate, and the file begun
 *   is removed.
 */
export function writeTradesFile(path: string, trades: readonly Trade[]): void {
  const n = trades.length;
  const entryTime = new Float64Array(n);
  const exitTime = new Float64Array(n);
  const numbers = NUMBER_COLUMNS.map(() => new Float64Array(n));
  const strings = { side: new Utf8Column(n), exitReason: new Utf8Column(n), entryTag: new Utf8Column(n), exitTag: new Utf8Column(n) };
  trades.forEach((trade, i) => {
    entryTime[i] = trade.entryTime;
    exitTime[i] = trade.exitTime;
    NUMBER_COLUMNS.forEach(([, field], k) => (numbers[k]![i] = trade[field]));
    strings.side.set(i, trade.side);
    strings.exitReason.set(i, trade.exitReason);
    strings.entryTag.set(i, trade.entryTag);
    strings.exitTag.set(i, trade.exitTag);
  });
  const time = (name: string, values: Float64Array): TableColumn =>
    timestampColumn(name, values, false, (row, value) => new FrameworkError(`${path}: ${name} of trade ${row} is ${value}, expected an integer number of ms`));
  const [entryPrice, ...exitAndAfter] = NUMBER_COLUMNS.map(([name], k) => float64Column(name, numbers[k]!));
  const columns = [
    strings.side.column('side', false),
    time('entry_time', entryTime),
    entryPrice!,
    time('exit_time', exitTime),
    ...exitAndAfter,
    strings.exitReason.column('exit_reason', false),
    strings.entryTag.column('entry_tag', true),
    strings.exitTag.column('exit_tag', true),
  ];
  writeParquetArtifact(path, columns, n, new parquet.WriterPropertiesBuilder().setCompression(parquet.Compression.SNAPPY).build());
}

/**
 * Reads a file written by {@link writeTradesFile} back into the trades written (equal to them; a null tag is an absent
 * one). A file of an older run, with a column under its former name (`return_pct`), reads the same.
 *
 * @throws {@link "core/errors"!CorruptDataError | CorruptDataError} naming `path` when it is not a readable Parquet file
 *   or its columns are not the schema's; file-system errors (a missing file) propagate.
 */
export function readTradesFile(path: string): Trade[] {
  const table = readParquetTable(readFileSync(path), path);
  const stored = table.schema.fields.map((f) => f.name);
  const names = stored.map((name) => FORMER_NAMES[name] ?? name);
  if (names.join() !== COLUMN_NAMES.join()) {
    throw new CorruptDataError(`${path}: not a trades file: columns are [${stored.join(', ')}], expected [${COLUMN_NAMES.join(', ')}]`);
  }
  const n = table.numRows;
  const column = (name: string): Vector => table.getChildAt(names.indexOf(name))!;
  const times = (name: string): Float64Array => {
    const vector = column(name);
    if (!isUtcMillis(vector.type)) throw new CorruptDataError(`${path}: column ${name} is ${String(vector.type)}, expected Timestamp<MILLISECOND, UTC>`);
    const out = new Float64Array(n);
    readTimestamps(vector, out, (row) => new CorruptDataError(`${path}: ${name} of row ${row} is not a safe integer`));
    return out;
  };
  const entryTime = times('entry_time');
  const exitTime = times('exit_time');
  const numbers = NUMBER_COLUMNS.map(([name]) => {
    const vector = column(name);
    if (!isFloat64(vector.type) || vector.nullCount > 0) {
      throw new CorruptDataError(`${path}: column ${name} is ${String(vector.type)} with ${vector.nullCount} nulls, expected Float64 without nulls`);
    }
    return vector.toArray() as Float64Array;
  });
  const [side, exitReason, entryTag, exitTag] = ['side', 'exit_reason', 'entry_tag', 'exit_tag'].map(
    (name) => column(name).toArray() as ArrayLike<string | null>,
  );
  const trades: Trade[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const [entryPrice, exitPrice, quantity, fees, pnl, returnFraction] = numbers.map((values) => values[i]!);
    trades[i] = {
      side: side![i] as PositionSide,
      entryTime: entryTime[i]!,
      entryPrice: entryPrice!,
      exitTime: exitTime[i]!,
      exitPrice: exitPrice!,
      quantity: quantity!,
      fees: fees!,
      pnl: pnl!,
      returnFraction: returnFraction!,
      exitReason: exitReason![i] as ExitReason,
      ...(entryTag![i] !== null && { entryTag: entryTag![i]! }),
      ...(exitTag![i] !== null && { exitTag: exitTag![i]! }),
    };
  }
  return trades;
}
