/**
 * Close-to-signal latency of a live run: `runLive` of `strategies/macd.ts` against the project's simulator, playing the
 * bench's 15m dataset from its 100,001st candle (so the strategy starts with 100,000 candles of history).
 *
 * Measured per traded candle, from the arrival of its closing frame (`"x": true`) at the feed's kline tap (ccxt has
 * parsed the frame) to the completion of `Engine.onClosedCandle` (its signal, if any, decided and journaled by the
 * engine). In between: the closed-candle detector, the write-ahead log append with its fdatasync, the history, the
 * run journal, and the engine (indicators over the live window, `onData`, the broker). The instrumentation is two
 * timestamping wrappers installed for the run only, on `BinanceKlineTap.prototype.handleOHLCV` and
 * `Engine.prototype.onClosedCandle`; neither changes what they do.
 *
 * @module
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CandleBatch } from '../framework/core/candle';
import { Engine, type InformativeCandles } from '../framework/engine/engine';
import { runLive } from '../framework/node/live';
import { BinanceKlineTap } from '../framework/feeds/live/binance-tap';
import { readDataset } from '../framework/store/partitions';
import { BENCH_15M, BENCH_ROOT } from './data';

/** The strategy of this case, as shipped. */
export const MACD_15M = 'strategies/macd.ts';

/** Candles of history before the first live candle. */
export const LATENCY_HISTORY = 100_000;

/** One traded candle of a latency run. */
export interface LatencySample {
  readonly openTime: number;
  /** ms from the closing frame's arrival to `onClosedCandle`'s completion. */
  readonly closeToSignalMs: number;
  /** ms spent in `onClosedCandle` itself (indicators over the live window, `onData`, broker). */
  readonly engineMs: number;
  /** The live indicator window in candles when the candle was processed. */
  readonly window: number;
  /**
   * Whether the closing frame arrived while the previous candle was still being processed. The simulator's clock runs
   * thousands of times faster than real time, so a stall (the indicator window's calibration over the whole history,
   * at the first live candle and every 2,000 candles) leaves a backlog of candles that a real 15m market would never
   * produce; their latency is mostly waiting. They are kept in the samples but left out of the percentiles.
   */
  readonly queued: boolean;
}

/** One latency run. */
export interface LatencyRun {
  /** History length (candles) when the first traded candle was processed. */
  readonly history: number;
  readonly samples: readonly LatencySample[];
}

/**
 * Runs `strategies/macd.ts` live against the in-process simulator (at `speed` exchange ms per real ms) until `candles`
 * traded candles have been processed, and returns a sample per candle.
 */
export async function latencyRun(candles: number, speed: number): Promise<LatencyRun> {
  const dataset = readDataset(BENCH_ROOT, BENCH_15M);
  const start = startOf(dataset);
  const scratch = join(BENCH_ROOT, 'scratch', `latency-${process.pid}-${Date.now()}`);
  mkdirSync(scratch, { recursive: true });
  const arrivals = new Map<number, number>();
  const samples: LatencySample[] = [];
  let history = 0;
  let previousDone = Number.NEGATIVE_INFINITY;

  const tap = BinanceKlineTap.prototype;
  const handleOHLCV = Object.getOwnPropertyDescriptor(tap, 'handleOHLCV')!;
  const onClosedCandle = Object.getOwnPropertyDescriptor(Engine.prototype, 'onClosedCandle')!;
  const originalHandle = tap.handleOHLCV;
  const originalOnClosed = Engine.prototype.onClosedCandle;
  Object.defineProperty(tap, 'handleOHLCV', {
    ...handleOHLCV,
    value: function (this: BinanceKlineTap, ...args: Parameters<BinanceKlineTap['handleOHLCV']>) {
      const k = (args[1] as { k?: { t?: unknown; x?: unknown } }).k;
      if (k?.x === true && typeof k.t === 'number') arrivals.set(k.t, performance.now());
      return originalHandle.apply(this, args);
    },
  });
  Object.defineProperty(Engine.prototype, 'onClosedCandle', {
    ...onClosedCandle,
    value: async function (this: Engine, batch: CandleBatch, informative?: InformativeCandles) {
      const t0 = performance.now();
      const record = await originalOnClosed.call(this, batch, informative);
      const t1 = performance.now();
      const n = batch.openTime.length;
      const openTime = batch.openTime[n - 1]!;
      const arrived = arrivals.get(openTime);
      arrivals.delete(openTime);
      if (samples.length === 0) history = n;
      // A candle read over REST (its closing frame lost) has no arrival: it is not a close-to-signal sample.
      if (arrived !== undefined) {
        samples.push({ openTime, closeToSignalMs: t1 - arrived, engineMs: t1 - t0, window: this.liveWindow, queued: arrived < previousDone });
      }
      previousDone = t1;
      return record;
    },
  });
  try {
    await runLive({
      file: MACD_15M,
      datasetsRoot: BENCH_ROOT,
      storeRoot: join(scratch, 'store'),
      runsRoot: join(scratch, 'runs'),
      simulator: { start, speed },
      maxCandles: candles,
    });
  } finally {
    Object.defineProperty(tap, 'handleOHLCV', handleOHLCV);
    Object.defineProperty(Engine.prototype, 'onClosedCandle', onClosedCandle);
    rmSync(scratch, { recursive: true, force: true });
  }
  return { history, samples };
}

/** The simulator's start: the close of the 100,000th candle, so that 100,000 candles are history. */
function startOf(dataset: CandleBatch): number {
  return dataset.openTime[LATENCY_HISTORY]!;
}
