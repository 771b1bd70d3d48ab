/**
 * What a live run DID, against its replay: the order events, fills, closed trades, and the broker's state (position,
 * cash, equity, pending orders) after every candle it acted on, compared one by one and bit for bit. The live side is
 * the run's `trading.jsonl` (`report/trading-journal.ts`); the replay side is a paper broker that saw the same candles
 * (the diff's replay, which starts from the live run's starting state: flat, with the run's broker configuration) and
 * whose state is captured after each of them ({@link StateRecorder}).
 *
 * A difference is attributed to the first signal mismatch at or before it (a different signal changes everything the
 * broker does afterwards) and shares that mismatch's explanation. One with no signal mismatch at or before it (the same
 * signals acted on differently) is explained only by a counterfactual replay that reproduces the live action (the diff
 * runs them, see {@link withCauses}): with the candle versions the live run acted on (a revision), or without the
 * candles it never acted on (missing or late); otherwise it is unexplained.
 *
 * @module
 */
import type { BrokerState } from '../broker/broker-state';
import type { OrderEvent } from '../broker/orders';
import type { PaperBroker } from '../broker/paper-broker';
import type { Fill, Trade } from '../broker/types';
import type { Candle } from '../core/candle';
import type { Broker } from '../engine/engine';
import type { TradingCheckpoint, TradingJournalContents } from '../report/trading-journal';

/** The replay broker's record, in the trading journal's shapes. */
export interface ReplayedActions {
  readonly events: readonly OrderEvent[];
  readonly fills: readonly Fill[];
  readonly trades: readonly Trade[];
  readonly checkpoints: readonly TradingCheckpoint[];
}

/**
 * Why the same signals were acted on differently, proven by a counterfactual replay that reproduces the live action:
 * - `revision`: replaying with the candle versions the live run acted on (those the exchange revised after it decided)
 *   does; `openTime`: the latest such candle at or before the action (see the diff's `revisions` for its values);
 * - `missing`: replaying without the candles the live run never acted on does; `openTime`: the first of them.
 */
export type ActionCause = { readonly kind: 'revision'; readonly openTime: number } | { readonly kind: 'missing'; readonly openTime: number };

/**
 * One action that differs: which list (`event`, `fill`, `trade`, or `state` after a candle), its position (`index` in
 * the list; for a state, in the live run's checkpoints), its `time` (the candle it belongs to, UTC epoch ms), the first
 * differing field and both values (null: absent on that side).
 */
export interface ActionDifference {
  readonly kind: 'event' | 'fill' | 'trade' | 'state';
  readonly index: number;
  readonly time: number;
  readonly field: string;
  readonly live: unknown;
  readonly replay: unknown;
  /** Open time of the signal mismatch it follows from, or null. */
  readonly followsSignalMismatch: number | null;
  /** For one that follows no signal mismatch, the cause a counterfactual replay proved, or null (unexplained). */
  readonly cause: ActionCause | null;
}

/** Counts compared per list, and every difference. */
export interface ActionsReport {
  readonly events: { readonly live: number; readonly replay: number };
  readonly fills: { readonly live: number; readonly replay: number };
  readonly trades: { readonly live: number; readonly replay: number };
  readonly states: number;
  readonly differences: readonly ActionDifference[];
  readonly unexplained: number;
}

/** A sale outside the run that the live run applied (see `PaperBroker.closeOnExchange`): base quantity, quote price. */
export interface ExternalClose {
  readonly quantity: number;
  readonly price: number;
}

/**
 * The live run's `closed_on_exchange` orders (a sale by hand that reconciliation found), by the open time of the candle
 * on which the run applied each: recorded external events, which the replay cannot know about and applies from the
 * record on the same candle (`PaperBroker.closeOnExchange` before that candle), as it replays stale decisions from the
 * journal's arrival times.
 */
export function recordedExternalCloses(live: TradingJournalContents | null): Map<number, ExternalClose[]> {
  const closes = new Map<number, ExternalClose[]>();
  for (const { order } of live?.events ?? []) {
    // The order's final event: the exchange's whole sale (`quantity`, which may exceed the paper position) and price.
    if (order.reason !== 'closed_on_exchange' || (order.status !== 'filled' && order.status !== 'cancelled')) continue;
    const close = { quantity: order.quantity, price: order.averagePrice };
    closes.set(order.decidedAt, [...(closes.get(order.decidedAt) ?? []), close]);
  }
  return closes;
}

/**
 * A broker wrapper for the replay that records the paper broker's state after each candle, as the live run's
 * checkpoints do (after the candle's fills, `onData` and its signal): the state of a candle is taken when the next
 * candle arrives, and the last one by {@link StateRecorder.finish}.
 */
export class StateRecorder {
  readonly checkpoints: TradingCheckpoint[] = [];
  readonly #paper: PaperBroker;
  #last: number | null = null;

  constructor(paper: PaperBroker) {
    this.#paper = paper;
  }

