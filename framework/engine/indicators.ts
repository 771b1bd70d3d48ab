import type { DataFrame } from 'danfojs-node';
import type { CandleBatch } from '../core/candle';
import { messageOf, StrategyRuntimeError } from '../core/errors';
import type { BaseStrategy } from '../strategy/base-strategy';
import type { ColumnPool } from '../strategy/column-pool';
import { isColumnStrategy, type CandleColumns, type ColumnStrategy } from '../strategy/column-strategy';
import { columnarDataFrame, columnValues } from './columnar-frame';
import { loadDanfo } from './danfo';
import { CANDLE_FRAME_COLUMNS } from '../strategy/frame';


/**
 * Builds the danfojs `DataFrame` a strategy's `populateIndicators` receives: columns `open_time` (UTC epoch ms),
 * `open`, `high`, `low`, `close`, `volume`, one row per candle, oldest first. It behaves as
 * `new DataFrame({ open_time: Array.from(candles.openTime), … })` does; its row arrays are only made if asked for
 * (see {@link columnarDataFrame}).
 */
export async function candleDataFrame(candles: CandleBatch): Promise<DataFrame> {
  const loaded = await loadDanfo();
  if (candles.openTime.length > 0) {
    const { openTime, open, high, low, close, volume } = candles;
    return columnarDataFrame(loaded, CANDLE_FRAME_COLUMNS, [openTime, open, high, low, close, volume]);
  }
  const { DataFrame } = loaded;
  return new DataFrame({
    open_time: Array.from(candles.openTime),
    open: Array.from(candles.open),
    high: Array.from(candles.high),
    low: Array.from(candles.low),
    close: Array.from(candles.close),
    volume: Array.from(candles.volume),
  });
}

/**
 * The objects `populateColumns` was last given and returned (their arrays are the candles' and the frame's columns,
 * not copies), kept only so that their hidden classes (V8 maps) outlive a full garbage collection between two
 * optimisation trials, which V8 otherwise answered by discarding `populateColumns`' optimised code (see `lastTrial` in
 * `optimize/trial.ts`).
 */
const lastColumns: { given: CandleColumns | null; returned: unknown } = { given: null, returned: null };

/**
 * Runs the strategy's `populateIndicators` over `candles` and returns every column as a `Float64Array`
 * (see {@link extractColumns}); for a {@link ColumnStrategy}, its `populateColumns` on the candle arrays instead, with
 * no DataFrame (see {@link arrayColumns}). The object is new on every call: the caller may add columns to it.
 *
 * @param file - the plugin file, for error messages.
 * @param pool - lends `populateColumns` its columns (an optimisation trial's; see {@link ColumnPool}); default none.
 * @throws {@link "core/errors"!StrategyRuntimeError | StrategyRuntimeError} naming the file when `populateIndicators`
 *   throws, returns something that is not a DataFrame, changes the number of rows, or adds a column that is not numeric
 *   or boolean; or when `populateColumns` throws or breaks the same rules.
 */
export async function computeIndicatorColumns(
  strategy: BaseStrategy,
  candles: CandleBatch,
  file: string,
  pool?: ColumnPool,
): Promise<Record<string, Float64Array>> {
  if (isColumnStrategy(strategy)) {
    const { openTime, open, high, low, close, volume } = candles;
    let returned: unknown;
    const given = { open_time: openTime, open, high, low, close, volume };
    lastColumns.given = given;
    try {
      returned = await (pool === undefined ? strategy.populateColumns(given) : pool.lend(() => strategy.populateColumns(given)));
    } catch (error) {
      throw new StrategyRuntimeError(`${file}: populateColumns threw: ${messageOf(error)}`, { cause: error });
    }
    lastColumns.returned = returned;
    return arrayColumns(returned, candles, `${file}: populateColumns`);
  }
  let df: DataFrame = await candleDataFrame(candles);
  try {
    df = await strategy.populateIndicators(df);
  } catch (error) {
    throw new StrategyRuntimeError(`${file}: populateIndicators threw: ${messageOf(error)}`, { cause: error });
  }
  return extractColumns(df, candles, `${file}: populateIndicators`);
}

