/**
 * The candle: the unit of market data that flows through the whole framework.
 *
 * @module
 */

/**
 * One OHLCV candle. `openTime` is the candle's open time in UTC epoch milliseconds; prices are in the quote currency
 * of the symbol (USDT for `BTC/USDT`), `volume` in the base currency (BTC for `BTC/USDT`).
 */
export interface Candle {
  readonly openTime: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

/**
 * Where a stored candle came from:
 * - `import`: converted from a file of historical candles (the shipped datasets);
 * - `resample`: aggregated by the framework's resampler from a finer timeframe;
 * - `rest`: fetched over the exchange's REST API (history or backfill);
 * - `websocket`: closed on the exchange's WebSocket stream.
 */
export type CandleSource = 'import' | 'resample' | 'rest' | 'websocket';

/** All candle sources, in the order of their numeric codes in {@link CandleBatch.source}. */
export const CANDLE_SOURCES: readonly CandleSource[] = ['import', 'resample', 'rest', 'websocket'];

/** Numeric code of a {@link CandleSource}, as stored in {@link CandleBatch.source}. */
export function sourceCode(source: CandleSource): number {
  return CANDLE_SOURCES.indexOf(source);
}

/** Provenance of a candle: its source and when it was received (UTC epoch ms; `null` when unknown, e.g. imported). */
export interface Provenance {
  readonly source: CandleSource;
  readonly receivedAt: number | null;
}

/** A candle together with its provenance, as the store keeps it. */
export interface StoredCandle extends Candle, Provenance {}

/**
 * A column-oriented batch of candles: the form in which candles cross module boundaries in bulk
 * (Parquet partitions, pipeline output, the engine's history). All arrays have the same length; row `i` is one candle.
 * `receivedAt` holds NaN where unknown; `source` holds {@link CANDLE_SOURCES} indices.
 */
export interface CandleBatch {
  readonly openTime: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
  readonly receivedAt: Float64Array;
  readonly source: Uint8Array;
}

/** The OHLCV column names of a {@link CandleBatch}, in their conventional order. */
export const OHLCV_COLUMNS = ['open', 'high', 'low', 'close', 'volume'] as const;

/** Number of candles in a batch. */
export function batchLength(batch: CandleBatch): number {
  return batch.openTime.length;
}

/** An empty batch with room for `length` candles (all zero; callers fill it). */
export function allocateBatch(length: number): CandleBatch {
  return {
    openTime: new Float64Array(length),
    open: new Float64Array(length),
    high: new Float64Array(length),
    low: new Float64Array(length),
    close: new Float64Array(length),
    volume: new Float64Array(length),
    receivedAt: new Float64Array(length),
    source: new Uint8Array(length),
  };
}

/** Row `i` of a batch as a {@link StoredCandle}. */
export function candleAt(batch: CandleBatch, i: number): StoredCandle {
  const receivedAt = batch.receivedAt[i]!;
  return {
    openTime: batch.openTime[i]!,
    open: batch.open[i]!,
    high: batch.high[i]!,
    low: batch.low[i]!,
    close: batch.close[i]!,
    volume: batch.volume[i]!,
    source: CANDLE_SOURCES[batch.source[i]!] ?? 'import',
    receivedAt: Number.isNaN(receivedAt) ? null : receivedAt,
  };
}

/** Builds a batch from stored candles (row order kept). */
export function batchFromCandles(candles: readonly StoredCandle[]): CandleBatch {
  const batch = allocateBatch(candles.length);
  candles.forEach((c, i) => writeRow(batch, i, c));
  return batch;
}

/** Writes candle `c` into row `i` of `batch`. */
export function writeRow(batch: CandleBatch, i: number, c: StoredCandle): void {
  batch.openTime[i] = c.openTime;
  batch.open[i] = c.open;
  batch.high[i] = c.high;
  batch.low[i] = c.low;
  batch.close[i] = c.close;
  batch.volume[i] = c.volume;
  batch.receivedAt[i] = c.receivedAt ?? Number.NaN;
  batch.source[i] = sourceCode(c.source);
}

/** Copies row `i` of `from` into row `j` of `to`. */
export function copyRow(from: CandleBatch, i: number, to: CandleBatch, j: number): void {
  to.openTime[j] = from.openTime[i]!;
  to.open[j] = from.open[i]!;
  to.high[j] = from.high[i]!;
  to.low[j] = from.low[i]!;
  to.close[j] = from.close[i]!;
  to.volume[j] = from.volume[i]!;
  to.receivedAt[j] = from.receivedAt[i]!;
  to.source[j] = from.source[i]!;
}

/** All rows of a batch as {@link StoredCandle}s. */
export function candlesFromBatch(batch: CandleBatch): StoredCandle[] {
  return Array.from({ length: batchLength(batch) }, (_, i) => candleAt(batch, i));
}

/** The rows `[start, end)` of a batch, as views sharing its memory. */
export function sliceBatch(batch: CandleBatch, start: number, end: number): CandleBatch {
  return {
    openTime: batch.openTime.subarray(start, end),
    open: batch.open.subarray(start, end),
    high: batch.high.subarray(start, end),
    low: batch.low.subarray(start, end),
    close: batch.close.subarray(start, end),
    volume: batch.volume.subarray(start, end),
    receivedAt: batch.receivedAt.subarray(start, end),
    source: batch.source.subarray(start, end),
  };
}

/** Copies every row of `source` into `target` starting at row `offset` (target must have room). */
export function copyRows(target: CandleBatch, source: CandleBatch, offset = 0): void {
  for (const key of Object.keys(target) as (keyof CandleBatch)[]) {
    (target[key] as Float64Array | Uint8Array).set(source[key] as Float64Array & Uint8Array, offset);
  }
}

/** Concatenates batches in the given order into a new batch (no sorting or de-duplication). */
export function concatBatches(batches: readonly CandleBatch[]): CandleBatch {
  const out = allocateBatch(batches.reduce((n, b) => n + batchLength(b), 0));
  let offset = 0;
  for (const b of batches) {
    copyRows(out, b, offset);
    offset += batchLength(b);
  }
  return out;
}
