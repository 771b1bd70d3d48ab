/**
 * The write-ahead log (WAL) of live candles: a candle acknowledged by {@link WriteAheadLog.append} is on disk
 * (written and `fdatasync`ed: the bytes and the file's size are on the device), and stays readable after a crash at any point, until compaction has moved it into the
 * dataset's monthly Parquet partitions (see `writeCandles`).
 *
 * ## Files
 *
 * One log per dataset, beside its partitions in `<root>/<exchange>/<BASE>_<QUOTE>/<timeframe>/` (see `datasetDir`):
 *
 * | file | what it is |
 * |---|---|
 * | `wal.log` | the active log; appends go to its end |
 * | `wal.log.compacting` | a log being moved into the partitions (`wal.log` renamed); deleted once they hold it |
 * | `wal.log.corrupt-<ms>` | a log that held corrupted records, kept aside after its valid records were compacted |
 * | `wal.log.torn-<ms>` | a log whose end was a partial write (a crash mid-append), kept aside likewise |
 *
 * `<ms>` is the UTC epoch ms when the file was set aside. None of these names is a partition name, so the
 * partition reader ignores them. The files set aside are never deleted by the framework.
 *
 * ## Record format
 *
 * One line of ASCII per candle: the CRC-32 (ISO-HDLC, as zlib's `crc32`) of the JSON text as 8 lower-case hex
 * digits, a space, the JSON text, and `\n` (text, so that a log can be read with `grep` or `jq` when it must). The
 * BTC/USDT 5m candle of 2020-12-01 00:00 UTC, closed on the WebSocket and received 123 ms after its close:
 *
 * ```text
 * 2f709dd4 [1606780800000,19695.87,19720,19578.96,19607.03,794.500517,"websocket",1606781100123]
 * ```
 *
 * The JSON array is `[openTime, open, high, low, close, volume, source, receivedAt]` (open time and `receivedAt` in
 * UTC epoch ms, `receivedAt` `null` when unknown). JSON numbers written by `JSON.stringify` read back as the same
 * doubles. Later lines are later versions: when an open time appears twice, the later line wins.
 *
 * ## Reading a log
 *
 * A line that is not a well-formed record (bad checksum, bad JSON, not a valid candle) is a problem, never an error:
 * - bytes after the last valid record are a *torn tail*, what a crash during a write leaves (such records were never
 *   acknowledged, since an append resolves only after its bytes are synced; a bad complete line at the very end is
 *   counted as torn too, as it cannot be told apart);
 * - an invalid line followed by a valid record is *corrupt*, reported with its byte offset.
 * The valid records are used either way; a log with problems is set aside (renamed), never truncated or deleted.
 *
 * ## Group commit
 *
 * Appends issued while a write + fsync is in flight wait and go out together in the next write + fsync; appends
 * issued in the same event-loop turn share one. No append resolves before the fsync that covers it has returned.
 *
 * ## Compaction and crash safety
 *
 * {@link WriteAheadLog.compact}: (1) finish a leftover `wal.log.compacting` if there is one; (2) rename `wal.log` to
 * `wal.log.compacting`, fsync the folder, start a new empty `wal.log` (fsync the folder); (3) write the renamed log's
 * candles into the partitions month by month with `writeCandles` (each month atomic: temp file, fsync, rename);
 * (4) delete `wal.log.compacting` (or set it aside if it had problems), fsync the folder.
 * A crash before (2) leaves `wal.log`; after (2) and before (4), `wal.log.compacting`, which
 * {@link WriteAheadLog.open} compacts again: `writeCandles` replaces candles by open time, so writing a month twice
 * gives the same partition. No candle is lost and none is stored twice. The leftover is always compacted before
 * `wal.log` is renamed again, so an older version never overwrites a newer one.
 *
 * One process writes a dataset at a time: an open log holds the dataset's writer lock until it is closed
 * (`store/writer-lock.ts`), so a second process opening the same log fails with `DatasetLockedError`.
 *
 * @module
 */

