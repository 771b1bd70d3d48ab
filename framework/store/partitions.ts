/**
 * Reads and writes datasets: the monthly Parquet partitions laid out by {@link datasetDir}.
 *
 * Writes are atomic per partition (temporary file in the same folder, fsync, rename over the target, fsync of the
 * folder), so a reader sees either the old or the new month, never a half-written one, and a failed write leaves the
 * old file as it was. One writer per dataset at a time is assumed.
 *
 * @module
 */

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { allocateBatch, batchLength, CANDLE_SOURCES, concatBatches, copyRows, sliceBatch } from '../core/candle';
import type { CandleBatch } from '../core/candle';
import { CorruptDataError, DatasetNotFoundError, InvalidCandleError, InvalidTimestampError } from '../core/errors';
import { describeSubscription } from '../core/subscription';
import type { Subscription } from '../core/subscription';
import { timeframeGrid, type TimeframeGrid } from '../core/timeframe';
import { isoUtc } from '../core/time';
import { datasetDir, listDatasets, listPartitions, monthOf, monthRange, partitionMonth, partitionPath } from './layout';
import { decodeCandles, encodeCandles } from './parquet-codec';
import { lowerBound } from '../core/search';
import { fsyncDir, mkdirDurable, writeAll } from './durable';
import { withWriterLock } from './writer-lock';

/** A span of open times in UTC epoch ms: `from` inclusive, `to` exclusive; a missing bound is open. */
export interface TimeRange {
  readonly from?: number;
  readonly to?: number;
}

/**
 * Reads one partition file.
 *
 * @param path - a `.parquet` file written by {@link writeCandles}.
 * @param allocate - gives the batch of `rows` rows the candles are read into (see `decodeCandles`); default a new one.
 * @returns its candles, sorted by open time.
 * @throws {@link "core/errors"!CorruptDataError | CorruptDataError} naming the file when it cannot be decoded (see
 * `decodeCandles`) or its open times are not strictly increasing. I/O errors (e.g. `ENOENT`) are passed through.
 */
export function readPartitionFile(path: string, allocate?: (rows: number) => CandleBatch): CandleBatch {
  const batch = decodeCandles(readFileSync(path), path, allocate);
  const t = batch.openTime;
  for (let i = 1; i < t.length; i++) {
    if (t[i]! <= t[i - 1]!) {
      throw new CorruptDataError(
        `${path}: open times not strictly increasing at row ${i} (${isoUtc(t[i - 1]!)}, then ${isoUtc(t[i]!)})`,
      );
    }
  }
  return batch;
}

/**
 * Reads a dataset's candles, optionally only those whose open time falls in `range`. Only the monthly partitions
 * that overlap the range are read; they are concatenated in month order.
 *
 * @param root - the datasets folder, e.g. `datasets`.
 * @param range - open times in UTC epoch ms, `from` inclusive, `to` exclusive.
 * @returns the candles sorted by open time (empty when none falls in `range`).
 * @throws {@link "core/errors"!DatasetNotFoundError | DatasetNotFoundError} naming the folder and listing the datasets
 * under `root` when the dataset has no partition files.
 * @throws {@link "core/errors"!CorruptDataError | CorruptDataError} naming the file when a partition cannot be decoded,
 * is out of order, holds a candle of another month or one not aligned to the timeframe.
 * @throws {@link "core/errors"!InvalidTimestampError | InvalidTimestampError} when a bound of `range` is not a finite
 * number; the errors of `datasetDir`.
 */
export function readDataset(root: string, subscription: Subscription, range: TimeRange = {}): CandleBatch {
  const from = rangeBound(range.from, 'from', Number.NEGATIVE_INFINITY);
  const to = rangeBound(range.to, 'to', Number.POSITIVE_INFINITY);
  const paths = listPartitions(root, subscription);
  if (paths.length === 0) throw datasetNotFound(root, subscription);
  const grid = timeframeGrid(subscription.timeframe);
  const months = paths
    .map((path) => ({ path, month: monthRange(partitionMonth(path)!) }))
    .filter(({ month }) => month.end > from && month.start < to);
  // One batch for every partition, sized for full months (a partition holds at most one month of candles): each file
  // is decoded straight into its place instead of into a batch of its own that is then copied.
  const out = allocateBatch(months.reduce((rows, { month }) => rows + candlesPerMonth(month, grid), 0));
  let filled = 0;
  for (const { path, month } of months) {
    let inPlace = false;
    const batch = readPartitionFile(path, (rows) => {
      inPlace = filled + rows <= batchLength(out);
      return inPlace ? sliceBatch(out, filled, filled + rows) : allocateBatch(rows);
    });
    checkPartitionContents(batch, path, month, grid);
    const start = lowerBound(batch.openTime, from);
    const end = lowerBound(batch.openTime, to);
    if (start > 0 || !inPlace) copyRows(out, sliceBatch(batch, start, end), filled);
    filled += end - start;
  }
  return sliceBatch(out, 0, filled);
}

/**
 * Stores candles in a dataset. The batch is split by UTC month; each month is merged with the partition already on
 * disk, where a candle with the same open time is replaced by the new one (within `batch`, the later row wins), and
 * the merged month is written back sorted by open time, atomically (see the module comment).
 * Only the open time's alignment and the source code are checked here; OHLCV validation is the pipeline's job.
 *
 * @param root - the datasets folder, created if missing.
 * @param batch - candles in any order.
 * @returns the paths of the partition files written, oldest month first.
 * @throws {@link "core/errors"!InvalidCandleError | InvalidCandleError} naming the row when an open time is not an
 * integer aligned to the timeframe or a source code is unknown; nothing is written then.
 * @throws {@link "core/errors"!CorruptDataError | CorruptDataError} naming the file when an existing partition that
 * must be merged cannot be read or holds candles that do not belong in it; all existing partitions are read before
 * any is written, so nothing is written then. I/O errors while writing are passed through; the month being written
 * keeps its old file.
 * @throws {@link "store/writer-lock"!DatasetLockedError | DatasetLockedError} when another running process writes the
 * dataset (see `store/writer-lock.ts`); nothing is written then.
 */
