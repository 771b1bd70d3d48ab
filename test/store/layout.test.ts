import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidTimeframeError, InvalidTimestampError } from '../../framework/core/errors';
import {
  datasetDir,
  folderToSymbol,
  InvalidSubscriptionError,
  listDatasets,
  listPartitions,
  monthOf,
  monthRange,
  partitionPath,
  symbolToFolder,
} from '../../framework/store/layout';
import { DATASETS, tempDir } from './source-data';

const BTC_15M = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' };

describe('store layout', () => {
  it('places a month of a dataset at <root>/<exchange>/<BASE>_<QUOTE>/<timeframe>/<YYYY-MM>.parquet', () => {
    expect(datasetDir('datasets', BTC_15M)).toBe('datasets/binance/BTC_USDT/15m');
    expect(partitionPath('datasets', BTC_15M, '2021-01')).toBe('datasets/binance/BTC_USDT/15m/2021-01.parquet');
    expect(symbolToFolder('ETH/USDT')).toBe('ETH_USDT');
    expect(folderToSymbol('ETH_USDT')).toBe('ETH/USDT');
    expect(folderToSymbol('notes')).toBeUndefined();
  });

  it('names the UTC calendar month of an open time, including at month boundaries', () => {
    expect(monthOf(Date.UTC(2021, 0, 1))).toBe('2021-01');
    expect(monthOf(Date.UTC(2021, 0, 31, 23, 59))).toBe('2021-01');
    expect(monthOf(Date.UTC(2021, 1, 1))).toBe('2021-02');
    expect(monthOf(Date.UTC(2020, 11, 31, 23, 55))).toBe('2020-12');
    expect(monthRange('2020-12')).toEqual({ start: Date.UTC(2020, 11, 1), end: Date.UTC(2021, 0, 1) });
    expect(() => monthOf(Number.NaN)).toThrow(InvalidTimestampError);
    expect(() => monthRange('2021-13')).toThrow(InvalidTimestampError);
  });

  it('rejects names that cannot map to exactly one folder', () => {
    expect(() => datasetDir('datasets', { ...BTC_15M, symbol: 'BTCUSDT' })).toThrow(InvalidSubscriptionError);
    expect(() => datasetDir('datasets', { ...BTC_15M, symbol: 'BTC_X/USDT' })).toThrow(/invalid symbol "BTC_X\/USDT"/);
    expect(() => datasetDir('datasets', { ...BTC_15M, symbol: '../USDT' })).toThrow(InvalidSubscriptionError);
    expect(() => datasetDir('datasets', { ...BTC_15M, exchange: '../binance' })).toThrow(/invalid exchange id/);
    expect(() => datasetDir('datasets', { ...BTC_15M, timeframe: '15 minutes' })).toThrow(InvalidTimeframeError);
    expect(() => partitionPath('datasets', BTC_15M, '2021-1')).toThrow(InvalidTimestampError);
  });

  it('lists the partitions of a shipped dataset in month order', () => {
    const names = listPartitions(DATASETS, BTC_15M).map((p) => path.basename(p));
    expect(names).toEqual(['2020-12', '2021-01', '2021-02', '2021-03', '2021-04', '2021-05', '2021-06', '2021-07'].map((m) => `${m}.parquet`));
    expect(listPartitions(DATASETS, { ...BTC_15M, timeframe: '4h' })).toEqual([]);
  });

  it('finds datasets by walking the tree, skipping folders and files that do not fit the layout', () => {
    const root = tempDir('layout-');
    const mk = (rel: string, file?: string) => {
      mkdirSync(path.join(root, rel), { recursive: true });
      if (file !== undefined) writeFileSync(path.join(root, rel, file), '');
    };
    mk('binance/BTC_USDT/1h', '2021-01.parquet');
    mk('binance/BTC_USDT/5m', '2021-02.parquet');
    mk('binance/BTC_USDT/4h', '.2021-01.parquet.123.tmp');
    mk('binance/BTC_USDT/15 minutes', '2021-01.parquet');
    mk('binance/BTCUSDT/1h', '2021-01.parquet');
    mk('kraken/ETH_EUR/1d', '2021-03.parquet');
    mk('kraken/ETH_EUR/1w');
    expect(listDatasets(root)).toEqual([
      { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '5m' },
      { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' },
      { exchange: 'kraken', symbol: 'ETH/EUR', timeframe: '1d' },
    ]);
    expect(listDatasets(path.join(root, 'missing'))).toEqual([]);
  });
});
