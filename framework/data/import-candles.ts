/**
 * Bringing your own candles: a CSV or JSON file of OHLCV rows, through the candle pipeline, into the candle store.
 *
 * Layouts read (the file's extension, `.json` or `.csv`, chooses the parser; the layout is recognised per file):
 * - freqtrade's JSON (`user_data/data/<exchange>/BTC_USDT-5m.json`): `[[open_time_ms, open, high, low, close, volume], ...]`;
 *   also Binance's REST kline JSON (12 fields per row, numbers as strings), of which the first six are read;
 * - Binance's kline CSV (data.binance.vision `BTCUSDT-5m-2021-03.csv`): 12 columns, no header, open time in ms
 *   (or in µs, as Binance's spot files from 2025 on);
 * - a CSV with a header naming the columns `open_time,open,high,low,close,volume` (any order, others ignored); the
 *   open time as epoch ms/s or an ISO 8601 date (UTC unless zoned).
 *
 * Open times at or above 1e14 are taken as microseconds (1e14 ms is the year 5138), below 1e11 as seconds.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { batchLength } from '../core/candle';
import { FrameworkError, messageOf } from '../core/errors';
import { describeSubscription, type Subscription } from '../core/subscription';
import { isTimeframe } from '../core/timeframe';
import type { Gap } from '../pipeline/gaps';
import type { RawCandle } from '../pipeline/normalize';
import { processCandles, type Rejection } from '../pipeline/pipeline';
import { datasetDir, folderToSymbol, listPartitions } from '../store/layout';
import { writeCandles } from '../store/partitions';

/** A candle file that cannot be read as one of the supported layouts; names the file and, where known, the row. */
export class CandleFileError extends FrameworkError {}

/** Open times at or above this are microseconds. */
const MICROSECONDS_FROM = 1e14;

/** The columns a headed CSV must name. */
const HEADER_COLUMNS = ['open_time', 'open', 'high', 'low', 'close', 'volume'] as const;

/** What a freqtrade file name says: `BTC_USDT-5m.json` → `{ symbol: 'BTC/USDT', timeframe: '5m' }`; `null` otherwise. */
export function marketFromFileName(file: string): { readonly symbol: string; readonly timeframe: string } | null {
  const match = /^([A-Z0-9]+_[A-Z0-9]+)-(\d+[mhdw])\.(json|csv)$/.exec(path.basename(file));
  if (match === null) return null;
  const symbol = folderToSymbol(match[1]!);
  return symbol !== undefined && isTimeframe(match[2]!) ? { symbol, timeframe: match[2]! } : null;
}

/**
 * Reads a candle file as raw candles (not yet validated).
 *
 * @throws {@link CandleFileError} naming the file (and the row) when it is not one of the layouts of the module doc.
 */
export function readCandleFile(file: string): RawCandle[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CandleFileError(`${file}: cannot read the file: ${messageOf(error)}`);
  }
  const extension = path.extname(file).toLowerCase();
  if (extension === '.json') return fromJson(file, text);
  if (extension === '.csv') return fromCsv(file, text);
  throw new CandleFileError(`${file}: expected a .json or .csv file of candles`);
}

function fromJson(file: string, text: string): RawCandle[] {
  let rows: unknown;
  try {
    rows = JSON.parse(text);
  } catch (error) {
    throw new CandleFileError(`${file}: not JSON: ${messageOf(error)}`);
  }
  if (!Array.isArray(rows)) throw new CandleFileError(`${file}: expected a JSON array of [open_time_ms, open, high, low, close, volume] rows`);
  return rows.map((row: unknown, i) => {
    if (!Array.isArray(row) || row.length < 6 || !row.slice(0, 6).every((v) => typeof v === 'number' || typeof v === 'string')) {
      throw new CandleFileError(`${file}: row ${i} is ${JSON.stringify(row)}, expected [open_time_ms, open, high, low, close, volume]`);
    }
    return rawRow(row as (number | string)[], [0, 1, 2, 3, 4, 5]);
  });
}

