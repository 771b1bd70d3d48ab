/**
 * Closed-candle detection: the pipeline step that only the live feed needs. A live stream shows a candle many times
 * while it forms; the rest of the framework must see each candle once, closed, in order, with no gap.
 *
 * @module
 */
import { candleAt, type CandleSource, type StoredCandle } from '../core/candle';
import { InvalidTimestampError } from '../core/errors';
import type { Logger } from '../core/logger';
import { isoUtc } from '../core/time';
import { timeframeGrid, type Timeframe, type TimeframeGrid } from '../core/timeframe';
import { describeGap, findGaps, type Gap } from './gaps';
import type { RawCandle } from './normalize';
import { candlePipeline, processCandles, type Rejection } from './pipeline';

/**
 * One sighting of a candle on the stream.
 * - `candle`: as received (numeric strings allowed; validated by the pipeline);
 * - `closed`: the exchange's own "closed" flag when it sends one (Binance's kline `"x"`), absent when unknown;
 * - `source`: `websocket` for stream frames;
 * - `receivedAt`: when it arrived, exchange-clock ms;
 * - `frame`: the raw frame it came from, logged when the candle is invalid.
 */
export interface CandleUpdate {
  readonly candle: RawCandle;
  readonly closed?: boolean;
  readonly source: CandleSource;
  readonly receivedAt: number;
  readonly frame?: unknown;
}

/**
 * An answer of the exchange's REST candle endpoint (Binance `GET /api/v3/klines` with `startTime`).
 * - `rows`: the candles, as received;
 * - `requestedFrom`: the request's start open time (UTC epoch ms): the exchange has no candle between it and the first
 *   row;
 * - `exchangeNow`: an exchange time the answer has surely reached (the clock estimate minus its error bound, taken
 *   before the request was sent), UTC epoch ms;
 * - `startedBefore`: {@link ClosedCandleDetector.latestStartedOpenTime} taken before the request was sent: the answer
 *   shows every candle before it closed. (Sightings that arrive while the request is in flight say nothing about the
 *   instant the answer was made.)
 * - `receivedAt`: when it arrived, exchange-clock ms.
 */
export interface RestAnswer {
  readonly rows: readonly RawCandle[];
  readonly requestedFrom: number;
  readonly exchangeNow: number;
  readonly startedBefore: number;
  readonly receivedAt: number;
}

/** Open times (UTC epoch ms, inclusive) of closed candles that must be fetched over REST before emission can go on. */
export interface MissingRange {
  readonly from: number;
  readonly to: number;
}

/**
 * A closed candle seen again with different values: `accepted` is the version known until then, `revised` the new one,
 * which replaces it (the exchange's latest version wins). `emitted`: whether `accepted` had already been emitted (a
 * revision after the fact, which consumers must apply themselves; otherwise the revised version is what gets emitted).
 */
export interface CandleRevision {
  readonly openTime: number;
  readonly accepted: StoredCandle;
  readonly revised: StoredCandle;
  readonly emitted: boolean;
}

/**
 * Counters of a {@link ClosedCandleDetector}.
 * - `emitted`: closed candles emitted; `lastEmittedOpenTime`: open time of the last one (before the first: the
 *   `lastEmittedOpenTime` option, i.e. the stored history's last candle);
 * - `duplicates`: closed versions received again with equal values (dropped);
 * - `stale`: forming updates of candles already emitted, closed versions too old to compare, and closing frames that
 *   differ from a REST version already seen (dropped);
 * - `verified`: REST re-reads of emitted candles that matched;
 * - `revisions`: closed versions that differed from the accepted one (reported, never re-emitted);
 * - `invalid`: updates or REST rows rejected by the pipeline (logged with their frame);
 * - `absent`: candles the exchange does not have (skipped), as gaps.
 */
export interface DetectorCounts {
  readonly emitted: number;
  readonly lastEmittedOpenTime: number;
  readonly duplicates: number;
  readonly stale: number;
  readonly verified: number;
  readonly revisions: number;
  readonly invalid: number;
  readonly absent: readonly Gap[];
}

/**
 * Options of {@link ClosedCandleDetector}.
 * - `timeframe`: the candles' timeframe, e.g. `5m`;
 * - `where`: names the stream in logs and rejection reasons, e.g. `binance BTC/USDT 5m`;
 * - `lastEmittedOpenTime`: open time of the last candle already stored (UTC epoch ms, aligned); emission starts with
 *   the next one;
 * - `closeGraceMs`: exchange ms after a candle's close before the clock alone calls it closed (default 1/10 of the
 *   timeframe, at most 5 000): time for the exchange's closing frame to arrive before asking REST;
 * - `recentLimit`: how many emitted candles are kept to compare late versions against (default 2 000);
 * - `logger`: where invalid candles, revisions and exchange gaps are reported.
 */
