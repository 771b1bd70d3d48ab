import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brokerConfig } from '../broker/broker-config';
import { PaperBroker } from '../broker/paper-broker';
import { candleAt, sliceBatch, type Candle, type CandleBatch } from '../core/candle';
import { FrameworkError } from '../core/errors';
import { describeSubscription, type Subscription } from '../core/subscription';
import { nextOpenTime, timeframeGrid } from '../core/timeframe';
import { Engine, type InformativeCandles } from '../engine/engine';
import { loadHistory } from '../feeds/history';
import { replayCandles } from '../feeds/replay';
import { readJournal, type JournalContents, type RunHeader } from '../report/journal';
import type { SignalRecord } from '../report/run-summary';
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
 * Why a signal differs between the live run and its replay:
 * - `revision`: a candle at or before the signal's was revised after the run acted on it (values before and after);
 * - `missing`: a candle at or before the signal's was not seen by the live run when it decided (missing or late);
 * - `origin`: the replay starts from another first candle (the indicators' origin) than the live run did;
 * - `lookahead`: the replay on candles up to the signal gives the live signal, the replay on all candles does not:
 *   `populateIndicators` used later candles (`column` is the first indicator column that differs);
 * - `unexplained`: none of the above.
 */
export type MismatchCause =
  | { readonly kind: 'revision'; readonly candle: RevisedCandle }
  | { readonly kind: 'missing'; readonly openTime: number }
  | { readonly kind: 'origin'; readonly live: number; readonly replay: number }
  | { readonly kind: 'lookahead'; readonly column: string | null }
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
}

/**
 * The outcome of {@link diffRun}, also written as `diff.json` in the run folder. Times are UTC epoch ms.
 *
 * - `span`: the open times of the first and last candle compared (the live run's candles; a backtest's whole range);
 * - `matched`: signals equal on both sides (action, size, stop-loss, take-profit and tag);
 * - `indicatorDrift`: matched signals whose journaled indicator values are not bit-for-bit those of the replay, with
 *   no revised candle at or before them to explain it;
 * - `mismatches`: each difference with its cause; `unexplained` counts those without one;
 * - `revisions`: every candle the run acted on whose stored values changed afterwards.
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
  readonly unexplained: number;
  readonly revisions: readonly RevisedCandle[];
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
    return save(runDir, { ...base, span, replaySignals: 0, matched: 0, indicatorDrift: 0, mismatches: [], unexplained: 0, revisions: [] });
  }
  const input = replayedCandles(loaded, header, span.last);
  const { candles } = input;
  const replay = await replaySignals(loaded, header, input);
  const inSpan = (s: SignalRecord) => s.openTime >= span.first && s.openTime <= span.last;
  const replayed = new Map(replay.signals.filter(inSpan).map((s) => [s.openTime, s]));
  const live = new Map(journal.signals.filter(inSpan).map((s) => [s.openTime, s]));
  const revisions = revisedCandles(journal, candles);
  const explain = explainer(loaded, header, journal, input, revisions, replay.columns);

  let matched = 0;
  let indicatorDrift = 0;
  const mismatches: Mismatch[] = [];
  const times = [...new Set([...live.keys(), ...replayed.keys()])].sort((a, b) => a - b);
  for (const openTime of times) {
    const l = live.get(openTime) ?? null;
    const r = replayed.get(openTime) ?? null;
    if (l !== null && r !== null && sameSignal(l.signal, r.signal)) {
      matched += 1;
      const revised = revisions.some((revision) => revision.openTime <= openTime);
      if (!revised && !sameIndicators(l.indicators, r.indicators)) indicatorDrift += 1;
      continue;
    }
    const comparison = { openTime, live: l?.signal ?? null, replay: r?.signal ?? null };
    mismatches.push({ ...comparison, cause: await explain(comparison) });
  }
  const unexplained = mismatches.filter((m) => m.cause.kind === 'unexplained').length;
  return save(runDir, {
    ...base,
    span,
    replaySignals: replayed.size,
    matched,
    indicatorDrift,
    mismatches,
    unexplained,
    revisions,
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
    return loadHistory(origin.datasetsRoot, subscription, store, to);
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
  return { candles: storedCandles(header, header.subscription, last + 1), informative };
}

/** Open time of the last candle of `timeframe` closed by `closes` (UTC epoch ms). */
function closedBefore(timeframe: string, closes: number): number {
  const grid = timeframeGrid(timeframe);
  return grid.previousOpen(grid.bucketStart(closes));
}

