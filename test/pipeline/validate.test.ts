import { describe, expect, it } from 'vitest';
import type { Candle } from '../../framework/core/candle';
import { InvalidTimeframeError } from '../../framework/core/errors';
import { candleProblem, ohlcvValidator } from '../../framework/pipeline/validate';
import { loadRows, type OhlcvRow } from './realData';

const rows5m = loadRows('BTC_USDT-5m.json');
const rows1h = loadRows('BTC_USDT-1h.json');
const rows1m = loadRows('BTC_USDT-1m.json');

function candle([openTime, open, high, low, close, volume]: OhlcvRow): Candle {
  return { openTime, open, high, low, close, volume };
}

// A real candle with open < close, high > close, low < open: 2020-12-01 00:15 (19566.71 → 19662.66).
const real = candle(rows5m[3]!);

describe('candleProblem on real data', () => {
  it('has a rising real candle to mutate', () => {
    expect(real.low < real.open && real.open < real.close && real.close < real.high).toBe(true);
  });

  it.each([
    ['BTC_USDT-5m', rows5m, '5m'],
    ['BTC_USDT-1h', rows1h, '1h'],
    ['BTC_USDT-1m', rows1m, '1m'],
  ] as const)('accepts every candle of %s', (_name, rows, timeframe) => {
    const validate = ohlcvValidator(timeframe);
    const problems = rows.map((r) => validate(...r)).filter((p) => p !== null);
    expect(problems).toEqual([]);
  });

  it.each([['BTC_USDT-5m.json', 28], ['ETH_USDT-5m.json', 28], ['BTC_USDT-1h.json', 2], ['ETH_USDT-1h.json', 2]] as const)(
    'accepts the %s flat zero-volume bars (%i of them)',
    (file, count) => {
      const flat = loadRows(file).filter(([, op, hi, lo, cl, vol]) => op === hi && hi === lo && lo === cl && vol === 0);
      expect(flat).toHaveLength(count);
      const timeframe = file.endsWith('1h.json') ? '1h' : '5m';
      for (const row of flat) expect(candleProblem(candle(row), timeframe)).toBeNull();
    },
  );
});

describe('candleProblem rejections', () => {
  const { open, high, low, close, volume, openTime } = real;
  it.each([
    ['close NaN', { close: Number.NaN }, `close NaN is not a finite number`],
    ['high Infinity', { high: Number.POSITIVE_INFINITY }, `high Infinity is not a finite number`],
    ['volume -Infinity', { volume: Number.NEGATIVE_INFINITY }, `volume -Infinity is not a finite number`],
    ['openTime NaN', { openTime: Number.NaN }, `openTime NaN is not a finite number`],
    ['high below open', { high: open - 1, close: open - 2 }, `high ${open - 1} is below max(open ${open}, close ${open - 2})`],
    ['high below close', { high: close - 1 }, `high ${close - 1} is below max(open ${open}, close ${close})`],
    ['low above open', { low: open + 1 }, `low ${open + 1} is above min(open ${open}, close ${close})`],
    ['low above close', { low: close - 1, close: close - 2, open: close }, `low ${close - 1} is above min(open ${close}, close ${close - 2})`],
    ['volume negative', { volume: -0.5 }, `volume -0.5 is negative`],
    ['open zero', { open: 0, low: 0 }, `open 0 is not positive; low 0 is not positive`],
    ['negative prices', { low: -1 }, `low -1 is not positive`],
    ['open time off the 5m grid', { openTime: openTime + 60_000 }, `openTime ${openTime + 60_000} (2020-12-01T00:16:00.000Z) is not aligned to the 5m timeframe (its candles open at multiples of 5m from 1970-01-01 00:00 UTC)`],
  ] as const)('%s', (_name, change, reason) => {
    expect(candleProblem({ ...real, ...change }, '5m')).toBe(reason);
  });

  it('reports high below low through both bounds', () => {
    const problem = candleProblem({ ...real, high: low, low: high }, '5m');
    expect(problem).toBe(
      `high ${low} is below max(open ${open}, close ${close}); low ${high} is above min(open ${open}, close ${close})`,
    );
  });

  it('reports every problem at once', () => {
    const problem = candleProblem({ openTime: openTime + 1, open, high: open - 1, low, close, volume: -volume }, '5m');
    expect(problem?.split('; ')).toEqual([
      `volume ${-volume} is negative`,
      `high ${open - 1} is below max(open ${open}, close ${close})`,
      `openTime ${openTime + 1} (2020-12-01T00:15:00.001Z) is not aligned to the 5m timeframe (its candles open at multiples of 5m from 1970-01-01 00:00 UTC)`,
    ]);
  });

  it('checks alignment against the given timeframe', () => {
    const minute = candle(rows1m.find(([t]) => t % 300_000 !== 0)!);
    expect(candleProblem(minute, '1m')).toBeNull();
    expect(candleProblem(minute, '5m')).toMatch(/is not aligned to the 5m timeframe \(its candles open at multiples of 5m/);
  });

  it('throws on an invalid timeframe', () => {
    expect(() => candleProblem(real, '5x')).toThrow(InvalidTimeframeError);
  });
});
