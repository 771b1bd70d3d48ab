import type { Candle, CandleBatch } from '../core/candle';
import { describeSubscription, type Subscription } from '../core/subscription';
import { FrameworkError, LookaheadError, messageOf, StrategyRuntimeError } from '../core/errors';
import { lowerBound } from '../core/search';
import { timeframeGrid } from '../core/timeframe';
import { isoUtc } from '../core/time';
import type { AccountView } from '../strategy/account';
import type { BaseStrategy } from '../strategy/base-strategy';
import type { ColumnPool } from '../strategy/column-pool';
import { CANDLE_FRAME_COLUMNS, candleOf, Frame, type FrameColumns, type FrameCursor } from '../strategy/frame';
import { parseSignal, type Signal } from '../strategy/signal';
import type { SignalDecision } from '../broker/types';
import type { SignalRecord, StrategyIdentity } from '../report/run-summary';
import { SignalJournal } from '../report/signal-journal';
import { hashParameters } from '../strategy/parameters';
import { computeIndicatorColumns } from './indicators';
import { alignClosedCandles, computeInformativeColumns, mergeInformative } from './informative';
import { LiveIndicators, type WindowedColumns } from './live-indicators';
import { LiveReadProof } from './live-read-proof';

/**
 * Candles of the informative subscriptions, keyed by `describeSubscription` (`binance BTC/USDT 1h`): each processed
 * (ordered, unique), from the same origin in backtest and live.
 */
export type InformativeCandles = ReadonlyMap<string, CandleBatch>;

/** Options of {@link Engine.replay}. */
export interface ReplayOptions {
  /** Candles of every informative subscription of the strategy. */
  readonly informative?: InformativeCandles;
  /** Called every 10,000 candles with the number done. */
  readonly onProgress?: (done: number) => void;
  /**
   * Candles whose signal is not handed to the broker, by open time, with the decision's reason (e.g. the stale
   * candles of a live run, see `staleReason`): `onData` still runs on them, as it did live.
   */
  readonly held?: ReadonlyMap<number, string>;
  /**
   * The first row stepped (default 0): candles before it go neither to the broker nor to `onData`, as the warm-up of a
   * live run that started there; the indicators are still computed from the first candle (the origin).
   */
  readonly from?: number;
  /**
   * Whether to journal the signals (default true). An optimisation trial, which reads only the broker, passes false:
   * keeping 80,000 signals and decisions of a million-candle replay costs more than deciding them.
   */
  readonly journal?: boolean;
}

/**
 * What the engine needs from a broker: see every closed candle first (fills of pending orders at its open,
 * stop-loss/take-profit against its high/low, marking at its close), then show the strategy its account and receive
 * the signal decided on its close.
 */
export interface Broker {
  /** Processes one closed candle, in open-time order, before the strategy sees it (fills, triggers, marking). */
  onCandle(candle: Candle): void;
  /**
   * Hands over the signal the strategy decided on the close of `candle` (the candle last given to `onCandle`);
   * returns whether it became an order and, if not, why.
   */
  submit(signal: Signal, candle: Candle): SignalDecision;
  /** The read-only account view handed to `onData` (position, open orders, equity, cash after `onCandle`). */
  readonly account: AccountView;
  /** Optional capacity hint before a replay: `candles` more candles are coming. */
  reserve?(candles: number): void;
}

/** What an {@link Engine} runs: the strategy, where its signals go, and names for the journal and messages. */
export interface EngineOptions {
  readonly strategy: BaseStrategy;
  readonly broker: Broker;
  /** The strategy's plugin file, for error messages. */
  readonly file: string;
  /** The market the strategy trades (its first subscription). */
  readonly subscription: Subscription;
  /** The strategy's other subscriptions, whose closed candles its frame shows (see `populateInformative`). */
  readonly informative?: readonly Subscription[];
  /**
   * Lends `populateColumns` the columns of {@link Engine.frameColumns} (see {@link ColumnPool}): an optimisation
   * trial's pool, whose columns nothing reads once the trial is over. Default none: new arrays.
   */
  readonly columnPool?: ColumnPool;
}

/**
 * The one engine for backtest and live. It knows nothing of where candles come from: the replay hands it the whole
 * history at once ({@link Engine.replay}), the live feed hands it the history grown by one closed candle at a time
 * ({@link Engine.onClosedCandle}). In both, each closed candle goes broker-first, then `onData`, then the signal to the
 * broker, and indicators are computed by `populateIndicators` over the history from the same first candle (origin).
 */
