/**
 * The signal journal of a run in memory: every signal an engine journaled, in order, kept compactly and made into
 * {@link SignalRecord}s only when asked for.
 *
 * @module
 */
import type { SignalDecision } from '../broker/types';
import { CANDLE_SOURCES, type CandleBatch, type CandleSource } from '../core/candle';
import { FrameworkError } from '../core/errors';
import type { Subscription } from '../core/subscription';
import { candleOf, frameRow, type FrameColumns } from '../strategy/frame';
import type { Signal } from '../strategy/signal';
import type { SignalOutcome, SignalRecord, StrategyIdentity } from './run-summary';

/**
 * The record of the signal decided on row `row` of frame columns `columns`, whose candle is row `historyRow` of
 * `history` (its provenance): the candle's OHLCV and every column's value are read from `columns` at `row`.
 */
function signalRecord(
  who: { readonly strategy: StrategyIdentity; readonly subscription: Subscription },
  history: CandleBatch,
  historyRow: number,
  columns: FrameColumns,
  row: number,
  signal: Signal,
  decision: SignalDecision,
): SignalRecord {
  const receivedAt = history.receivedAt[historyRow]!;
  const candle = candleOf(columns, row);
  return {
    strategy: who.strategy,
    subscription: who.subscription,
    openTime: candle.openTime,
    provenance: {
      source: CANDLE_SOURCES[history.source[historyRow]!] ?? 'import',
      receivedAt: Number.isNaN(receivedAt) ? null : receivedAt,
    },
    action: signal.action,
    signal,
    candle,
    indicators: frameRow(columns, row),
    ...decision,
  };
}

/**
 * The journal by column, one entry per signal in journal order: what `signals.parquet` stores.
 *
 * - `strategy`, `subscription`: shared by every signal (null for an empty journal);
 * - `openTime`: UTC epoch ms of each signal's candle; `source`, `receivedAt`: its provenance (NaN: unknown);
 * - `signals`, `acted`, `reasons`: the signal as returned and the broker's decision;
 * - `frame`: every frame column's value at each signal's candle (`open_time`, OHLCV, indicators), in frame order.
 */
export interface JournalColumns {
  readonly length: number;
  readonly strategy: StrategyIdentity | null;
  readonly subscription: Subscription | null;
  readonly openTime: Float64Array;
  readonly source: readonly CandleSource[];
  readonly receivedAt: Float64Array;
  readonly signals: readonly Signal[];
  readonly acted: readonly boolean[];
  readonly reasons: readonly (string | undefined)[];
  readonly frame: ReadonlyMap<string, Float64Array>;
}

/** A replay's signals: rows of its frame columns, row `i` being candle `i` of `history`. */
interface ReplayPart {
  readonly history: CandleBatch;
  readonly columns: FrameColumns;
  readonly rows: number[];
  readonly signals: Signal[];
  readonly decisions: SignalDecision[];
}

/** Records made as the signals came (live). */
interface RecordPart {
  readonly records: SignalRecord[];
}

/**
 * The signals of a run, in order. A replay's signal is kept as its row of the replay's frame columns with the signal
 * and the broker's decision, and its record (the candle's OHLCV, every frame column's value, the provenance) is read
 * from those columns when asked for: the replay holds them whole anyway, while a record holds a copy of every column
 * in an object per signal. Over a million 1m candles (83,000 signals of `strategies/macd.ts`) keeping those copies was
 * three quarters of the per-candle loop, in garbage collection, and 40 MB. A live signal's record is made at once
 * (live indicator columns are a window computed anew for each candle).
 */
export class SignalJournal {
  readonly #who: { strategy: StrategyIdentity; subscription: Subscription } | null;
  readonly #parts: (ReplayPart | RecordPart)[] = [];
  readonly #records: SignalRecord[] = [];
  #length = 0;
  #columns: JournalColumns | null = null;

  /**
   * @param who - the strategy and market of every signal; null to take them from the first record added (then every
   *   record must share them, see {@link SignalJournal.columns}).
   */
  constructor(who: { readonly strategy: StrategyIdentity; readonly subscription: Subscription } | null) {
    this.#who = who;
  }

