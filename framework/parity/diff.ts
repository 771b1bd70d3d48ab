import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brokerConfig } from '../broker/broker-config';
import { PaperBroker } from '../broker/paper-broker';
import {
  batchFromCandles,
  CANDLE_SOURCES,
  candleAt,
  candlesFromBatch,
  concatBatches,
  sliceBatch,
  writeRow,
  type Candle,
  type CandleBatch,
} from '../core/candle';
import { FrameworkError } from '../core/errors';
import { describeSubscription, type Subscription } from '../core/subscription';
import { lowerBound } from '../core/search';
import { isoUtc } from '../core/time';
import { nextOpenTime, timeframeGrid } from '../core/timeframe';
import { Engine, type Broker, type InformativeCandles } from '../engine/engine';
import { staleReason } from '../engine/stale';
import { loadHistory } from '../feeds/history';
import { replayCandles } from '../feeds/replay';
import { readJournal, type JournalContents, type RunHeader } from '../report/journal';
import { readTradingJournal, type RunResume, type TradingJournalContents } from '../report/trading-journal';
import type { OrderEvent } from '../broker/orders';
import {
  compareActions,
  differenceKey,
  recordedExternalCloses,
  StateRecorder,
  withCauses,
  type ActionCause,
  type ActionsReport,
  type ExternalClose,
  type ReplayedActions,
} from './actions';
import type { SignalRecord } from '../report/run-summary';
import type { BaseStrategy } from '../strategy/base-strategy';
import { freshStrategy } from '../strategy/fresh';
import { loadStrategy, type LoadedStrategy } from '../strategy/loader';
import type { FrameColumns } from '../strategy/frame';
import type { Signal } from '../strategy/signal';

/** A candle whose stored (final) values differ from those the live run acted on. */
export interface RevisedCandle {
  readonly openTime: number;
  readonly before: Candle;
  readonly after: Candle;
}

/**
 * Why a signal differs between the live run and its replay. Every cause but `origin` is proven by a counterfactual
 * replay (from the origin, on a fresh strategy instance) that reproduces the live outcome on that candle:
 * - `revision`: replaying with the candle versions the live run saw (the values it acted on, for candles revised by the
 *   exchange after it decided) gives the live signal; `candle` is the latest such revision (values before and after);
 * - `missing`: replaying without the candles the live run never acted on (missing or late) gives the live signal;
 *   `openTime` is the first of them;
 * - `origin`: the replay starts from another first candle (the indicators' origin) than the live run did;
 * - `lookahead`: the replay on candles up to the signal gives the live signal and a named frame `column` differs there
 *   from the replay on all candles (the lookahead check reproduces it);
 * - `unexplained`: none of the above (see {@link Mismatch.hint}); also equal signals that the run and the replay decided
 *   differently under the stale rule, which the replay applies to the journal's arrival times exactly as the run did.
 */
export type MismatchCause =
  | { readonly kind: 'revision'; readonly candle: RevisedCandle }
  | { readonly kind: 'missing'; readonly openTime: number }
  | { readonly kind: 'origin'; readonly live: number; readonly replay: number }
  | { readonly kind: 'lookahead'; readonly column: string }
  | { readonly kind: 'unexplained' };

/** One signal compared: the live run's and the replay's at the same candle (null: none there). */
export interface SignalComparison {
  readonly openTime: number;
  readonly live: Signal | null;
  readonly replay: Signal | null;
}

/** A comparison whose two sides differ, with its cause. */
export interface Mismatch extends SignalComparison {
  readonly cause: MismatchCause;
  /**
   * For an unexplained mismatch, the likely cause when a counterfactual points at one: e.g. state kept in the strategy
   * object (a replay on a fresh instance that, like the live run, calls `onData` only from the live run's first candle
   * reproduces the live signal), naming the strategy's fields that differ.
   */
  readonly hint?: string;
}

