/**
 * Pipelined write-ahead logging (`DurableQueue`, what `runLive` stores candles through): the real simulator on
 * loopback, real ccxt.pro and `LiveFeed`, a real write-ahead log on disk. Durability is observed through the log's own
 * `synced` events, which it reports after each fdatasync has returned and before the appends it covers resolve.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredCandle } from '../../framework/core/candle';
import { createExchange } from '../../framework/feeds/live/exchange';
import { LiveFeed, LiveFeedError } from '../../framework/feeds/live/live-feed';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';
import { DurableQueue } from '../../framework/store/durable-queue';
import { LiveCandleStore } from '../../framework/store/live-store';
import { WriteAheadLogError } from '../../framework/store/wal';
import { BTC_5M, dataset, START, TF_5M } from '../feeds/support';

/** One acknowledged candle and what was true when its `onDurable` ran. */
interface Ack {
  readonly candle: StoredCandle;
  /** Candles of the log fdatasynced by then. */
  readonly durable: number;
  /** Candles the feed had handed to the queue by then. */
  readonly received: number;
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** A simulator on a manual clock at {@link START}, a live feed on it, and a store with its queue; acks recorded. */
async function setUp(): Promise<{ sim: Simulator; feed: LiveFeed; store: LiveCandleStore; queue: DurableQueue; acks: Ack[]; syncs: () => number; acked: (n: number) => Promise<void> }> {
  const root = mkdtempSync(path.join(tmpdir(), 'durable-queue-'));
  cleanup.push(() => rmSync(root, { recursive: true, force: true }));
  const sim = await startSimulator({ markets: [{ symbol: BTC_5M.symbol, timeframe: BTC_5M.timeframe, candles: dataset() }], startTime: START, speed: 0 });
  cleanup.push(() => sim.stop());
  const exchange = createExchange('binance', { urls: sim, enableRateLimit: false });
  cleanup.push(() => exchange.close());
  let durable = 0;
  let fdatasyncs = 0;
  const store = LiveCandleStore.open(root, { ...BTC_5M, exchange: 'sim' }, {
    onEvent: (event) => {
      if (event.type !== 'synced') return;
      durable += event.candles;
      fdatasyncs += 1;
    },
  });
  cleanup.push(() => store.close().catch(() => undefined));
  const queue = new DurableQueue(store);
  const acks: Ack[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  let received = 0;
  const feed = new LiveFeed({
    exchange,
    subscription: BTC_5M,
    lastStoredOpenTime: START - TF_5M,
    // The manual clock does not run: keep the feed's timers (REST audits, clock re-syncs, silence) out of the test.
    monitorIntervalMs: 3_600_000,
    clockResyncIntervalMs: 3_600_000,
    silenceTimeoutMs: 3_600_000,
    onCandle: (candle) => {
      received += 1;
      queue.push(candle, () => {
        acks.push({ candle, durable, received });
        for (const w of waiters.filter((w) => acks.length >= w.n)) w.resolve();
      });
    },
  });
  cleanup.push(() => feed.stop());
  await feed.start();
  await sim.waitForSubscribers(BTC_5M.symbol, BTC_5M.timeframe);
  const acked = (n: number): Promise<void> =>
    acks.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }));
  return { sim, feed, store, queue, acks, syncs: () => fdatasyncs, acked };
}

describe('DurableQueue: a live feed stored through the write-ahead log, pipelined', () => {
  it('acknowledges each candle only once it is fdatasynced, in order, with many candles per fdatasync', async () => {
    const { sim, store, acks, syncs, acked } = await setUp();
    const played = 300;
    sim.advanceTo(START + played * TF_5M);
    await acked(played);

    const data = dataset();
    const first = data.openTime.indexOf(START);
    expect(acks.map((a) => a.candle.openTime)).toEqual(Array.from(data.openTime.subarray(first, first + played)));
    // Never acted on before durable: when the k-th candle is acknowledged, at least k candles of its log are synced.
    expect(acks.filter((a, k) => a.durable < k + 1)).toEqual([]);
    // Pipelined: the feed went on while the log synced, so candles arrived before earlier ones were acknowledged and
    // one fdatasync covered many (waiting for each candle's fdatasync would take one per candle).
    expect(Math.max(...acks.map((a, k) => a.received - (k + 1)))).toBeGreaterThan(1);
    expect(syncs()).toBeLessThan(played / 2);
    // And they are in the store.
    expect(Array.from(store.readAll().openTime)).toEqual(acks.map((a) => a.candle.openTime));
  });

  it('stops at the first failed append: nothing after it is acknowledged, and the feed fails on the next candle', async () => {
    const { sim, feed, store, queue, acks, acked } = await setUp();
    sim.advanceTo(START + 10 * TF_5M);
    await acked(10);
    await store.close(); // from now on every append rejects

    sim.advanceTo(START + 20 * TF_5M);
    await expect(queue.failed).rejects.toBeInstanceOf(WriteAheadLogError);
    expect(acks).toHaveLength(10);
    expect(() => queue.push(acks[0]!.candle, () => undefined)).toThrow(WriteAheadLogError);
    sim.advanceTo(START + 21 * TF_5M);
    await expect(feed.finished).rejects.toBeInstanceOf(LiveFeedError);
    await queue.settled();
    expect(acks).toHaveLength(10);
  });
});
