/**
 * The informative barrier of a node worker across routing keys: strategies/macd-trend-filter.ts (15m traded, 1h
 * informative) fed over the real in-process bus by a connector whose 1h topic is two days late — every 15m candle of
 * the two days is published before their first 1h candle (as a lagging feed, or a RabbitMQ requeue, delivers it). The
 * worker must hold each 15m candle until the 1h candles that closed with it have arrived: its `candles.jsonl` lists
 * every 1h candle before the 15m candle it closed with, and the replay (`diffRun`, the backtest path on the same
 * shipped candles) gives the same signals with no mismatch at all.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { InProcessBus } from '../../framework/bus/in-process';
import { marketDataTopic } from '../../framework/bus/topics';
import { candlesFromBatch } from '../../framework/core/candle';
import type { Subscription } from '../../framework/core/subscription';
import { runStrategyWorker, SNAPSHOT_TOPIC } from '../../framework/node/worker';
import { diffRun } from '../../framework/parity/diff';
import { loadStrategy } from '../../framework/strategy/loader';
import { readDataset } from '../../framework/store/partitions';

const FILE = 'strategies/macd-trend-filter.ts';
// Two days (192 candles of 15m, 48 of 1h) in which the 1h trend filter decides: without the barrier 3 signals differ.
const FROM = Date.UTC(2021, 0, 15);
const TO = FROM + 2 * 24 * 3_600_000;
const scratch = mkdtempSync(path.join(tmpdir(), 'barrier-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

it('a worker holds each 15m candle until the 1h candles that closed with it arrive on their late topic', { timeout: 120_000 }, async () => {
  const loaded = await loadStrategy(FILE);
  const [traded, informative] = loaded.subscriptions;
  const bus = new InProcessBus();
  await bus.declare({ queue: 'worker.trend', topics: loaded.subscriptions.map(marketDataTopic) });
  let snapshots = 0;
  let lastSnapshotAt = Date.now();
  await bus.consume({ queue: 'test.snapshots', topics: [SNAPSHOT_TOPIC] }, () => {
    snapshots += 1; // one per candle acted on
    lastSnapshotAt = Date.now();
  });
  const publish = async (subscription: Subscription, ms: number): Promise<void> => {
    for (const candle of candlesFromBatch(readDataset('datasets', subscription, { from: FROM, to: TO }))) {
      await bus.publish(marketDataTopic(subscription), { kind: 'candle', candle, live: true, arrivedAt: candle.openTime + ms });
    }
  };
  const worker = runStrategyWorker({
    id: 'trend',
    strategy: loaded,
    datasetsRoot: 'datasets',
    storeRoot: path.join(scratch, 'store'), // empty: every candle is in the shipped dataset
    runsRoot: path.join(scratch, 'runs'),
    simulated: false,
    staleAfter: Number.POSITIVE_INFINITY,
    maxCandles: 192,
    bus,
  });
  let ended = false;
  void worker.finally(() => (ended = true)).catch(() => undefined);
  await publish(traded!, 900_000);
  // The first three 15m candles need no 1h candle beyond the history's; the fourth closes with the first 1h candle. The
  // 1h topic is published once a fourth candle was acted on (only a worker that does not wait gets there) or nothing
  // was acted on for 3 s after the third (a timeout that can only hide a fault, never fail the real code).
  while (!ended && snapshots < 4 && !(snapshots === 3 && Date.now() - lastSnapshotAt > 3_000)) await new Promise((r) => setTimeout(r, 20));
  await publish(informative!, 3_600_000);
  const result = await worker;
  await bus.close();
  expect(result.liveCandles).toHaveLength(192);

  // Each 15m line (closing at openTime + 15 min) comes after every 1h line closing at or before that time (later 1h
  // lines may come before it too: the bus delivers while the worker acts).
  const lines = readFileSync(path.join(result.dir, 'candles.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { openTime: number; market?: string });
  let hourlyClosedUpTo = FROM;
  for (const line of lines) {
    if (line.market !== undefined) hourlyClosedUpTo = line.openTime + 3_600_000;
    else expect(hourlyClosedUpTo, `15m candle ${new Date(line.openTime).toISOString()}`).toBeGreaterThanOrEqual(Math.floor((line.openTime + 900_000) / 3_600_000) * 3_600_000);
  }
  expect(lines.filter((l) => l.market !== undefined)).toHaveLength(48);

  const diff = await diffRun(FILE, result.dir);
  expect(diff.liveSignals).toBeGreaterThan(0);
  expect(diff.mismatches).toEqual([]);
  expect(diff.matched).toBe(diff.liveSignals);
  expect(diff.indicatorDrift).toBe(0);
});