/**
 * A replay signal on a candle inside the live run's span that the run never acted on (the diff does not compare it),
 * with why: `reason` names the proof, from the store's provenance of that candle against the journal's arrival of the
 * next candle the run acted on:
 * - `closed while the run was down: …`: it opens between the last candle a killed run had acted on and the first one
 *   its continuation acted on, as `trading.jsonl`'s resume record ({@link "report/trading-journal"!RunResume |
 *   RunResume}) journaled them: history to the continuation, whether the killed run had stored it or the continuation
 *   took it from the live store or the shipped datasets;
 * - `never delivered to the run: …`: the run, running then, did not have it in its store when it acted on the next
 *   candle (stored afterwards);
 * - `not in the run's live store …`: the run, running then, never received it (the replay has it from the shipped
 *   datasets): the exchange had no candle there when the run read it.
 * `reason` is null when none of these can be shown (e.g. a journal without arrival times, or a candle the running run
 * had stored before it acted on a later one: it should have acted on it); such a signal counts as unexplained.
 */
export interface NotActedSignal {
  readonly openTime: number;
  readonly replay: Signal;
  readonly reason: string | null;
}

/**
 * The outcome of {@link diffRun}, also written as `diff.json` in the run folder. Times are UTC epoch ms.
 *
 * - `span`: the open times of the first and last candle compared (the live run's candles; a backtest's whole range);
 * - `matched`: signals equal on both sides (action, size, stop-loss, take-profit and tag);
 * - `indicatorDrift`: matched signals whose journaled indicator values are not bit-for-bit those of the replay, with
 *   no revised candle at or before them to explain it;
 * - `mismatches`: each difference with its cause; `unexplained` counts those without one;
 * - `revisions`: every candle the run acted on whose stored values changed afterwards;
 * - `notActed`: replay signals on candles of the span the live run did not act on, with the reason (see
 *   {@link NotActedSignal}); those without a proven reason count in `unexplained`.
 */
export interface DiffReport {
  readonly run: string;
  readonly mode: RunHeader['mode'];
  readonly strategy: RunHeader['strategy'];
  readonly subscription: Subscription;
  readonly span: { readonly first: number; readonly last: number } | null;
  readonly liveSignals: number;
  readonly replaySignals: number;
  readonly matched: number;
  readonly indicatorDrift: number;
  readonly mismatches: readonly Mismatch[];
  /**
   * A live run's actions against the replay's (order events, fills, trades, the broker's state after every candle
   * it acted on: position, cash, equity), see `parity/actions.ts`; null for a backtest or a run without
   * `trading.jsonl`.
   */
  readonly actions: ActionsReport | null;
  readonly unexplained: number;
  readonly revisions: readonly RevisedCandle[];
  readonly notActed: readonly NotActedSignal[];
}

/**
 * Replays the candles a run stored, from the same origin, through the backtest path, and compares its signals with
 * the run's journal signal by signal, explaining every difference (see {@link MismatchCause}). Writes `diff.json`
 * into the run folder. Stored data is only read.
 *
 * @param file - the strategy plugin the run used (its parameters are taken from the run, and must hash the same).
 * @param runDir - the run folder, e.g. `runs/20210601-000000-macd-1a2b`.
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} when the folder is not a run, the strategy is not the
 *   run's, or the run's candles cannot be read; the loader's errors for a bad plugin.
 */
