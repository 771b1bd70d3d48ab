/**
 * The exchange restarts with its clock behind the feed's estimate (the simulator stopped and started again on the same
 * port, three candles earlier): the feed must sync its clock again before it judges a REST answer by it, or it takes
 * the forming candle the exchange shows as closed (and emits it, or reports it as a revision of a closed one). Real
 * ccxt, the simulator on loopback, BTC/USDT 5m from the shipped dataset, no faults: every candle emitted is the
 * dataset's.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { StoredCandle } from '../../framework/core/candle';
import { createExchange } from '../../framework/feeds/live/exchange';
import { LiveFeed } from '../../framework/feeds/live/live-feed';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';
import { BTC_5M, dataset, memoryLogger, problemsAgainstDataset, START, TF_5M, waitFor } from './support';

/** A 5m candle every 300 ms of real time: the exchange shows each forming candle over REST for 300 ms. */
const SPEED = 1_000;
const LAST_STORED = START - 5 * TF_5M;
const markets = [{ symbol: BTC_5M.symbol, timeframe: BTC_5M.timeframe, candles: dataset() }];
const sims: Simulator[] = [];
afterAll(async () => {
  for (const sim of sims) await sim.stop();
});

describe('an exchange that restarts with its clock behind the feed', () => {
  it('emits only closed candles with their final values, and reports no revision', async () => {
    const first = await startSimulator({ markets, startTime: START, speed: SPEED });
    sims.push(first);
    const exchange = createExchange('binance', { urls: first });
    const { logger } = memoryLogger();
    const emitted: StoredCandle[] = [];
    const feed = new LiveFeed({
      exchange,
      subscription: BTC_5M,
      lastStoredOpenTime: LAST_STORED,
      onCandle: (candle) => void emitted.push(candle),
      logger,
      clockRate: SPEED,
      silenceTimeoutMs: 4 * TF_5M,
      monitorIntervalMs: 100,
      // No periodic re-sync during the test: only the re-sync after the lost connection can correct the clock.
      clockResyncIntervalMs: 3_600_000,
      backoff: { baseMs: 5, maxMs: 100 },
    });
    try {
      await feed.start();
      // The restart must cut a live connection: wait for a candle from the stream, not only for the REST backfill's
      // (on a loaded machine the first 25 to 45 candles came over REST).
      await waitFor(() => emitted.length >= 10 && emitted.some((c) => c.source === 'websocket'), '10 candles, one from the stream, before the restart');
      const at = first.clock();
      await first.stop();
      // Back three candles earlier: the feed's clock estimate is now 15 exchange minutes (1.5 s) ahead of the exchange.
      sims.push(await startSimulator({ port: first.port, markets, startTime: at - 3 * TF_5M, speed: SPEED }));
      // Counted from the restart, and until a candle came over the stream again (from the restarted exchange): on a
      // loaded machine the feed may have emitted 25 candles and more before the restart (it starts far behind the
      // exchange and catches up over REST), and a check on 25 in all ran before the feed had seen the connection cut.
      const beforeRestart = emitted.length;
      await waitFor(
        () => (emitted.length >= beforeRestart + 15 && emitted.slice(beforeRestart).some((c) => c.source === 'websocket')) || feed.status().state === 'failed',
        '15 candles after the restart, one from the stream',
        30_000,
        () => emitted.length,
      );
      expect(feed.status().state).toBe('running');
      expect(feed.status().reconnects).toBeGreaterThan(0);
      // Every candle emitted is the dataset's, in order, with its values (the exchange's final version), and no closed
      // candle was "revised" to a forming version.
      expect(problemsAgainstDataset(emitted, LAST_STORED, new Map())).toEqual([]);
      expect(feed.status().revisions, JSON.stringify(feed.revisions().map((r) => [new Date(r.openTime).toISOString(), r.emitted, r.accepted.close, r.accepted.source, r.revised.close, r.revised.source]))).toBe(0);
    } finally {
      await feed.stop();
      await exchange.close();
    }
  }, 120_000);
});
