/**
 * Helpers for the live-feed tests: real candles (the shipped datasets), a real simulator on loopback, a real ccxt.pro
 * exchange, a logger that keeps its lines, and an independent check of what a feed emitted against the dataset.
 */
import { Writable } from 'node:stream';
import path from 'node:path';
import { pino } from 'pino';
import type { CandleBatch, StoredCandle } from '../../framework/core/candle';
import type { Logger } from '../../framework/core/logger';
import { lowerBound } from '../../framework/core/search';
import type { Subscription } from '../../framework/core/subscription';
import { createExchange } from '../../framework/feeds/live/exchange';
import { LiveFeed, type LiveFeedOptions, type LiveFeedStatus } from '../../framework/feeds/live/live-feed';
import type { BinanceKlineTap } from '../../framework/feeds/live/binance-tap';
import type { FaultConfig } from '../../framework/sim/config';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';
import { readDataset } from '../../framework/store/partitions';

export const DATASETS = path.resolve(import.meta.dirname, '../../datasets');
export const BTC_5M: Subscription = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '5m' };
export const TF_5M = 300_000;
/** 2021-02-10 00:00 UTC: the 1,000 candles after it include the exchange's real 15-candle gap of 2021-02-11 03:45. */
export const START = Date.UTC(2021, 1, 10);
/** Exchange ms per real ms: a 5m candle every 3 ms. */
export const SPEED = 100_000;

const datasets = new Map<string, CandleBatch>();

/** The shipped dataset of a subscription (cached; do not mutate). */
export function dataset(subscription: Subscription = BTC_5M): CandleBatch {
  const key = `${subscription.symbol} ${subscription.timeframe}`;
  let batch = datasets.get(key);
  if (batch === undefined) {
    batch = readDataset(DATASETS, subscription);
    datasets.set(key, batch);
  }
  return batch;
}

/** A pino logger that keeps every line it writes, parsed. */
export function memoryLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug', base: null }, sink), lines };
}

/**
 * Resolves once `condition()` holds, polling every 10 ms; rejects naming `what` after `limitMs` without progress:
 * while `progress()` (e.g. the candles emitted so far) keeps growing the wait goes on, however slow the machine.
 */