export async function diffRun(file: string, runDir: string): Promise<DiffReport> {
  const journal = readJournal(runDir);
  const { header } = journal;
  const loaded = await loadRunStrategy(file, header);
  const span = spanOf(journal);
  const base = {
    run: header.runId,
    mode: header.mode,
    strategy: header.strategy,
    subscription: header.subscription,
    liveSignals: journal.signals.length,
  };
  if (span === null) {
    return save(runDir, { ...base, span, replaySignals: 0, matched: 0, indicatorDrift: 0, mismatches: [], actions: null, unexplained: 0, revisions: [], notActed: [] });
  }
  const trading = header.mode === 'live' ? readTradingJournal(runDir) : null;
  const input = {
    ...replayedCandles(loaded, header, span.last),
    held: new Map([...staleCandles(journal), ...blockedCandles(journal)]),
    closes: recordedExternalCloses(trading),
  };
  const { candles } = input;
  const acted = header.mode === 'live' ? new Set(journal.candles.map((c) => c.openTime)) : null;
  // A live run that stopped cleanly (summary.json written) closed its paper position at its last candle for the report
  // and journaled that as a last checkpoint: the replay ends the same way.
  const endOfRun = header.mode === 'live' && existsSync(join(runDir, 'summary.json')) ? span.last : null;
  const replay = await replaySignals(loaded, header, input, acted, 0, endOfRun);
  // A live run is compared on the candles it acted on: not those that closed while a killed run was down (history to
  // the continued run) nor those its feed never delivered (their effect on later candles is explained as `missing`);
  // the replay's signals on those are listed with the reason.
  const inSpan = (s: SignalRecord) => s.openTime >= span.first && s.openTime <= span.last;
  const actedOn = (s: SignalRecord) => inSpan(s) && (acted === null || acted.has(s.openTime));
  const replayed = new Map(replay.signals.filter(actedOn).map((s) => [s.openTime, s]));
  const live = new Map(journal.signals.filter(actedOn).map((s) => [s.openTime, s]));
  const notActed = replay.signals
    .filter((s) => inSpan(s) && !actedOn(s))
    .map((s) => ({ openTime: s.openTime, replay: s.signal, reason: notActedReason(s.openTime, journal, candles, trading?.resumes ?? []) }));
  const revisions = revisedCandles(journal, candles);
  const view = liveView(header, journal, candles, revisions);
  const explain = explainer(loaded, header, input, view, replay.columns, acted);

  let matched = 0;
  let indicatorDrift = 0;
  const mismatches: Mismatch[] = [];
  const times = [...new Set([...live.keys(), ...replayed.keys()])].sort((a, b) => a - b);
  for (const openTime of times) {
    const l = live.get(openTime) ?? null;
    const r = replayed.get(openTime) ?? null;
    if (l !== null && r !== null && sameSignal(l.signal, r.signal)) {
      if (isStale(l) !== isStale(r)) {
        // The replay applies the live rule to the journal's arrival times: a disagreement has no explanation.
        mismatches.push({ openTime, live: l.signal, replay: r.signal, cause: { kind: 'unexplained' } });
        continue;
      }
      matched += 1;
      const revised = revisions.some((revision) => revision.openTime <= openTime);
      if (!revised && !sameIndicators(l.indicators, r.indicators)) indicatorDrift += 1;
      continue;
    }
    const comparison = { openTime, live: l?.signal ?? null, replay: r?.signal ?? null };
    mismatches.push({ ...comparison, ...(await explain(comparison)) });
  }
  const actions =
    trading === null || trading.checkpoints.length === 0
      ? null
      : await explainActions(
          compareActions(trading, replay.actions, mismatches.map((m) => m.openTime).sort((a, b) => a - b)),
          trading,
          view,
          candles,
          (history) => replaySignals(loaded, header, { ...input, candles: history }, acted, 0, endOfRun),
        );
  const unexplained =
    mismatches.filter((m) => m.cause.kind === 'unexplained').length + (actions?.unexplained ?? 0) + notActed.filter((n) => n.reason === null).length;
  return save(runDir, {
    ...base,
    span,
    replaySignals: replayed.size,
    matched,
    indicatorDrift,
    mismatches,
    actions,
    unexplained,
    revisions,
    notActed,
  });
}

async function loadRunStrategy(file: string, header: RunHeader): Promise<LoadedStrategy> {
  const { strategy } = await loadStrategy(file);
  if (strategy.name !== header.strategy.name) {
    throw new FrameworkError(`${file} is strategy "${strategy.name}", but run ${header.runId} ran "${header.strategy.name}"`);
  }
  const overrides = Object.fromEntries(Object.entries(header.strategy.parameters).map(([k, v]) => [k, String(v)]));
  return loadStrategy(file, overrides);
}

