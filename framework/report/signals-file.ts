/**
 * A backtest's signal journal as a Parquet file, `runs/<run-id>/signals.parquet`: one row per signal, the same
 * {@link SignalRecord}s a live run journals line by line in `signals.jsonl`, stored by column. A backtest writes its
 * whole journal at its end, and a long one holds tens of thousands of signals with every frame column: as JSON lines
 * (60 MB for the 83,000 signals of a million 1m candles) turning the numbers into text was a quarter of the run;
 * here they stay binary doubles, read back exactly. Readable by pandas, polars, DuckDB or {@link readSignalsFile}.
 *
 * Schema, one row per signal in journal order:
 *
 * | column | Arrow type | meaning |
 * |---|---|---|
 * | `open_time` | Timestamp(MILLISECOND, "UTC") | open time of the candle the signal was decided on, UTC epoch ms |
 * | `action` | Utf8 | the signal's action (`enter_long`, `exit_long`, `enter_short`, `exit_short`) |
 * | `size_fraction`, `size_quote` | Float64, nullable | the signal's `size` (one of them, or neither) |
 * | `stop_loss`, `take_profit` | Float64, nullable | the signal's fractions, null when not given |
 * | `tag` | Utf8, nullable | the signal's tag |
 * | `acted` | Bool | whether the broker accepted it as an order |
 * | `reason` | Utf8, nullable | why not |
 * | `source` | Utf8 | provenance of the candle: `import`, `resample`, `rest` or `websocket` |
 * | `received_at` | Timestamp(MILLISECOND, "UTC"), nullable | when the candle was received; null = unknown |
 * | `indicators` | Struct of Float64 | every frame column at the candle (`open_time`, OHLCV, indicators), by name; NaN kept |
 *
 * The file's key-value metadata holds the run's `strategy` ({@link StrategyIdentity}) and `subscription` as JSON; every
 * record of a journal shares them. A record's `candle` is the OHLCV of its `indicators` (both are the same row of the
 * frame; `SignalJournal.columns` checks records added by hand), and its `action` is its signal's: neither is stored
 * twice. A journal without signals has no `indicators` column (Parquet has no empty struct).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { arrow } from '../store/arrow';
import type { Field, Vector } from 'apache-arrow';
import { parquet } from '../store/parquet';
import { CANDLE_SOURCES, type CandleSource } from '../core/candle';
import { CorruptDataError, FrameworkError } from '../core/errors';
import type { Subscription } from '../core/subscription';
import {
  Bitmap,
  boolColumn,
  float64Column,
  isFloat64,
  isUtcMillis,
  NullableFloat64Column,
  readParquetTable,
  readTimestamps,
  timestampColumn,
  Utf8Column,
  type TableColumn,
} from '../store/arrow-columns';
import type { PositionSize, Signal, SignalAction } from '../strategy/signal';
import { writeParquetArtifact } from './artifact';
import type { SignalRecord, StrategyIdentity } from './run-summary';
import type { JournalColumns, SignalJournal } from './signal-journal';

/** File name of a backtest's signal journal inside its run directory. */
export const SIGNALS_FILE = 'signals.parquet';

const STRATEGY_KEY = 'strategy';
const SUBSCRIPTION_KEY = 'subscription';

/** The signal's optional numbers, as columns: each maps a record to its value, or undefined when not given. */
const SIGNAL_NUMBERS = {
  size_fraction: (s: Signal) => (s.size !== undefined && 'fraction' in s.size ? s.size.fraction : undefined),
  size_quote: (s: Signal) => (s.size !== undefined && 'quote' in s.size ? s.size.quote : undefined),
  stop_loss: (s: Signal) => s.stopLoss,
  take_profit: (s: Signal) => s.takeProfit,
} as const;

/**
 * Writes a journal to the new file `path` (schema in the module comment), Snappy-compressed.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} naming `path` when it exists (nothing is overwritten),
 *   the journal's signals do not agree (see {@link SignalJournal.columns}), or an open time is not an integer number of
 *   ms (then no file is created); codec and file-system errors propagate, and the file begun is removed.
 */
export function writeSignalsFile(path: string, journal: SignalJournal): void {
  let columns: JournalColumns;
  try {
    columns = journal.columns();
  } catch (error) {
    if (error instanceof FrameworkError) throw new FrameworkError(`${path}: ${error.message}`, { cause: error });
    throw error;
  }
  const metadata = new Map<string, string>();
  if (columns.strategy !== null) metadata.set(STRATEGY_KEY, JSON.stringify(columns.strategy));
  if (columns.subscription !== null) metadata.set(SUBSCRIPTION_KEY, JSON.stringify(columns.subscription));
  const properties = new parquet.WriterPropertiesBuilder().setCompression(parquet.Compression.SNAPPY).setKeyValueMetadata(metadata).build();
  writeParquetArtifact(path, signalsColumns(path, columns), columns.length, properties);
}

