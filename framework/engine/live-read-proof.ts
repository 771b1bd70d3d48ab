import { FrameworkError } from '../core/errors';
import { isoUtc } from '../core/time';
import type { FrameColumns, FrameReadCheck } from '../strategy/frame';

/** Where the live frame of one candle stands: its columns' window and, per column, the rows proven. */
export interface LiveFrameSpan {
  /** Row of the current candle in the window's columns. */
  readonly index: number;
  /** History row of the window's row 0 (0: the columns cover the whole history and are all proven). */
  readonly offset: number;
  /**
   * Per column, the first window row proven bit-for-bit equal to the whole history's value (absent: every row of the
   * window, as for OHLCV and `open_time`, which are the candles themselves).
   */
  readonly provenFrom: ReadonlyMap<string, number>;
  /** Open time of the current candle (UTC epoch ms), for messages. */
  readonly openTime: number;
}

/** A read that the whole-history computation contradicts. */
export interface UnprovenMismatch {
  readonly column: string;
  /** Candles back from the current one. */
  readonly ago: number;
  /** The value the live window gave. */
  readonly live: number;
  /** The value the whole history gives (what the replay reads). */
  readonly replay: number;
}

/**
 * The live frame's guard for one candle: every `onData` read is either of rows proven equal to the whole history's,
 * or noted to be checked against the whole-history computation before the signal is acted on
 * ({@link LiveReadProof.verify}), or, when the window does not hold the rows at all, refused with a FrameworkError
 * naming the column and how far back is proven. Reads before the history's first candle are NaN, as in the replay.
 * It also keeps the deepest read, which the engine extends the proof to (`LiveIndicators.prove`).
 */
export class LiveReadProof implements FrameReadCheck {
  readonly #span: LiveFrameSpan;
  /** Per column read beyond its proven rows, the deepest such read (candles back). */
  readonly #unproven = new Map<string, number>();
  #deepest = 0;

  constructor(span: LiveFrameSpan) {
    this.#span = span;
  }

  /** The deepest read of this candle, in candles back from the current one (0: only the current candle). */
  get deepest(): number {
    return this.#deepest;
  }

  /** Whether some read went beyond the proven rows and needs {@link LiveReadProof.verify}. */
  get needsVerifying(): boolean {
    return this.#unproven.size > 0;
  }

  /**
   * @throws FrameworkError when the read reaches rows of the history the live window does not hold, naming the column,
   *   the candle and how far back is proven.
   */
  reach(column: string, ago: number, range: boolean): void {
    if (ago > this.#deepest) this.#deepest = ago;
    const { index, offset, provenFrom, openTime } = this.#span;
    const row = index - ago;
    const from = provenFrom.get(column) ?? 0;
    if (row >= from) return;
    if (row < 0) {
      if (offset === 0 || (!range && offset + row < 0)) return;
      throw new FrameworkError(
        `live frame: onData read "${column}" ${ago} candles back at candle ${isoUtc(openTime)}, before the ` +
          `${index + 1} candles of the live indicator window (proven equal to the whole history: the newest ` +
          `${Math.max(0, index + 1 - from)}); ${warmupAdvice(ago)}`,
      );
    }
    this.#unproven.set(column, Math.max(ago, this.#unproven.get(column) ?? 0));
  }

  /**
   * The first read beyond the proven rows (from the deepest read to the proven rows, column by column) where the
   * window's value differs from the whole history's, bit for bit (NaN equals NaN); null when every one is equal.
   *
   * @param window - the frame columns `onData` read (the window's rows).
   * @param full - the same columns computed over the whole history (row `offset + i` = window row `i`).
   */
  verify(window: FrameColumns, full: FrameColumns): UnprovenMismatch | null {
    const { index, offset, provenFrom } = this.#span;
    for (const [column, ago] of this.#unproven) {
      const live = window[column]!;
      const whole = full[column]!;
      const end = Math.min(provenFrom.get(column) ?? 0, index + 1);
      for (let row = index - ago; row < end; row++) {
        if (!Object.is(live[row], whole[offset + row])) {
          return { column, ago: index - row, live: live[row]!, replay: whole[offset + row]! };
        }
      }
    }
    return null;
  }

  /** The message for a mismatch found by {@link LiveReadProof.verify}. */
  describe(mismatch: UnprovenMismatch): string {
    const { index, provenFrom, openTime } = this.#span;
    const proven = Math.max(0, index + 1 - (provenFrom.get(mismatch.column) ?? 0));
    return (
      `live frame: onData read "${mismatch.column}" ${mismatch.ago} candles back at candle ${isoUtc(openTime)}, beyond ` +
      `the newest ${proven} candles proven equal to the whole history; there the live indicator window gives ` +
      `${mismatch.live} but the whole history (the replay) ${mismatch.replay}; ${warmupAdvice(this.#unproven.get(mismatch.column)!)}`
    );
  }
}

function warmupAdvice(ago: number): string {
  return `declare a \`warmup\` of at least ${ago + 1} candles so a live run proves that far back from its first candle`;
}
