import { describe, expect, it } from 'vitest';
import { brokerConfig } from '../../framework/broker/broker-config';
import { PaperBroker } from '../../framework/broker/paper-broker';
import { Engine } from '../../framework/engine/engine';
import { replayCandles } from '../../framework/feeds/replay';
import { SignalJournal } from '../../framework/report/signal-journal';
import { loadStrategy } from '../../framework/strategy/loader';

describe('the signal journal of a real MACD replay (BTC/USDT 15m)', async () => {
  const file = 'strategies/macd.ts';
  const { strategy, subscriptions } = await loadStrategy(file);
  const candles = replayCandles('datasets', subscriptions[0]!);
  const engine = new Engine({ strategy, broker: new PaperBroker(brokerConfig()), file, subscription: subscriptions[0]! });
  const columns = await engine.replay(candles);
  const { journal } = engine;

  it('makes each record from its row of the replay: the candle, every frame column and the provenance there', () => {
    const records = journal.records();
    expect(records.length).toBe(journal.length);
    expect(records.length).toBeGreaterThan(1_000);
    const rowOf = new Map(Array.from(candles.openTime, (t, i) => [t, i]));
    for (const record of records.filter((_, k) => k % 97 === 0)) {
      const row = rowOf.get(record.openTime)!;
      expect(record.candle).toEqual({
        openTime: candles.openTime[row],
        open: candles.open[row],
        high: candles.high[row],
        low: candles.low[row],
        close: candles.close[row],
        volume: candles.volume[row],
      });
      expect(record.indicators).toEqual(Object.fromEntries(Object.entries(columns).map(([name, values]) => [name, values[row]])));
      expect(record.provenance).toEqual({ source: 'resample', receivedAt: null });
      expect(record.strategy).toBe(engine.identity);
    }
    expect(journal.records()).toBe(records);
  });

  it('gives the same columns gathered from the replay as from its records', () => {
    const fromRecords = SignalJournal.of(journal.records()).columns();
    expect(journal.columns()).toEqual(fromRecords);
    expect([...fromRecords.frame.keys()]).toEqual(Object.keys(columns));
  });

  it("gives each signal's outcome as its record has it", () => {
    expect(journal.outcomes()).toEqual(
      journal.records().map(({ openTime, action, acted, reason }) => ({ openTime, action, acted, ...(reason !== undefined && { reason }) })),
    );
  });

  it('refuses records of another run in one journal', () => {
    const [a, b] = journal.records();
    const other = { ...b!, strategy: { ...b!.strategy, parametersHash: 'other' } };
    expect(() => SignalJournal.of([a!, other]).columns()).toThrow(/signal 1 has another strategy or subscription/);
  });
});