/** The open times compared: a live run's first and last candle acted on; a backtest's whole range. */
function spanOf({ header, candles, signals }: JournalContents): { first: number; last: number } | null {
  if (header.mode === 'live') {
    return candles.length === 0 ? null : { first: candles[0]!.openTime, last: candles[candles.length - 1]!.openTime };
  }
  return signals.length === 0 ? null : { first: header.origin.firstCandle, last: signals[signals.length - 1]!.openTime };
}

/** The candles of `subscription` the run stored, from its origin, with open times before `to`. */
function storedCandles(header: RunHeader, subscription: Subscription, to: number): CandleBatch {
  const { origin } = header;
  if (header.mode === 'live') {
    const store = origin.store === null ? null : { root: origin.store.root, subscription: { ...subscription, exchange: origin.store.subscription.exchange } };
    return loadHistory(origin.datasetsRoot, subscription, store, to, origin.from);
  }
  return replayCandles(origin.datasetsRoot, subscription, {
    ...(origin.from !== undefined && { from: origin.from }),
    to: Math.min(origin.to ?? Number.POSITIVE_INFINITY, to),
  });
}

/** What the replay runs on: the traded candles up to `last` and each informative subscription's, closed by then. */
function replayedCandles(loaded: LoadedStrategy, header: RunHeader, last: number): ReplayInput {
  const closes = nextOpenTime(last, header.subscription.timeframe);
  const informative = new Map(
    loaded.subscriptions.slice(1).map((s) => [describeSubscription(s), storedCandles(header, s, closedBefore(s.timeframe, closes) + 1)]),
  );
  return { candles: storedCandles(header, header.subscription, last + 1), informative, held: new Map(), closes: new Map() };
}

/**
 * The live run's traded candles that were stale when they arrived, by open time, with the reason: the stale rule
 * applied to each journaled candle's `arrivedAt` with the run's limit (`run.json`'s `staleAfter`; none in runs made
 * before the rule), exactly as the live run applied it.
 */
function staleCandles({ header, candles }: JournalContents): Map<number, string> {
  const held = new Map<number, string>();
  const staleAfter = header.staleAfter ?? Number.POSITIVE_INFINITY;
  const grid = timeframeGrid(header.subscription.timeframe);
  for (const candle of candles) {
    const reason = candle.arrivedAt === undefined ? null : staleReason(candle.openTime, grid, candle.arrivedAt, staleAfter);
    if (reason !== null) held.set(candle.openTime, reason);
  }
  return held;
}

/**
 * The live run's candles whose entry signal reconciliation refused (an unexplained difference with the exchange
 * blocked entries, see `execution/reconcile-loop.ts`), by open time, with the journaled reason: a recorded decision
 * the replay, which has no exchange, takes from the journal.
 */
function blockedCandles({ signals }: JournalContents): Map<number, string> {
  return new Map(signals.filter((s) => s.reason?.startsWith('blocked: reconciliation') === true).map((s) => [s.openTime, s.reason!]));
}

/** Open time of the last candle of `timeframe` closed by `closes` (UTC epoch ms). */
function closedBefore(timeframe: string, closes: number): number {
  const grid = timeframeGrid(timeframe);
  return grid.previousOpen(grid.bucketStart(closes));
}

interface ReplayInput {
  readonly candles: CandleBatch;
  readonly informative: InformativeCandles;
  /**
   * The live run's stale candles and those whose entry reconciliation blocked, by open time, with the live decision's
   * reason (see {@link staleCandles}, {@link blockedCandles}).
   */
  readonly held: ReadonlyMap<number, string>;
  /** The live run's sales outside the run, applied before the candle of each (see `recordedExternalCloses`). */
  readonly closes: ReadonlyMap<number, readonly ExternalClose[]>;
}

/**
 * The replay's signals, its frame columns (OHLCV, indicators, informative columns) over every candle, and the strategy
 * instance it ran (fresh for every replay).
 */
interface Replayed {
  readonly signals: readonly SignalRecord[];
  readonly columns: FrameColumns;
  readonly strategy: BaseStrategy;
  /** What its broker did, in the trading journal's shapes (per-candle states for a live run's replay only). */
  readonly actions: ReplayedActions;
}