interface ReplayInput {
  readonly candles: CandleBatch;
  readonly informative: InformativeCandles;
}

/** The replay's signals and its frame columns (OHLCV, indicators, informative columns) over every candle. */
interface Replayed {
  readonly signals: readonly SignalRecord[];
  readonly columns: FrameColumns;
}

async function replaySignals(loaded: LoadedStrategy, header: RunHeader, input: ReplayInput): Promise<Replayed> {
  const engine = new Engine({
    strategy: loaded.strategy,
    broker: new PaperBroker(brokerConfig()),
    file: loaded.file,
    subscription: header.subscription,
    informative: loaded.subscriptions.slice(1),
  });
  const columns = await engine.replay(input.candles, { informative: input.informative });
  return { signals: engine.signals, columns };
}

/** Candles the live run acted on whose stored values differ now. */
function revisedCandles(journal: JournalContents, candles: CandleBatch): RevisedCandle[] {
  const index = rowIndex(candles);
  const revised: RevisedCandle[] = [];
  for (const seen of journal.candles) {
    const i = index.get(seen.openTime);
    if (i === undefined) continue;
    const { source: _source, receivedAt: _receivedAt, ...after } = candleAt(candles, i);
    const before: Candle = { openTime: seen.openTime, open: seen.open, high: seen.high, low: seen.low, close: seen.close, volume: seen.volume };
    if (!sameCandle(before, after)) revised.push({ openTime: seen.openTime, before, after });
  }
  return revised;
}

function explainer(
  loaded: LoadedStrategy,
  header: RunHeader,
  journal: JournalContents,
  input: ReplayInput,
  revisions: readonly RevisedCandle[],
  fullColumns: FrameColumns,
): (comparison: SignalComparison) => Promise<MismatchCause> {
  const { candles } = input;
  const seen = new Set(journal.candles.map((c) => c.openTime));
  const firstSeen = journal.candles[0]?.openTime ?? Number.POSITIVE_INFINITY;
  const index = rowIndex(candles);
  return async ({ openTime, live }) => {
    const revision = revisions.filter((r) => r.openTime <= openTime).at(-1);
    if (revision !== undefined) return { kind: 'revision', candle: revision };
    if (header.mode === 'live') {
      for (const t of candles.openTime) {
        if (t >= firstSeen && t <= openTime && !seen.has(t)) return { kind: 'missing', openTime: t };
      }
    }
    const replayOrigin = candles.openTime[0]!;
    if (replayOrigin !== header.origin.firstCandle) return { kind: 'origin', live: header.origin.firstCandle, replay: replayOrigin };
    const row = index.get(openTime);
    if (row !== undefined) {
      const truncated = await replaySignals(loaded, header, { candles: sliceBatch(candles, 0, row + 1), informative: input.informative });
      const atCandle = truncated.signals.find((s) => s.openTime === openTime)?.signal ?? null;
      if (sameOrBothNull(atCandle, live)) {
        return { kind: 'lookahead', column: firstDifferingColumn(fullColumns, truncated.columns, row) };
      }
    }
    return { kind: 'unexplained' };
  };
}

/** The first frame column whose value at `row` differs between the full replay and one truncated after `row`. */
function firstDifferingColumn(full: FrameColumns, truncated: FrameColumns, row: number): string | null {
  return Object.keys(full).find((name) => !Object.is(full[name]![row], truncated[name]?.[row])) ?? null;
}

function rowIndex(candles: CandleBatch): Map<number, number> {
  return new Map(Array.from(candles.openTime, (t, i) => [t, i]));
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
