/**
 * A worker's sequencer of one subscription's candles as they come off the bus: at-least-once and possibly out of
 * order (a RabbitMQ requeue, a reconnect, a connector restart that republishes), it turns them back into the exact
 * sequence a replay sees — each open time once, in order, without holes. Pure: no I/O, no clock; the caller fills a
 * reported hole from the store or the connector and offers those candles like any other.
 *
 * The rules: a candle at or before the last one handed on is a duplicate (dropped, counted); the next expected one is
 * handed on together with every buffered candle that follows it without a gap; a later one is buffered and the hole
 * before it reported. With the same version of a candle offered twice while buffered, the later offer wins (the
 * connector republishes a candle only after storing a revision).
 *
 * @module
 */
import type { Candle } from '../core/candle';

/** What {@link CandleSequencer.offer} decided. */
export interface SequenceStep {
  /** Candles to act on now, in open-time order, contiguous with the last one handed on. */
  readonly ready: readonly Candle[];
  /** Open times `[from, to)` missing before the buffered candles, or null. */
  readonly hole: { readonly from: number; readonly to: number } | null;
  /** Whether the offered candle was dropped as a duplicate. */
  readonly duplicate: boolean;
}

/** See the module description. */
export class CandleSequencer {
  readonly #timeframeMs: number;
  readonly #buffer = new Map<number, Candle>();
  #last: number | null;
  #duplicates = 0;

  /**
   * @param timeframeMs - the subscription's candle length (ms).
   * @param lastOpenTime - open time of the last candle the worker already has (its history's last), or null to take
   *   the first candle offered as the start.
   */
  constructor(timeframeMs: number, lastOpenTime: number | null) {
    this.#timeframeMs = timeframeMs;
    this.#last = lastOpenTime;
  }

  /** Open time of the last candle handed on (null before any). */
  get lastOpenTime(): number | null {
    return this.#last;
  }

  /** Duplicates dropped so far. */
  get duplicates(): number {
    return this.#duplicates;
  }

  /** Candles buffered behind a hole. */
  get buffered(): number {
    return this.#buffer.size;
  }

  /** Offers one candle (see the module description). */
  offer(candle: Candle): SequenceStep {
    const last = this.#last;
    if (last !== null && candle.openTime <= last) {
      this.#duplicates += 1;
      return { ready: [], hole: this.#hole(), duplicate: true };
    }
    this.#buffer.set(candle.openTime, candle);
    const ready: Candle[] = [];
    let next = last === null ? candle.openTime : last + this.#timeframeMs;
    for (let c = this.#buffer.get(next); c !== undefined; c = this.#buffer.get(next)) {
      ready.push(c);
      this.#buffer.delete(next);
      this.#last = next;
      next += this.#timeframeMs;
    }
    return { ready, hole: this.#hole(), duplicate: false };
  }

  #hole(): SequenceStep['hole'] {
    if (this.#buffer.size === 0 || this.#last === null) return null;
    return { from: this.#last + this.#timeframeMs, to: Math.min(...this.#buffer.keys()) };
  }
}