/**
 * A replay of `input` on a fresh instance of the strategy, with the run's own broker configuration (stake, fees, the
 * exchange's amount step, the client order ids' key); `acted`: for a live run, the candles it acted on (the broker
 * sees only those, see {@link actedCandlesOnly}); `from`: the first row stepped (see `ReplayOptions.from`); `endOfRun`:
 * the open time of the candle at whose close a live run that stopped cleanly closed its paper position (as its report
 * does), or null.
 */
async function replaySignals(
  loaded: LoadedStrategy,
  header: RunHeader,
  input: ReplayInput,
  acted: ReadonlySet<number> | null,
  from = 0,
  endOfRun: number | null = null,
): Promise<Replayed> {
  const strategy = freshStrategy(loaded.strategy);
  const paper = new PaperBroker(brokerConfig(header.broker));
  const recorder = new StateRecorder(paper);
  const events: OrderEvent[] = [];
  paper.addOrderListener((event) => events.push(event));
  const engine = new Engine({
    strategy,
    broker: acted === null ? paper : recorder.wrap(actedCandlesOnly(paper, acted, input.closes), (t) => acted.has(t)),
    file: loaded.file,
    subscription: header.subscription,
    informative: loaded.subscriptions.slice(1),
  });
  const columns = await engine.replay(input.candles, { informative: input.informative, held: input.held, from });
  recorder.finish();
  if (endOfRun !== null) {
    const row = input.candles.openTime.lastIndexOf(endOfRun);
    if (row >= 0) recorder.closeAll(candleAt(input.candles, row));
  }
  return { signals: engine.signals, columns, strategy, actions: { events, fills: paper.fills, trades: paper.trades, checkpoints: recorder.checkpoints } };
}

/**
 * The replay's broker for a live run: the paper broker sees only the candles the live run acted on, as the live
 * broker did (not the history before the run, nor candles that closed while a killed run was down), so that a strategy
 * reading its account (`onData`'s third argument) sees the same position in the replay as live. Signals on other
 * candles are not submitted. The sales outside the run the live run applied (`closes`) are applied on the same candles.
 */
function actedCandlesOnly(paper: PaperBroker, acted: ReadonlySet<number>, closes: ReadonlyMap<number, readonly ExternalClose[]>): Broker {
  return {
    account: paper.account,
    onCandle: (candle) => {
      if (!acted.has(candle.openTime)) return;
      for (const close of closes.get(candle.openTime) ?? []) paper.closeOnExchange(close.quantity, close.price);
      paper.onCandle(candle);
    },
    submit: (signal, candle) =>
      acted.has(candle.openTime) ? paper.submit(signal, candle) : { acted: false, reason: 'not a candle the live run acted on' },
  };
}

/** Candles the live run acted on whose stored values differ now. */
function revisedCandles(journal: JournalContents, candles: CandleBatch): RevisedCandle[] {
  const revised: RevisedCandle[] = [];
  for (const seen of journal.candles) {
    const i = rowOf(candles, seen.openTime);
    if (i === undefined) continue;
    const { source: _source, receivedAt: _receivedAt, ...after } = candleAt(candles, i);
    const before: Candle = { openTime: seen.openTime, open: seen.open, high: seen.high, low: seen.low, close: seen.close, volume: seen.volume };
    if (!sameCandle(before, after)) revised.push({ openTime: seen.openTime, before, after });
  }
  return revised;
}

/** What {@link explainer} finds for one mismatch. */
interface Explanation {
  readonly cause: MismatchCause;
  readonly hint?: string;
}

/**
 * The history as the live run had it when it decided at one candle: `upTo`, the replay's candles up to it (row `row`);
 * `reverted`, the revisions at or before it stored after that decision (the run acted on their `before` versions);
 * `unseen`, the open times in the live span up to it that the run never acted on (missing or late); `firstSeen`, the
 * run's first candle acted on.
 */
interface LiveView {
  readonly row: number;
  readonly upTo: CandleBatch;
  readonly reverted: readonly RevisedCandle[];
  readonly unseen: readonly number[];
  readonly firstSeen: number;
}

