/**
 * The exchange's clock, as seen from here: an estimate of the exchange's server time built from `fetchTime()` round
 * trips, so that the live feed judges "has this candle closed?" by the exchange's time, not the machine's.
 *
 * @module
 */
import { FrameworkError } from '../../core/errors';
import type { Logger } from '../../core/logger';

/** A clock synchronisation that could not get a single answer from the exchange; `cause` is the last failure. */
export class ClockSyncError extends FrameworkError {}

/**
 * One estimate of the exchange clock.
 * - `serverTime`: the exchange's time (UTC epoch ms) at local time `localTime`;
 * - `localTime`: the local time (ms, in the clock's `localNow` units) at the midpoint of the chosen round trip;
 * - `rttMs`: local round-trip time of the chosen sample (the smallest of the sync);
 * - `rate`: exchange ms per local ms used from this sync on (1 for a real exchange);
 * - `errorBoundMs`: how far (exchange ms) the estimate may be off right after this sync: half the round trip times the
 *   rate — its upper bound when estimated — (the server read its clock somewhere inside the round trip);
 * - `rateError`: bound of the rate's error (exchange ms per local ms; 0 when the rate is given), which adds
 *   `rateError × |local time since the sync|` to the error.
 */
export interface ClockEstimate {
  readonly serverTime: number;
  readonly localTime: number;
  readonly rttMs: number;
  readonly rate: number;
  readonly errorBoundMs: number;
  readonly rateError: number;
}

/**
 * Options of {@link ExchangeClock}.
 * - `fetchTime`, `localNow`: the two clocks compared (see each);
 * - `samples`: round trips per sync (default 5); the one with the smallest round-trip time is kept;
 * - `rate`: exchange ms per local ms. A number fixes it (1 for a real exchange — the default; the simulator's `speed`
 *   when known); `'estimate'` measures it from the first sync and the latest one (see {@link ExchangeClock});
 * - `resyncIntervalMs`: local ms between periodic re-syncs once {@link ExchangeClock.start} ran (default 60 000);
 * - `logger`: where failed periodic re-syncs are reported (they keep the previous estimate).
 */
export interface ExchangeClockOptions {
  /**
   * Asks the exchange for its time, UTC epoch ms (ccxt: `() => exchange.fetchTime()`); one call = one sample; a
   * failed call ends the sync, which keeps the samples taken before it.
   */
  readonly fetchTime: () => Promise<number>;
  /**
   * The local clock, ms (default: `performance.timeOrigin + performance.now()`, the wall clock with sub-millisecond
   * resolution, which matters when the exchange clock runs thousands of times faster); injectable to test a skewed or
   * drifting machine clock.
   */
  readonly localNow?: () => number;
  readonly samples?: number;
  readonly rate?: number | 'estimate';
  readonly resyncIntervalMs?: number;
  readonly logger?: Logger;
}

interface Sample {
  readonly serverTime: number;
  readonly localTime: number;
  readonly rttMs: number;
}

/**
 * Estimates the exchange's server time from round trips of `fetchTime()`.
 *
 * Model (NTP's offset estimate, after Cristian's algorithm, 1989): for a round trip sent at local `s` and answered at
 * local `r` with server time `T`, the server read its clock at an unknown instant inside `[s, r]`; taking the midpoint,
 * the server time at local `(s + r) / 2` is `T`, with an error of at most half the round trip. Of a sync's samples the
 * one with the smallest round trip is kept. Between syncs
 *
 *     exchangeNow = serverTimeAtSync + (localNow − localTimeAtSync) × rate
 *
 * For a real exchange `rate` = 1. The simulator's accelerated clock runs `speed` times faster than local time: give
 * `rate: speed`, or `rate: 'estimate'`, which takes `rate = (T₂ − T₁) / (m₂ − m₁)` from the first sync's best sample
 * `(m₁, T₁)` and the latest sync's best `(m₂, T₂)` (within the first sync: its best sample and the one farthest from
 * it in time; with a single sample ever, rate 1 and an infinite error bound). Each midpoint is off by at most half its
 * round trip, so the measured rate is the true one times `1 + e` with `|e| ≤ u = (rtt₁ + rtt₂) / 2 / |m₂ − m₁|`: the
 * rate's error is at most `rate × u / (1 − u)` (unbounded when `u ≥ 1`), which {@link ExchangeClock.errorBoundMs}
 * accounts for.
 *
 * A re-sync may move {@link ExchangeClock.now} back by up to the previous error bound: it is an estimate, not a
 * monotonic clock.
 */
export class ExchangeClock {
  private readonly localNow: () => number;
  private readonly samples: number;
  private first: Sample | null = null;
  private current: ClockEstimate | null = null;
  private timer: NodeJS.Timeout | undefined;
  private syncs = 0;

  /**
   * Creates a clock with no estimate yet (call {@link ExchangeClock.sync} or {@link ExchangeClock.start}).
   *
   * @throws {@link ClockSyncError} when `samples` is not an integer ≥ 1 or a numeric `rate` is not positive and finite.
   */
  constructor(private readonly options: ExchangeClockOptions) {
    this.localNow = options.localNow ?? (() => performance.timeOrigin + performance.now());
    this.samples = options.samples ?? 5;
    if (!Number.isInteger(this.samples) || this.samples < 1) {
      throw new ClockSyncError(`ExchangeClock: samples must be an integer ≥ 1, got ${this.samples}`);
    }
    const rate = options.rate;
    if (typeof rate === 'number' && !(rate > 0 && Number.isFinite(rate))) {
      throw new ClockSyncError(`ExchangeClock: rate must be a positive number or 'estimate', got ${rate}`);
    }
  }

