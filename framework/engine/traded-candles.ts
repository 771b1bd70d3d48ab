/**
 * How a live run acts on its traded candles, one at a time: the one loop shared by `npm run live`
 * ({@link "node/live"!runLive | runLive}, candles from its own feeds) and the trading node's workers (candles from the
 * bus). Only where the candles come from and what surrounds each one (reconciliation, real orders, a snapshot) differ;
 * the order of the steps on a candle is this module's.
 *
 * @module
 */
import { candleAt, sliceBatch, type StoredCandle } from '../core/candle';
import type { Logger } from '../core/logger';
import { describeSubscription, type Subscription } from '../core/subscription';
import { isoUtc } from '../core/time';
import type { TimeframeGrid } from '../core/timeframe';
import type { RunJournal } from '../report/journal';
import type { TradingJournal } from '../report/trading-journal';
import type { Engine } from './engine';
import type { CandleHistory } from './history';
import { informativeCandles, waitsForInformative } from './live-report';
import { staleReason } from './stale';

/** A traded candle queued to be acted on, with the exchange time (UTC epoch ms) it was durable and received at. */
export interface TradedCandle {
  readonly candle: StoredCandle;
  readonly arrivedAt: number;
}

/** One subscription of the run as the loop reads it: the traded one first, then the informative ones. */
export interface TradedMarket {
  readonly subscription: Subscription;
  readonly grid: TimeframeGrid;
  readonly history: CandleHistory;
}

/** What {@link tradedCandleDrain} acts with, and the hooks around each candle. */
export interface TradedCandleDrainOptions {
  readonly engine: Engine;
  /** The run's candle and signal journal (`candles.jsonl`, `signals.jsonl`). */
  readonly journal: RunJournal;
  /** The broker's journal (`trading.jsonl`): checkpointed after every candle. */
  readonly trading: TradingJournal;
  /** The traded subscription first, then the informative ones (read at each candle: a history may be replaced). */
  readonly markets: readonly TradedMarket[];
  /** Queued traded candles, oldest first; the loop takes them from the front. */
  readonly pending: TradedCandle[];
  /** The candles acted on, in order: the loop appends each one (the history's version) before the strategy runs. */
  readonly acted: StoredCandle[];
  /** The stale rule's limit in timeframes (see `staleReason`). */
  readonly staleAfter: number;
  /** Stop (through {@link stop}) after this many candles acted on. */
  readonly maxCandles?: number;
  /**
   * A continued run: the open time of the killed part's last candle. The first candle acted on journals a `RunResume`
   * record (`after` it, `first` this one) with its checkpoint, so that `npm run diff` attributes exactly the candles
   * between to the downtime. Null or absent for a new run.
   */
  readonly resumedAfter?: number | null;
  /** Whether the run still acts on candles (false once stopping). */
  readonly running: () => boolean;
  /** Stops the run (at {@link maxCandles}). */
  readonly stop: () => void;
  /** Before a candle is acted on (a reconciliation pending after a reconnect); the run may have stopped meanwhile. */
  readonly beforeCandle?: () => Promise<void>;
  /**
   * After the candle's checkpoint: with real orders, the candle's exchange orders sent and answered (write-ahead: once
   * the paper decisions behind them are durable); the status line, the node's snapshot.
   */
  readonly afterCandle?: () => Promise<void> | void;
  /** Prefixes the loop's log lines (a node worker's id). */
  readonly logPrefix?: string;
  readonly logger?: Logger;
}

/**
 * The drain of a live run: a function that acts on the queued traded candles whose informative candles have all
 * arrived, in order, until the queue is empty, a candle must wait, or the run stops. Each candle, in this order:
 *
 * 1. waits while an informative subscription has not delivered every candle that closed with it ({@link waitsForInformative});
 * 2. `beforeCandle`; nothing more once the run stopped;
 * 3. on a continued run's first candle, the resume record ({@link TradedCandleDrainOptions.resumedAfter});
 *    the history's version of the candle (a revision made durable while it waited has replaced it) is journaled in
 *    `candles.jsonl` with its `arrivedAt`, so that file lists exactly the candles acted on;
 * 4. the stale rule ({@link staleReason}): a stale candle's signal is held, not traded;
 * 5. counted in `acted`, then the engine computes the indicators and runs the strategy and broker on it;
 * 6. the signal journaled;
 * 7. the trading journal checkpointed (durable before the next candle), `afterCandle`, then the stop at `maxCandles`.
 *
 * Calls must not overlap: chain them (`draining = draining.then(drain)`).
 *
 * @throws what the strategy, the broker, the journals or a hook throws; the candle stays counted in `acted`.
 */
export function tradedCandleDrain(options: TradedCandleDrainOptions): () => Promise<void> {
  const { engine, journal, trading, markets, pending, acted, staleAfter, running, logger } = options;
  const prefix = options.logPrefix ?? '';
  let resumedAfter = options.resumedAfter ?? null;
  return async () => {
    while (running() && pending.length > 0) {
      const traded = markets[0]!;
      const { candle, arrivedAt } = pending[0]!;
      if (waitsForInformative(traded.grid, candle.openTime, markets.slice(1))) return;
      await options.beforeCandle?.();
      if (!running()) return;
      pending.shift();
      const row = traded.history.batch.openTime.lastIndexOf(candle.openTime);
      const version = candleAt(traded.history.batch, row);
      if (resumedAfter !== null) trading.resumed({ after: resumedAfter, first: candle.openTime });
      resumedAfter = null;
      journal.recordCandle({ ...version, arrivedAt }, null);
      const stale = staleReason(candle.openTime, traded.grid, arrivedAt, staleAfter);
      if (stale !== null) logger?.warn({ openTime: isoUtc(candle.openTime) }, `${prefix}${describeSubscription(traded.subscription)}: ${stale}; not traded`);
      // Counted before the engine runs: a strategy that throws has still had the candle (the broker has filled on it).
      acted.push(version);
      const record = await engine.onClosedCandle(sliceBatch(traded.history.batch, 0, row + 1), informativeCandles(markets), stale);
      if (record !== null) {
        journal.recordSignal({ ...record, arrivedAt });
        logger?.info({ openTime: isoUtc(record.openTime), signal: record.signal, acted: record.acted }, `${prefix}signal`);
      }
      trading.checkpoint(candle.openTime);
      await options.afterCandle?.();
      if (options.maxCandles !== undefined && acted.length >= options.maxCandles) options.stop();
    }
  };
}
