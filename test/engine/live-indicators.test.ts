import { describe, expect, it } from 'vitest';
import { sliceBatch } from '../../framework/core/candle';
import type { DataFrame } from '../../framework';
import { computeIndicatorColumns } from '../../framework/engine/indicators';
import { LiveIndicators } from '../../framework/engine/live-indicators';
import { replayCandles } from '../../framework/feeds/replay';
import RsiMeanReversion from '../../strategies/rsi-mean-reversion';
import MacdCrossover from '../../strategies/macd';

const BTC_5M = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '5m' } as const;

/** On-balance volume: a running sum from the first candle, which never forgets where it started. */
class OnBalanceVolume extends RsiMeanReversion {
  override populateIndicators(df: DataFrame): DataFrame {
    const close = df['close'].values as number[];
    const volume = df['volume'].values as number[];
    let obv = 0;
    df.addColumn('obv', close.map((c, i) => (obv += i === 0 ? 0 : Math.sign(c - close[i - 1]!) * volume[i]!)), { inplace: true });
    return df;
  }
}

describe('LiveIndicators', () => {
  const candles = replayCandles('datasets', BTC_5M);

  // technicalindicators' SMA keeps a running sum (sum = sum − oldest + newest), whose rounding depends on where it
  // started: no window reproduces it bit for bit, so that strategy must fall back to the whole history.
  it.each([
    ['MACD 12/26/9', () => new MacdCrossover(), true],
    ['RSI 14 + running-sum SMA 200', () => new RsiMeanReversion(), false],
  ])('%s: every live candle gets the values the whole history gives, bit for bit', async (_name, make, windowed) => {
    const strategy = make();
    const live = new LiveIndicators((c) => computeIndicatorColumns(strategy, c, 'test'), { recalibrateEvery: 100 });
    for (let n = 3_000; n < 3_250; n++) {
      const history = sliceBatch(candles, 0, n);
      const { columns, offset } = await live.compute(history);
      const full = await computeIndicatorColumns(strategy, history, 'test');
      for (const [name, values] of Object.entries(full)) {
        expect(Object.is(columns[name]![n - 1 - offset], values[n - 1]), `${name} at row ${n - 1}`).toBe(true);
      }
    }
    expect(Number.isFinite(live.window)).toBe(windowed);
  });

  it('falls back to the whole history for an indicator that never forgets its start', async () => {
    const obv = new OnBalanceVolume();
    const live = new LiveIndicators((c) => computeIndicatorColumns(obv, c, 'test'));
    const { offset } = await live.compute(sliceBatch(candles, 0, 3_000));
    expect(offset).toBe(0);
    expect(live.window).toBe(Number.POSITIVE_INFINITY);
  });
});