/**
 * Every column of a DataFrame returned by a strategy as a `Float64Array`: OHLCV and `open_time` taken from `candles`
 * themselves (so a strategy cannot alter what the engine trades on), plus each column the strategy added (booleans
 * become 1/0, null/undefined become NaN).
 *
 * @param where - names the strategy method for messages, e.g. `strategies/macd.ts: populateIndicators`.
 * @throws {@link "core/errors"!StrategyRuntimeError | StrategyRuntimeError} when `df` is not a DataFrame, has another
 *   number of rows than `candles`, or has a column that is not numeric or boolean.
 */
export function extractColumns(df: unknown, candles: CandleBatch, where: string): Record<string, Float64Array> {
  const fail = (problem: string): never => {
    throw new StrategyRuntimeError(`${where} ${problem}`);
  };
  const rows = candles.openTime.length;
  if (df === null || typeof df !== 'object' || !Array.isArray((df as { columns?: unknown }).columns)) {
    fail('must return the DataFrame it was given (with indicator columns added)');
  }
  const frame = df as DataFrame;
  if (frame.shape[0] !== rows) fail(`returned ${frame.shape[0]} rows for ${rows} candles; it must keep every row in order`);

  const columns = candleColumns(candles);
  for (const name of frame.columns) {
    if ((CANDLE_FRAME_COLUMNS as readonly string[]).includes(name)) continue;
    columns[name] = toFloat64(columnValues(frame, name)!, (bad) =>
      fail(`column "${name}" holds ${JSON.stringify(bad)}; indicator columns must be numbers or booleans`),
    );
  }
  return columns;
}

/**
 * The frame columns of what a {@link ColumnStrategy}'s `populateColumns` returned: OHLCV and `open_time` from `candles`, then each
 * returned column in its order, a `Float64Array` as it is (not copied), any other array copied into one (booleans
 * become 1/0, null/undefined NaN, as {@link extractColumns} does).
 *
 * @param where - names the strategy method for messages, e.g. `strategies/macd.ts: populateColumns`.
 * @throws {@link "core/errors"!StrategyRuntimeError | StrategyRuntimeError} when `returned` is not an object of
 *   columns, a column is not an array of one value per candle or holds something else than numbers or booleans, or a
 *   column is named `open_time` or after an OHLCV column.
 */
export function arrayColumns(returned: unknown, candles: CandleBatch, where: string): Record<string, Float64Array> {
  const fail = (problem: string): never => {
    throw new StrategyRuntimeError(`${where} ${problem}`);
  };
  if (returned === null || typeof returned !== 'object' || Array.isArray(returned) || ArrayBuffer.isView(returned)) {
    fail('must return an object of indicator columns, e.g. { macd: Float64Array }');
  }
  const rows = candles.openTime.length;
  const columns = candleColumns(candles);
  for (const [name, values] of Object.entries(returned as object)) {
    if ((CANDLE_FRAME_COLUMNS as readonly string[]).includes(name)) {
      fail(`returned a column "${name}": open_time and the OHLCV columns are the candles' own`);
    }
    const length = (values as { length?: unknown } | null)?.length;
    if (typeof values !== 'object' || values === null || typeof length !== 'number') {
      fail(`column "${name}" is not an array (got ${JSON.stringify(values) ?? String(values)}); return one value per candle`);
    }
    if (length !== rows) fail(`column "${name}" has ${String(length)} values for ${rows} candles; it must have one per candle`);
    columns[name] =
      values instanceof Float64Array
        ? values
        : toFloat64(values as ArrayLike<unknown>, (bad) =>
            fail(`column "${name}" holds ${JSON.stringify(bad)}; indicator columns must be numbers or booleans`),
          );
  }
  return columns;
}

/** A copy of `values` as numbers (a `Float64Array`, as a columnar frame keeps a numeric column, copied whole). */
function toFloat64(values: ArrayLike<unknown>, reject: (value: unknown) => never): Float64Array {
  if (values instanceof Float64Array) return values.slice();
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'number') out[i] = v;
    else if (typeof v === 'boolean') out[i] = v ? 1 : 0;
    else if (v === null || v === undefined) out[i] = Number.NaN;
    else reject(v);
  }
  return out;
}

/** `open_time` and the OHLCV columns of `candles` (not copied), to which indicator columns are added. */
function candleColumns(candles: CandleBatch): Record<string, Float64Array> {
  return { open_time: candles.openTime, open: candles.open, high: candles.high, low: candles.low, close: candles.close, volume: candles.volume };
}
