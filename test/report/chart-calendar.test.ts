/**
 * The report's chart on calendar timeframes: every weekly (`1w`) and monthly (`1M`) candle is a bar of its own, at its
 * own open time (a Monday, the 1st of a month), not at a bucket of a fixed length counted from the epoch. The candles
 * are the shipped BTC/USDT 1h dataset resampled.
 */
import { describe, expect, it } from 'vitest';
import { batchLength } from '../../framework/core/candle';
import { replayCandles } from '../../framework/feeds/replay';
import { resampleCandles } from '../../framework/pipeline/resample';
import { chartBars, chartData } from '../../framework/report/html/chart-data';

const hourly = replayCandles('datasets', { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' });

/** The bar open times the page decodes (UTC seconds): the running sum of the delta-encoded times. */
function decoded(deltas: readonly number[]): number[] {
  let t = 0;
  return deltas.map((d) => (t += d));
}

function chartOf(timeframe: '1w' | '1M') {
  // Kept incomplete: the dataset has exchange maintenance gaps, and July is partial.
  const { candles } = resampleCandles(hourly, '1h', timeframe, { incomplete: 'keep' });
  const bars = chartBars(candles.openTime, timeframe);
  const n = batchLength(candles);
  const data = chartData({
    candles,
    bars,
    indicators: { open_time: candles.openTime, close: candles.close },
    layout: { overlays: [], panes: [], skipped: [] },
    trades: [],
    equity: { time: candles.openTime, equity: candles.close, cash: new Float64Array(n), positionValue: candles.close },
    firstCandle: candles.openTime[0]!,
    lastCandle: candles.openTime[n - 1]!,
    metricsFrom: candles.openTime[0]!,
  });
  return { candles, bars, data, n };
}

describe('the chart of calendar timeframes', () => {
  it('draws each 1M candle as its own bar on the 1st of its month', () => {
    const { candles, bars, data, n } = chartOf('1M');
    // The 1h dataset runs 2020-12-01 … 2021-07-17 (datasets/README.md): 8 months, December to July.
    expect(n).toBe(8);
    expect([...bars.rows]).toEqual([...Array(n).keys()]);
    const times = decoded(data.timeDeltas);
    expect(times).toEqual([...candles.openTime].map((t) => t / 1000));
    expect(times.map((t) => new Date(t * 1000).toISOString().slice(0, 10))).toEqual(
      ['2020-12-01', '2021-01-01', '2021-02-01', '2021-03-01', '2021-04-01', '2021-05-01', '2021-06-01', '2021-07-01'],
    );
    expect(data.close).toEqual([...candles.close]);
  });

  it('draws each 1w candle as its own bar on its Monday', () => {
    const { candles, bars, data, n } = chartOf('1w');
    expect([...bars.rows]).toEqual([...Array(n).keys()]);
    const times = decoded(data.timeDeltas);
    expect(times).toEqual([...candles.openTime].map((t) => t / 1000));
    expect(times.every((t) => new Date(t * 1000).getUTCDay() === 1 && t % 86_400 === 0)).toBe(true);
  });
});
