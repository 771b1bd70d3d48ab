import { describe, expect, it } from 'vitest';
import { BaseStrategy, type Candle, type DataFrame } from '../../framework';
import { analyseLookahead } from '../../framework/analysis/lookahead';
import { sliceBatch } from '../../framework/core/candle';
import { replayCandles } from '../../framework/feeds/replay';
import { loadStrategy } from '../../framework/strategy/loader';

const BTC_1H = replayCandles('datasets', { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' });
const close = Array.from(BTC_1H.close);
const rowOf = (openTime: number): number => BTC_1H.openTime.indexOf(openTime);

async function analyse(fixture: string, options = {}) {
  const { strategy, file } = await loadStrategy(`test/fixtures/strategies/${fixture}`);
  const result = await analyseLookahead(strategy, file, BTC_1H, options);
  return { result, cuts: result.cuts.map(rowOf) };
}

/** A stateful strategy: a signal every 50th call of onData. Fine as long as every replay starts it afresh. */
class EveryFiftiethCandle extends BaseStrategy {
  #calls = 0;
  getRequiredSubscriptions() {
    return [{ exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' }];
  }
  populateIndicators(df: DataFrame): DataFrame {
    return df;
  }
  onData(_candle: Candle) {
    this.#calls += 1;
    return this.#calls % 50 === 0 ? { action: 'enter_long' as const } : null;
  }
}

describe('analyseLookahead on deliberately biased strategies', () => {
  it('catches a negative shift at the cut candle itself: the next close vs NaN', async () => {
    const { result, cuts } = await analyse('lookahead-shift.ts');
    expect(result.biased).toBe(true);
    const first = cuts[0]!;
    expect(result.columns).toEqual([
      {
        name: 'next_close',
        biased: true,
        firstDifference: { openTime: BTC_1H.openTime[first], full: close[first + 1], truncated: Number.NaN, cutOpenTime: BTC_1H.openTime[first] },
      },
    ]);
    // On the full history the signal at candle t compares close[t + 1] with close[t]; truncated at t, next_close is
    // NaN and no signal comes. Earlier candles keep their next close, so only the cut candles differ.
    const moved = cuts.filter((t) => close[t + 1] !== close[t]);
    expect(result.signals.checked).toBe(moved.length);
    expect(result.signals.differing).toEqual(
      moved.map((t) => ({
        openTime: BTC_1H.openTime[t],
        full: { action: close[t + 1]! > close[t]! ? 'enter_long' : 'exit_long' },
        truncated: null,
        cutOpenTime: BTC_1H.openTime[t],
      })),
    );
  });

  it('catches a normalisation by the whole column maximum at the earliest candle whose ratio changes', async () => {
    const { result, cuts } = await analyse('lookahead-normalised.ts');
    const maxAll = Math.max(...close);
    let expected = { row: Number.POSITIVE_INFINITY, cut: -1, prefixMax: Number.NaN };
    for (const cut of cuts) {
      const prefixMax = Math.max(...close.slice(0, cut + 1));
      const row = close.slice(0, cut + 1).findIndex((c) => c / prefixMax !== c / maxAll);
      if (row !== -1 && row < expected.row) expected = { row, cut, prefixMax };
    }
    expect(result.biased).toBe(true);
    expect(result.columns[0]).toEqual({
      name: 'close_of_max',
      biased: true,
      firstDifference: {
        openTime: BTC_1H.openTime[expected.row],
        full: close[expected.row]! / maxAll,
        truncated: close[expected.row]! / expected.prefixMax,
        cutOpenTime: BTC_1H.openTime[expected.cut],
      },
    });
    expect(result.signals.differing.length).toBeGreaterThan(0);
  });

  it('catches a centred moving average one candle before the cut, where the window needs a later close', async () => {
    const { result, cuts } = await analyse('lookahead-centred.ts', { signalCuts: 0 });
    const first = cuts[0]!;
    expect(first).toBe(10); // the declared warm-up: sample cuts start there
    const difference = result.columns[0]!.firstDifference!;
    expect(result.columns[0]!.name).toBe('sma_centred');
    expect(difference.openTime).toBe(BTC_1H.openTime[first - 1]);
    expect(difference.cutOpenTime).toBe(BTC_1H.openTime[first]);
    const window = close.slice(first - 3, first + 2);
    expect(difference.full).toBeCloseTo(window.reduce((a, b) => a + b, 0) / 5, 9);
    expect(difference.truncated).toBeNaN();
  });
});

describe('analyseLookahead on the shipped strategies', () => {
  it.each([
    ['strategies/macd.ts', ['macd', 'macd_signal', 'macd_hist'], '15m'],
    ['strategies/ema-cross.ts', ['ema_fast', 'ema_slow'], '1h'],
    ['strategies/rsi-mean-reversion.ts', ['rsi', 'sma_trend'], '1h'],
  ] as const)('%s has no lookahead', async (path, names, timeframe) => {
    const { strategy, file, subscriptions } = await loadStrategy(path);
    expect(subscriptions[0]!.timeframe).toBe(timeframe);
    // MACD on its first 6,000 15m candles keeps the test fast; the CLI test runs it on more.
    const candles = replayCandles('datasets', subscriptions[0]!);
    const result = await analyseLookahead(strategy, file, timeframe === '15m' ? sliceBatch(candles, 0, 6_000) : candles);
    expect(result.columns).toEqual(names.map((name) => ({ name, biased: false })));
    expect(result.signals.differing).toEqual([]);
    expect(result.signals.checked).toBeGreaterThanOrEqual(10); // the signal cuts, and sample cuts that hit a signal
    expect(result.biased).toBe(false);
    expect(result.cuts.length).toBeGreaterThanOrEqual(20);
  });

  it('replays each truncated history on a fresh instance, so state kept in onData is no bias', async () => {
    const result = await analyseLookahead(new EveryFiftiethCandle(), 'test', BTC_1H);
    expect(result.biased).toBe(false);
    expect(result.signals.checked).toBeGreaterThanOrEqual(10);
  });

  it('rejects options out of range and too little data', async () => {
    await expect(analyseLookahead(new EveryFiftiethCandle(), 'test', BTC_1H, { cuts: 0 })).rejects.toThrow(
      'cuts must be a whole number ≥ 1, got 0',
    );
    await expect(analyseLookahead(new EveryFiftiethCandle(), 'x.ts', sliceBatch(BTC_1H, 0, 1))).rejects.toThrow(
      'x.ts: the lookahead analysis needs at least 2 candles, got 1',
    );
  });
});
