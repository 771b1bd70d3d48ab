/**
 * Lookahead analysis: does a strategy's backtest use candles it could not have seen live?
 *
 * @module
 */
import { DEFAULT_BROKER_CONFIG } from '../broker/broker-config';
import { PaperBroker } from '../broker/paper-broker';
import { batchLength, sliceBatch, type CandleBatch } from '../core/candle';
import { FrameworkError } from '../core/errors';
import type { Subscription } from '../core/subscription';
import { Engine, type InformativeCandles } from '../engine/engine';
import { nextOpenTime } from '../core/timeframe';
import { lowerBound } from '../core/search';
import type { SignalJournal } from '../report/signal-journal';
import type { BaseStrategy } from '../strategy/base-strategy';
import { freshStrategy } from '../strategy/fresh';
import type { FrameColumns } from '../strategy/frame';
import type { Signal } from '../strategy/signal';
import { indicatorNames } from './columns';
import { evenlySpaced } from './sampling';

/** How many truncated histories {@link analyseLookahead} replays. */
export interface LookaheadOptions {
  /** Cut points spread evenly from the candle at index `warmup` to the second-to-last candle. Default 20; ≥ 1. */
  readonly cuts?: number;
  /**
   * Further cut points on the candles where the full replay returned a signal, at most this many, chosen evenly among
   * those candles (all of them when there are fewer). Default 10; ≥ 0.
   */
  readonly signalCuts?: number;
  /**
   * Candles of the strategy's informative subscriptions (whole history); each truncated replay sees only the informative
   * candles that had closed by the cut candle's close.
   */
  readonly informative?: InformativeCandles;
}

/** Where an indicator column first differs: its value at `openTime` in the full replay and in a truncated one. */
export interface ValueDifference {
  /** Open time (UTC epoch ms) of the earliest candle whose value differs. */
  readonly openTime: number;
  /** The value computed over the whole history. */
  readonly full: number;
  /** The value computed over the history truncated at `cutOpenTime`. */
  readonly truncated: number;
  /** Open time (UTC epoch ms) of the last candle of the truncated history that showed the difference. */
  readonly cutOpenTime: number;
}

/** The verdict on one indicator column; `firstDifference` is present when `biased`. */
export interface LookaheadColumn {
  readonly name: string;
  readonly biased: boolean;
  readonly firstDifference?: ValueDifference;
}

/**
 * A candle whose signal differs between the full replay and a truncated one: `full` or `truncated` is `null` where that
 * replay returned no signal on the candle.
 */
export interface SignalDifference {
  /** Open time (UTC epoch ms) of the candle the signal was decided on. */
  readonly openTime: number;
  readonly full: Signal | null;
  readonly truncated: Signal | null;
  /** Open time (UTC epoch ms) of the last candle of the truncated history that showed the difference. */
  readonly cutOpenTime: number;
}

/**
 * The outcome of {@link analyseLookahead}.
 *
 * - `biased`: some indicator column or signal differs;
 * - `cuts`: open times (UTC epoch ms) of the last candle of each truncated history, ascending;
 * - `columns`: one verdict per indicator column of the full replay, in the order the strategy added them;
 * - `signals.checked`: how many signals of the full replay were decided again on a history ending at their own candle
 *   (the check that catches a lookahead of any depth); `signals.differing`: every candle, up to a cut, whose signal
 *   differs between the two replays, ascending by open time.
 */
export interface LookaheadResult {
  readonly biased: boolean;
  readonly cuts: readonly number[];
  readonly columns: readonly LookaheadColumn[];
  readonly signals: { readonly checked: number; readonly differing: readonly SignalDifference[] };
}

