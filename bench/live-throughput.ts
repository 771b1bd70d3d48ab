/**
 * Live pipeline throughput: closed-candle frames per second from the project's exchange simulator on loopback, through
 * ccxt.pro (one `LiveFeed` per symbol on one exchange instance, as `runLive` does), the candle pipeline
 * (closed-candle detection and validation) and the write-ahead log with fsync, for 1, 10 and 100 subscribed symbols.
 *
 * The simulator runs on a manual clock (speed 0) in this process and sends, per candle, one forming frame and the
 * closing frame (`"x": true`; `updatesPerCandle: 1`, the fewest it plays). The bench advances its clock a few candles at a time,
 * keeping a bounded number of candles in flight, so the figure is the rate the client side sustains. A candle
 * counts once its `LiveCandleStore.append` has resolved: written and fdatasynced (never before it is durable).
 *
 * @module
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sliceBatch, type CandleBatch } from '../framework/core/candle';
import type { Subscription } from '../framework/core/subscription';
import { timeframeToMs } from '../framework/core/timeframe';
import { createExchange } from '../framework/feeds/live/exchange';
import { LiveFeed } from '../framework/feeds/live/live-feed';
import { startSimulator } from '../framework/sim/simulator';
import { LiveCandleStore } from '../framework/store/live-store';
import { BENCH_ROOT } from './data';

/** How the feed hands candles on: as `runLive` does, or with appends pipelined (a design probe, see below). */
export type AckMode = 'await' | 'pipelined';

/** One throughput run. */
export interface ThroughputRun {
  readonly symbols: number;
  readonly mode: AckMode;
  /** Closed candles acknowledged (durable) during the timed span. */
  readonly candles: number;
  readonly seconds: number;
  readonly framesPerSecond: number;
  /** Candles the feeds had to read over REST instead (0 when the stream delivered everything). */
  readonly fromRest: number;
}

const HISTORY = 1_000;
const SCRATCH = join(BENCH_ROOT, 'scratch');

/**
 * Plays `candlesPerSymbol` closed candles of each of `symbols` markets (all the bench's 1m BTC/USDT candles, under the
 * names `B000/USDT`, `B001/USDT`, …) and measures how fast they become durable.
 *
 * - `await`: `onCandle` awaits the append, exactly as `runLive` does: the feed delivers the next candle of a symbol
 *   only once the previous one is durable, so one symbol gets at most one candle per fsync.
 * - `pipelined`: `onCandle` starts the append and returns; the candle is acknowledged (counted, and would be handed to
 *   the engine) when the append resolves, in order. The log's group commit then covers many candles per fsync. This is
 *   not what `runLive` does today; it measures what that change would give.
 */
export async function throughputRun(candles: CandleBatch, symbols: number, candlesPerSymbol: number, mode: AckMode): Promise<ThroughputRun> {
  const timeframe = '1m';
  const tf = timeframeToMs(timeframe);
  const played = sliceBatch(candles, 0, HISTORY + candlesPerSymbol + 10);
  const start = played.openTime[HISTORY]!;
  const names = Array.from({ length: symbols }, (_, i) => `B${String(i).padStart(3, '0')}/USDT`);
  const sim = await startSimulator({
    markets: names.map((symbol) => ({ symbol, timeframe, candles: played })),
    startTime: start,
    speed: 0,
    updatesPerCandle: 1,
  });
  const root = join(SCRATCH, `throughput-${symbols}-${mode}-${process.pid}-${Date.now()}`);
  mkdirSync(root, { recursive: true });
  const exchange = createExchange('binance', { urls: sim, enableRateLimit: false });
  const stores: LiveCandleStore[] = [];
  const feeds: LiveFeed[] = [];
  const target = symbols * candlesPerSymbol;
  const window = Math.max(8, Math.ceil(64 / symbols));
  let produced = 0;
  let acknowledged = 0;
  let failure: unknown;
  let timing = false;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const pump = (): void => {
    if (!timing) return;
    while (produced < target && produced - acknowledged < (window * symbols) / 2) {
      const steps = Math.min(window / 2, (target - produced) / symbols);
      sim.advanceTo(sim.clock() + steps * tf);
      produced += steps * symbols;
    }
  };
  const acknowledge = (): void => {
    acknowledged += 1;
    if (acknowledged >= target) done();
    else pump();
  };
  try {
    for (const symbol of names) {
      const subscription: Subscription = { exchange: 'sim', symbol, timeframe };
      const store = LiveCandleStore.open(root, subscription);
      stores.push(store);
      feeds.push(
        new LiveFeed({
          exchange,
          subscription: { ...subscription, exchange: 'binance' },
          lastStoredOpenTime: played.openTime[HISTORY - 1]!,
          // The manual clock does not run: keep the feed's own timers (REST audits, clock re-syncs, silence) out of it.
          clockRate: 1,
          monitorIntervalMs: 3_600_000,
          clockResyncIntervalMs: 3_600_000,
          silenceTimeoutMs: 3_600_000,
          onCandle: async (candle) => {
            if (!timing) return;
            if (mode === 'await') {
              await store.append(candle);
              acknowledge();
            } else {
              store.append(candle).then(acknowledge, (error: unknown) => {
                failure ??= error;
                done();
              });
            }
          },
        }),
      );
    }
    await Promise.all(feeds.map((f) => f.start()));
    await Promise.all(names.map((symbol) => sim.waitForSubscribers(symbol, timeframe)));
    timing = true;
    const t0 = performance.now();
    pump();
    await finished;
    const seconds = (performance.now() - t0) / 1000;
    if (failure !== undefined) throw failure;
    const fromRest = feeds.reduce((n, f) => n + f.status().fromRest, 0);
    return { symbols, mode, candles: acknowledged, seconds, framesPerSecond: acknowledged / seconds, fromRest };
  } finally {
    await Promise.all(feeds.map((f) => f.stop()));
    await exchange.close();
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    await sim.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