import { closeSync, existsSync, fdatasync, fstatSync, openSync, readFileSync, renameSync, unlinkSync, write } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { batchFromCandles, CANDLE_SOURCES } from '../core/candle';
import type { CandleSource, StoredCandle } from '../core/candle';
import { FrameworkError, InvalidCandleError, messageOf } from '../core/errors';
import { describeSubscription } from '../core/subscription';
import type { Subscription } from '../core/subscription';
import type { Timeframe } from '../core/timeframe';
import { ohlcvValidator } from '../pipeline/validate';
import { datasetDir, monthOf } from './layout';
import { writeCandles } from './partitions';
import { fsyncDir, mkdirDurable } from './durable';
import { acquireWriterLock } from './writer-lock';

/** File name of the active log inside a dataset folder. */
export const WAL_FILE = 'wal.log';
/** File name of a log being compacted inside a dataset folder. */
export const COMPACTING_FILE = 'wal.log.compacting';

/** The log was closed, or failed after an I/O error (then nothing more is appended; reopen it to recover). */
export class WriteAheadLogError extends FrameworkError {}

/**
 * A stretch of a log file that holds no valid record.
 * - `kind`: `torn` for bytes after the last valid record (an interrupted write), `corrupt` for bytes before one;
 * - `offset`, `length`: where, in bytes from the start of `file`;
 * - `reason`: what is wrong with the first line of the stretch, e.g. `checksum mismatch`.
 */
export interface WalProblem {
  readonly file: string;
  readonly kind: 'torn' | 'corrupt';
  readonly offset: number;
  readonly length: number;
  readonly reason: string;
}

/** What a log holds: its valid candles in log order (later versions after earlier ones) and its problems. */
export interface WalReplay {
  readonly candles: readonly StoredCandle[];
  readonly problems: readonly WalProblem[];
}

/**
 * What one compaction did.
 * - `candles`: candles moved into the partitions (versions of the same open time counted separately);
 * - `partitions`: partition files written, oldest month first;
 * - `problems`: problems of the compacted log files;
 * - `keptAs`: the compacted files set aside because they had problems (see the module comment).
 */
export interface CompactionResult {
  readonly candles: number;
  readonly partitions: readonly string[];
  readonly problems: readonly WalProblem[];
  readonly keptAs: readonly string[];
}

/**
 * Something the log did, reported synchronously to {@link WalOptions.onEvent} at the moment it happens:
 * - `written`: a group of appends is in the log file, not yet synced;
 * - `synced`: that group is durable; its appends resolve next;
 * - `rotated`: `wal.log` was renamed to `path` (`wal.log.compacting`) and a new `wal.log` started;
 * - `partition-written`: compaction wrote one month's partition;
 * - `compacted`: compaction finished with the file at `path`; `keptAs` is where it was set aside, or null if deleted;
 * - `compaction-failed`: {@link WriteAheadLog.compact} failed with `error` (it rejects with it too).
 */
export type WalEvent =
  | { readonly type: 'written'; readonly candles: number; readonly bytes: number }
  | { readonly type: 'synced'; readonly candles: number }
  | { readonly type: 'rotated'; readonly path: string }
  | { readonly type: 'partition-written'; readonly path: string; readonly candles: number }
  | { readonly type: 'compacted'; readonly path: string; readonly candles: number; readonly keptAs: string | null }
  | { readonly type: 'compaction-failed'; readonly error: unknown };

/** Options of {@link WriteAheadLog.open}. */
export interface WalOptions {
  /**
   * Called synchronously at each {@link WalEvent} (for logs and metrics); it must not throw: an exception from it
   * during an append fails the log like an I/O error, during a compaction fails the compaction.
   */
  readonly onEvent?: (event: WalEvent) => void;
}

/**
 * What {@link WriteAheadLog.open} found in the logs left by the last run: `candles` valid records (in a leftover
 * `wal.log.compacting` and in `wal.log`), the `problems` it compacted around, and the files it set aside (`keptAs`).
 */
export interface WalRecovery {
  readonly candles: number;
  readonly problems: readonly WalProblem[];
  readonly keptAs: readonly string[];
}

/**
 * Reads a log file (format in the module comment), reporting problems instead of throwing.
 *
 * @param path - a `wal.log`-format file; a missing file reads as empty.
 * @param timeframe - the dataset's timeframe: a record whose candle is not valid for it (see `ohlcvValidator`) is a
 *   problem.
 * @throws I/O errors other than `ENOENT`.
 */
export function readWalFile(path: string, timeframe: Timeframe): WalReplay {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { candles: [], problems: [] };
    throw error;
  }
  return parseLog(bytes, path, candleChecker(timeframe));
}

