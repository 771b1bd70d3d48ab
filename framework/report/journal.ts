import type { BrokerConfig } from '../broker/broker-config';
import { closeSync, existsSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { StoredCandle } from '../core/candle';
import { FrameworkError } from '../core/errors';
import type { Subscription } from '../core/subscription';
import { writeArtifact } from './artifact';
import { jsonLine, withIso } from './json-lines';
import type { RunMode, SignalRecord, StrategyIdentity } from './run-summary';
import { readSignalsFile, SIGNALS_FILE } from './signals-file';

/**
 * Where a run's candles came from, so that `npm run diff` can replay the same candles from the same origin:
 * the shipped store and, for live runs, the live store (the history is their union, the live store winning).
 *
 * - `firstCandle`: open time (UTC epoch ms) of the first candle of the history: the indicators' origin;
 * - `datasetsRoot`: the shipped candle store read for the history; for a live run on the simulator, the data the
 *   simulator played, which the run never reads (its history is its live store, filled over the simulator's REST API)
 *   but `npm run diff` replays with the store, to find the candles the run never received;
 * - `store`: the live store (root and the subscription it files candles under), or null for a backtest;
 * - `from`, `to`: the backtest's range (`to` exclusive), if one was given; for a live run on the simulator, `from` is
 *   where every subscription's history starts (UTC epoch ms).
 */
export interface RunOrigin {
  readonly firstCandle: number;
  readonly datasetsRoot: string;
  readonly store: { readonly root: string; readonly subscription: Subscription } | null;
  readonly from?: number;
  readonly to?: number;
}

/**
 * `run.json`: what a run is, written when it starts (a killed live run still has it). `staleAfter` (live runs): the
 * stale rule's limit in timeframes (see `staleReason`); absent in runs made before the rule, which traded every candle.
 */
export interface RunHeader {
  readonly runId: string;
  readonly mode: RunMode;
  readonly file: string;
  readonly strategy: StrategyIdentity;
  readonly subscription: Subscription;
  readonly origin: RunOrigin;
  readonly startedAt: number;
  readonly staleAfter?: number;
  /** The paper broker's configuration (a live run's includes the exchange's amount step); `npm run diff` replays with it. */
  readonly broker?: BrokerConfig;
}

/**
 * A line of `candles.jsonl`: a closed candle as the run received it, and `arrivedAt`, the exchange clock when it
 * reached the run (durable, in the history), UTC epoch ms; absent in runs made before it was recorded.
 */
export interface JournaledCandle extends StoredCandle {
  readonly arrivedAt?: number;
}

/** A journal read back: its header, the traded candles it acted on (in order) and its signals. */
export interface JournalContents {
  readonly header: RunHeader;
  readonly candles: readonly JournaledCandle[];
  readonly signals: readonly SignalRecord[];
}

/**
 * The live run's journal, written as the run goes: `run.json` at the start, then one line per closed candle acted on
 * (`candles.jsonl`: the values as the run saw them, with provenance), one per signal (`signals.jsonl`, the
 * {@link SignalRecord}s); with real orders the executor adds `orders.jsonl` and `events.jsonl` (see `execution/`). Lines
 * are written with one `write` each, so a killed process leaves whole lines behind
 * (at most a torn last line, which {@link readJournal} ignores); they are not fsynced: the candles themselves are
 * durable in the write-ahead log.
 */
export class RunJournal {
  readonly #candles: number;
  readonly #signals: number;

  private constructor(dir: string, flags: 'wx' | 'a') {
    this.#candles = openSync(join(dir, 'candles.jsonl'), flags);
    this.#signals = openSync(join(dir, 'signals.jsonl'), flags);
  }

  /**
   * Starts the journal of a run in its (new, empty) directory.
   *
   * @throws {@link "core/errors"!FrameworkError | FrameworkError} when the directory already holds a journal.
   */
  static create(dir: string, header: RunHeader): RunJournal {
    writeRunHeader(dir, header);
    return new RunJournal(dir, 'wx');
  }

  /**
   * Goes on with the journal of a run killed before (same folder, same `run.json`), whose broker was restored from its
   * checkpoint after the traded candle opening at `actedUpTo`: the records of later traded candles (recorded before
   * the kill but not acted on durably: they are history now, not traded) and a torn last line are cut off, then lines
   * are appended.
   */
  static resume(dir: string, actedUpTo: number): RunJournal {
    for (const file of ['candles.jsonl', 'signals.jsonl']) cutAfter(join(dir, file), actedUpTo);
    cutTornLine(join(dir, 'orders.jsonl'));
    return new RunJournal(dir, 'a');
  }

  /**
   * Records a closed candle as the run received it (a {@link JournaledCandle}).
   *
   * @param market - `describeSubscription` of an informative subscription; null for the traded one.
   */
  recordCandle(candle: JournaledCandle, market: string | null = null): void {
    writeSync(this.#candles, `${JSON.stringify(market === null ? candle : { ...candle, market })}\n`);
  }

  /** Records a signal (one {@link signalLine}). */
  recordSignal(record: SignalRecord): void {
    writeSync(this.#signals, `${signalLine(record)}\n`);
  }

  /** Closes the journal's files. */
  close(): void {
    closeSync(this.#candles);
    closeSync(this.#signals);
  }
}

/**
 * Writes `run.json` into a run directory.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} when it exists already (nothing is overwritten).
 */
export function writeRunHeader(dir: string, header: RunHeader): void {
  writeArtifact(join(dir, 'run.json'), `${JSON.stringify(header, null, 2)}\n`);
}

/**
 * Reads a run's journal: `run.json`, its signals ({@link readSignals}) and, for live runs, `candles.jsonl`. A torn last
 * line (a run killed mid-write) is ignored.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} naming the folder when it is not a run directory, or a
 *   file and line that is not JSON.
 */
export function readJournal(dir: string): JournalContents {
  const header = readRunHeader(dir);
  const candles = readLines<JournaledCandle & { market?: string }>(join(dir, 'candles.jsonl')).filter((c) => c.market === undefined);
  return { header, candles, signals: readSignals(dir) };
}

/**
 * A run's `run.json` (see {@link RunHeader}).
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} naming the folder when it is not a run directory.
 */
export function readRunHeader(dir: string): RunHeader {
  const headerPath = join(dir, 'run.json');
  if (!existsSync(headerPath)) throw new FrameworkError(`${dir} is not a run directory: it has no run.json`);
  return JSON.parse(readFileSync(headerPath, 'utf8')) as RunHeader;
}

/**
 * A run's signal journal: a backtest's `signals.parquet` (see `report/signals-file.ts`) or a live run's
 * `signals.jsonl` (written line by line as the run went; a torn last line is ignored, `"NaN"`/`"Infinity"` strings in
 * indicator values become numbers again). Empty when the run has neither.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} naming a file and line that is not JSON;
 *   {@link "core/errors"!CorruptDataError | CorruptDataError} for an unreadable `signals.parquet`.
 */
export function readSignals(dir: string): SignalRecord[] {
  const parquet = join(dir, SIGNALS_FILE);
  if (existsSync(parquet)) return readSignalsFile(parquet);
  return readLines<SignalRecord>(join(dir, 'signals.jsonl')).map(reviveIndicators);
}

/**
 * Cuts `path` (candles.jsonl or signals.jsonl) from the first record of a traded candle (no `market`) opening after
 * `after`, or else after its last newline (a torn line).
 */
function cutAfter(path: string, after: number): void {
  if (!existsSync(path)) return;
  const text = readFileSync(path, 'utf8');
  let start = 0;
  for (let end = text.indexOf('\n'); end >= 0; start = end + 1, end = text.indexOf('\n', start)) {
    const record = JSON.parse(text.slice(start, end)) as { openTime?: number; market?: string };
    if (record.market === undefined && (record.openTime ?? -Infinity) > after) break;
  }
  const bytes = Buffer.byteLength(text.slice(0, start));
  if (bytes < Buffer.byteLength(text)) truncateSync(path, bytes);
}

/** Cuts the text after the last newline of `path` (a line torn by a kill), if any. */
function cutTornLine(path: string): void {
  if (!existsSync(path)) return;
  const text = readFileSync(path);
  const end = text.lastIndexOf(0x0a) + 1;
  if (end < text.length) truncateSync(path, end);
}

function readLines<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n');
  const complete = lines.slice(0, -1); // the text after the last newline is empty or a torn line
  return complete.map((line, i) => {
    try {
      return JSON.parse(line) as T;
    } catch (error) {
      throw new FrameworkError(`${path} line ${i + 1} is not JSON: ${line.slice(0, 120)}`, { cause: error });
    }
  });
}

function reviveIndicators(record: SignalRecord): SignalRecord {
  const indicators = Object.fromEntries(
    Object.entries(record.indicators).map(([name, value]) => [name, typeof value === 'string' ? Number(value) : value]),
  );
  return { ...record, indicators };
}

/**
 * One line of `signals.jsonl`, without its newline: the {@link SignalRecord} with `openTimeIso` (ISO 8601 UTC) after
 * `openTime`, as {@link jsonLine} writes it (NaN/±Infinity as strings).
 */
export function signalLine(record: SignalRecord): string {
  return jsonLine(withIso(record, ['openTime']));
}
