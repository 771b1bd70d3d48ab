import { EMA } from 'technicalindicators';
import { describe, expect, it } from 'vitest';
import { brokerConfig } from '../../framework/broker/broker-config';
import { PaperBroker } from '../../framework/broker/paper-broker';
import type { Candle } from '../../framework/core/candle';
import { Engine } from '../../framework/engine/engine';
import { replayCandles } from '../../framework/feeds/replay';
import type { Frame } from '../../framework/strategy/frame';
import MacdTrendFilter from '../../strategies/macd-trend-filter';

const M15 = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' } as const;
const H1 = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' } as const;
const HOUR = 3_600_000;

class Recording extends MacdTrendFilter {
  readonly seen: { openTime: number; close1h: number; open1h: number; ema1h: number }[] = [];
  override onData(candle: Candle, frame: Frame) {
    this.seen.push({
      openTime: candle.openTime,
      close1h: frame.value('close_1h'),
      open1h: frame.value('open_1h'),
      ema1h: frame.value('ema_trend_1h'),
    });
    return super.onData(candle, frame);
  }
}

describe('informative subscriptions in a replay', () => {
  it('show each 1h candle, and its indicators, only from the 15m candle that closes with it', async () => {
    const m15 = replayCandles('datasets', M15);
    const h1 = replayCandles('datasets', H1);
    const strategy = new Recording();
    const engine = new Engine({ strategy, broker: new PaperBroker(brokerConfig()), file: 'strategies/macd-trend-filter.ts', subscription: M15, informative: [H1] });
    await engine.replay(m15, { informative: new Map([['binance BTC/USDT 1h', h1]]) });

    // Independently: the 1h candle visible at a 15m candle is the latest whose close (open + 1h) is not after the
    // 15m candle's close (open + 15m); its EMA-50 is technicalindicators' EMA over the 1h closes.
    const closes = Array.from(h1.close);
    const ema = EMA.calculate({ values: closes, period: 50 });
    const byOpen = new Map(Array.from(h1.openTime, (t, i) => [t, i]));
    let checkedHourBoundaries = 0;
    for (const seen of strategy.seen) {
      const close15 = seen.openTime + 15 * 60_000;
      let visible = Math.floor(close15 / HOUR) * HOUR - HOUR;
      while (visible >= h1.openTime[0]! && !byOpen.has(visible)) visible -= HOUR; // maintenance gaps: the last closed one
      const i = byOpen.get(visible);
      if (i === undefined) {
        expect(seen.close1h).toBeNaN();
        continue;
      }
      expect(seen.close1h).toBe(h1.close[i]);
      expect(seen.open1h).toBe(h1.open[i]);
      expect(seen.ema1h).toEqual(ema[i - (closes.length - ema.length)] ?? Number.NaN);
      if (seen.openTime % HOUR === 45 * 60_000) checkedHourBoundaries++;
    }
    expect(checkedHourBoundaries).toBeGreaterThan(5_000);

    // A concrete case: at 2021-03-01 00:30 the 00:00 1h candle is still forming (the 23:00 one shows); at 00:45 it shows.
    const at = (t: number) => strategy.seen.find((s) => s.openTime === t)!;
    const hourOpen = Date.UTC(2021, 2, 1);
    expect(at(hourOpen + 30 * 60_000).close1h).toBe(h1.close[byOpen.get(hourOpen - HOUR)!]);
    expect(at(hourOpen + 45 * 60_000).close1h).toBe(h1.close[byOpen.get(hourOpen)!]);
  });
});
