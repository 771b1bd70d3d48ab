/**
 * Where the store keeps candles on disk: one folder per dataset, one Parquet file per UTC calendar month.
 *
 * ```text
 * <root>/<exchange>/<BASE>_<QUOTE>/<timeframe>/<YYYY-MM>.parquet
 * datasets/binance/BTC_USDT/15m/2021-01.parquet
 * ```
 *
 * The month of a candle is the UTC calendar month of its open time. Symbols use the ccxt notation `BASE/QUOTE`
 * (`BTC/USDT`); on disk the slash becomes an underscore (`BTC_USDT`).
 *
 * @module
 */

import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { FrameworkError, InvalidTimestampError } from '../core/errors';
import type { Subscription } from '../core/subscription';
import { isTimeframe, timeframeGrid } from '../core/timeframe';

/**
 * A subscription whose exchange id or symbol cannot name a dataset folder (e.g. `BTCUSDT` without a slash,
 * a symbol containing `_` or a path separator, an exchange id with upper-case letters).
 */
export class InvalidSubscriptionError extends FrameworkError {}

/** ccxt exchange ids: lower-case letters and digits (`binance`, `binanceusdm`, `okx`), `_`/`-` allowed inside. */
const EXCHANGE_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;
/** One side of a symbol (`BTC`, `1000SHIB`): letters and digits, `.`/`-` allowed inside; never `_` or `/`. */
const ASSET_PATTERN = /^[A-Za-z0-9][A-Za-z0-9.-]*$/;
/** A partition file name: `YYYY-MM.parquet`. */
const PARTITION_PATTERN = /^(\d{4}-(0[1-9]|1[0-2]))\.parquet$/;
const MONTH_PATTERN = /^(\d{4})-(0[1-9]|1[0-2])$/;

/**
 * Folder name of a symbol: `BTC/USDT` → `BTC_USDT`.
 *
 * @throws {@link InvalidSubscriptionError} unless the symbol is `BASE/QUOTE` with each side made of letters, digits,
 * `.` and `-` (so that the folder name maps back to exactly one symbol).
 */
export function symbolToFolder(symbol: string): string {
  const parts = symbol.split('/');
  if (parts.length !== 2 || !parts.every((p) => ASSET_PATTERN.test(p))) {
    throw new InvalidSubscriptionError(
      `invalid symbol "${symbol}": expected BASE/QUOTE made of letters, digits, "." or "-" (e.g. "BTC/USDT")`,
    );
  }
  return parts.join('_');
}

/** Symbol of a dataset folder name: `BTC_USDT` → `BTC/USDT`; `undefined` when the name is not `BASE_QUOTE`. */
export function folderToSymbol(folder: string): string | undefined {
  const parts = folder.split('_');
  return parts.length === 2 && parts.every((p) => ASSET_PATTERN.test(p)) ? parts.join('/') : undefined;
}

/**
 * Folder holding a dataset's partitions: `<root>/<exchange>/<BASE>_<QUOTE>/<timeframe>`.
 *
 * @throws {@link InvalidSubscriptionError} for an exchange id or symbol that cannot name a folder.
 * @throws `InvalidTimeframeError` for an invalid timeframe.
 */
export function datasetDir(root: string, subscription: Subscription): string {
  const { exchange, symbol, timeframe } = subscription;
  if (!EXCHANGE_PATTERN.test(exchange)) {
    throw new InvalidSubscriptionError(
      `invalid exchange id "${exchange}": expected a ccxt id in lower-case letters and digits (e.g. "binance")`,
    );
  }
  timeframeGrid(timeframe);
  return join(root, exchange, symbolToFolder(symbol), timeframe);
}

/**
 * Path of one month's partition: `<datasetDir>/<YYYY-MM>.parquet`.
 *
 * @param month - `YYYY-MM`, as returned by {@link monthOf}.
 * @throws {@link "core/errors"!InvalidTimestampError | InvalidTimestampError} when `month` is not `YYYY-MM`; the errors
 *   of {@link datasetDir}.
 */
export function partitionPath(root: string, subscription: Subscription, month: string): string {
  monthRange(month);
  return join(datasetDir(root, subscription), `${month}.parquet`);
}

