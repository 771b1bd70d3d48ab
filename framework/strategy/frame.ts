import type { Candle } from '../core/candle';
import { FrameworkError, LookaheadError } from '../core/errors';
import { isoUtc } from '../core/time';

/** The columns every candle DataFrame and frame starts with, in order. */
export const CANDLE_FRAME_COLUMNS = ['open_time', 'open', 'high', 'low', 'close', 'volume'] as const;

/** Named numeric columns of equal length, row `i` = candle `i`: OHLCV, `open_time` and indicator columns. */
export type FrameColumns = Readonly<Record<string, Float64Array>>;

/**
 * Where a {@link Frame} points: the columns, the row of the current candle in them, and `offset`, the position of
 * row 0 in the run's history (0 in a replay; in a live run the columns may cover only the newest candles, see
 * `LiveIndicators`). Only the engine holds the cursor and moves it; the strategy sees the frame, which keeps the
 * cursor in a private field.
 */
export interface FrameCursor {
  columns: FrameColumns;
  index: number;
  offset: number;
  /** Live: checks every read against the rows proven equal to the whole history; null in a replay (all rows are). */
  proof?: FrameReadCheck | null;
}

/**
 * What a live frame asks before each read (see `LiveReadProof` in the engine): it may throw a FrameworkError when the
 * read cannot be proven equal to the replay's value, or note the read to be checked before the signal is acted on.
 */
export interface FrameReadCheck {
  /**
   * A read of `column` reaching `ago` candles back from the current one: one row (`value`, `candle`) or every row
   * from there to the current one (`series`).
   */
  reach(column: string, ago: number, range: boolean): void;
}

/** Row `i` of frame columns (`open_time`, `open`, `high`, `low`, `close`, `volume`) as a {@link Candle}. */
export function candleOf(columns: FrameColumns, i: number): Candle {
  return {
    openTime: columns['open_time']![i]!,
    open: columns['open']![i]!,
    high: columns['high']![i]!,
    low: columns['low']![i]!,
    close: columns['close']![i]!,
    volume: columns['volume']![i]!,
  };
}

/** Row `i` of frame columns: every column's value, by column name, in column order. */
export function frameRow(columns: FrameColumns, i: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name in columns) out[name] = columns[name]![i]!;
  return out;
}

/**
 * The strategy's window on the data at the current candle, given to
 * {@link "strategy/base-strategy"!BaseStrategy.onData | BaseStrategy.onData}.
 *
 * It exposes the OHLCV values, `open_time` and every indicator column at the current candle and at any earlier one,
 * and nothing later: asking for a later candle throws {@link "core/errors"!LookaheadError | LookaheadError}. The
 * underlying arrays are never handed out; {@link Frame.series} returns copies. This is what makes lookahead in `onData`
 * impossible rather than merely discouraged (NautilusTrader's rule that no consumer sees a bar before it closed).
 *
 * One `Frame` object is reused for every candle of a run: read what you need during `onData`, don't keep it.
 */
export class Frame {
  readonly #cursor: FrameCursor;

  /** @param cursor - columns (including `open_time`, `open`, `high`, `low`, `close`, `volume`) and current index. */
  constructor(cursor: FrameCursor) {
    this.#cursor = cursor;
  }

  /** Index of the current candle in the run's history (0 = the first candle of the origin). */
  get index(): number {
    return this.#cursor.offset + this.#cursor.index;
  }

  /** Open time of the current candle, UTC epoch ms. */
  get openTime(): number {
    return this.#cursor.columns['open_time']![this.#cursor.index]!;
  }

  /** Names of all columns the frame holds (OHLCV, `open_time`, indicators). */
  get columns(): readonly string[] {
    return Object.keys(this.#cursor.columns);
  }

  /**
   * Value of `column` `ago` candles before the current one (`ago = 0`: the current candle, `1`: the previous one).
   * Before the first candle of the history the value is NaN, like a shifted pandas column.
   *
   * @throws {@link "core/errors"!LookaheadError | LookaheadError} when `ago` is negative (a later candle), naming the
   *   column and the candle.
   * @throws FrameworkError for an unknown column (the message lists the known ones), a non-integer `ago`, or, live,
   *   an `ago` reaching rows not proven equal to the whole history's (it would silently differ from the replay; the
   *   message names the column and how far back is proven).
   */
  value(column: string, ago = 0): number {
    const values = this.#column(column);
    const target = this.#target(column, ago);
    this.#cursor.proof?.reach(column, ago, false);
    return target < 0 ? Number.NaN : values[target]!;
  }

  /**
   * The last `length` values of `column` up to and including the current candle, oldest first, as a copy.
   * Positions before the first candle are NaN.
   *
   * @throws FrameworkError for an unknown column, a `length` that is not a positive integer, or, live, rows not
   *   proven equal to the whole history's (as {@link Frame.value}).
   */
  series(column: string, length: number): Float64Array {
    if (!Number.isInteger(length) || length < 1) {
      throw new FrameworkError(`frame.series("${column}", ${length}): length must be a positive integer`);
    }
    const values = this.#column(column);
    this.#cursor.proof?.reach(column, length - 1, true);
    const out = new Float64Array(length).fill(Number.NaN);
    const start = this.#cursor.index + 1 - length;
    const from = Math.max(start, 0);
    out.set(values.subarray(from, this.#cursor.index + 1), from - start);
    return out;
  }

  /**
   * The OHLCV candle `ago` candles back (`0`: the current one).
   *
   * @throws {@link "core/errors"!LookaheadError | LookaheadError} when `ago` is negative; FrameworkError when it
   *   reaches before the first candle.
   */
  candle(ago = 0): Candle {
    const i = this.#target('close', ago);
    this.#cursor.proof?.reach('close', ago, false);
    if (i < 0) throw new FrameworkError(`frame.candle(${ago}): there are only ${this.index + 1} candles so far`);
    return candleOf(this.#cursor.columns, i);
  }

  #target(column: string, ago: number): number {
    if (!Number.isInteger(ago)) throw new FrameworkError(`frame.value("${column}", ${ago}): ago must be an integer`);
    if (ago < 0) {
      throw new LookaheadError(
        `lookahead: onData asked for "${column}" ${-ago} candle(s) after the current candle ` +
          `${isoUtc(this.openTime)}; a strategy may only read the current and earlier candles`,
      );
    }
    return this.#cursor.index - ago;
  }

  #column(name: string): Float64Array {
    const values = this.#cursor.columns[name];
    if (values === undefined) {
      throw new FrameworkError(`frame has no column "${name}"; columns are: ${this.columns.join(', ')}`);
    }
    return values;
  }
}