export class Engine {
  readonly #journal: SignalJournal;
  readonly #strategy: BaseStrategy;
  readonly #broker: Broker;
  readonly #file: string;
  readonly #subscription: Subscription;
  readonly #identity: StrategyIdentity;
  readonly #cursor: FrameCursor = { columns: {}, index: 0, offset: 0 };
  readonly #frame = new Frame(this.#cursor);
  readonly #informative: readonly Subscription[];
  readonly #live: LiveIndicators;
  readonly #liveInformative: ReadonlyMap<string, LiveIndicators>;
  readonly #columnPool: ColumnPool | undefined;

  constructor(options: EngineOptions) {
    this.#strategy = options.strategy;
    this.#broker = options.broker;
    this.#file = options.file;
    this.#subscription = options.subscription;
    const parameters = { ...options.strategy.params };
    this.#identity = { name: options.strategy.name, parameters, parametersHash: hashParameters(parameters) };
    this.#journal = new SignalJournal({ strategy: this.#identity, subscription: this.#subscription });
    this.#informative = options.informative ?? [];
    this.#columnPool = options.columnPool;
    this.#live = new LiveIndicators((candles) => computeIndicatorColumns(options.strategy, candles, options.file), {
      verifyRows: Math.max(64, options.strategy.warmup),
    });
    this.#liveInformative = new Map(
      this.#informative.map((s) => [
        describeSubscription(s),
        new LiveIndicators((candles) => computeInformativeColumns(options.strategy, s, candles, options.file)),
      ]),
    );
  }

  /**
   * Backtest: computes the indicators once over `history` (and each informative subscription's candles), then steps
   * through every candle in order.
   *
   * @param history - processed candles (validated, ordered, unique), oldest first; row 0 is the origin.
   * @returns the frame columns of the whole run (OHLCV, indicators, informative columns).
   * @throws {@link "core/errors"!StrategyRuntimeError | StrategyRuntimeError} naming the file and candle when a
   *   strategy method throws or a signal is malformed; {@link LookaheadError} when `onData` reads a later candle;
   *   FrameworkError when informative candles are missing.
   */
  async replay(history: CandleBatch, options: ReplayOptions = {}): Promise<FrameColumns> {
    const { onProgress } = options;
    const columns = await this.frameColumns(history, options.informative);
    const n = history.openTime.length;
    const { held } = options;
    this.#broker.reserve?.(n);
    const journal = options.journal === false ? null : this.#journal.replay(history, columns);
    this.#stepAll(history, columns, options.from ?? 0, held, journal, onProgress);
    return columns;
  }

  /**
   * The replay's loop over rows `from … n − 1` (a synchronous method apart from the async `replay`, so that V8
   * optimises the loop itself rather than only what it calls).
   */
  #stepAll(
    history: CandleBatch,
    columns: FrameColumns,
    from: number,
    held: ReadonlyMap<number, string> | undefined,
    journal: ((row: number, signal: Signal, decision: SignalDecision) => void) | null,
    onProgress: ((done: number) => void) | undefined,
  ): void {
    const n = history.openTime.length;
    for (let i = from; i < n; i++) {
      // One object per candle, for the broker, onData and the signal: short-lived, so cheap to collect. (Made once and
      // kept for every trial instead, they made each full collection mark seven heap objects per candle: 0.1-0.8 s
      // per collection over a million candles, about one per trial; see the strategy guide.)
      const candle = candleOf(columns, i);
      // Candle i through the broker and onData; a signal goes to the broker after the warm-up, unless held.
      const signal = this.#decideAt(columns, candle, i, 0, null);
      if (signal !== null) {
        const decision = this.#submit(signal, candle, i, held?.get(history.openTime[i]!) ?? null);
        if (journal !== null) journal(i, signal, decision);
      }
      if (onProgress !== undefined && i % 10_000 === 9_999) onProgress(i + 1);
    }
  }

  /**
   * Every frame column over the whole of `history`, computed as a replay does (vectorised, from the first candle):
   * OHLCV, `open_time`, the strategy's indicators and the informative subscriptions' columns. No `onData` calls.
   *
   * @throws {@link "core/errors"!StrategyRuntimeError | StrategyRuntimeError} when
   *   `populateIndicators`/`populateInformative` fails; FrameworkError when informative candles are missing.
   */
  async frameColumns(history: CandleBatch, informative?: InformativeCandles): Promise<FrameColumns> {
    // A new object on every call, added to in place: a copy (a spread) had a map of its own, made again in every
    // trial once the original's map had been collected, and V8 then discarded the code that read the columns (the
    // candle, the frame's reads, onData) and compiled it again in every trial.
    const columns = await computeIndicatorColumns(this.#strategy, history, this.#file, this.#columnPool);
    for (const s of this.#informative) {
      const candles = this.#informativeCandles(informative, s);
      const computed = await computeInformativeColumns(this.#strategy, s, candles, this.#file);
      Object.assign(columns, mergeInformative(this.#subscription, history.openTime, s, computed));
    }
    return columns;
  }

  /**
   * Live: `history` (from the same origin as the replay) ends with a candle that has just closed; computes the
   * indicators over the newest candles the {@link LiveIndicators} window proves sufficient (bit-for-bit equal to the
   * whole history) and steps that last candle.
   *
   * The frame never serves `onData` a value that differs from the replay's: reads of proven rows are served; reads of
   * older rows of the window are checked against the whole-history computation before the signal is acted on; reads
   * before the window are refused (see {@link LiveReadProof}). The proof then extends to the deepest read so far
   * (from the first live candle, which gets the whole-history computation itself; and from the strategy's `warmup`).
   *
   * @param held - the reason not to hand this candle's signal to the broker (e.g. stale, see `staleReason`), or
   *   null; `onData` runs either way and the signal is journaled with `acted: false` and this reason.
   * @returns the journaled signal of this candle, or null.
   * @throws {@link "core/errors"!StrategyRuntimeError | StrategyRuntimeError} naming the file and candle when a
   *   strategy method throws or a signal is malformed; {@link LookaheadError} when `onData` reads a later candle;
   *   FrameworkError when informative candles are missing, or when `onData` read a value the live window cannot prove
   *   equal to the replay's (naming the column and how far back is proven).
   */
  async onClosedCandle(history: CandleBatch, informative?: InformativeCandles, held: string | null = null): Promise<SignalRecord | null> {
    const windowed = await this.#live.compute(history);
    const { offset } = windowed;
    const columns = { ...windowed.columns };
    const tradedOpenTime = columns['open_time']!;
    const rows = tradedOpenTime.length;
    const provenFrom = new Map<string, number>();
    const tradedFrom = Math.max(0, rows - windowed.provenRows);
    for (const name of Object.keys(columns)) {
      if (!(CANDLE_FRAME_COLUMNS as readonly string[]).includes(name)) provenFrom.set(name, tradedFrom);
    }
    for (const s of this.#informative) {
      const candles = this.#informativeCandles(informative, s);
      const grid = timeframeGrid(s.timeframe);
      const needed = informativeRowsSince(candles.openTime, grid.previousOpen(grid.bucketStart(tradedOpenTime[0]!)));
      const part = await this.#liveInformative.get(describeSubscription(s))!.compute(candles, needed);
      const merged = mergeInformative(this.#subscription, tradedOpenTime, s, part.columns);
      Object.assign(columns, merged);
      const from = informativeProvenFrom(this.#subscription, tradedOpenTime, s, part);
      for (const name of Object.keys(merged)) provenFrom.set(name, from);
    }
    const row = rows - 1;
    const proof = new LiveReadProof({ index: row, offset, provenFrom, openTime: tradedOpenTime[row]! });
    const candle = candleOf(columns, row);
    const signal = this.#decideAt(columns, candle, row, offset, proof);
    if (proof.needsVerifying) {
      const mismatch = proof.verify(columns, await this.frameColumns(history, informative));
      if (mismatch !== null) throw new FrameworkError(`${this.#file}: ${proof.describe(mismatch)}`);
    }
    this.#extendProof(history, informative, proof.deepest);
    if (signal === null) return null;
    const decision = this.#submit(signal, candle, offset + row, held);
    return this.#journal.record(history, offset + row, columns, row, signal, decision);
  }

  /**
   * Every signal returned by `onData`, in order, as journal records: `indicators` holds every frame column at the
   * signal's candle. Made from {@link Engine.journal} when first asked for.
   */
  get signals(): readonly SignalRecord[] {
    return this.#journal.records();
  }

  /** The signal journal: every signal with the broker's decision, kept compactly (see `SignalJournal`). */
  get journal(): SignalJournal {
    return this.#journal;
  }

  /** The strategy's name, parameters and their hash, as journaled with every signal. */
  get identity(): StrategyIdentity {
    return this.#identity;
  }

  /** The live indicator window in candles (`Infinity`: whole history; 0 before the first live candle). */
  get liveWindow(): number {
    return this.#live.window;
  }

  #informativeCandles(informative: InformativeCandles | undefined, s: Subscription): CandleBatch {
    const candles = informative?.get(describeSubscription(s));
    if (candles === undefined) {
      throw new FrameworkError(`${this.#file}: no candles were given for its informative subscription ${describeSubscription(s)}`);
    }
    return candles;
  }

  /**
   * `candle`, row `i` of `columns`, through the broker, then `onData` with the frame on it (live: reads checked by
   * `proof`).
   */
  #decideAt(columns: FrameColumns, candle: Candle, i: number, offset: number, proof: LiveReadProof | null): Signal | null {
    this.#broker.onCandle(candle);
    this.#cursor.columns = columns;
    this.#cursor.index = i;
    this.#cursor.offset = offset;
    this.#cursor.proof = proof;
    return this.#decide(candle);
  }

  /**
   * Hands `signal` (decided on `candle`, candle `index` of the run's history) to the broker, or refuses it during the
   * warm-up or when `held` gives a reason (a stale candle).
   */
  #submit(signal: Signal, candle: Candle, index: number, held: string | null): SignalDecision {
    if (index < this.#strategy.warmup) return { acted: false, reason: `warm-up: candle ${index} of ${this.#strategy.warmup}` };
    if (held !== null) return { acted: false, reason: held };
    return this.#broker.submit(signal, candle);
  }

  /**
   * Extends what the live indicators prove to the deepest read of this candle (`deepest` candles back): from the next
   * candle on, every column is proven that far back (informative ones over the informative candles closed since).
   */
  #extendProof(history: CandleBatch, informative: InformativeCandles | undefined, deepest: number): void {
    this.#live.prove(deepest + 1);
    const n = history.openTime.length;
    const reachedOpenTime = history.openTime[Math.max(0, n - 1 - deepest)]!;
    for (const s of this.#informative) {
      const candles = this.#informativeCandles(informative, s);
      const grid = timeframeGrid(s.timeframe);
      const rows = informativeRowsSince(candles.openTime, grid.previousOpen(grid.bucketStart(reachedOpenTime)));
      this.#liveInformative.get(describeSubscription(s))!.prove(rows);
    }
  }

  #decide(candle: Candle): Signal | null {
    let returned: unknown;
    try {
      returned = this.#strategy.onData(candle, this.#frame, this.#broker.account);
    } catch (error) {
      const where = this.#where(candle);
      if (error instanceof LookaheadError) throw new LookaheadError(`${where}: ${error.message}`, { cause: error });
      throw new StrategyRuntimeError(`${where} threw: ${messageOf(error)}`, { cause: error });
    }
    if (returned === undefined || returned === null) return null;
    try {
      return parseSignal(returned);
    } catch (error) {
      throw new StrategyRuntimeError(`${this.#where(candle)} returned a ${messageOf(error)}`, { cause: error });
    }
  }

  /** Names the strategy call for messages; built only on failure (formatting a time per candle costs more than a step). */
  #where(candle: Candle): string {
    return `${this.#file}: onData at candle ${isoUtc(candle.openTime)}`;
  }
}

/**
 * The first row of the traded window whose informative columns (merged from `part`) are proven equal to the whole
 * history's: the first whose latest closed informative candle is among the part's proven rows.
 */
function informativeProvenFrom(traded: Subscription, tradedOpenTime: Float64Array, s: Subscription, part: WindowedColumns): number {
  if (part.offset === 0) return 0;
  const informativeOpenTime = part.columns['open_time']!;
  const firstProven = Math.max(0, informativeOpenTime.length - part.provenRows);
  const aligned = alignClosedCandles(tradedOpenTime, traded.timeframe, informativeOpenTime, s.timeframe);
  return lowerBound(aligned, firstProven);
}

/** How many of the newest rows of `openTime` (ascending) have an open time ≥ `from`, plus one before it. */
function informativeRowsSince(openTime: Float64Array, from: number): number {
  return Math.min(openTime.length, openTime.length - lowerBound(openTime, from) + 1);
}