  /**
   * The broker the engine drives: `inner` (which must drive the same paper broker), with the states recorded after
   * the candles `acted(openTime)` says the paper broker processes.
   */
  wrap(inner: Broker, acted: (openTime: number) => boolean): Broker {
    return {
      account: inner.account,
      onCandle: (candle: Candle) => {
        this.#record();
        inner.onCandle(candle);
        if (acted(candle.openTime)) this.#last = candle.openTime;
      },
      submit: (signal, candle) => inner.submit(signal, candle),
    };
  }

  /** Records the state after the last candle. */
  finish(): void {
    this.#record();
  }

  /**
   * Closes the paper broker's position at `candle`'s close, as a live run's report does when it stops, and records the
   * state after it (the live run journals it as its last checkpoint, at the same candle).
   */
  closeAll(candle: Candle): void {
    this.#paper.closeAll(candle);
    this.checkpoints.push({ time: candle.openTime, state: this.#paper.snapshot() });
  }

  #record(): void {
    if (this.#last !== null) this.checkpoints.push({ time: this.#last, state: this.#paper.snapshot() });
    this.#last = null;
  }
}

/**
 * Compares the live run's actions with the replay's (see the module description).
 *
 * @param live - the run's trading journal.
 * @param replay - the replay broker's events, fills, trades and per-candle states.
 * @param signalMismatches - open times of the signal mismatches the diff found, ascending.
 */
export function compareActions(live: TradingJournalContents, replay: ReplayedActions, signalMismatches: readonly number[]): ActionsReport {
  const differences: ActionDifference[] = [];
  const follows = (time: number): number | null => {
    let found: number | null = null;
    for (const t of signalMismatches) if (t <= time) found = t;
    return found;
  };
  const push = (kind: ActionDifference['kind'], index: number, time: number, field: string, l: unknown, r: unknown): void => {
    differences.push({ kind, index, time, field, live: l, replay: r, followsSignalMismatch: follows(time), cause: null });
  };
  const lists = (
    kind: 'event' | 'fill' | 'trade',
    a: readonly object[],
    b: readonly object[],
    timeOf: (x: object) => number,
  ): void => {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const l = a[i] ?? null;
      const r = b[i] ?? null;
      const field = l === null || r === null ? '(missing)' : firstDifference(l, r);
      if (field !== null) push(kind, i, timeOf((l ?? r)!), field, l, r);
    }
  };
  lists('event', live.events, replay.events, (e) => (e as OrderEvent).order.decidedAt);
  lists('fill', live.fills, replay.fills, (f) => (f as Fill).time);
  lists('trade', live.trades, replay.trades, (t) => (t as Trade).exitTime);
  // Keyed by time and occurrence: a run that stopped cleanly has a second checkpoint at its last candle (its close).
  const replayStates = new Map(keyed(replay.checkpoints).map(([key, c]) => [key, c.state]));
  for (const [i, [key, { time, state }]] of keyed(live.checkpoints).entries()) {
    const other: BrokerState | null = replayStates.get(key) ?? null;
    const field = other === null ? '(missing)' : firstDifference(state, other);
    if (field !== null) push('state', i, time, field, state, other);
  }
  return {
    events: { live: live.events.length, replay: replay.events.length },
    fills: { live: live.fills.length, replay: replay.fills.length },
    trades: { live: live.trades.length, replay: replay.trades.length },
    states: live.checkpoints.length,
    differences,
    unexplained: differences.filter(isUnexplained).length,
  };
}

/** Identifies a difference within one live run's comparisons: its list and position (`state#12`, `fill#0`). */
export function differenceKey(d: Pick<ActionDifference, 'kind' | 'index'>): string {
  return `${d.kind}#${d.index}`;
}

/**
 * `report` with the causes proven for its differences (by {@link differenceKey}); those that follow no signal
 * mismatch and have no cause stay unexplained.
 */
export function withCauses(report: ActionsReport, causes: ReadonlyMap<string, ActionCause>): ActionsReport {
  const differences = report.differences.map((d) => ({ ...d, cause: d.followsSignalMismatch === null ? (causes.get(differenceKey(d)) ?? null) : null }));
  return { ...report, differences, unexplained: differences.filter(isUnexplained).length };
}

function isUnexplained(d: ActionDifference): boolean {
  return d.followsSignalMismatch === null && d.cause === null;
}

/**
 * The path of the first field whose values differ (`position.quantity`, `fill.price`), comparing numbers bit for bit
 * (`Object.is`, so NaN equals NaN and 0 differs from −0), or null when equal.
 */
export function firstDifference(a: unknown, b: unknown, path = ''): string | null {
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b) ? null : path || '(value)';
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b ? null : path || '(value)';
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const key of keys) {
    const found = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], path === '' ? key : `${path}.${key}`);
    if (found !== null) return found;
  }
  return null;
}

/** Each checkpoint with a key `<time>#<occurrence>`, in order. */
function keyed(checkpoints: readonly TradingCheckpoint[]): [string, TradingCheckpoint][] {
  const seen = new Map<number, number>();
  return checkpoints.map((c) => {
    const k = seen.get(c.time) ?? 0;
    seen.set(c.time, k + 1);
    return [`${c.time}#${k}`, c];
  });
}