/**
 * The write-ahead log of one dataset (one `root` and subscription); see the module comment for files, format and
 * guarantees. A class because it holds an open file and the queue of appends waiting for the next fsync.
 */
export class WriteAheadLog {
  /** What {@link WriteAheadLog.open} recovered from the last run. */
  readonly recovery: WalRecovery;
  /** Path of the active log, `<datasetDir>/wal.log`. */
  readonly path: string;

  private readonly compactingPath: string;
  private readonly dir: string;
  private readonly check: CandleCheck;
  private readonly onEvent: (event: WalEvent) => void;
  /** The active log's descriptor; -1 once closed or after a failed rotation. */
  private fd = -1;
  /** Bytes and candles of the active log that are synced. */
  private durableBytes = 0;
  private durable = 0;
  private pending: PendingAppend[] = [];
  private flushing: Promise<void> | null = null;
  private paused = false;
  private closed = false;
  private closing: Promise<void> | null = null;
  private failure: WriteAheadLogError | null = null;
  private compactions: Promise<unknown> = Promise.resolve();
  /** Releases the dataset's writer lock, held from {@link open} to the end of {@link close}. */
  private readonly releaseLock: () => void;

  private constructor(
    /** The datasets folder. */
    readonly root: string,
    /** The dataset whose log this is. */
    readonly subscription: Subscription,
    options: WalOptions,
  ) {
    this.dir = datasetDir(root, subscription);
    this.path = join(this.dir, WAL_FILE);
    this.compactingPath = join(this.dir, COMPACTING_FILE);
    this.check = candleChecker(subscription.timeframe);
    this.onEvent = options.onEvent ?? (() => undefined);
    mkdirDurable(this.dir);
    this.releaseLock = acquireWriterLock(this.dir, `${describeSubscription(subscription)} in ${root}`);
    try {
      this.recovery = this.recover();
    } catch (error) {
      this.releaseLock();
      throw error;
    }
  }

  /** Compacts what the last run left and opens `wal.log` for appends (see {@link WriteAheadLog.open}). */
  private recover(): WalRecovery {
    const recovered: CompactionResult[] = [];
    if (existsSync(this.compactingPath)) recovered.push(this.compactFile());
    const active = readWalFile(this.path, this.subscription.timeframe);
    const clean = active.problems.length === 0;
    if (!clean) {
      renameSync(this.path, this.compactingPath);
      fsyncDir(this.dir);
      recovered.push(this.compactFile());
    }
    this.fd = openSync(this.path, 'a', 0o644);
    fsyncDir(this.dir);
    if (clean) {
      this.durableBytes = fstatSync(this.fd).size;
      this.durable = active.candles.length;
    }
    return {
      candles: recovered.reduce((n, r) => n + r.candles, this.durable),
      problems: recovered.flatMap((r) => r.problems),
      keptAs: recovered.flatMap((r) => r.keptAs),
    };
  }

  /**
   * Opens (creating if needed) the log of a dataset and recovers what the last run left: a leftover
   * `wal.log.compacting` is compacted; a `wal.log` with problems (a torn tail after a crash, corruption) is compacted
   * and set aside; a clean `wal.log` is kept and appended to. See {@link WriteAheadLog.recovery}. The log holds the
   * dataset's writer lock until {@link close} has finished.
   *
   * @param root - the datasets folder, e.g. `datasets`; the dataset folder is created if missing.
   * @throws {@link "store/writer-lock"!DatasetLockedError | DatasetLockedError} when another running process writes the
   *   dataset (its log is open, or it is writing partitions); nothing is read or written then.
   * @throws the errors of `datasetDir` for an invalid subscription; the errors of `writeCandles` when a leftover log
   *   cannot be compacted (e.g. `CorruptDataError` for a partition that cannot be read), with every file left as it
   *   was; I/O errors.
   */
  static open(root: string, subscription: Subscription, options: WalOptions = {}): WriteAheadLog {
    return new WriteAheadLog(root, subscription, options);
  }

  /** Candles acknowledged in the active log since it was started (by {@link open} or the last compaction). */
  get candlesInLog(): number {
    return this.durable;
  }