export interface ClosedCandleDetectorOptions {
  readonly timeframe: Timeframe;
  readonly where: string;
  readonly lastEmittedOpenTime: number;
  readonly closeGraceMs?: number;
  readonly recentLimit?: number;
  readonly logger?: Logger;
}

/**
 * Turns candle sightings (stream updates, REST answers) into closed candles, each emitted once, in open-time order,
 * with no gap.
 *
 * A candle is *final* — its values will not change — when
 * 1. the exchange says it closed (`closed: true`, Binance's `"x"`): the stream's version is final; or
 * 2. it is known to have closed — a later candle has started (on the stream or in the same REST answer), or the
 *    exchange clock is past its close (the next open time + `closeGraceMs`) — and REST shows it: the REST version is
 *    final. For a REST row "known" means known when the answer was made: a later row in the answer, or what was known
 *    before the request was sent (see {@link RestAnswer}).
 * A candle known closed without a final version (its closing frame was lost, or the exchange sends no flag) is asked
 * for over REST: see {@link ClosedCandleDetector.missingRange}. The last stream version of such a candle is never
 * emitted: it may be a forming one.
 *
 * Emission is strictly consecutive: the next candle (the open time after the last emitted one) comes out once final, then the one
 * after, and so on. A candle is skipped only when the exchange shows it has none (a REST answer starting at or before
 * it holds a later candle but not it); skipped candles are reported as gaps. The first final version of a candle is the
 * one accepted; any later final version is a duplicate (equal values, dropped and counted) or a revision (different
 * values: logged, counted and kept in {@link ClosedCandleDetector.revisions}; it replaces the accepted version, so a
 * candle not yet emitted comes out as the exchange's latest version; an emitted one is never re-emitted, the
 * revision says so and the consumer applies it). Forming updates never come out. Every candle goes through the shared
 * pipeline (normalise, validate: {@link processCandles} for REST answers, its one-candle form {@link candlePipeline}
 * for stream updates); invalid ones are logged with their frame, counted and skipped.
 *
 * All methods are synchronous and return the candles that became emittable, in order.
 */
export class ClosedCandleDetector {
  private readonly grid: TimeframeGrid;
  private readonly pipeline: (raw: RawCandle) => StoredCandle | Rejection;
  private readonly grace: number;
  private readonly recentLimit: number;
  private next: number;
  /** Highest open time seen in any valid sighting: every candle before it has closed. */
  private latestStarted = Number.NEGATIVE_INFINITY;
  private readonly finals = new Map<number, StoredCandle>();
  private readonly absentTimes = new Set<number>();
  private readonly recent = new Map<number, StoredCandle>();
  /**
   * The open times in `recent`, a ring in emission order (slot `emitted % recentLimit`): the oldest to forget. (Not
   * `recent.keys().next()`: a Map iterator steps over the holes its deletions leave, which made each emission O(n).)
   */
  private readonly recentTimes: Float64Array;
  private readonly revisionList: CandleRevision[] = [];
  private readonly absentGaps: Gap[] = [];
  private lastCandle: StoredCandle | null = null;
  private emittedCount = 0;
  private duplicateCount = 0;
  private staleCount = 0;
  private verifiedCount = 0;
  private invalidCount = 0;

  /**
   * @throws {@link "core/errors"!InvalidTimeframeError | InvalidTimeframeError} when the timeframe is not valid.
   * @throws {@link "core/errors"!InvalidTimestampError | InvalidTimestampError} when `lastEmittedOpenTime` is not an
   *   open time of the timeframe.
   */
  constructor(private readonly options: ClosedCandleDetectorOptions) {
    this.grid = timeframeGrid(options.timeframe);
    const last = options.lastEmittedOpenTime;
    if (!Number.isFinite(last) || !this.grid.isAligned(last)) {
      throw new InvalidTimestampError(
        `${options.where}: lastEmittedOpenTime ${last} is not a ${options.timeframe} candle open time (UTC epoch ms; its candles open ${this.grid.rule})`,
      );
    }
    this.next = this.grid.nextOpen(last);
    this.pipeline = candlePipeline(options.timeframe, { where: options.where });
    this.grace = options.closeGraceMs ?? Math.min(5_000, this.grid.nominalMs / 10);
    this.recentLimit = options.recentLimit ?? 2_000;
    this.recentTimes = new Float64Array(this.recentLimit);
  }

