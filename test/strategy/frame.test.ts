import { describe, expect, it } from 'vitest';
import { FrameworkError, LookaheadError } from '../../framework/core/errors';
import { Frame, type FrameCursor } from '../../framework/strategy/frame';
import { loadJsonCandles } from '../support/shared-data';

describe('Frame', () => {
  const candles = loadJsonCandles('BTC_USDT-1h.json').slice(0, 50);
  const column = (pick: (c: (typeof candles)[number]) => number) => Float64Array.from(candles, pick);
  const cursor: FrameCursor = {
    columns: {
      open_time: column((c) => c.openTime),
      open: column((c) => c.open),
      high: column((c) => c.high),
      low: column((c) => c.low),
      close: column((c) => c.close),
      volume: column((c) => c.volume),
    },
    index: 10,
    offset: 0,
  };
  const frame = new Frame(cursor);

  it('gives the current and earlier values', () => {
    expect(frame.openTime).toBe(candles[10]!.openTime);
    expect(frame.value('close')).toBe(candles[10]!.close);
    expect(frame.value('close', 3)).toBe(candles[7]!.close);
    expect(frame.value('close', 11)).toBeNaN();
    expect(frame.candle(1)).toEqual({
      openTime: candles[9]!.openTime,
      open: candles[9]!.open,
      high: candles[9]!.high,
      low: candles[9]!.low,
      close: candles[9]!.close,
      volume: candles[9]!.volume,
    });
    expect(Array.from(frame.series('close', 3))).toEqual(candles.slice(8, 11).map((c) => c.close));
    expect(Array.from(frame.series('close', 12)).slice(0, 1)).toEqual([Number.NaN]);
  });

  it('refuses every way of reading a later candle', () => {
    expect(() => frame.value('close', -1)).toThrow(LookaheadError);
    expect(() => frame.candle(-2)).toThrow(LookaheadError);
    expect(frame.series('close', 1).length).toBe(1);
    expect(frame.series('close', 5).buffer.byteLength).toBe(5 * 8);
  });

  it('names an unknown column and lists the known ones', () => {
    expect(() => frame.value('rsi')).toThrow(FrameworkError);
    expect(() => frame.value('rsi')).toThrow('frame has no column "rsi"; columns are: open_time, open, high, low, close, volume');
  });
});