/**
 * Tests a strategy for lookahead bias, the approach of freqtrade's `lookahead-analysis`: replay the whole history once,
 * then replay histories truncated at a cut candle `t` (the candles from the same first candle up to and including `t`)
 * and compare. A value that depends only on the current and earlier candles is the same in both, bit for bit; one that
 * depends on later candles (a negative shift, a normalisation by the whole column's maximum, a centred window) differs
 * at or before the cut, because the later candles are missing from the truncated history.
 *
 * Every replay runs the real {@link Engine} with a {@link PaperBroker} on a fresh instance of the strategy's class
 * (same parameter values), so that state kept in the strategy between candles starts afresh as in a real run.
 * Cut points: `cuts` spread from the warm-up to the second-to-last candle, plus up to `signalCuts` candles where the
 * full replay returned a signal (freqtrade cuts at every entry and exit). For each cut, every indicator column is
 * compared on every candle up to the cut with `Object.is` (NaN equals NaN), and every signal up to the cut by its
 * fields. The first difference of a column is the earliest candle found over all cuts.
 *
 * Cost: one replay of the whole history plus one per cut point, each over the candles up to the cut.
 *
 * @param strategy - the loaded strategy (its class must construct with no arguments, as the loader requires).
 * @param file - the strategy's plugin file, for messages.
 * @param candles - the processed candles of its first subscription, oldest first.
 * @throws FrameworkError when there are fewer than 2 candles or an option is not a whole number in range;
 *   {@link "core/errors"!StrategyRuntimeError | StrategyRuntimeError} /
 *   {@link "core/errors"!LookaheadError | LookaheadError} from the engine when a strategy method fails or `onData`
 *   reads a later candle.
 */
export async function analyseLookahead(
  strategy: BaseStrategy,
  file: string,
  candles: CandleBatch,
  options: LookaheadOptions = {},
): Promise<LookaheadResult> {
  const n = batchLength(candles);
  if (n < 2) throw new FrameworkError(`${file}: the lookahead analysis needs at least 2 candles, got ${n}`);
  const cutCount = wholeNumber(options.cuts ?? 20, 1, 'cuts');
  const signalCutCount = wholeNumber(options.signalCuts ?? 10, 0, 'signalCuts');
  const subscription = firstSubscription(strategy, file);
  const informative = options.informative ?? new Map<string, CandleBatch>();
  const full = await replay(strategy, file, subscription, candles, informative);
  const signalRows = signalRowsOf(candles, full.signals);
  const cuts = [
    ...new Set([
      ...evenlySpaced(Math.min(strategy.warmup, n - 2), n - 2, cutCount),
      ...evenlySpaced(0, signalRows.length - 1, signalCutCount).map((i) => signalRows[i]!),
    ]),
  ].sort((a, b) => a - b);
  return compareCuts(strategy, file, subscription, candles, informative, full, cuts);
}

/** Options of {@link sampledLookahead}. */
export interface SampledLookaheadOptions {
  /**
   * The most candles the truncated replays may cover together, as a fraction of the history. Default 0.2: the check
   * then costs at most about a fifth of the run's time (`npm run bench`, case `lookahead`).
   */
  readonly budget?: number;
  /** Candles of the strategy's informative subscriptions (whole history), as for {@link analyseLookahead}. */
  readonly informative?: InformativeCandles;
}

/**
 * The lookahead check a backtest runs by itself: {@link analyseLookahead}'s comparison, with the backtest's own replay
 * as the full one (no second full replay) and cut points sampled within a cost budget. Candidates are candles where
 * the full replay returned a signal (where a strategy reading later candles, e.g. through data kept from
 * `populateIndicators`, shows it: the first 5 and 10 spread over all of them) and 10 candles spread from the warm-up
 * to the second-to-last candle; the cheapest
 * (earliest) are taken while the candles they replay together stay within `budget` of the history, at least one.
 * Each truncated replay runs on a fresh instance of the strategy's class.
 *
 * @param full - the backtest's frame columns and signal records, over `candles` from their first candle.
 * @throws as {@link analyseLookahead}; FrameworkError when `budget` is not a fraction in (0, 1].
 */
