import { describe, expect, it } from 'vitest';
import { referenceMacd } from '../support/macd';
import { brokerConfig } from '../../framework/broker/broker-config';
import { PaperBroker } from '../../framework/broker/paper-broker';
import type { Candle } from '../../framework/core/candle';
import { LookaheadError, StrategyRuntimeError } from '../../framework/core/errors';
import { Engine } from '../../framework/engine/engine';
import { replayCandles } from '../../framework/feeds/replay';
import type { Frame } from '../../framework/strategy/frame';
import { loadStrategy } from '../../framework/strategy/loader';
import MacdCrossover from '../../strategies/macd';

const BTC_1H = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' } as const;
const BTC_15M = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' } as const;

/** The shipped MACD strategy, recording what onData sees. */
class RecordingMacd extends MacdCrossover {
  readonly seen: { openTime: number; macd: number; signal: number; hist: number; close: number }[] = [];
  override onData(candle: Candle, frame: Frame) {
    this.seen.push({
      openTime: candle.openTime,
      macd: frame.value('macd'),
      signal: frame.value('macd_signal'),
      hist: frame.value('macd_hist'),
      close: frame.value('close'),
    });
    return super.onData(candle, frame);
  }
}

async function runFixture(name: string) {
  const { strategy, file } = await loadStrategy(`test/fixtures/strategies/${name}`);
  const engine = new Engine({ strategy, broker: new PaperBroker(brokerConfig()), file, subscription: BTC_1H });
  return engine.replay(replayCandles('datasets', BTC_1H));
}

describe('Engine on the shipped datasets', () => {
  it('gives onData the indicator values technicalindicators computes directly on the same closes', async () => {
    const candles = replayCandles('datasets', BTC_15M);
    const strategy = new RecordingMacd();
    await new Engine({ strategy, broker: new PaperBroker(brokerConfig()), file: 'strategies/macd.ts', subscription: BTC_15M }).replay(candles);

    const closes = Array.from(candles.close);
    const direct = referenceMacd(closes);
    expect(strategy.seen).toHaveLength(closes.length);
    expect(strategy.seen.map((s) => s.openTime)).toEqual(Array.from(candles.openTime));
    for (let i = 0; i < closes.length; i++) {
      const seen = strategy.seen[i]!;
      expect(seen.close).toBe(closes[i]);
      expect(seen.macd).toEqual(direct.macd[i]);
      expect(seen.signal).toEqual(direct.signal[i]);
      expect(seen.hist).toEqual(direct.histogram[i]);
    }
  });

  it('journals signals with the values they were computed from and acts only after the warm-up', async () => {
    const candles = replayCandles('datasets', BTC_15M);
    const strategy = new MacdCrossover();
    const broker = new PaperBroker(brokerConfig());
    const engine = new Engine({ strategy, broker, file: 'strategies/macd.ts', subscription: BTC_15M });
    await engine.replay(candles);
    expect(engine.signals.length).toBeGreaterThan(100);
    const warmupEnd = candles.openTime[strategy.warmup]!;
    for (const record of engine.signals) {
      const i = candles.openTime.indexOf(record.openTime);
      expect(record.candle.close).toBe(candles.close[i]);
      expect(record.indicators['close']).toBe(candles.close[i]);
      const crossedUp = record.indicators['macd_hist']! > 0;
      expect(record.action).toBe(crossedUp ? 'enter_long' : 'exit_long');
      if (record.openTime < warmupEnd) expect(record.acted).toBe(false);
    }
    const entries = broker.fills.filter((f) => f.reason === 'entry');
    const acted = engine.signals.filter((s) => s.acted && s.action === 'enter_long');
    expect(entries.map((f) => f.time)).toEqual(acted.map((s) => candles.openTime[candles.openTime.indexOf(s.openTime) + 1]));
  });

  it('stops a strategy that reads a later candle in onData with the lookahead error', async () => {
    const error = await runFixture('peeks-ahead.ts').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LookaheadError);
    expect((error as Error).message).toMatch(
      /^test\/fixtures\/strategies\/peeks-ahead\.ts: onData at candle 2020-12-01T00:00:00\.000Z: lookahead: onData asked for "close" 1 candle\(s\) after/,
    );
  });

  it('names file and problem when populateIndicators throws', async () => {
    await expect(runFixture('throws-in-indicators.ts')).rejects.toThrow(
      new StrategyRuntimeError(
        'test/fixtures/strategies/throws-in-indicators.ts: populateIndicators threw: column "rsi_14" not found',
      ),
    );
  });

  it('names file, candle and problem when onData throws', async () => {
    await expect(runFixture('throws-in-on-data.ts')).rejects.toThrow(
      new StrategyRuntimeError(
        'test/fixtures/strategies/throws-in-on-data.ts: onData at candle 2021-01-01T00:00:00.000Z threw: division by zero',
      ),
    );
  });

  it('names file, candle and every problem of a malformed signal', async () => {
    const error = (await runFixture('malformed-signal.ts').catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(StrategyRuntimeError);
    expect(error.message).toContain(
      'test/fixtures/strategies/malformed-signal.ts: onData at candle 2020-12-01T00:00:00.000Z returned a malformed signal {"action":"buy","stopLoss":5}',
    );
    expect(error.message).toContain('action: Invalid option');
    expect(error.message).toContain('stopLoss:');
  });
});