export function writeCandles(root: string, subscription: Subscription, batch: CandleBatch): string[] {
  const dir = datasetDir(root, subscription);
  const grid = timeframeGrid(subscription.timeframe);
  checkIncoming(batch, subscription);
  const incoming = sortUnique(batch);
  if (batchLength(incoming) === 0) return [];
  mkdirDurable(dir);
  return withWriterLock(dir, `${describeSubscription(subscription)} in ${root}`, () => mergeMonths(root, subscription, incoming, grid));
}

/** Merges sorted, unique `incoming` candles into their months' partitions and writes them (see {@link writeCandles}). */
function mergeMonths(root: string, subscription: Subscription, incoming: CandleBatch, grid: TimeframeGrid): string[] {
  const months: { path: string; candles: CandleBatch }[] = [];
  for (let start = 0; start < batchLength(incoming); ) {
    const monthName = monthOf(incoming.openTime[start]!);
    const month = monthRange(monthName);
    const end = lowerBound(incoming.openTime, month.end);
    const path = partitionPath(root, subscription, monthName);
    let existing = allocateBatch(0);
    if (statSync(path, { throwIfNoEntry: false })?.isFile() === true) {
      existing = readPartitionFile(path);
      checkPartitionContents(existing, path, month, grid);
    }
    months.push({ path, candles: sortUnique(concatBatches([existing, sliceBatch(incoming, start, end)])) });
    start = end;
  }
  for (const { path, candles } of months) writeFileAtomic(path, encodeCandles(candles));
  return months.map((m) => m.path);
}

function rangeBound(value: number | undefined, name: string, open: number): number {
  if (value === undefined) return open;
  if (!Number.isFinite(value)) throw new InvalidTimestampError(`invalid range.${name} ${value}: expected UTC epoch ms`);
  return value;
}

function datasetNotFound(root: string, subscription: Subscription): DatasetNotFoundError {
  const available = listDatasets(root).map(describeSubscription);
  return new DatasetNotFoundError(
    `dataset ${describeSubscription(subscription)} not found: no partition files in ${datasetDir(root, subscription)}; ` +
      (available.length > 0 ? `datasets under ${root}: ${available.join(', ')}` : `no datasets under ${root}`),
  );
}

/** The most candles of `grid` that open in `month` (a partition holds at most this many). */
function candlesPerMonth(month: { readonly start: number; readonly end: number }, grid: TimeframeGrid): number {
  return Math.ceil((month.end - month.start) / (grid.fixedMs ?? grid.nominalMs));
}

function checkPartitionContents(
  batch: CandleBatch,
  path: string,
  month: { readonly start: number; readonly end: number },
  grid: TimeframeGrid,
): void {
  const t = batch.openTime;
  for (let i = 0; i < t.length; i++) {
    if (t[i]! < month.start || t[i]! >= month.end) {
      throw new CorruptDataError(`${path}: row ${i} has open time ${isoUtc(t[i]!)}, outside the file's month`);
    }
    if (!grid.isAligned(t[i]!)) {
      throw new CorruptDataError(
        `${path}: row ${i} has open time ${isoUtc(t[i]!)}, not aligned to the dataset's timeframe ${grid.timeframe} (its candles open ${grid.rule})`,
      );
    }
  }
}

function checkIncoming(batch: CandleBatch, subscription: Subscription): void {
  const grid = timeframeGrid(subscription.timeframe);
  const where = `cannot store candles in ${describeSubscription(subscription)}`;
  const n = batchLength(batch);
  for (const key of Object.keys(batch) as (keyof CandleBatch)[]) {
    if (batch[key].length !== n) {
      throw new InvalidCandleError(`${where}: column ${key} has ${batch[key].length} rows, open time has ${n}`);
    }
  }
  for (let i = 0; i < n; i++) {
    const t = batch.openTime[i]!;
    if (!Number.isSafeInteger(t) || !grid.isAligned(t)) {
      throw new InvalidCandleError(
        `${where}: row ${i} has open time ${t}, not an integer open time of ${subscription.timeframe} (its candles open ${grid.rule})`,
      );
    }
    if (batch.source[i]! >= CANDLE_SOURCES.length) {
      throw new InvalidCandleError(
        `${where}: row ${i} has source code ${batch.source[i]}, not one of ${CANDLE_SOURCES.join(', ')}`,
      );
    }
  }
}

/** The rows sorted by open time, keeping only the last row of each open time. */
function sortUnique(batch: CandleBatch): CandleBatch {
  const t = batch.openTime;
  const order = Array.from({ length: t.length }, (_, i) => i).sort((a, b) => t[a]! - t[b]! || a - b);
  const keep = order.filter((row, k) => k === order.length - 1 || t[order[k + 1]!] !== t[row]);
  const out = allocateBatch(keep.length);
  for (const key of Object.keys(out) as (keyof CandleBatch)[]) {
    const column = out[key];
    const source = batch[key];
    keep.forEach((row, i) => (column[i] = source[row]!));
  }
  return out;
}

/** Replaces `path` with `bytes` atomically: temp file in the same folder, fsync, rename, fsync of the folder. */
function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      writeAll(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
  fsyncDir(dirname(path));
}