  /** A journal of `records`, in order (e.g. read back from a file, or made by hand). */
  static of(records: readonly SignalRecord[]): SignalJournal {
    const journal = new SignalJournal(null);
    for (const record of records) journal.add(record);
    return journal;
  }

  /** Number of signals. */
  get length(): number {
    return this.#length;
  }

  /**
   * Starts journaling a replay over `history` with its frame columns (row `i` = candle `i`; neither may change
   * afterwards).
   *
   * @returns the function that journals the signal decided on row `row`.
   */
  replay(history: CandleBatch, columns: FrameColumns): (row: number, signal: Signal, decision: SignalDecision) => void {
    this.#strategyAndMarket();
    const part: ReplayPart = { history, columns, rows: [], signals: [], decisions: [] };
    this.#parts.push(part);
    return (row, signal, decision) => {
      part.rows.push(row);
      part.signals.push(signal);
      part.decisions.push(decision);
      this.#length += 1;
      this.#columns = null;
    };
  }

  /**
   * Journals a live signal, its record made now: decided on row `row` of the live indicator window `columns`, whose
   * candle is row `historyRow` of the run's `history`.
   *
   * @returns the record journaled.
   */
  record(
    history: CandleBatch,
    historyRow: number,
    columns: FrameColumns,
    row: number,
    signal: Signal,
    decision: SignalDecision,
  ): SignalRecord {
    const made = signalRecord(this.#strategyAndMarket(), history, historyRow, columns, row, signal, decision);
    this.add(made);
    return made;
  }

  /** Journals a record as it is (e.g. one read back from a file). */
  add(record: SignalRecord): void {
    const last = this.#parts.at(-1);
    if (last !== undefined && 'records' in last) last.records.push(record);
    else this.#parts.push({ records: [record] });
    this.#length += 1;
    this.#columns = null;
  }

  /** Every signal's record, in order (made on first request; the array grows as signals are journaled). */
  records(): readonly SignalRecord[] {
    let at = 0;
    for (const part of this.#parts) {
      const count = 'records' in part ? part.records.length : part.rows.length;
      for (let k = Math.max(0, this.#records.length - at); k < count; k++) this.#records.push(this.#recordOf(part, k));
      at += count;
    }
    return this.#records;
  }

  /** Each signal's candle, action and decision (what a report counts), in order. */
  outcomes(): SignalOutcome[] {
    const { openTime, signals, acted, reasons } = this.columns();
    return signals.map((signal, i) => {
      const reason = reasons[i];
      return { openTime: openTime[i]!, action: signal.action, acted: acted[i]!, ...(reason !== undefined && { reason }) };
    });
  }

  /**
   * The journal by column (see {@link JournalColumns}); a replay's frame values are gathered from its columns by row.
   *
   * @throws {@link "core/errors"!FrameworkError | FrameworkError} when the signals differ in strategy, market or frame
   *   columns, or a record's `candle` is not the `open_time` and OHLCV of its `indicators` or its `action` not its
   *   signal's (records added by hand; the engine's always agree).
   */
  columns(): JournalColumns {
    if (this.#columns !== null) return this.#columns;
    const n = this.#length;
    const first = this.#parts[0];
    const who = this.#who ?? (first !== undefined && 'records' in first ? first.records[0]! : null);
    const names = first === undefined ? [] : Object.keys('records' in first ? first.records[0]!.indicators : first.columns);
    const filled = {
      openTime: new Float64Array(n),
      receivedAt: new Float64Array(n),
      source: new Array<CandleSource>(n),
      signals: new Array<Signal>(n),
      acted: new Array<boolean>(n),
      reasons: new Array<string | undefined>(n),
      frame: new Map(names.map((name) => [name, new Float64Array(n)])),
    };
    let at = 0;
    for (const part of this.#parts) at = 'records' in part ? fillRecords(filled, at, part.records, who!) : fillReplay(filled, at, part);
    this.#columns = { length: n, strategy: who?.strategy ?? null, subscription: who?.subscription ?? null, ...filled };
    return this.#columns;
  }

  /** The strategy and market new signals are journaled with (a journal of records, {@link SignalJournal.of}, has none). */
  #strategyAndMarket(): { strategy: StrategyIdentity; subscription: Subscription } {
    if (this.#who === null) throw new FrameworkError('a journal made of records has no strategy and market to journal new signals with');
    return this.#who;
  }

  #recordOf(part: ReplayPart | RecordPart, k: number): SignalRecord {
    if ('records' in part) return part.records[k]!;
    const row = part.rows[k]!;
    return signalRecord(this.#strategyAndMarket(), part.history, row, part.columns, row, part.signals[k]!, part.decisions[k]!);
  }
}

type Filled = Omit<JournalColumns, 'length' | 'strategy' | 'subscription'> & {
  readonly source: CandleSource[];
  readonly signals: Signal[];
  readonly acted: boolean[];
  readonly reasons: (string | undefined)[];
};

/** Fills entries `at …` with a replay's signals; returns the next entry. */
function fillReplay(filled: Filled, at: number, part: ReplayPart): number {
  const { history, columns, rows } = part;
  const names = [...filled.frame.keys()];
  if (Object.keys(columns).join() !== names.join()) {
    throw new FrameworkError(`signal ${at} has frame columns [${Object.keys(columns).join(', ')}], signal 0 [${names.join(', ')}]`);
  }
  for (const [name, values] of filled.frame) {
    const column = columns[name]!;
    for (let k = 0; k < rows.length; k++) values[at + k] = column[rows[k]!]!;
  }
  const openTime = columns['open_time']!;
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k]!;
    const decision = part.decisions[k]!;
    filled.openTime[at + k] = openTime[row]!;
    filled.receivedAt[at + k] = history.receivedAt[row]!;
    filled.source[at + k] = CANDLE_SOURCES[history.source[row]!] ?? 'import';
    filled.signals[at + k] = part.signals[k]!;
    filled.acted[at + k] = decision.acted;
    filled.reasons[at + k] = decision.reason;
  }
  return at + rows.length;
}

/** Fills entries `at …` with records, checking that they agree with the journal; returns the next entry. */
function fillRecords(filled: Filled, at: number, records: readonly SignalRecord[], who: Pick<SignalRecord, 'strategy' | 'subscription'>): number {
  const names = [...filled.frame.keys()];
  const position = new Map(names.map((name, j) => [name, j]));
  const frame = [...filled.frame.values()];
  const strategy = JSON.stringify(who.strategy);
  const subscription = JSON.stringify(who.subscription);
  records.forEach((record, k) => {
    const i = at + k;
    // Records of one run share these two objects: their JSON is compared only when they are other objects.
    const sameRun =
      (record.strategy === who.strategy || JSON.stringify(record.strategy) === strategy) &&
      (record.subscription === who.subscription || JSON.stringify(record.subscription) === subscription);
    if (!sameRun) throw new FrameworkError(`signal ${i} has another strategy or subscription than signal 0; a journal is one run's`);
    const { candle, indicators } = record;
    const ohlcv =
      indicators['open_time'] === candle.openTime &&
      indicators['open'] === candle.open &&
      indicators['high'] === candle.high &&
      indicators['low'] === candle.low &&
      indicators['close'] === candle.close &&
      indicators['volume'] === candle.volume;
    if (!ohlcv) throw new FrameworkError(`the candle of signal ${i} is not the open_time and OHLCV of its frame columns`);
    if (record.action !== record.signal.action) {
      throw new FrameworkError(`signal ${i} has action ${record.action} but its signal's is ${record.signal.action}`);
    }
    let count = 0;
    for (const name in indicators) {
      const j = position.get(name);
      if (j === undefined) break;
      frame[j]![i] = indicators[name]!;
      count++;
    }
    if (count !== names.length) {
      throw new FrameworkError(`signal ${i} has frame columns [${Object.keys(indicators).join(', ')}], signal 0 [${names.join(', ')}]`);
    }
    filled.openTime[i] = record.openTime;
    filled.receivedAt[i] = record.provenance.receivedAt ?? Number.NaN;
    filled.source[i] = record.provenance.source;
    filled.signals[i] = record.signal;
    filled.acted[i] = record.acted;
    filled.reasons[i] = record.reason;
  });
  return at + records.length;
}
