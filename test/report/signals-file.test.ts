import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { CorruptDataError, FrameworkError } from '../../framework/core/errors';
import { runBacktest } from '../../framework/engine/backtest';
import { readJournal, signalLine } from '../../framework/report/journal';
import { jsonNumbers } from '../../framework/report/json-lines';
import type { SignalRecord } from '../../framework/report/run-summary';
import { readSignalsFile, SIGNALS_FILE, writeSignalsFile } from '../../framework/report/signals-file';
import { SignalJournal } from '../../framework/report/signal-journal';

const root = mkdtempSync(join(tmpdir(), 'signals-file-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The record as JSON.stringify writes it with `openTimeIso` inserted after `openTime` (the documented line format). */
function stringified(record: SignalRecord): string {
  const { strategy, subscription, openTime, ...rest } = record;
  const withIso = { strategy, subscription, openTime, openTimeIso: new Date(openTime).toISOString(), ...rest };
  return JSON.stringify(withIso, jsonNumbers);
}

describe('the signal journal of a real MACD backtest (BTC/USDT 15m)', async () => {
  const result = await runBacktest({ file: 'strategies/macd.ts', runsRoot: join(root, 'runs') });
  const signals = result.engine.signals;
  const path = join(result.dir, SIGNALS_FILE);

  it('is signals.parquet, and reads back as exactly the records the engine journaled', () => {
    expect(result.files.signals).toBe(path);
    expect(existsSync(join(result.dir, 'signals.jsonl'))).toBe(false);
    // Some signals were not acted on (a reason is kept), and the MACD columns are NaN during their look-back.
    expect(signals.some((s) => !s.acted && s.reason !== undefined)).toBe(true);
    expect(signals.length).toBeGreaterThan(1_000);
    expect(readSignalsFile(path)).toEqual(signals);
    expect(readJournal(result.dir).signals).toEqual(signals);
  });

  it('is plain Parquet: one row per signal, the frame columns as a struct, readable without the framework', () => {
    const table = tableFromIPC(readParquet(readFileSync(path)).intoIPCStream());
    expect(table.numRows).toBe(signals.length);
    expect(table.schema.fields.map((f) => f.name)).toEqual([
      'open_time', 'action', 'size_fraction', 'size_quote', 'stop_loss', 'take_profit', 'tag', 'acted', 'reason',
      'source', 'received_at', 'indicators',
    ]);
    const row = table.get(signals.length - 1)!.toJSON() as Record<string, unknown>;
    const last = signals.at(-1)!;
    expect(Number(row['open_time'])).toBe(last.openTime);
    expect(row['action']).toBe(last.action);
    expect(row['tag']).toBe(last.signal.tag);
    expect((row['indicators'] as { toJSON(): unknown }).toJSON()).toEqual(last.indicators);
    expect(JSON.parse(table.schema.metadata.get('strategy')!)).toEqual(result.engine.identity);
  });

  it("gives a live run's signals.jsonl lines: each exactly JSON.stringify of the record with openTimeIso", () => {
    for (const record of signals.slice(0, 2_000)) expect(signalLine(record)).toBe(stringified(record));
  });
});

describe('writeSignalsFile', () => {
  const base: SignalRecord = {
    strategy: { name: 's', parameters: { n: 3 }, parametersHash: 'h' },
    subscription: { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' },
    openTime: 3_600_000,
    provenance: { source: 'websocket', receivedAt: 7_200_250 },
    action: 'enter_short',
    signal: { action: 'enter_short', size: { quote: 250 }, stopLoss: 0.02, takeProfit: 0.5, tag: 'dé-jà' },
    candle: { openTime: 3_600_000, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10 },
    indicators: { open_time: 3_600_000, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10, x: Number.NEGATIVE_INFINITY },
    acted: false,
    reason: 'warm-up: candle 1 of 5',
  };

  it('round-trips every field of a signal, non-ASCII tags and non-finite values', () => {
    const path = join(root, 'all-fields.parquet');
    const second: SignalRecord = { ...base, openTime: 7_200_000, action: 'exit_short', signal: { action: 'exit_short', size: { fraction: 0.5 } }, acted: true };
    const { reason: _, ...acted } = second;
    writeSignalsFile(path, SignalJournal.of([base, acted]));
    expect(readSignalsFile(path)).toEqual([base, acted]);
  });

  it('refuses a record whose candle is not its frame row, or an existing file, leaving nothing behind', () => {
    const path = join(root, 'bad.parquet');
    const bad = { ...base, candle: { ...base.candle, close: 1.6 } };
    expect(() => writeSignalsFile(path, SignalJournal.of([base, bad]))).toThrow(/bad\.parquet: the candle of signal 1 is not the open_time and OHLCV/);
    expect(existsSync(path)).toBe(false);
    writeFileSync(path, 'kept');
    expect(() => writeSignalsFile(path, SignalJournal.of([base]))).toThrow(FrameworkError);
    expect(readFileSync(path, 'utf8')).toBe('kept');
  });

  it('names a file that is not a signal journal', () => {
    const candles = join(import.meta.dirname, '../../datasets/binance/BTC_USDT/1h/2021-01.parquet');
    expect(() => readSignalsFile(candles)).toThrow(CorruptDataError);
    expect(() => readSignalsFile(candles)).toThrow(/2021-01\.parquet: not a signal journal/);
  });
});
