import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { brokerConfig } from '../../framework/broker/broker-config';
import { PaperBroker } from '../../framework/broker/paper-broker';
import { CANDLE_SOURCES } from '../../framework/core/candle';
import { Engine } from '../../framework/engine/engine';
import { runLive } from '../../framework/node/live';
import { replayCandles } from '../../framework/feeds/replay';
import { LiveCandleStore } from '../../framework/store/live-store';
import { loadStrategy } from '../../framework/strategy/loader';

const scratch = mkdtempSync(path.join(tmpdir(), 'live-parity-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('live run against the simulator', () => {
  it('acts on every played candle once, stores them, and signals exactly as the replay of the same candles', async () => {
    const file = 'strategies/macd.ts';
    const start = Date.UTC(2021, 0, 10);
    const live = await runLive({
      file,
      simulator: { start, speed: 10_000 },
      storeRoot: path.join(scratch, 'store'),
      runsRoot: path.join(scratch, 'runs'),
      maxCandles: 150,
    });
    const subscription = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' };
    const first = live.liveCandles[0]!.openTime;
    const last = live.liveCandles[live.liveCandles.length - 1]!.openTime;

    // The candles acted on are the dataset's, in order, each once. (Those that closed while the feed was catching up
    // to the exchange's now at start are warm-up: stored and in the history, not traded.)
    // How many closed while the run started depends on the machine's speed, not on the code: only the order is asserted.
    expect(first).toBeGreaterThanOrEqual(start);
    const dataset = replayCandles('datasets', subscription, { from: first, to: last + 1 });
    expect(live.liveCandles.map((c) => c.openTime)).toEqual(Array.from(dataset.openTime));
    expect(live.liveCandles.map((c) => [c.open, c.high, c.low, c.close, c.volume])).toEqual(
      Array.from(dataset.openTime, (_, i) => [dataset.open[i], dataset.high[i], dataset.low[i], dataset.close[i], dataset.volume[i]]),
    );
    expect(live.liveCandles.every((c) => c.source === 'websocket' || c.source === 'rest')).toBe(true);

    // They are durable in the live store, with provenance.
    const store = LiveCandleStore.open(path.join(scratch, 'store'), { ...subscription, exchange: 'sim' });
    const stored = store.readAll();
    await store.close();
    // The store holds every candle the feed delivered: a contiguous run covering the traded ones. (It may end after the
    // last one acted on: candles made durable while the run was stopping are stored, not traded; 3 at load 30.)
    const storedFrom = stored.openTime[0]!;
    const storedTo = stored.openTime[stored.openTime.length - 1]!;
    expect(storedFrom).toBeLessThanOrEqual(first);
    expect(storedTo).toBeGreaterThanOrEqual(last);
    const played = replayCandles('datasets', subscription, { from: storedFrom, to: storedTo + 1 });
    expect(Array.from(stored.openTime)).toEqual(Array.from(played.openTime));
    // The history is not read from the simulator's datasets: its warm-up, the 1,000 candles (one page) that closed
    // before the exchange's now at start, came over the simulator's REST API into the run's store.
    expect(stored.openTime.findIndex((t) => t >= first)).toBeGreaterThanOrEqual(1_000);
    expect(Array.from(stored.source.subarray(0, 1_000), (code) => CANDLE_SOURCES[code])).toEqual(Array(1_000).fill('rest'));

    // The replay of the same candles from the same origin (the first stored) gives the same signals with the same values.
    const { strategy } = await loadStrategy(file);
    const replay = new Engine({ strategy, broker: new PaperBroker(brokerConfig()), file, subscription });
    const history = replayCandles('datasets', subscription, { from: storedFrom, to: last + 1 });
    await replay.replay(history);
    const replayed = replay.signals.filter((s) => s.openTime >= first);
    expect(live.engine.signals.length).toBeGreaterThan(0);
    expect(live.engine.signals.map((s) => [s.openTime, s.signal, s.indicators])).toEqual(
      replayed.map((s) => [s.openTime, s.signal, s.indicators]),
    );
    expect(live.summary?.mode).toBe('live');
  });
});
