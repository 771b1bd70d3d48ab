import { klineEvent } from './binance-format';
import type { SimClock } from './clock';
import type { StreamHub } from './stream';
import type { MarketTape } from './tape';
import { lowerBound } from '../core/search';
import { eventTime, klineAt, stepAt } from './tape';

interface Cursor {
  readonly tape: MarketTape;
  /** Index of the candle of the next event. */
  index: number;
  /** Step of the next event: 0 … U−1 forming, U closing. */
  step: number;
}

/**
 * Plays the markets' tapes on the exchange clock: emits every kline event (see `tape.ts` for when they happen) to the
 * {@link StreamHub} once the clock has passed its time, in time order across markets (ties: markets in config order).
 * Events at or before the start time are history and never emitted. With an accelerated clock a timer wakes for the
 * next event; with a manual clock only {@link Playback.advanceTo} and {@link Playback.now} emit.
 */
export class Playback {
  private readonly cursors: Cursor[];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private emitted = 0;

  constructor(
    readonly tapes: readonly MarketTape[],
    private readonly clock: SimClock,
    private readonly hub: StreamHub,
    startTime: number,
  ) {
    this.cursors = tapes.map((tape) => firstCursor(tape, startTime));
    this.scheduleWake();
  }

  /** Exchange time now, after emitting every event due by then (so REST never runs ahead of the WebSocket). */
  now(): number {
    const now = this.clock.now();
    this.emitDue(now);
    return now;
  }

  /** Exchange time now, without emitting. */
  peek(): number {
    return this.clock.now();
  }

  /** Moves the clock to `exchangeMs` and emits every event due by then. Throws if that is in the past. */
  advanceTo(exchangeMs: number): void {
    this.clock.advanceTo(exchangeMs);
    this.emitDue(this.clock.now());
    this.scheduleWake();
  }

  /** Kline events emitted so far. */
  eventsEmitted(): number {
    return this.emitted;
  }

  /** Stops emitting and disarms the timer. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private nextCursor(): { cursor: Cursor; time: number } | undefined {
    let best: { cursor: Cursor; time: number } | undefined;
    for (const cursor of this.cursors) {
      if (cursor.index >= cursor.tape.candles.openTime.length) continue;
      const time = eventTime(cursor.tape, cursor.index, cursor.step);
      if (best === undefined || time < best.time) best = { cursor, time };
    }
    return best;
  }

  private emitDue(now: number): void {
    for (let next = this.nextCursor(); !this.stopped && next !== undefined && next.time <= now; next = this.nextCursor()) {
      const { cursor, time } = next;
      const { tape } = cursor;
      this.emitted += 1;
      this.hub.deliver(tape.streamName, klineEvent(tape, klineAt(tape, cursor.index, cursor.step, false), time), tape.tfMs);
      if (cursor.step >= tape.updatesPerCandle) {
        cursor.index += 1;
        cursor.step = 0;
      } else {
        cursor.step += 1;
      }
    }
  }

  private scheduleWake(): void {
    clearTimeout(this.timer);
    const next = this.nextCursor();
    if (this.stopped || this.clock.speed === 0 || next === undefined) return;
    const delay = Math.min(1000, Math.ceil(this.clock.realMsUntil(next.time)));
    this.timer = setTimeout(() => {
      this.emitDue(this.clock.now());
      this.scheduleWake();
    }, delay);
  }
}

/** The cursor of the first event after `startTime`. */
function firstCursor(tape: MarketTape, startTime: number): Cursor {
  // The first candle not closed by `startTime`: after the one before the candle containing it.
  const index = lowerBound(tape.candles.openTime, tape.grid.previousOpen(tape.grid.bucketStart(startTime)) + 1);
  if (index >= tape.candles.openTime.length) return { tape, index, step: 0 };
  return { tape, index, step: stepAt(tape, index, startTime) + 1 };
}
