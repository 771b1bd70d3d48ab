import type { FaultConfig, FaultKind, FaultTrigger, MalformedKind } from './config';
import { FAULT_KINDS, MALFORMED_KINDS } from './config';
import type { Rng } from '../core/rng';
import { namedRng } from '../core/rng';

/** Which WebSocket faults fire for one kline frame delivery; the stream applies them in this order of priority. */
export interface FrameFaults {
  readonly drop: boolean;
  readonly stall: boolean;
  readonly malformed: MalformedKind | null;
  readonly duplicate: boolean;
  readonly outOfOrder: boolean;
}

/** Counts of injected faults, by type, and of malformed frames by kind. */
export interface FaultCounts {
  readonly byKind: Readonly<Record<FaultKind, number>>;
  readonly malformedByKind: Readonly<Record<MalformedKind, number>>;
}

interface TriggerState {
  readonly trigger: FaultTrigger;
  readonly nth: Set<number>;
  readonly rng: Rng;
  ordinal: number;
}

/**
 * Decides, deterministically, which faults fire at each opportunity, and counts the faults actually injected.
 * Each fault type has its own opportunity counter and its own RNG stream (`namedRng(seed, type)`), so enabling one
 * fault does not change when another fires.
 */
export class FaultInjector {
  private readonly triggers = new Map<FaultKind, TriggerState>();
  private readonly malformedKinds: readonly MalformedKind[];
  private malformedDecided = 0;
  private readonly injected: Record<FaultKind, number>;
  private readonly malformedInjected: Record<MalformedKind, number>;

  constructor(private readonly config: FaultConfig, private readonly seed: number) {
    const entries: [FaultKind, FaultTrigger | undefined][] = [
      ['drop', config.drop],
      ['stall', config.stall],
      ['malformed', config.malformed],
      ['duplicate', config.duplicate],
      ['outOfOrder', config.outOfOrder],
      ['rest429', config.rest429],
      ['rest500', config.rest500],
      ['orderReject', config.orderReject],
      ['orderTimeout', config.orderTimeout],
      ['orderPartial', config.orderPartial],
      ['order429', config.order429],
      ['restMalformed', config.restMalformed],
    ];
    for (const [kind, trigger] of entries) {
      if (trigger === undefined) continue;
      this.triggers.set(kind, { trigger, nth: new Set(trigger.nth ?? []), rng: namedRng(seed, kind), ordinal: 0 });
    }
    this.malformedKinds = config.malformed?.kinds ?? MALFORMED_KINDS;
    this.injected = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
    this.malformedInjected = Object.fromEntries(MALFORMED_KINDS.map((k) => [k, 0])) as Record<MalformedKind, number>;
  }

  /** Decides the WebSocket faults for the next kline frame delivery (one opportunity for each WebSocket fault). */
  decideFrame(): FrameFaults {
    const malformed = this.fires('malformed');
    return {
      drop: this.fires('drop'),
      stall: this.fires('stall'),
      malformed: malformed ? this.malformedKinds[this.malformedDecided++ % this.malformedKinds.length]! : null,
      duplicate: this.fires('duplicate'),
      outOfOrder: this.fires('outOfOrder'),
    };
  }

  /** Decides the REST fault for the next request: 429 takes precedence over 500; `null` = serve normally. */
  decideRequest(): 'rest429' | 'rest500' | null {
    const tooMany = this.fires('rest429');
    const serverError = this.fires('rest500');
    return tooMany ? 'rest429' : serverError ? 'rest500' : null;
  }

  /**
   * Makes the next opportunity of `kind` fire for sure, on top of its configured trigger (e.g. a 429 on the next REST
   * request, an order whose answer is held back, to inject a fault at a moment a test chooses rather than at an
   * ordinal fixed in advance).
   */
  fireNext(kind: 'rest429' | 'rest500' | 'orderTimeout'): void {
    let state = this.triggers.get(kind);
    if (state === undefined) {
      state = { trigger: {}, nth: new Set(), rng: namedRng(this.seed, kind), ordinal: 0 };
      this.triggers.set(kind, state);
    }
    state.nth.add(state.ordinal + 1);
  }

  /**
   * Decides the order-path faults for the next `POST /api/v3/order` that passed the signature check (one opportunity
   * of each). A rejection is applied first; timeout and partial fill can both fire on an executed order.
   */
  decideOrder(): { readonly reject: boolean; readonly timeout: boolean; readonly partial: boolean } {
    return { reject: this.fires('orderReject'), timeout: this.fires('orderTimeout'), partial: this.fires('orderPartial') };
  }

  /** Decides whether the next signed request is answered 429 (`order429`). */
  decideSigned(): boolean {
    return this.fires('order429');
  }

  /** `Retry-After` of an injected order-path 429, in seconds. */
  orderRetryAfterSec(): number {
    return this.config.order429?.retryAfterSec ?? 1;
  }

  /** Real ms after which a timed-out order's answer is sent; `Infinity` = never. */
  orderAnswerAfterMs(): number {
    return this.config.orderTimeout?.answerAfterMs ?? Infinity;
  }

  /** Fraction of a partially filled MARKET order's quantity that fills. */
  orderFillFraction(): number {
    return this.config.orderPartial?.fillFraction ?? 0.5;
  }

  /** Decides whether the next kline REST answer with rows gets one malformed row (`restMalformed`). */
  decideRestRows(): boolean {
    return this.fires('restMalformed');
  }

  /** Stall length in exchange ms, given the timeframe length of the frame that triggered it. */
  stallDurationMs(tfMs: number): number {
    return this.config.stall?.durationMs ?? 3 * tfMs;
  }

  /** `Retry-After` of an injected 429, in seconds. */
  retryAfterSec(): number {
    return this.config.rest429?.retryAfterSec ?? 1;
  }

  /** Records that a fault of `kind` was injected (`times` times). */
  record(kind: FaultKind, times = 1): void {
    this.injected[kind] += times;
  }

  /** Records an injected malformed frame of `kind`. */
  recordMalformed(kind: MalformedKind): void {
    this.injected.malformed += 1;
    this.malformedInjected[kind] += 1;
  }

  /** A snapshot of the counts. */
  counts(): FaultCounts {
    return { byKind: { ...this.injected }, malformedByKind: { ...this.malformedInjected } };
  }

  private fires(kind: FaultKind): boolean {
    const state = this.triggers.get(kind);
    if (state === undefined) return false;
    state.ordinal += 1;
    const byRate = state.rng() < (state.trigger.rate ?? 0);
    return state.nth.has(state.ordinal) || byRate;
  }
}