/**
 * The UTC calendar month (`YYYY-MM`) that contains a candle open time.
 *
 * @param openTimeMs - UTC epoch ms, e.g. 1609459200000 → `2021-01`.
 * @throws {@link "core/errors"!InvalidTimestampError | InvalidTimestampError} when `openTimeMs` is not a finite number
 *   in years 0000–9999.
 */
export function monthOf(openTimeMs: number): string {
  const iso = Number.isFinite(openTimeMs) ? new Date(openTimeMs).toISOString() : '';
  if (!/^\d{4}-/.test(iso)) {
    throw new InvalidTimestampError(`invalid candle open time ${openTimeMs}: expected UTC epoch ms in years 0000–9999`);
  }
  return iso.slice(0, 7);
}

/**
 * The time span of a month: `start` is its first instant, `end` the first instant of the next month (UTC epoch ms).
 *
 * @param month - `YYYY-MM`.
 * @throws {@link "core/errors"!InvalidTimestampError | InvalidTimestampError} when `month` is not `YYYY-MM` with a
 *   month 01–12.
 */
export function monthRange(month: string): { readonly start: number; readonly end: number } {
  const match = MONTH_PATTERN.exec(month);
  if (match === null) throw new InvalidTimestampError(`invalid month "${month}": expected YYYY-MM (e.g. "2021-01")`);
  const year = Number(match[1]);
  const index = Number(match[2]) - 1;
  return { start: Date.UTC(year, index, 1), end: Date.UTC(year, index + 1, 1) };
}

/** The month (`YYYY-MM`) of a partition file name or path, or `undefined` if it is not `YYYY-MM.parquet`. */
export function partitionMonth(path: string): string | undefined {
  return PARTITION_PATTERN.exec(basename(path))?.[1];
}

/**
 * Paths of a dataset's partition files, sorted by month (oldest first). Files not named `YYYY-MM.parquet`
 * (temporary files of an interrupted write, notes) are ignored.
 *
 * @returns `[]` when the dataset folder does not exist.
 * @throws the errors of {@link datasetDir}; file-system errors other than `ENOENT` (e.g. `EACCES`).
 */
export function listPartitions(root: string, subscription: Subscription): string[] {
  const dir = datasetDir(root, subscription);
  return subdirEntries(dir, 'file')
    .filter((name) => PARTITION_PATTERN.test(name))
    .sort()
    .map((name) => join(dir, name));
}

/**
 * Every dataset under `root` that holds at least one partition file, found by walking
 * `<exchange>/<BASE>_<QUOTE>/<timeframe>`. Folders whose names do not fit the layout are skipped.
 *
 * @returns subscriptions sorted by exchange, symbol, then timeframe length; `[]` when `root` does not exist.
 * @throws file-system errors other than `ENOENT` (e.g. `EACCES`) met while reading a folder.
 */
export function listDatasets(root: string): Subscription[] {
  const found: Subscription[] = [];
  for (const exchange of subdirEntries(root, 'directory')) {
    if (!EXCHANGE_PATTERN.test(exchange)) continue;
    for (const folder of subdirEntries(join(root, exchange), 'directory')) {
      const symbol = folderToSymbol(folder);
      if (symbol === undefined) continue;
      for (const timeframe of subdirEntries(join(root, exchange, folder), 'directory')) {
        if (!isTimeframe(timeframe)) continue;
        const subscription: Subscription = { exchange, symbol, timeframe };
        if (listPartitions(root, subscription).length > 0) found.push(subscription);
      }
    }
  }
  return found.sort(
    (a, b) =>
      compareText(a.exchange, b.exchange) ||
      compareText(a.symbol, b.symbol) ||
      timeframeGrid(a.timeframe).nominalMs - timeframeGrid(b.timeframe).nominalMs,
  );
}

/** Code-unit order, the same on every machine (unlike `localeCompare`). */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Names of the files or directories directly inside `dir` (following symlinks); `[]` if `dir` does not exist. */
function subdirEntries(dir: string, kind: 'file' | 'directory'): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names.filter((name) => {
    const stats = statSync(join(dir, name), { throwIfNoEntry: false });
    return kind === 'file' ? stats?.isFile() === true : stats?.isDirectory() === true;
  });
}