/** {@link LiveView} of each candle of the replay (null for an open time it does not hold). */
function liveView(
  header: RunHeader,
  journal: JournalContents,
  candles: CandleBatch,
  revisions: readonly RevisedCandle[],
): (openTime: number) => LiveView | null {
  const seen = new Map(journal.candles.map((c) => [c.openTime, c]));
  const firstSeen = journal.candles[0]?.openTime ?? Number.POSITIVE_INFINITY;
  return (openTime) => {
    const row = rowOf(candles, openTime);
    if (row === undefined) return null;
    const upTo = sliceBatch(candles, 0, row + 1);
    const decidedAt = seen.get(openTime)?.receivedAt ?? null;
    // The versions the live run had when it decided: a revision stored after that decision was not yet in its history.
    const reverted = revisions.filter((r) => r.openTime <= openTime && revisedAfter(candles, rowOf(candles, r.openTime)!, decidedAt));
    const unseen = header.mode === 'live' ? Array.from(upTo.openTime).filter((t) => t >= firstSeen && !seen.has(t)) : [];
    return { row, upTo, reverted, unseen, firstSeen };
  };
}

/** `history` as the live run saw it: the revisions in `reverted` back to the versions it acted on. */
function asSeen(history: CandleBatch, reverted: readonly RevisedCandle[]): CandleBatch {
  return withVersions(history, reverted.map((r) => r.before));
}

/**
 * Explains a mismatch by counterfactual replays of the history up to its candle (see {@link MismatchCause}): with the
 * candle versions the live run saw, without the candles it never acted on, both, truncated (lookahead); when none
 * reproduces the live signal, it is unexplained, with a hint when a replay that calls `onData` only from the live run's
 * first candle (as the live run did, on a fresh instance) reproduces it: state kept in the strategy object.
 */
function explainer(
  loaded: LoadedStrategy,
  header: RunHeader,
  input: ReplayInput,
  view: (openTime: number) => LiveView | null,
  fullColumns: FrameColumns,
  acted: ReadonlySet<number> | null,
): (comparison: SignalComparison) => Promise<Explanation> {
  const { candles } = input;
  const signalAt = async (history: CandleBatch, openTime: number, from = 0): Promise<{ signal: Signal | null; replayed: Replayed }> => {
    const replayed = await replaySignals(loaded, header, { ...input, candles: history }, acted, from);
    return { signal: replayed.signals.find((s) => s.openTime === openTime)?.signal ?? null, replayed };
  };
  return async ({ openTime, live }) => {
    const v = view(openTime);
    if (v === null) return { cause: { kind: 'unexplained' } };
    const { row, upTo, reverted, unseen, firstSeen } = v;
    if (reverted.length > 0 && sameOrBothNull((await signalAt(asSeen(upTo, reverted), openTime)).signal, live)) {
      return { cause: { kind: 'revision', candle: reverted.at(-1)! } };
    }
    if (unseen.length > 0) {
      if (sameOrBothNull((await signalAt(without(upTo, unseen), openTime)).signal, live)) {
        return { cause: { kind: 'missing', openTime: unseen[0]! } };
      }
      if (reverted.length > 0 && sameOrBothNull((await signalAt(asSeen(without(upTo, unseen), reverted), openTime)).signal, live)) {
        return { cause: { kind: 'revision', candle: reverted.at(-1)! } };
      }
    }
    const replayOrigin = candles.openTime[0]!;
    if (replayOrigin !== header.origin.firstCandle) {
      return { cause: { kind: 'origin', live: header.origin.firstCandle, replay: replayOrigin } };
    }
    const truncated = await signalAt(upTo, openTime);
    const column = firstDifferingColumn(fullColumns, truncated.replayed.columns, row);
    if (column !== null && sameOrBothNull(truncated.signal, live)) return { cause: { kind: 'lookahead', column } };
    if (header.mode !== 'live' || firstSeen > openTime) return { cause: { kind: 'unexplained' } };
    const liveSpan = await signalAt(asSeen(without(upTo, unseen), reverted), openTime, rowOf(candles, firstSeen) ?? 0);
    if (!sameOrBothNull(liveSpan.signal, live)) return { cause: { kind: 'unexplained' } };
    const fields = differingFields(truncated.replayed.strategy, liveSpan.replayed.strategy);
    return {
      cause: { kind: 'unexplained' },
      hint:
        `state kept in the strategy object: replayed on a fresh instance that, like the live run, calls onData only from ` +
        `its first candle ${isoUtc(firstSeen)}, the strategy gives the live signal; from the origin it does not` +
        (fields.length > 0 ? ` (fields that differ: ${fields.join(', ')})` : '') +
        `. Derive such values from the frame (indicator columns) so that live and replay agree`,
    };
  };
}