  /**
   * Takes one stream update.
   *
   * @returns the candles that became emittable, in open-time order (possibly none).
   */
  update(u: CandleUpdate): StoredCandle[] {
    const candle = this.pipeline({ ...u.candle, source: u.source, receivedAt: u.receivedAt });
    if ('reason' in candle) {
      this.reject(candle, u.frame);
      return [];
    }
    this.noteStarted(candle.openTime);
    if (u.closed !== true) {
      if (candle.openTime < this.next) this.staleCount++;
      return [];
    }
    this.acceptFinal(candle);
    return this.drain();
  }

  /**
   * Takes one REST answer: each valid row known closed (see the class doc) is a final version; rows absent between
   * `requestedFrom` and the last row are candles the exchange does not have.
   *
   * @returns the candles that became emittable, in open-time order (possibly none).
   */
  confirm(answer: RestAnswer): StoredCandle[] {
    const { rows, invalid } = this.validate(
      answer.rows.map((r) => ({ ...r, source: 'rest' as const, receivedAt: answer.receivedAt })),
      { restRequestFrom: answer.requestedFrom },
    );
    const first = rows[0];
    if (first === undefined) return [];
    // Candles the exchange does not have: before the first row (from the requested start) and between rows. A row
    // that was sent but invalid is not an absence: that candle stays wanted, and a later valid read of it is taken.
    // When an invalid row's open time is unknown, this answer says nothing about absences.
    const invalidTimes = new Set(invalid.map((r) => Number(answer.rows[r.index]?.openTime)));
    const absent = (t: number): void => void (invalidTimes.has(t) || this.absentTimes.add(t));
    const { nextOpen } = this.grid;
    if ([...invalidTimes].every((t) => this.grid.isAligned(t))) {
      for (let t = Math.max(this.next, alignUp(answer.requestedFrom, this.grid)); t < first.openTime; t = nextOpen(t)) absent(t);
      for (const gap of findGaps(Float64Array.from(rows, (c) => c.openTime), this.options.timeframe)) {
        for (let t = Math.max(gap.start, this.next); t <= gap.end; t = nextOpen(t)) absent(t);
      }
    }
    for (const [i, candle] of rows.entries()) {
      const t = candle.openTime;
      const closed = i < rows.length - 1 || t < answer.startedBefore || nextOpen(t) + this.grace <= answer.exchangeNow;
      if (closed) this.acceptFinal(candle);
    }
    this.noteStarted(rows[rows.length - 1]!.openTime);
    return this.drain();
  }

  /**
   * The closed candles, from the next one to emit, that have no final version yet and must be fetched over REST;
   * `null` when there are none. Closed means: a later candle has started, or the exchange clock (`exchangeNow`, a
   * conservative estimate) is past the candle's close plus `closeGraceMs`.
   */
  missingRange(exchangeNow: number): MissingRange | null {
    const byClock = this.grid.previousOpen(this.grid.bucketStart(exchangeNow - this.grace));
    const to = Number.isFinite(this.latestStarted) ? Math.max(byClock, this.grid.previousOpen(this.latestStarted)) : byClock;
    return to >= this.next ? { from: this.next, to } : null;
  }

  /** The latest open time seen in any valid sighting (−∞ before the first): every candle before it has closed. */
  get latestStartedOpenTime(): number {
    return this.latestStarted;
  }

  /**
   * Forgets the sightings so far as evidence of what has closed (after a lost connection: an exchange that came back
   * may show again, forming, a candle whose successor was seen before). Until the next sighting, closed is judged by
   * the clock alone.
   */
  forgetStarted(): void {
    this.latestStarted = Number.NEGATIVE_INFINITY;
  }

  /** Open time of the next candle to emit (UTC epoch ms). */
  get nextOpenTime(): number {
    return this.next;
  }

  /** The last candle emitted, or `null` before the first. */
  get lastEmitted(): StoredCandle | null {
    return this.lastCandle;
  }

  /** The revisions seen so far, in the order they arrived. */
  get revisions(): readonly CandleRevision[] {
    return this.revisionList;
  }