export async function waitFor(condition: () => boolean, what: string, limitMs = 30_000, progress: () => number = () => 0): Promise<void> {
  let deadline = Date.now() + limitMs;
  let last = progress();
  while (!condition()) {
    const now = progress();
    if (now > last) {
      last = now;
      deadline = Date.now() + limitMs;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (no progress for ${limitMs} ms)`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** What {@link runFeed} observed. */
export interface FeedRun {
  readonly emitted: StoredCandle[];
  readonly status: LiveFeedStatus;
  readonly sim: Simulator;
  readonly feed: LiveFeed;
  readonly lines: Record<string, unknown>[];
  /** Most WebSocket connections the simulator had open at once while candles were delivered. */
  readonly maxOpenConnections: number;
  /** Open connections on the simulator once the feed had stopped and its close completed (0 = no zombie). */
  readonly openAfterStop: number;
}

/** Options of {@link runFeed}. */
export interface RunOptions {
  readonly faults?: FaultConfig;
  readonly lastStoredOpenTime: number;
  /** Stop once this many candles have been emitted. */
  readonly candles: number;
  readonly feed?: Partial<LiveFeedOptions>;
  readonly seed?: number;
  /**
   * Drive the exchange clock by what the feed has done instead of wall time (see {@link driveClock}): the simulator's
   * clock is manual and the feed's runs at rate 1 between re-syncs.
   */
  readonly lockstep?: boolean;
  /**
   * Run on after `candles` candles until this holds too (polled with what the simulator and the feed did so far): for a
   * test that needs its faults to have fired, however the stream and REST shared the candles on this machine.
   */
  readonly until?: (sim: Simulator, emitted: readonly StoredCandle[]) => boolean;
  /**
   * In lockstep, once the clock has stopped (no frame is delivered any more), wait until this holds before stopping
   * the feed: for a test that counts what the feed did about the last frames the simulator sent (a connection the
   * simulator dropped is replaced once the feed has read the reset, which may come after the last candle it needed).
   */
  readonly settled?: (sim: Simulator, status: LiveFeedStatus) => boolean;
}

/**
 * Plays the BTC/USDT 5m dataset from {@link START} on a simulator at {@link SPEED} with `faults`, runs a live feed on it
 * through real ccxt until `candles` candles have been emitted, stops everything and returns what happened.
 */
export async function runFeed(options: RunOptions): Promise<FeedRun> {
  const sim = await startSimulator({
    markets: [{ symbol: BTC_5M.symbol, timeframe: BTC_5M.timeframe, candles: dataset() }],
    startTime: START,
    speed: options.lockstep === true ? 0 : SPEED,
    ...(options.faults !== undefined && { faults: options.faults }),
    seed: options.seed ?? 7,
  });
  const exchange: BinanceKlineTap = createExchange('binance', { urls: sim });
  const { logger, lines } = memoryLogger();
  const emitted: StoredCandle[] = [];
  let maxOpenConnections = 0;
  const feed = new LiveFeed({
    exchange,
    subscription: BTC_5M,
    lastStoredOpenTime: options.lastStoredOpenTime,
    onCandle: (candle) => {
      emitted.push(candle);
      maxOpenConnections = Math.max(maxOpenConnections, sim.stats.wsOpenConnections);
    },
    logger,
    clockRate: options.lockstep === true ? 1 : SPEED,
    // Eight candles, but at least 250 ms of real time, as runLive allows on the simulator: at SPEED eight candles are
    // 24 ms, which a loaded machine's event loop (the simulator's and the feed's) pauses for, and every pause would
    // replace a live connection.
    silenceTimeoutMs: Math.max(8 * TF_5M, 250 * (options.lockstep === true ? 1 : SPEED)),
    monitorIntervalMs: 100,
    clockResyncIntervalMs: 1_000,
    backoff: { baseMs: 5, maxMs: 100 },
    ...options.feed,
  });
  let driving = true;
  const driver = options.lockstep === true ? driveClock(sim, emitted, () => driving) : Promise.resolve();
  try {
    await feed.start();
    const enough = (): boolean => emitted.length >= options.candles && (options.until?.(sim, emitted) ?? true);
    // A guard against a feed that stopped emitting, not a speed limit: at load 30 the lockstep seam's 3,000 candles
    // took over 30 s.
    await waitFor(() => enough() || feed.status().state === 'failed', `${options.candles} candles`, 30_000, () => emitted.length);
    driving = false;
    await driver;
    if (options.settled !== undefined) {
      await waitFor(() => options.settled!(sim, feed.status()) || feed.status().state === 'failed', 'the feed to settle');
    }
    await feed.stop();
    await feed.finished;
    const status = feed.status();
    await waitFor(() => sim.stats.wsOpenConnections === 0, 'the simulator to see the connection closed', 5_000).catch(() => undefined);
    return { emitted, status, sim, feed, lines, maxOpenConnections, openAfterStop: sim.stats.wsOpenConnections };
  } finally {
    driving = false;
    await driver;
    await feed.stop();
    await exchange.close();
    await sim.stop();
  }
}

/**
 * Moves a manual simulator clock one 5m candle at a time: a step once the feed has emitted every candle of the
 * dataset closed by then, or, while it is behind (the warm-up backfill), once it has emitted 50 more. The stream
 * delivers while the backfill runs, as at full speed, but the exchange never runs away from the feed, however slow
 * the machine. Polls every millisecond until `running()` is false.
 */
async function driveClock(sim: Simulator, emitted: readonly StoredCandle[], running: () => boolean): Promise<void> {
  const openTimes = dataset().openTime;
  let mark = 0;
  while (running()) {
    const candleNow = sim.clock() - (sim.clock() % TF_5M);
    // The dataset's latest candle closed by now (the exchange's own gaps have none).
    const index = lowerBound(openTimes, candleNow) - 1;
    const last = index < 0 ? Number.NEGATIVE_INFINITY : openTimes[index]!;
    if ((emitted.at(-1)?.openTime ?? Number.NEGATIVE_INFINITY) >= last || emitted.length >= mark + 50) {
      mark = emitted.length;
      sim.advanceTo(candleNow + TF_5M);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/**
 * Checks, independently of the feed's code, that `emitted` is exactly the dataset's candles after `lastStored`, in
 * order, each once, with the exchange's values: the dataset's, except the volume of a candle emitted from REST that the
 * simulator revised (its REST version). Returns a list of readable problems (empty when all is well).
 */
export function problemsAgainstDataset(
  emitted: readonly StoredCandle[],
  lastStored: number,
  revisedRestVolume: ReadonlyMap<number, number>,
  data: CandleBatch = dataset(),
): string[] {
  const problems: string[] = [];
  let i = data.openTime.findIndex((t) => t > lastStored);
  for (const [k, c] of emitted.entries()) {
    if (i < 0 || i >= data.openTime.length) {
      problems.push(`candle #${k} at ${c.openTime} is past the dataset`);
      break;
    }
    if (c.openTime !== data.openTime[i]) {
      problems.push(`candle #${k}: open time ${new Date(c.openTime).toISOString()}, expected ${new Date(data.openTime[i]!).toISOString()}`);
      break;
    }
    const volume = c.source === 'rest' ? (revisedRestVolume.get(c.openTime) ?? data.volume[i]) : data.volume[i];
    const expected = [data.open[i], data.high[i], data.low[i], data.close[i], volume];
    const got = [c.open, c.high, c.low, c.close, c.volume];
    if (got.some((v, j) => v !== expected[j])) {
      problems.push(`candle #${k} at ${new Date(c.openTime).toISOString()} (${c.source}): ${got.join(',')} != ${expected.join(',')}`);
    }
    i++;
  }
  return problems;
}