/**
 * Explains the action differences that follow no signal mismatch (the same signals acted on differently) by
 * counterfactual replays, each on a fresh strategy instance and broker: for the candle of the action, the history as
 * the live run had it then ({@link LiveView}) with the revised candles back to the versions it acted on (a revision),
 * without the candles it never acted on (missing or late), or both (a revision). A difference is explained when that
 * replay's action at the same place equals the live run's; the others stay unexplained. Replays are shared by the
 * actions whose candles had the same history.
 *
 * @param replayOn - the diff's replay (same broker, stale decisions and end of run) on another history.
 */
async function explainActions(
  report: ActionsReport,
  live: TradingJournalContents,
  view: (openTime: number) => LiveView | null,
  candles: CandleBatch,
  replayOn: (history: CandleBatch) => Promise<Replayed>,
): Promise<ActionsReport> {
  const open = report.differences.filter((d) => d.followsSignalMismatch === null);
  if (open.length === 0) return report;
  const differing = new Map<string, Promise<ReadonlySet<string>>>();
  const stillDiffering = (reverted: readonly RevisedCandle[], unseen: readonly number[]): Promise<ReadonlySet<string>> => {
    const key = JSON.stringify([reverted.map((r) => r.openTime), unseen]);
    let found = differing.get(key);
    if (found === undefined) {
      // The whole span is replayed: an action depends on the candles up to its own, which are those of the view.
      found = replayOn(asSeen(without(candles, unseen), reverted)).then(
        (cf) => new Set(compareActions(live, cf.actions, []).differences.map(differenceKey)),
      );
      differing.set(key, found);
    }
    return found;
  };
  const causes = new Map<string, ActionCause>();
  for (const d of open) {
    const v = view(d.time);
    if (v === null) continue;
    const tries: [readonly RevisedCandle[], readonly number[], ActionCause][] = [];
    if (v.reverted.length > 0) tries.push([v.reverted, [], { kind: 'revision', openTime: v.reverted.at(-1)!.openTime }]);
    if (v.unseen.length > 0) {
      tries.push([[], v.unseen, { kind: 'missing', openTime: v.unseen[0]! }]);
      if (v.reverted.length > 0) tries.push([v.reverted, v.unseen, { kind: 'revision', openTime: v.reverted.at(-1)!.openTime }]);
    }
    for (const [reverted, unseen, cause] of tries) {
      if (!(await stillDiffering(reverted, unseen)).has(differenceKey(d))) {
        causes.set(differenceKey(d), cause);
        break;
      }
    }
  }
  return withCauses(report, causes);
}

/**
 * Why the live run did not act on the candle opening at `openTime` inside its span (see {@link NotActedSignal}), or
 * null when it cannot be shown: the run's resume records (`resumes`), else the store's provenance of the candle in the
 * replay (`candles`) against the arrival of the next candle the run acted on.
 */
