import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidCandleError, InvalidTimestampError } from '../../framework/core/errors';
import { normalizeCandle, type RawCandle } from '../../framework/pipeline/normalize';
import { loadRows, utc, DATA_DIR } from './realData';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// The first real 5m BTC/USDT candle: 2020-12-01 00:00 UTC.
const [first] = loadRows('BTC_USDT-5m.json');
const [t0, o, h, l, c, v] = first!;
const base: RawCandle = { openTime: t0, open: o, high: h, low: l, close: c, volume: v };

function openTimeOf(openTime: RawCandle['openTime']): number {
  return normalizeCandle({ ...base, openTime }, 'import').openTime;
}

describe('normalizeCandle: open time', () => {
  // A zone-less ISO string must be read as UTC, not local time: run these under a non-UTC zone.
  const savedTz = process.env.TZ;
  beforeAll(() => {
    process.env.TZ = 'America/New_York';
  });
  afterAll(() => {
    if (savedTz === undefined) delete process.env.TZ;
    else process.env.TZ = savedTz;
  });

  it('is 2020-12-01 00:00 UTC in the data file', () => {
    expect(t0).toBe(utc(2020, 12, 1));
  });

  it('accepts epoch milliseconds', () => {
    expect(openTimeOf(1606780800000)).toBe(utc(2020, 12, 1));
  });

  it('accepts epoch seconds', () => {
    expect(openTimeOf(1606780800)).toBe(utc(2020, 12, 1));
    expect(openTimeOf(1606781100.0)).toBe(utc(2020, 12, 1, 0, 5));
  });

  it('accepts numeric strings of ms and of seconds', () => {
    expect(openTimeOf('1606780800000')).toBe(utc(2020, 12, 1));
    expect(openTimeOf('1606780800')).toBe(utc(2020, 12, 1));
  });

  it('accepts ISO 8601 with Z', () => {
    expect(openTimeOf('2020-12-01T00:05:00Z')).toBe(utc(2020, 12, 1, 0, 5));
    expect(openTimeOf('2020-12-01T00:05:00.000Z')).toBe(utc(2020, 12, 1, 0, 5));
  });

  it('accepts ISO 8601 with a +02:00 offset', () => {
    expect(openTimeOf('2020-12-01T02:05:00+02:00')).toBe(utc(2020, 12, 1, 0, 5));
    expect(openTimeOf('2020-11-30T22:05:00-02:00')).toBe(utc(2020, 12, 1, 0, 5));
  });

  it('reads ISO 8601 without a zone as UTC', () => {
    expect(new Date(2020, 11, 1, 0, 5).getTime()).not.toBe(utc(2020, 12, 1, 0, 5)); // the zone really is not UTC
    expect(openTimeOf('2020-12-01T00:05:00')).toBe(utc(2020, 12, 1, 0, 5));
    expect(openTimeOf('2020-12-01 00:05')).toBe(utc(2020, 12, 1, 0, 5));
  });

  it('reads a date-only string as midnight UTC', () => {
    expect(openTimeOf('2020-12-01')).toBe(utc(2020, 12, 1));
  });

  it('accepts a Date', () => {
    expect(openTimeOf(new Date(Date.UTC(2020, 11, 1, 0, 5)))).toBe(utc(2020, 12, 1, 0, 5));
  });

  it.each([['yesterday'], [''], ['2020-13-45T99:00:00Z'], [Number.NaN], [Number.POSITIVE_INFINITY], [new Date('nope')]])(
    'rejects %s with an InvalidTimestampError naming the field',
    (bad) => {
      expect(() => openTimeOf(bad)).toThrow(InvalidTimestampError);
      expect(() => openTimeOf(bad)).toThrow(/^openTime: invalid timestamp/);
    },
  );

  it('names the bad value', () => {
    expect(() => openTimeOf('yesterday')).toThrow('openTime: invalid timestamp "yesterday"');
  });
});

describe('normalizeCandle: OHLCV', () => {
  it('passes numbers through', () => {
    expect(normalizeCandle(base, 'import')).toEqual({
      openTime: t0,
      open: o,
      high: h,
      low: l,
      close: c,
      volume: v,
      source: 'import',
      receivedAt: null,
    });
  });

  it('converts numeric strings to numbers', () => {
    const candle = normalizeCandle(
      { openTime: t0, open: '19695.87000000', high: ' 19720 ', low: '1.957896e4', close: '+19607.03', volume: '.5' },
      'rest',
    );
    expect([candle.open, candle.high, candle.low, candle.close, candle.volume]).toEqual([
      19695.87, 19720, 19578.96, 19607.03, 0.5,
    ]);
  });

  it.each([
    ['open', '12abc'],
    ['high', ''],
    ['low', 'NaN'],
    ['close', '1,000.5'],
    ['volume', 'Infinity'],
    ['volume', null],
    ['open', undefined],
  ])('rejects %s = %j with an InvalidCandleError naming the field and value', (field, bad) => {
    const raw = { ...base, [field]: bad } as unknown as RawCandle;
    expect(() => normalizeCandle(raw, 'import')).toThrow(InvalidCandleError);
    expect(() => normalizeCandle(raw, 'import')).toThrow(`invalid ${field} ${JSON.stringify(bad) ?? 'undefined'}:`);
  });

  it('normalises every kline of a recorded Binance REST body (strings, ms)', () => {
    const klines = JSON.parse(readFileSync(join(DATA_DIR, 'http_spot_market_klines.json'), 'utf8')) as unknown[][];
    expect(klines).toHaveLength(10);
    for (const k of klines) {
      const raw = {
        openTime: k[0],
        open: k[1],
        high: k[2],
        low: k[3],
        close: k[4],
        volume: k[5],
      } as RawCandle;
      const candle = normalizeCandle(raw, 'rest');
      expect(candle.openTime).toBe(k[0]);
      expect(candle.openTime % 60_000).toBe(0);
      expect(candle.close).toBe(parseFloat(k[4] as string));
      expect(candle.volume).toBe(parseFloat(k[5] as string));
      expect(candle.source).toBe('rest');
    }
  });
});

describe('normalizeCandle: provenance', () => {
  it('uses the default source only when the candle has none', () => {
    expect(normalizeCandle(base, 'websocket').source).toBe('websocket');
    expect(normalizeCandle({ ...base, source: 'rest' }, 'websocket').source).toBe('rest');
  });

  it('normalises receivedAt, null when absent or null', () => {
    expect(normalizeCandle(base, 'import').receivedAt).toBeNull();
    expect(normalizeCandle({ ...base, receivedAt: null }, 'import').receivedAt).toBeNull();
    expect(normalizeCandle({ ...base, receivedAt: '2020-12-01T00:05:00.250Z' }, 'import').receivedAt).toBe(
      utc(2020, 12, 1, 0, 5) + 250,
    );
  });

  it('rejects a bad receivedAt naming the field', () => {
    expect(() => normalizeCandle({ ...base, receivedAt: 'soon' }, 'import')).toThrow(
      'receivedAt: invalid timestamp "soon"',
    );
  });

  it('rejects an unknown source', () => {
    const raw = { ...base, source: 'ftp' } as unknown as RawCandle;
    expect(() => normalizeCandle(raw, 'import')).toThrow(InvalidCandleError);
    expect(() => normalizeCandle(raw, 'import')).toThrow('invalid source "ftp"');
  });
});