export async function sampledLookahead(
  strategy: BaseStrategy,
  file: string,
  candles: CandleBatch,
  full: { readonly columns: FrameColumns; readonly signals: readonly SignalAt[] },
  options: SampledLookaheadOptions = {},
): Promise<LookaheadResult> {
  const n = batchLength(candles);
  if (n < 2) throw new FrameworkError(`${file}: the lookahead analysis needs at least 2 candles, got ${n}`);
  const budget = options.budget ?? 0.2;
  if (!(budget > 0 && budget <= 1)) throw new FrameworkError(`lookahead check: budget must be a fraction in (0, 1], got ${budget}`);
  const signalRows = signalRowsOf(candles, full.signals);
  const candidates = [
    ...new Set([
      ...signalRows.slice(0, 5),
      ...evenlySpaced(0, signalRows.length - 1, 10).map((i) => signalRows[i]!),
      ...evenlySpaced(Math.min(strategy.warmup, n - 2), n - 2, 10),
    ]),
  ].sort((a, b) => a - b);
  const cuts: number[] = [];
  let cost = 0;
  for (const row of candidates) {
    if (cuts.length > 0 && cost + row + 1 > budget * n) break;
    cuts.push(row);
    cost += row + 1;
  }
  const subscription = firstSubscription(strategy, file);
  return compareCuts(strategy, file, subscription, candles, options.informative ?? new Map(), full, cuts);
}

/** Rows of `candles` where a signal was decided, but the last one (a cut needs a later candle to leave out). */
function signalRowsOf(candles: CandleBatch, signals: readonly SignalAt[]): number[] {
  const n = batchLength(candles);
  return signals.map((s) => lowerBound(candles.openTime, s.openTime)).filter((row) => row < n - 1);
}

/** The signals of a journal, with their candles' open times (UTC epoch ms), in order. */
export function signalsOf(journal: SignalJournal): SignalAt[] {
  const { openTime, signals } = journal.columns();
  return signals.map((signal, k) => ({ openTime: openTime[k]!, signal }));
}

/** Replays the histories cut at `cuts` (rows, ascending) and compares each with the full replay. */
async function compareCuts(
  strategy: BaseStrategy,
  file: string,
  subscription: Subscription,
  candles: CandleBatch,
  informative: InformativeCandles,
  full: Replayed,
  cuts: readonly number[],
): Promise<LookaheadResult> {
  const names = indicatorNames(full.columns);
  const fullSignals = new Map(full.signals.map((s) => [s.openTime, s.signal]));
  const firstDifference = new Map<string, ValueDifference>();
  const differing = new Map<number, SignalDifference>();
  let checked = 0;
  for (const cut of cuts) {
    const cutOpenTime = candles.openTime[cut]!;
    const cutCloses = nextOpenTime(cutOpenTime, subscription.timeframe);
    const truncated = await replay(strategy, file, subscription, sliceBatch(candles, 0, cut + 1), closedBy(informative, cutCloses));
    for (const name of names) {
      const row = firstDifferentRow(full.columns[name]!, truncated.columns[name], cut + 1);
      const known = firstDifference.get(name);
      if (row === -1 || (known !== undefined && known.openTime <= candles.openTime[row]!)) continue;
      firstDifference.set(name, {
        openTime: candles.openTime[row]!,
        full: full.columns[name]![row]!,
        truncated: truncated.columns[name]?.[row] ?? Number.NaN,
        cutOpenTime,
      });
    }
    for (const difference of signalDifferences(full.signals, fullSignals, truncated.signals, cutOpenTime)) {
      if (!differing.has(difference.openTime)) differing.set(difference.openTime, difference);
    }
    if (fullSignals.has(cutOpenTime)) checked += 1;
  }

  const columns = names.map((name): LookaheadColumn => {
    const difference = firstDifference.get(name);
    return difference === undefined ? { name, biased: false } : { name, biased: true, firstDifference: difference };
  });
  return {
    biased: firstDifference.size > 0 || differing.size > 0,
    cuts: cuts.map((row) => candles.openTime[row]!),
    columns,
    signals: { checked, differing: [...differing.values()].sort((a, b) => a.openTime - b.openTime) },
  };
}