function notActedReason(openTime: number, journal: JournalContents, candles: CandleBatch, resumes: readonly RunResume[]): string | null {
  const down = resumes.find((r) => r.after < openTime && openTime < r.first);
  if (down !== undefined) {
    return (
      `closed while the run was down: the run was killed after acting on the candle of ${isoUtc(down.after)} and its ` +
      `continuation acted first on the candle of ${isoUtc(down.first)} (trading.jsonl's resume record); history to the continuation, not traded`
    );
  }
  const next = journal.candles.find((c) => c.openTime > openTime);
  const row = candles.openTime.indexOf(openTime);
  if (next?.arrivedAt === undefined || row < 0) return null;
  const receivedAt = candles.receivedAt[row]!;
  const later = `the candle of ${isoUtc(next.openTime)}, acted on at ${isoUtc(next.arrivedAt)}`;
  if (Number.isNaN(receivedAt)) {
    return (
      `not in the run's live store (the replay has it from the shipped datasets): never received by the run, which was ` +
      `running (no resume record covers it) and acted on ${later}; the exchange had no candle there when the run read it`
    );
  }
  // Stored before the running run acted on a later candle: it should have acted on this one first.
  if (receivedAt <= next.arrivedAt) return null;
  return `never delivered to the run: stored at ${isoUtc(receivedAt)} from ${CANDLE_SOURCES[candles.source[row]!] ?? 'import'}, after it had acted on ${later}`;
}

/** Whether the stored version of candle `row` was received after `decidedAt` (UTC epoch ms; unknown: yes). */
function revisedAfter(candles: CandleBatch, row: number, decidedAt: number | null): boolean {
  const receivedAt = candles.receivedAt[row]!;
  return decidedAt === null || !Number.isFinite(receivedAt) || receivedAt > decidedAt;
}

/** `history` with the candles of the same open times replaced by `versions` (a copy). */
function withVersions(history: CandleBatch, versions: readonly Candle[]): CandleBatch {
  const out = concatBatches([history]);
  for (const v of versions) {
    const row = rowOf(out, v.openTime);
    if (row !== undefined) writeRow(out, row, { ...candleAt(out, row), ...v });
  }
  return out;
}

/** `history` without the candles opening at `openTimes` (a copy). */
function without(history: CandleBatch, openTimes: readonly number[]): CandleBatch {
  if (openTimes.length === 0) return history;
  const left = new Set(openTimes);
  return batchFromCandles(candlesFromBatch(history).filter((c) => !left.has(c.openTime)));
}

/** The strategy's own enumerable fields (not its parameters) whose values differ between two instances, by name. */
function differingFields(a: BaseStrategy, b: BaseStrategy): string[] {
  const names = new Set([...Object.keys(a), ...Object.keys(b)].filter((name) => name !== 'params' && name !== 'name'));
  const values = (s: BaseStrategy, name: string): string => JSON.stringify((s as unknown as Record<string, unknown>)[name]) ?? 'undefined';
  return [...names].filter((name) => values(a, name) !== values(b, name));
}

/** The first frame column whose value at `row` differs between the full replay and one truncated after `row`. */
function firstDifferingColumn(full: FrameColumns, truncated: FrameColumns, row: number): string | null {
  return Object.keys(full).find((name) => !Object.is(full[name]![row], truncated[name]?.[row])) ?? null;
}

/** The row of `candles` (ascending open times, as stored) whose open time is `openTime`, if it holds one. */
function rowOf(candles: CandleBatch, openTime: number): number | undefined {
  const row = lowerBound(candles.openTime, openTime);
  return candles.openTime[row] === openTime ? row : undefined;
}

/** Whether a signal's decision was the stale rule's (see `staleReason`). */
function isStale(record: SignalRecord): boolean {
  return record.reason?.startsWith('stale:') === true;
}

function sameCandle(a: Candle, b: Candle): boolean {
  return a.open === b.open && a.high === b.high && a.low === b.low && a.close === b.close && a.volume === b.volume;
}

function sameSignal(a: Signal, b: Signal): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sameOrBothNull(a: Signal | null, b: Signal | null): boolean {
  return a === null || b === null ? a === b : sameSignal(a, b);
}

function sameIndicators(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const keys = Object.keys(b);
  return keys.length === Object.keys(a).length && keys.every((k) => Object.is(a[k], b[k]));
}

function save(runDir: string, report: DiffReport): DiffReport {
  writeFileSync(join(runDir, 'diff.json'), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}
