/**
 * The candle pipeline that both the historical replay and the live feed use:
 * normalise → validate → order → de-duplicate → detect gaps. It never invents candles (see
 * {@link "pipeline/fill"!fillGaps | fillGaps} for the one opt-in way to do that) and never changes the input.
 *
 * @module
 */
import { allocateBatch, candleAt, copyRow, writeRow, type CandleBatch, type CandleSource, type StoredCandle } from '../core/candle';
import { FrameworkError, InvalidCandleError } from '../core/errors';
import type { Timeframe } from '../core/timeframe';
import { findGaps, type Gap } from './gaps';
import { normalizeCandle, type RawCandle } from './normalize';
import { ohlcvValidator } from './validate';

/** A row the pipeline dropped: its index in the input, why, and the row as given (raw candle or stored candle). */
export interface Rejection {
  readonly index: number;
  readonly reason: string;
  readonly value: unknown;
}

/**
 * What {@link processCandles} produced.
 * - `candles`: valid candles, sorted by open time, one per open time;
 * - `rejected`: the rows dropped by normalisation or validation, in input order;
 * - `duplicates`: how many valid rows were dropped because a later row (in input order) had the same open time;
 * - `unsorted`: how many valid rows had an open time lower than the previous valid row's;
 * - `gaps`: the missing candles in `candles` (reported, not filled).
 */
export interface PipelineResult {
  readonly candles: CandleBatch;
  readonly rejected: readonly Rejection[];
  readonly duplicates: number;
  readonly unsorted: number;
  readonly gaps: readonly Gap[];
}

/**
 * Options of {@link processCandles}.
 * - `where`: names the input in messages, e.g. `binance BTC/USDT 5m websocket` or a file path;
 * - `defaultSource`: the source of raw candles that carry none (default `import`); ignored for a {@link CandleBatch}.
 */
export interface PipelineOptions {
  readonly where: string;
  readonly defaultSource?: CandleSource;
}

/**
 * Runs candles through the pipeline, in this order:
 * 1. normalise (raw input only, see {@link normalizeCandle}): rows that cannot be normalised are rejected;
 * 2. validate (see {@link ohlcvValidator}): invalid rows are rejected with the reason;
 * 3. order: a stable sort by open time, only when some row is out of order;
 * 4. de-duplicate by open time, keeping the LAST version in input order (a later REST backfill or a revised candle
 *    replaces what arrived before);
 * 5. gap detection (see {@link findGaps}).
 *
 * Clean input (valid, strictly increasing open times) is checked in one pass over the columns and returned as is:
 * `candles` is then the input batch itself, not a copy.
 *
 * @param input - a {@link CandleBatch} (e.g. read from the store) or raw candles (e.g. from a feed or a JSON file).
 * @param timeframe - the candles' timeframe, e.g. `5m`.
 * @param options - see {@link PipelineOptions}.
 * @returns see {@link PipelineResult}; each rejection's reason reads `<where> row <index>: <problem>`.
 * @throws {@link "core/errors"!InvalidTimeframeError | InvalidTimeframeError} when `timeframe` is not valid.
 * @throws {@link "core/errors"!InvalidCandleError | InvalidCandleError} when the columns of a batch have different
 *   lengths.
 */