  /** A snapshot of the counters. */
  counts(): DetectorCounts {
    return {
      emitted: this.emittedCount,
      lastEmittedOpenTime: this.lastCandle?.openTime ?? this.options.lastEmittedOpenTime,
      duplicates: this.duplicateCount,
      stale: this.staleCount,
      verified: this.verifiedCount,
      revisions: this.revisionList.length,
      invalid: this.invalidCount,
      absent: [...this.absentGaps],
    };
  }

  /**
   * Runs candles through the shared pipeline; logs and counts the rejected ones with the frame they came from.
   *
   * @returns the valid candles, sorted, and the rejections (their `index` is the row's in `raw`).
   */
  private validate(raw: readonly RawCandle[], frame: unknown): { rows: StoredCandle[]; invalid: readonly Rejection[] } {
    const result = processCandles(raw, this.options.timeframe, { where: this.options.where });
    for (const r of result.rejected) this.reject(r, frame);
    return { rows: Array.from({ length: result.candles.openTime.length }, (_, i) => candleAt(result.candles, i)), invalid: result.rejected };
  }

  /** Logs and counts a candle the pipeline rejected, with the frame it came from. */
  private reject(r: Rejection, frame: unknown): void {
    this.invalidCount++;
    this.options.logger?.warn({ reason: r.reason, candle: r.value, frame }, 'invalid candle skipped');
  }

  private noteStarted(openTime: number): void {
    if (openTime > this.latestStarted) this.latestStarted = openTime;
  }

  private acceptFinal(candle: StoredCandle): void {
    const t = candle.openTime;
    const known = t < this.next ? this.recent.get(t) : this.finals.get(t);
    if (known === undefined) {
      if (t < this.next) this.staleCount++;
      else this.finals.set(t, candle);
      return;
    }
    if (sameValues(known, candle)) {
      if (candle.source === 'rest' && t < this.next) this.verifiedCount++;
      else this.duplicateCount++;
      return;
    }
    if (known.source === 'rest' && candle.source !== 'rest') {
      // A closing frame that differs from what REST already showed is older news (a late or repeated frame), not a
      // revision: the exchange's REST record stands.
      this.staleCount++;
      return;
    }
    const emitted = t < this.next;
    this.revisionList.push({ openTime: t, accepted: known, revised: candle, emitted });
    if (emitted) this.recent.set(t, candle);
    else this.finals.set(t, candle);
    this.options.logger?.warn(
      { openTime: t, at: isoUtc(t), accepted: known, revised: candle },
      `${this.options.where}: candle revised by the exchange${emitted ? ' after it was emitted' : ''}`,
    );
  }

  private drain(): StoredCandle[] {
    const out: StoredCandle[] = [];
    for (;;) {
      const t = this.next;
      const final = this.finals.get(t);
      if (final !== undefined) {
        this.finals.delete(t);
        this.absentTimes.delete(t);
        out.push(final);
        this.lastCandle = final;
        this.remember(final);
        this.emittedCount++;
      } else if (this.absentTimes.delete(t)) {
        this.noteAbsent(t);
      } else {
        break;
      }
      this.next = this.grid.nextOpen(t);
    }
    return out;
  }

  private remember(candle: StoredCandle): void {
    const slot = this.emittedCount % this.recentLimit;
    if (this.emittedCount >= this.recentLimit) this.recent.delete(this.recentTimes[slot]!);
    this.recentTimes[slot] = candle.openTime;
    this.recent.set(candle.openTime, candle);
  }

  private noteAbsent(t: number): void {
    const lastGap = this.absentGaps[this.absentGaps.length - 1];
    if (lastGap !== undefined && this.grid.nextOpen(lastGap.end) === t) {
      this.absentGaps[this.absentGaps.length - 1] = { start: lastGap.start, end: t, missing: lastGap.missing + 1 };
    } else {
      this.absentGaps.push({ start: t, end: t, missing: 1 });
    }
    this.options.logger?.warn(
      { openTime: t, gap: describeGap(this.absentGaps[this.absentGaps.length - 1]!) },
      `${this.options.where}: the exchange has no candle at ${isoUtc(t)}; skipped`,
    );
  }
}

/** The first open time of `grid` at or after `t`. */
function alignUp(t: number, grid: TimeframeGrid): number {
  const start = grid.bucketStart(t);
  return start === t ? t : grid.nextOpen(start);
}

function sameValues(a: StoredCandle, b: StoredCandle): boolean {
  return (
    a.open === b.open && a.high === b.high && a.low === b.low && a.close === b.close && a.volume === b.volume
  );
}