  /**
   * Appends candles to the log; resolves once they are durable (written and fsynced, see "Group commit" in the module
   * comment). The candles of one call are written together, in order.
   *
   * @param candles - one candle or several, with their provenance; `receivedAt` in UTC epoch ms or null.
   * @throws {@link "core/errors"!InvalidCandleError | InvalidCandleError} (rejects, nothing written) when a candle is
   *   not valid for the dataset's timeframe (see `ohlcvValidator`), its open time is not a safe integer, its source
   *   unknown or `receivedAt` not an integer; the message names the dataset, the candle's index and the problem.
   * @throws {@link WriteAheadLogError} (rejects) when the log is closed or failed; an append whose write or fsync
   *   fails rejects with it, and then may or may not be in the log.
   */
  append(candles: StoredCandle | readonly StoredCandle[]): Promise<void> {
    const list: readonly StoredCandle[] = isCandleList(candles) ? candles : [candles];
    try {
      this.assertUsable();
      const lines = list.map((c, i) => {
        const problem = this.check(c);
        if (problem !== null) {
          throw new InvalidCandleError(`cannot append to the log of ${describeSubscription(this.subscription)}: candle ${i}: ${problem}`);
        }
        return encodeRecord(c);
      });
      if (lines.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        this.pending.push({ text: lines.join(''), candles: list.length, resolve, reject });
        this.kick();
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The candles of the log that are durable, in log order: a leftover `wal.log.compacting` (from a compaction that
   * failed) first, then the acknowledged part of `wal.log`. Candles of appends still waiting for their fsync are not
   * included.
   *
   * @throws {@link WriteAheadLogError} when the log is closed; I/O errors.
   */
  replay(): WalReplay {
    this.assertOpen();
    const leftover = readWalFile(this.compactingPath, this.subscription.timeframe);
    const active = parseLog(readFileSync(this.path).subarray(0, this.durableBytes), this.path, this.check);
    return { candles: [...leftover.candles, ...active.candles], problems: [...leftover.problems, ...active.problems] };
  }

  /**
   * Moves the log's durable candles into the dataset's partitions (steps and crash safety in the module comment).
   * Appends wait while the log is renamed, then go to the new `wal.log`. Compactions run one at a time, in call order.
   *
   * @returns what was compacted; nothing when the log is empty.
   * @throws the errors of `writeCandles` (e.g. `CorruptDataError` for a partition that cannot be read): the log being
   *   compacted is then kept as `wal.log.compacting`, still read by {@link replay} and compacted first next time.
   * @throws {@link WriteAheadLogError} when the log is closed or failed; I/O errors.
   */
  compact(): Promise<CompactionResult> {
    const run = this.compactions.then(() =>
      this.compactNow().catch((error: unknown) => {
        this.onEvent({ type: 'compaction-failed', error });
        throw error;
      }),
    );
    this.compactions = run.catch(() => undefined);
    return run;
  }

  /**
   * Waits for the compactions already asked for and the appends in flight (each resolves or rejects as usual), then
   * closes the file; later calls of any method but this one reject with {@link WriteAheadLogError}. Does not compact:
   * what is left in the log is replayed by the next {@link open}. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    for (let waited: Promise<unknown> | null = null; waited !== this.compactions; ) {
      waited = this.compactions;
      await waited;
    }
    this.closed = true;
    this.kick();
    while (this.flushing !== null) await this.flushing;
    if (this.fd !== -1) closeSync(this.fd);
    this.fd = -1;
    this.releaseLock();
  }

  private async compactNow(): Promise<CompactionResult> {
    this.assertUsable();
    await this.drain();
    const results: CompactionResult[] = [];
    let rotated = false;
    try {
      this.assertUsable();
      if (existsSync(this.compactingPath)) results.push(this.compactFile());
      if (this.durableBytes > 0) {
        this.rotate();
        rotated = true;
      }
    } finally {
      this.paused = false;
      this.kick();
    }
    if (rotated) results.push(this.compactFile());
    return {
      candles: results.reduce((n, r) => n + r.candles, 0),
      partitions: [...new Set(results.flatMap((r) => r.partitions))].sort(),
      problems: results.flatMap((r) => r.problems),
      keptAs: results.flatMap((r) => r.keptAs),
    };
  }

  /** Stops starting new writes and waits until none is in flight; the caller must reset `paused`. */
  private async drain(): Promise<void> {
    this.paused = true;
    while (this.flushing !== null) await this.flushing;
  }

  /** `wal.log` → `wal.log.compacting`, and a new empty `wal.log`. On failure the log is failed (reopen it). */
  private rotate(): void {
    try {
      closeSync(this.fd);
      this.fd = -1;
      renameSync(this.path, this.compactingPath);
      fsyncDir(this.dir);
      this.fd = openSync(this.path, 'a', 0o644);
      fsyncDir(this.dir);
    } catch (error) {
      this.failure = new WriteAheadLogError(
        `log of ${describeSubscription(this.subscription)} failed while rotating ${this.path}: ${messageOf(error)}; reopen it to recover`,
        { cause: error },
      );
      throw this.failure;
    }
    this.durableBytes = 0;
    this.durable = 0;
    this.onEvent({ type: 'rotated', path: this.compactingPath });
  }

  /** Writes `wal.log.compacting` into the partitions month by month, then deletes it or sets it aside. */
  private compactFile(): CompactionResult {
    const path = this.compactingPath;
    const { candles, problems } = readWalFile(path, this.subscription.timeframe);
    const partitions: string[] = [];
    for (const month of splitByMonth(candles)) {
      const written = writeCandles(this.root, this.subscription, batchFromCandles(month));
      partitions.push(...written);
      for (const p of written) this.onEvent({ type: 'partition-written', path: p, candles: month.length });
    }
    let keptAs: string | null = null;
    if (problems.length === 0) {
      unlinkSync(path);
    } else {
      keptAs = asideName(join(this.dir, WAL_FILE), problems.some((p) => p.kind === 'corrupt') ? 'corrupt' : 'torn');
      renameSync(path, keptAs);
    }
    fsyncDir(this.dir);
    this.onEvent({ type: 'compacted', path, candles: candles.length, keptAs });
    return { candles: candles.length, partitions, problems, keptAs: keptAs === null ? [] : [keptAs] };
  }

  /** Starts the write loop unless it runs, is paused, or the log failed. */
  private kick(): void {
    if (this.flushing !== null || this.paused || this.failure !== null || this.pending.length === 0) return;
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = null;
      this.kick();
    });
  }

  /** Writes and fsyncs the waiting appends, one group per fsync, until none waits or compaction pauses it. */
  private async flushLoop(): Promise<void> {
    // Let the appends issued in the current turn join the first group.
    await Promise.resolve();
    while (this.pending.length > 0 && !this.paused) {
      const group = this.pending;
      this.pending = [];
      const bytes = Buffer.from(group.length === 1 ? group[0]!.text : group.map((g) => g.text).join(''), 'latin1');
      const candles = group.reduce((n, g) => n + g.candles, 0);
      try {
        await writeFully(this.fd, bytes);
        this.onEvent({ type: 'written', candles, bytes: bytes.length });
        await syncData(this.fd);
        this.durableBytes += bytes.length;
        this.durable += candles;
        this.onEvent({ type: 'synced', candles });
      } catch (error) {
        this.failure = new WriteAheadLogError(
          `log of ${describeSubscription(this.subscription)} failed writing ${this.path}: ${messageOf(error)}; reopen it to recover`,
          { cause: error },
        );
        for (const g of [...group, ...this.pending]) g.reject(this.failure);
        this.pending = [];
        return;
      }
      for (const g of group) g.resolve();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new WriteAheadLogError(`log of ${describeSubscription(this.subscription)} (${this.path}) is closed`);
  }

  private assertUsable(): void {
    this.assertOpen();
    if (this.failure !== null) throw this.failure;
  }
}

interface PendingAppend {
  /** Its records, ASCII. */
  readonly text: string;
  readonly candles: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** `null` when a candle can be logged and later stored, otherwise why not. */
type CandleCheck = (c: StoredCandle) => string | null;

function candleChecker(timeframe: Timeframe): CandleCheck {
  const ohlcv = ohlcvValidator(timeframe);
  return (c) => {
    if (!Number.isSafeInteger(c.openTime)) return `open time ${c.openTime} is not an integer number of ms`;
    if (!CANDLE_SOURCES.includes(c.source)) return `source "${String(c.source)}" is not one of ${CANDLE_SOURCES.join(', ')}`;
    if (c.receivedAt !== null && !Number.isSafeInteger(c.receivedAt)) return `receivedAt ${c.receivedAt} is not an integer number of ms or null`;
    return ohlcv(c.openTime, c.open, c.high, c.low, c.close, c.volume);
  };
}

function isCandleList(candles: StoredCandle | readonly StoredCandle[]): candles is readonly StoredCandle[] {
  return Array.isArray(candles);
}

/** One record line (format in the module comment). */
function encodeRecord(c: StoredCandle): string {
  const json = JSON.stringify([c.openTime, c.open, c.high, c.low, c.close, c.volume, c.source, c.receivedAt]);
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

const NEWLINE = 0x0a;
const HEX8 = /^[0-9a-f]{8}$/;

/** Parses a whole log; see "Reading a log" in the module comment. */
function parseLog(bytes: Buffer, file: string, check: CandleCheck): WalReplay {
  const candles: StoredCandle[] = [];
  const bad: { offset: number; end: number; reason: string }[] = [];
  let goodEnd = 0;
  for (let offset = 0; offset < bytes.length; ) {
    const newline = bytes.indexOf(NEWLINE, offset);
    const end = newline === -1 ? bytes.length : newline + 1;
    const record = newline === -1 ? 'incomplete record (no newline)' : decodeRecord(bytes.subarray(offset, newline), check);
    if (typeof record === 'string') {
      const last = bad[bad.length - 1];
      if (last !== undefined && last.end === offset) last.end = end;
      else bad.push({ offset, end, reason: record });
    } else {
      candles.push(record);
      goodEnd = end;
    }
    offset = end;
  }
  const problems = bad.map(({ offset, end, reason }): WalProblem => ({
    file,
    kind: offset >= goodEnd ? 'torn' : 'corrupt',
    offset,
    length: end - offset,
    reason,
  }));
  return { candles, problems };
}

/** The candle of one line (without its `\n`), or why it is not a valid record. */
function decodeRecord(line: Buffer, check: CandleCheck): StoredCandle | string {
  if (line.length < 10 || line[8] !== 0x20) return 'not a record line (expected "<crc32 hex> <json>")';
  const crc = line.toString('latin1', 0, 8);
  if (!HEX8.test(crc)) return 'not a record line (expected "<crc32 hex> <json>")';
  const json = line.subarray(9);
  if (crc32(json) !== Number.parseInt(crc, 16)) return 'checksum mismatch';
  let value: unknown;
  try {
    value = JSON.parse(json.toString('utf8'));
  } catch {
    return 'checksum matches but the JSON does not parse';
  }
  if (
    !Array.isArray(value) ||
    value.length !== 8 ||
    !value.slice(0, 6).every((v) => typeof v === 'number') ||
    typeof value[6] !== 'string' ||
    !(value[7] === null || typeof value[7] === 'number')
  ) {
    return 'not [openTime, open, high, low, close, volume, source, receivedAt]';
  }
  const [openTime, open, high, low, close, volume, source, receivedAt] = value as [number, number, number, number, number, number, CandleSource, number | null];
  const candle: StoredCandle = { openTime, open, high, low, close, volume, source, receivedAt };
  return check(candle) ?? candle;
}

/** Candles grouped by UTC month of their open time, months ascending, log order kept inside a month. */
function splitByMonth(candles: readonly StoredCandle[]): StoredCandle[][] {
  const months = new Map<string, StoredCandle[]>();
  for (const c of candles) {
    const month = monthOf(c.openTime);
    const list = months.get(month);
    if (list === undefined) months.set(month, [c]);
    else list.push(c);
  }
  return [...months.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, list]) => list);
}

/** `<base>.<kind>-<ms>`, with `-<n>` added if that name is taken. */
function asideName(base: string, kind: 'corrupt' | 'torn'): string {
  const stem = `${base}.${kind}-${Date.now()}`;
  let name = stem;
  for (let n = 1; existsSync(name); n++) name = `${stem}-${n}`;
  return name;
}

function writeFully(fd: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (offset: number): void => {
      write(fd, bytes, offset, bytes.length - offset, null, (error, written) => {
        if (error !== null) reject(error);
        else if (offset + written < bytes.length) step(offset + written);
        else resolve();
      });
    };
    step(0);
  });
}

function syncData(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (error) => (error === null ? resolve() : reject(error))));
}

