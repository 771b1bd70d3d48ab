/**
 * The candles of a batch as `Candle` objects made once and reused by every replay over them (the trials of an
 * optimisation).
 *
 * @module
 */
import type { Candle, CandleBatch } from '../core/candle';

/** Objects already made, per batch (a worker's shared candles live as long as the worker). */
const made = new WeakMap<CandleBatch, readonly Candle[]>();

/**
 * Row `i` of a {@link CandleBatch} as a frozen {@link Candle}, each made once per batch and process (thread) and then
 * handed to every replay: the engine gives a trial's strategy and broker these objects instead of a fresh object per
 * candle per trial (over 1,000,000 candles that was 170 MB of objects to allocate and collect in every trial). A
 * candle never changes, so a strategy that keeps a `candle` sees the same values in every trial; the objects are
 * frozen so that none can change one for the others (assigning to a field throws in strict mode).
 *
 * {@link CandleObjects.from} gives a view starting at a later row (a trial's span of the shared candles) without
 * copying.
 */
export class CandleObjects {
  readonly #objects: readonly Candle[];
  readonly #offset: number;
  /** Number of candles of the view. */
  readonly length: number;

  private constructor(objects: readonly Candle[], offset: number, length: number) {
    this.#objects = objects;
    this.#offset = offset;
    this.length = length;
  }

  /**
   * The candle objects of `batch`, made on the first call for that batch object (the same `batch` later: the same
   * objects). The batch's columns must not change afterwards (the engine's candles never do).
   */
  static of(batch: CandleBatch): CandleObjects {
    let objects = made.get(batch);
    if (objects === undefined) {
      objects = makeCandles(batch);
      made.set(batch, objects);
    }
    return new CandleObjects(objects, 0, objects.length);
  }

  /** Candle `i` of the view (no bounds check: `0 ≤ i < length`). */
  at(i: number): Candle {
    return this.#objects[this.#offset + i]!;
  }

  /**
   * The view of rows `start … end − 1` of this one, sharing its objects.
   *
   * @throws RangeError when `0 ≤ start ≤ end ≤ length` does not hold.
   */
  slice(start: number, end: number): CandleObjects {
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= this.length)) {
      throw new RangeError(`CandleObjects.slice(${start}, ${end}) of ${this.length} candles`);
    }
    return new CandleObjects(this.#objects, this.#offset + start, end - start);
  }
}

/** Every row of `batch` as a frozen candle, with the keys in `candleOf`'s order. */
function makeCandles(batch: CandleBatch): readonly Candle[] {
  const { openTime, open, high, low, close, volume } = batch;
  const n = openTime.length;
  const out: Candle[] = new Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = Object.freeze({ openTime: openTime[i]!, open: open[i]!, high: high[i]!, low: low[i]!, close: close[i]!, volume: volume[i]! });
  }
  return out;
}
