import { describe, expect, it } from 'vitest';
import { formatContinuityReport, verifyCandles } from '../../framework/pipeline/verify';
import { mulberry32 } from '../../framework/core/rng';
import { loadRows, shuffled, toBatch, type OhlcvRow } from './realData';

describe('verifyCandles on the real files', () => {
  it.each([
    ['BTC_USDT-5m.json', '5m', 65_741, 6, 177],
    ['ETH_USDT-5m.json', '5m', 65_742, 6, 177],
    ['BTC_USDT-1h.json', '1h', 5_482, 6, 11],
    ['ETH_USDT-1h.json', '1h', 5_482, 6, 11],
    ['BTC_USDT-1m.json', '1m', 42_915, 1, 284],
  ] as const)('%s: %i candles, %i gaps, %i missing', (file, timeframe, candles, gaps, missing) => {
    const rows = loadRows(file);
    const report = verifyCandles(toBatch(rows), timeframe);
    const length = { '1m': 60_000, '5m': 300_000, '1h': 3_600_000 }[timeframe];
    expect(report).toMatchObject({ ok: false, candles, duplicates: 0, unsorted: 0, invalid: 0, missing });
    expect(report.gaps).toHaveLength(gaps);
    expect(report.first).toBe(rows[0]![0]);
    expect(report.last).toBe(rows.at(-1)![0]);
    // Every slot between first and last is either a candle or counted missing.
    expect((report.last! - report.first!) / length + 1).toBe(candles + missing);
  });

  it('formats the BTC 5m report with counts, span and every gap', () => {
    const report = verifyCandles(toBatch(loadRows('BTC_USDT-5m.json')), '5m');
    expect(formatContinuityReport(report, 'binance BTC/USDT 5m')).toBe(
      [
        'binance BTC/USDT 5m: NOT OK (6 gaps)',
        '  candles:    65741',
        '  first:      2020-12-01T00:00:00.000Z',
        '  last:       2021-07-17T21:05:00.000Z',
        '  duplicates: 0',
        '  unsorted:   0',
        '  invalid:    0',
        '  gaps:       6 (177 missing candles; 0 known exchange outages)',
        '    - 46 candles missing from 2020-12-21T14:10:00.000Z to 2020-12-21T17:55:00.000Z',
        '    - 12 candles missing from 2020-12-25T02:00:00.000Z to 2020-12-25T02:55:00.000Z',
        '    - 15 candles missing from 2021-02-11T03:45:00.000Z to 2021-02-11T04:55:00.000Z',
        '    - 18 candles missing from 2021-03-06T02:00:00.000Z to 2021-03-06T03:25:00.000Z',
        '    - 30 candles missing from 2021-04-20T02:00:00.000Z to 2021-04-20T04:25:00.000Z',
        '    - 56 candles missing from 2021-04-25T04:05:00.000Z to 2021-04-25T08:40:00.000Z',
      ].join('\n'),
    );
  });
});

describe('verifyCandles on damaged data', () => {
  const rows = loadRows('BTC_USDT-5m.json').slice(10_000, 10_500);

  it('says OK for a continuous stretch', () => {
    const report = verifyCandles(toBatch(rows), '5m');
    expect(report.ok).toBe(true);
    expect(formatContinuityReport(report, 'slice').split('\n')[0]).toBe('slice: OK');
  });

  it('counts duplicates, unsorted and invalid rows, and lists the invalid ones', () => {
    const invalid: OhlcvRow = [rows[100]![0] + 1, 1, 1, 1, 1, 1];
    const damaged = [...shuffled(rows.slice(0, 50), mulberry32(1)), ...rows.slice(50), ...rows.slice(200, 210), invalid];
    let drops = 0;
    for (let i = 1; i < damaged.length - 1; i++) if (damaged[i]![0] < damaged[i - 1]![0]) drops++;
    const report = verifyCandles(toBatch(damaged), '5m', 'BTC_USDT-5m.json');
    expect(report).toMatchObject({
      ok: false,
      candles: 511,
      first: rows[0]![0],
      last: rows.at(-1)![0],
      duplicates: 10,
      unsorted: drops,
      invalid: 1,
      missing: 0,
    });
    const text = formatContinuityReport(report, 'damaged');
    expect(text.split('\n')[0]).toBe(`damaged: NOT OK (10 duplicates, ${drops} unsorted, 1 invalid)`);
    expect(text).toContain(
      `  invalid rows:\n    - BTC_USDT-5m.json row 510: openTime ${invalid[0]} (${new Date(invalid[0]).toISOString()}) is not aligned to the 5m timeframe (its candles open at multiples of 5m from 1970-01-01 00:00 UTC)`,
    );
  });

  it('reports an empty batch with no first or last candle', () => {
    const report = verifyCandles(toBatch([]), '5m');
    expect(report).toMatchObject({ ok: true, candles: 0, first: null, last: null, missing: 0 });
    expect(formatContinuityReport(report, 'empty')).toContain('  first:      -\n  last:       -');
  });
});