function fromCsv(file: string, text: string): RawCandle[] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (lines.length === 0) return [];
  const first = lines[0]!.split(',').map((cell) => cell.trim().toLowerCase());
  const headed = !/^-?\d/.test(first[0] ?? '');
  let columns: number[] = [0, 1, 2, 3, 4, 5];
  if (headed) {
    columns = HEADER_COLUMNS.map((name) => first.indexOf(name));
    const missing = HEADER_COLUMNS.filter((_, i) => columns[i] === -1);
    if (missing.length > 0) {
      throw new CandleFileError(
        `${file}: the header lacks ${missing.join(', ')}; expected the columns ${HEADER_COLUMNS.join(',')} ` +
          '(or no header: Binance kline CSV, open time in ms or µs first)',
      );
    }
  }
  const body = headed ? lines.slice(1) : lines;
  const width = Math.max(...columns) + 1;
  return body.map((line, i) => {
    const cells = line.split(',').map((cell) => cell.trim());
    if (cells.length < width) {
      throw new CandleFileError(`${file}: line ${i + (headed ? 2 : 1)} has ${cells.length} columns, expected at least ${width}`);
    }
    return rawRow(cells, columns);
  });
}

/** A raw candle from the cells at `columns` (open time, open, high, low, close, volume); µs open times become ms. */
function rawRow(cells: readonly (number | string)[], columns: readonly number[]): RawCandle {
  const [t, o, h, l, c, v] = columns.map((i) => cells[i]!) as [number | string, number | string, number | string, number | string, number | string, number | string];
  const numeric = typeof t === 'number' ? t : /^\d+$/.test(t) ? Number(t) : Number.NaN;
  const openTime = numeric >= MICROSECONDS_FROM ? Math.floor(numeric / 1000) : t;
  return { openTime, open: o, high: h, low: l, close: c, volume: v, source: 'import', receivedAt: null };
}

/**
 * What {@link importCandles} stored: the dataset and its folder, the candles written and their span (UTC epoch ms),
 * the rows the pipeline rejected (with reasons naming the file and row), duplicates dropped and the gaps left.
 */
export interface ImportResult {
  readonly subscription: Subscription;
  readonly dir: string;
  readonly rows: number;
  readonly stored: number;
  readonly first: number;
  readonly last: number;
  readonly rejected: readonly Rejection[];
  readonly duplicates: number;
  readonly gaps: readonly Gap[];
}

/**
 * Imports a candle file into the store under `root`: reads it ({@link readCandleFile}), runs it through the candle
 * pipeline (normalise, validate, order, de-duplicate keeping the last version) and writes the valid candles with
 * `writeCandles`, source `import`.
 *
 * @param force - write into a dataset that already holds candles (its candles at the same open times are replaced);
 *   without it such a dataset is left as it is and an error thrown.
 * @throws {@link CandleFileError} for an unreadable file or one whose every row is rejected; `FrameworkError` when the
 *   dataset exists and `force` is not set; `InvalidSubscriptionError` for a bad exchange, symbol or timeframe. Nothing
 *   is written when it throws.
 */
export function importCandles(file: string, root: string, subscription: Subscription, force = false): ImportResult {
  const dir = datasetDir(root, subscription);
  if (!force && listPartitions(root, subscription).length > 0) {
    throw new FrameworkError(`${describeSubscription(subscription)} already exists in ${dir}; pass --force to merge the file into it`);
  }
  const raw = readCandleFile(file);
  const result = processCandles(raw, subscription.timeframe, { where: file, defaultSource: 'import' });
  const n = batchLength(result.candles);
  if (n === 0) {
    const why = result.rejected[0]?.reason ?? `${file}: no rows`;
    throw new CandleFileError(`${file}: no valid candle to import (${raw.length} rows); first problem: ${why}`);
  }
  writeCandles(root, subscription, result.candles);
  return {
    subscription,
    dir,
    rows: raw.length,
    stored: n,
    first: result.candles.openTime[0]!,
    last: result.candles.openTime[n - 1]!,
    rejected: result.rejected,
    duplicates: result.duplicates,
    gaps: result.gaps,
  };
}
