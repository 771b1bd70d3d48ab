import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sourceCode } from '../../framework/core/candle';
import { listDatasets, listPartitions } from '../../framework/store/layout';
import { readDataset, readPartitionFile } from '../../framework/store/partitions';
import { batchRows, DATASETS, expectSameRows, groupResample, jsonRows } from './source-data';
import type { Row } from './source-data';

const FIVE_MIN = 300_000;
const FIFTEEN_MIN = 900_000;

const fifteenMinute = (file: string) => () => groupResample(jsonRows(file), FIVE_MIN, FIFTEEN_MIN);

/** What each shipped dataset must hold, computed from the source JSON without the framework. */
const SHIPPED: { symbol: string; timeframe: string; expected: () => Row[]; source: 'import' | 'resample' }[] = [
  { symbol: 'BTC/USDT', timeframe: '1m', expected: () => jsonRows('BTC_USDT-1m.json'), source: 'import' },
  { symbol: 'BTC/USDT', timeframe: '5m', expected: () => jsonRows('BTC_USDT-5m.json'), source: 'import' },
  { symbol: 'BTC/USDT', timeframe: '15m', expected: fifteenMinute('BTC_USDT-5m.json'), source: 'resample' },
  { symbol: 'BTC/USDT', timeframe: '1h', expected: () => jsonRows('BTC_USDT-1h.json'), source: 'import' },
  { symbol: 'ETH/USDT', timeframe: '5m', expected: () => jsonRows('ETH_USDT-5m.json'), source: 'import' },
  { symbol: 'ETH/USDT', timeframe: '15m', expected: fifteenMinute('ETH_USDT-5m.json'), source: 'resample' },
  { symbol: 'ETH/USDT', timeframe: '1h', expected: () => jsonRows('ETH_USDT-1h.json'), source: 'import' },
];

describe('shipped datasets', () => {
  it('are exactly the seven built from ../shared/data', () => {
    const found = listDatasets(DATASETS).map((s) => `${s.exchange} ${s.symbol} ${s.timeframe}`);
    expect(found).toEqual([
      'binance BTC/USDT 1m',
      'binance BTC/USDT 5m',
      'binance BTC/USDT 15m',
      'binance BTC/USDT 1h',
      'binance ETH/USDT 5m',
      'binance ETH/USDT 15m',
      'binance ETH/USDT 1h',
    ]);
  });

  for (const { symbol, timeframe, expected, source } of SHIPPED) {
    const subscription = { exchange: 'binance', symbol, timeframe };

    it(`${symbol} ${timeframe}: every partition file equals the source candles of its month, value for value`, () => {
      const rows = expected();
      const byMonth = new Map<string, Row[]>();
      for (const row of rows) {
        const month = new Date(row[0]).toISOString().slice(0, 7);
        const group = byMonth.get(month) ?? [];
        group.push(row);
        byMonth.set(month, group);
      }
      const dir = path.join(DATASETS, 'binance', symbol.replace('/', '_'), timeframe);
      expect(readdirSync(dir).sort()).toEqual([...byMonth.keys()].map((m) => `${m}.parquet`));
      for (const [month, monthRows] of byMonth) {
        const batch = readPartitionFile(path.join(dir, `${month}.parquet`));
        expect(batch.openTime.length).toBe(monthRows.length);
        expectSameRows(batchRows(batch), monthRows);
        expect(batch.source.every((s) => s === sourceCode(source))).toBe(true);
        expect(batch.receivedAt.every(Number.isNaN)).toBe(true);
      }
    });

    it(`${symbol} ${timeframe}: readDataset returns all ${timeframe} candles in order`, () => {
      const rows = expected();
      const batch = readDataset(DATASETS, subscription);
      expect(batch.openTime.length).toBe(rows.length);
      expectSameRows(batchRows(batch), rows);
      expect(listPartitions(DATASETS, subscription).length).toBeGreaterThan(0);
    });
  }

  it('15m datasets leave the incomplete 2020-12-21 14:00 bucket (maintenance after 14:05) out', () => {
    const btc = readDataset(DATASETS, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' });
    const times = Array.from(btc.openTime);
    expect(times).not.toContain(Date.parse('2020-12-21T14:00:00Z'));
    expect(times).toContain(Date.parse('2020-12-21T13:45:00Z'));
    expect(times).toContain(Date.parse('2020-12-21T18:00:00Z'));
  });
});