/** A signal and the open time (UTC epoch ms) of the candle it was decided on. */
export interface SignalAt {
  readonly openTime: number;
  readonly signal: Signal;
}

interface Replayed {
  readonly columns: FrameColumns;
  readonly signals: readonly SignalAt[];
}

async function replay(
  strategy: BaseStrategy,
  file: string,
  subscription: Subscription,
  history: CandleBatch,
  informative: InformativeCandles,
): Promise<Replayed> {
  const strategyInstance = freshStrategy(strategy);
  const engine = new Engine({
    strategy: strategyInstance,
    broker: new PaperBroker(DEFAULT_BROKER_CONFIG),
    file,
    subscription,
    informative: strategyInstance.getRequiredSubscriptions().slice(1),
  });
  const columns = await engine.replay(history, { informative });
  return { columns, signals: signalsOf(engine.journal) };
}

/** Each informative series cut to the candles that had closed by `closes` (UTC epoch ms). */
function closedBy(informative: InformativeCandles, closes: number): InformativeCandles {
  return new Map(
    [...informative].map(([key, candles]) => {
      const timeframe = key.split(' ').at(-1)!;
      let rows = 0;
      while (rows < candles.openTime.length && nextOpenTime(candles.openTime[rows]!, timeframe) <= closes) rows++;
      return [key, sliceBatch(candles, 0, rows)];
    }),
  );
}

function firstSubscription(strategy: BaseStrategy, file: string): Subscription {
  const subscription = strategy.getRequiredSubscriptions()[0];
  if (subscription === undefined) throw new FrameworkError(`${file}: getRequiredSubscriptions() returned no subscription`);
  return subscription;
}

/** The first row `< rows` where the columns differ (a missing truncated column counts as NaN), or -1. */
function firstDifferentRow(full: Float64Array, truncated: Float64Array | undefined, rows: number): number {
  for (let i = 0; i < rows; i++) {
    if (!Object.is(full[i], truncated === undefined ? Number.NaN : truncated[i])) return i;
  }
  return -1;
}

/** Candles up to the cut whose signal differs between the full replay and the truncated one. */
function signalDifferences(
  fullRecords: readonly SignalAt[],
  fullSignals: ReadonlyMap<number, Signal>,
  truncatedRecords: readonly SignalAt[],
  cutOpenTime: number,
): SignalDifference[] {
  const truncatedSignals = new Map(truncatedRecords.map((s) => [s.openTime, s.signal]));
  const out: SignalDifference[] = [];
  for (const { openTime, signal } of fullRecords) {
    if (openTime > cutOpenTime) break;
    const other = truncatedSignals.get(openTime) ?? null;
    if (other === null || !sameSignal(signal, other)) out.push({ openTime, full: signal, truncated: other, cutOpenTime });
  }
  for (const { openTime, signal } of truncatedRecords) {
    if (!fullSignals.has(openTime)) out.push({ openTime, full: null, truncated: signal, cutOpenTime });
  }
  return out;
}

function sameSignal(a: Signal, b: Signal): boolean {
  return (
    a.action === b.action &&
    JSON.stringify(a.size) === JSON.stringify(b.size) &&
    Object.is(a.stopLoss, b.stopLoss) &&
    Object.is(a.takeProfit, b.takeProfit) &&
    a.tag === b.tag
  );
}

function wholeNumber(value: number, min: number, name: string): number {
  if (!Number.isInteger(value) || value < min) {
    throw new FrameworkError(`lookahead analysis: ${name} must be a whole number ≥ ${min}, got ${value}`);
  }
  return value;
}