  /**
   * Takes up to `samples` round trips (stopping at the first failure) and updates the estimate from the fastest one.
   *
   * @returns the new estimate.
   * @throws {@link ClockSyncError} when no sample answered (its `cause` is the failure).
   */
  async sync(): Promise<ClockEstimate> {
    const answered: Sample[] = [];
    let lastError: unknown;
    for (let i = 0; i < this.samples; i++) {
      const sent = this.localNow();
      let serverTime: number;
      try {
        serverTime = await this.options.fetchTime();
      } catch (error) {
        // Stop at the first failure (a rate limit must not be answered with more requests); use what answered.
        lastError = error;
        break;
      }
      const received = this.localNow();
      if (!Number.isFinite(serverTime)) {
        lastError = new ClockSyncError(`fetchTime() returned ${serverTime}, not a time in epoch ms`);
        continue;
      }
      answered.push({ serverTime, localTime: (sent + received) / 2, rttMs: received - sent });
    }
    if (answered.length === 0) {
      throw new ClockSyncError(`exchange clock sync failed: fetchTime() did not answer: ${String(lastError)}`, {
        cause: lastError,
      });
    }
    const best = answered.reduce((a, b) => (b.rttMs < a.rttMs ? b : a));
    // The rate's baseline runs from the first sync's best sample to the latest sync's best; within the first sync,
    // to its sample farthest in time from the best one.
    this.first ??= best;
    const baselineEnd =
      best !== this.first
        ? best
        : answered.reduce((a, b) => (Math.abs(b.localTime - best.localTime) > Math.abs(a.localTime - best.localTime) ? b : a));
    this.current = this.estimateFrom(best, this.first, baselineEnd);
    this.syncs++;
    return this.current;
  }

  /**
   * Syncs now, then re-syncs every `resyncIntervalMs` (local ms) until {@link ExchangeClock.stop}. A failed re-sync is
   * logged and keeps the previous estimate.
   *
   * @throws {@link ClockSyncError} when the first sync fails.
   */
  async start(): Promise<ClockEstimate> {
    const estimate = await this.sync();
    this.stop();
    this.timer = setInterval(() => {
      this.sync().catch((error: unknown) => this.options.logger?.warn({ err: error }, 'exchange clock re-sync failed'));
    }, this.options.resyncIntervalMs ?? 60_000);
    this.timer.unref();
    return estimate;
  }

  /** Stops the periodic re-sync (the estimate stays usable). */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * The exchange's time now, UTC epoch ms (fractional).
   *
   * @throws {@link ClockSyncError} before the first successful {@link ExchangeClock.sync}.
   */
  now(): number {
    const e = this.estimate();
    return e.serverTime + (this.localNow() - e.localTime) * e.rate;
  }

  /**
   * How far {@link ExchangeClock.now} may be off now, exchange ms: the sync's bound plus the rate's uncertainty over
   * the local time elapsed since the sync.
   *
   * @throws {@link ClockSyncError} before the first successful sync.
   */
  errorBoundMs(): number {
    const e = this.estimate();
    return e.errorBoundMs + e.rateError * Math.abs(this.localNow() - e.localTime);
  }

  /**
   * Converts a duration in exchange ms to local ms (for timers): `exchangeMs / rate`.
   *
   * @throws {@link ClockSyncError} before the first successful sync.
   */
  toLocalMs(exchangeMs: number): number {
    return exchangeMs / this.estimate().rate;
  }

  /**
   * The current estimate.
   *
   * @throws {@link ClockSyncError} before the first successful sync.
   */
  estimate(): ClockEstimate {
    if (this.current === null) throw new ClockSyncError('the exchange clock has not been synced yet: call sync() or start() first');
    return this.current;
  }

  /** Number of successful syncs so far. */
  get syncCount(): number {
    return this.syncs;
  }

  private estimateFrom(best: Sample, first: Sample, baselineEnd: Sample): ClockEstimate {
    const option = this.options.rate ?? 1;
    let rate = option === 'estimate' ? 1 : option;
    // Upper bound of the true rate: the rate itself when given.
    let rateHigh = rate;
    if (option === 'estimate') {
      const span = Math.abs(baselineEnd.localTime - first.localTime);
      // Each sample's server time was read within ± half its round trip of its midpoint, so the measured rate is the
      // true one times (1 + e) with |e| ≤ u; hence true rate ≤ measured / (1 − u) while u < 1.
      const u = span > 0 ? (first.rttMs + baselineEnd.rttMs) / 2 / span : Number.POSITIVE_INFINITY;
      if (span > 0) rate = (baselineEnd.serverTime - first.serverTime) / (baselineEnd.localTime - first.localTime);
      rateHigh = u < 1 ? rate / (1 - u) : Number.POSITIVE_INFINITY;
    }
    return {
      serverTime: best.serverTime,
      localTime: best.localTime,
      rttMs: best.rttMs,
      rate,
      errorBoundMs: (best.rttMs / 2) * rateHigh,
      rateError: rateHigh - rate,
    };
  }
}