export function processCandles(
  input: CandleBatch | readonly RawCandle[],
  timeframe: Timeframe,
  options: PipelineOptions,
): PipelineResult {
  const check = ohlcvValidator(timeframe);
  const rejected: Rejection[] = [];
  let batch: CandleBatch;
  let dropped: Uint8Array | null = null;
  let valueAt: (i: number) => unknown;
  if (isRawInput(input)) {
    batch = allocateBatch(input.length);
    dropped = new Uint8Array(input.length);
    const source = options.defaultSource ?? 'import';
    for (let i = 0; i < input.length; i++) {
      try {
        writeRow(batch, i, normalizeCandle(input[i]!, source));
      } catch (error) {
        if (!(error instanceof FrameworkError)) throw error;
        dropped[i] = 1;
        rejected.push({ index: i, reason: `${options.where} row ${i}: ${error.message}`, value: input[i] });
      }
    }
    valueAt = (i) => input[i];
  } else {
    checkColumns(input, options.where);
    batch = input;
    valueAt = (i) => candleAt(input, i);
  }

  // One pass: validate, count out-of-order rows, and notice adjacent duplicates.
  const { openTime, open, high, low, close, volume } = batch;
  const n = openTime.length;
  let droppedCount = rejected.length;
  let unsorted = 0;
  let adjacentDuplicate = false;
  let previous = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    if (dropped !== null && dropped[i] === 1) continue;
    const t = openTime[i]!;
    const problem = check(t, open[i]!, high[i]!, low[i]!, close[i]!, volume[i]!);
    if (problem !== null) {
      dropped ??= new Uint8Array(n);
      dropped[i] = 1;
      droppedCount++;
      rejected.push({ index: i, reason: `${options.where} row ${i}: ${problem}`, value: valueAt(i) });
      continue;
    }
    if (t < previous) unsorted++;
    else if (t === previous) adjacentDuplicate = true;
    previous = t;
  }
  rejected.sort((a, b) => a.index - b.index);

  if (droppedCount === 0 && unsorted === 0 && !adjacentDuplicate) {
    return { candles: batch, rejected, duplicates: 0, unsorted, gaps: findGaps(openTime, timeframe) };
  }

  const rows = new Uint32Array(n - droppedCount);
  for (let i = 0, k = 0; i < n; i++) {
    if (dropped === null || dropped[i] === 0) rows[k++] = i;
  }
  // Ties broken by input index: a stable sort whatever the engine's sort guarantees.
  if (unsorted > 0) rows.sort((a, b) => openTime[a]! - openTime[b]! || a - b);

  const kept = new Uint32Array(rows.length);
  let keptCount = 0;
  for (let k = 0; k < rows.length; k++) {
    const row = rows[k]!;
    const next = rows[k + 1];
    if (next === undefined || openTime[next] !== openTime[row]) kept[keptCount++] = row;
  }
  const candles = gather(batch, kept.subarray(0, keptCount));
  return {
    candles,
    rejected,
    duplicates: rows.length - keptCount,
    unsorted,
    gaps: findGaps(candles.openTime, timeframe),
  };
}

/**
 * {@link processCandles} for one raw candle at a time (a live stream's frames), without building a batch: normalise,
 * then validate — for a single row the other steps (order, de-duplicate, gaps) have nothing to do. Make it once per
 * stream and call it per candle.
 *
 * @param timeframe - the candles' timeframe, e.g. `5m`.
 * @param options - see {@link PipelineOptions}.
 * @returns a function giving the normalised candle, or a {@link Rejection} (index 0, the reason worded as
 *   {@link processCandles} words it).
 * @throws {@link "core/errors"!InvalidTimeframeError | InvalidTimeframeError} when `timeframe` is not valid.
 */
export function candlePipeline(timeframe: Timeframe, options: PipelineOptions): (raw: RawCandle) => StoredCandle | Rejection {
  const check = ohlcvValidator(timeframe);
  const source = options.defaultSource ?? 'import';
  const reject = (raw: RawCandle, problem: string): Rejection => ({ index: 0, reason: `${options.where} row 0: ${problem}`, value: raw });
  return (raw) => {
    let c: StoredCandle;
    try {
      c = normalizeCandle(raw, source);
    } catch (error) {
      if (!(error instanceof FrameworkError)) throw error;
      return reject(raw, error.message);
    }
    const problem = check(c.openTime, c.open, c.high, c.low, c.close, c.volume);
    return problem === null ? c : reject(raw, problem);
  };
}

function isRawInput(input: CandleBatch | readonly RawCandle[]): input is readonly RawCandle[] {
  return Array.isArray(input);
}

function checkColumns(batch: CandleBatch, where: string): void {
  const length = batch.openTime.length;
  for (const [name, column] of Object.entries(batch) as [keyof CandleBatch, Float64Array | Uint8Array][]) {
    if (column.length !== length) {
      throw new InvalidCandleError(
        `${where}: column ${name} has ${column.length} rows but openTime has ${length}; a candle batch needs equal columns`,
      );
    }
  }
}

/** A new batch holding the given rows of `batch`, in the given order. */
function gather(batch: CandleBatch, rows: Uint32Array): CandleBatch {
  const out = allocateBatch(rows.length);
  for (let k = 0; k < rows.length; k++) copyRow(batch, rows[k]!, out, k);
  return out;
}