function signalsColumns(path: string, journal: JournalColumns): TableColumn[] {
  const n = journal.length;
  const numbers = Object.values(SIGNAL_NUMBERS).map((valueOf) => {
    const column = new NullableFloat64Column(n);
    journal.signals.forEach((signal, i) => column.set(i, valueOf(signal)));
    return column;
  });
  const strings = (values: (i: number) => string | undefined): Utf8Column => {
    const column = new Utf8Column(n);
    for (let i = 0; i < n; i++) column.set(i, values(i));
    return column;
  };
  const acted = new Bitmap(n);
  journal.acted.forEach((value, i) => value && acted.set(i));
  const notInteger = (what: string) => (row: number, value: number) =>
    new FrameworkError(`${path}: ${what} of signal ${row} is ${value}, expected an integer number of ms`);
  const columns: TableColumn[] = [
    timestampColumn('open_time', journal.openTime, false, notInteger('openTime')),
    strings((i) => journal.signals[i]!.action).column('action', false),
    ...Object.keys(SIGNAL_NUMBERS).map((name, k) => numbers[k]!.column(name)),
    strings((i) => journal.signals[i]!.tag).column('tag', true),
    boolColumn('acted', acted),
    strings((i) => journal.reasons[i]).column('reason', true),
    strings((i) => journal.source[i]).column('source', false),
    timestampColumn('received_at', journal.receivedAt, true, notInteger('receivedAt')),
  ];
  if (n > 0) {
    const children = [...journal.frame].map(([name, values]) => float64Column(name, values));
    const type = new arrow.Struct(children.map(([field]) => field));
    columns.push([new arrow.Field('indicators', type, false), arrow.makeData({ type, length: n, nullCount: 0, children: children.map(([, data]) => data) })]);
  }
  return columns;
}

/**
 * Reads a journal written by {@link writeSignalsFile} back into the records written (equal to them, `candle` taken from
 * the OHLCV of `indicators`).
 *
 * @throws {@link "core/errors"!CorruptDataError | CorruptDataError} naming `path` when it is not a readable Parquet file
 *   or not a signal journal (a column missing or of another type, metadata missing); file-system errors (a missing
 *   file) propagate.
 */
export function readSignalsFile(path: string): SignalRecord[] {
  const table = readParquetTable(readFileSync(path), path);
  const n = table.numRows;
  if (n === 0) return [];
  const corrupt = (problem: string) => new CorruptDataError(`${path}: not a signal journal: ${problem}`);
  const child = (name: string): Vector => {
    const vector = table.getChild(name);
    if (vector === null) throw corrupt(`no column ${name}`);
    return vector;
  };
  const metadata = (key: string): unknown => {
    const text = table.schema.metadata.get(key);
    if (text === undefined) throw corrupt(`no ${key} in its metadata`);
    return JSON.parse(text);
  };
  const strategy = metadata(STRATEGY_KEY) as StrategyIdentity;
  const subscription = metadata(SUBSCRIPTION_KEY) as Subscription;
  const timestamps = (name: string): Float64Array => {
    const vector = child(name);
    if (!isUtcMillis(vector.type)) throw corrupt(`column ${name} is ${String(vector.type)}, expected Timestamp<MILLISECOND, UTC>`);
    const out = new Float64Array(n);
    readTimestamps(vector, out, (row) => corrupt(`${name} of row ${row} is not a safe integer`));
    return out;
  };
  const openTime = timestamps('open_time');
  const receivedAt = timestamps('received_at');
  const values = (name: string) => child(name).toArray() as ArrayLike<unknown>;
  const [action, tag, acted, reason, source] = ['action', 'tag', 'acted', 'reason', 'source'].map(values) as [
    ArrayLike<SignalAction>,
    ArrayLike<string | null>,
    ArrayLike<boolean>,
    ArrayLike<string | null>,
    ArrayLike<CandleSource>,
  ];
  const numbers = Object.keys(SIGNAL_NUMBERS).map((name) => child(name)) as Vector[];
  const [sizeFraction, sizeQuote, stopLoss, takeProfit] = numbers;
  const indicators = indicatorColumns(child('indicators'), corrupt);
  const records: SignalRecord[] = new Array(n);
  for (let i = 0; i < n; i++) {
    if (!CANDLE_SOURCES.includes(source[i]!)) throw corrupt(`source of row ${i} is ${JSON.stringify(source[i])}`);
    const size = sizeOf(sizeFraction!.get(i), sizeQuote!.get(i));
    const signal: Signal = {
      action: action[i]!,
      ...(size !== undefined && { size }),
      ...(stopLoss!.get(i) !== null && { stopLoss: stopLoss!.get(i) as number }),
      ...(takeProfit!.get(i) !== null && { takeProfit: takeProfit!.get(i) as number }),
      ...(tag[i] !== null && { tag: tag[i]! }),
    };
    const row: Record<string, number> = {};
    for (const [name, column] of indicators) row[name] = column[i]!;
    const received = receivedAt[i]!;
    records[i] = {
      strategy,
      subscription,
      openTime: openTime[i]!,
      provenance: { source: source[i]!, receivedAt: Number.isNaN(received) ? null : received },
      action: action[i]!,
      signal,
      candle: {
        openTime: row['open_time']!,
        open: row['open']!,
        high: row['high']!,
        low: row['low']!,
        close: row['close']!,
        volume: row['volume']!,
      },
      indicators: row,
      acted: acted[i]!,
      ...(reason[i] !== null && { reason: reason[i]! }),
    };
  }
  return records;
}

function sizeOf(fraction: unknown, quote: unknown): PositionSize | undefined {
  if (typeof fraction === 'number') return { fraction };
  if (typeof quote === 'number') return { quote };
  return undefined;
}

/** The `indicators` struct's Float64 columns, by name. */
function indicatorColumns(vector: Vector, corrupt: (problem: string) => Error): [string, Float64Array][] {
  if (!arrow.DataType.isStruct(vector.type)) throw corrupt(`column indicators is ${String(vector.type)}, expected a struct`);
  return vector.type.children.map((field: Field) => {
    const values = vector.getChild(field.name)!;
    if (!isFloat64(values.type)) throw corrupt(`indicators.${field.name} is ${String(values.type)}, expected Float64`);
    return [field.name, values.toArray() as Float64Array];
  });
}
