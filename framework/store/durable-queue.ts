/**
 * Pipelined write-ahead logging for a live feed: acting on a candle only once it is durable, without making the feed
 * wait for each fdatasync.
 *
 * @module
 */
import type { StoredCandle } from '../core/candle';
import type { LiveCandleStore } from './live-store';

/**
 * The candles of one live store, acknowledged in order once durable. {@link DurableQueue.push} starts the candle's
 * `LiveCandleStore.append` at once and returns, so the feed goes on reading frames while the log syncs (the log's
 * group commit then covers every candle pushed meanwhile with one fdatasync); the candle's `onDurable` runs only once
 * that append has resolved (the candle is written and fdatasynced) and after the `onDurable` of every candle pushed
 * before it has finished. A candle is therefore never acted on before it is durable, and never out of order.
 *
 * The first failure (an append that rejects, an `onDurable` that throws) stops the queue: no later `onDurable` runs,
 * {@link DurableQueue.failed} rejects with it and {@link DurableQueue.push} throws it. Memory is not bounded here:
 * candles wait as long as their `onDurable`s take, as the frames of a feed whose consumer is slow wait in the feed.
 */
export class DurableQueue {
  /** Rejects with the queue's first failure; never resolves. */
  readonly failed: Promise<never>;
  private tail: Promise<void> = Promise.resolve();
  private failure: { readonly error: unknown } | null = null;
  private reject!: (error: unknown) => void;

  constructor(private readonly store: LiveCandleStore) {
    this.failed = new Promise<never>((_, reject) => (this.reject = reject));
    this.failed.catch(() => undefined);
  }

  /**
   * Appends `candle` to the store now and queues `onDurable` (awaited) for when it is durable, after every earlier
   * candle's.
   *
   * @throws the queue's failure (the append's error, e.g. `WriteAheadLogError` or `InvalidCandleError`, or what an
   *   `onDurable` threw) once it has failed; the candle is then neither appended nor acknowledged.
   */
  push(candle: StoredCandle, onDurable: () => unknown): void {
    if (this.failure !== null) throw this.failure.error;
    const durable = this.store.append(candle);
    durable.catch(() => undefined); // its rejection is handled in order, below
    this.tail = this.tail.then(async () => {
      if (this.failure !== null) return;
      try {
        await durable;
        await onDurable();
      } catch (error) {
        this.failure = { error };
        this.reject(error);
      }
    });
  }

  /** Resolves once every candle pushed so far is acknowledged, or the queue has failed (never rejects). */
  settled(): Promise<void> {
    return this.tail;
  }
}
