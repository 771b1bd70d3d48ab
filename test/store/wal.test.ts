/**
 * The write-ahead log and the live store, in process, on real BTC/USDT candles from ../shared/data. Expected values
 * come from the JSON files read here; the log format is checked line by line with zlib's CRC-32 and JSON.parse.
 * Crashes with a real SIGKILL are in crash.test.ts.
 */
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { CANDLE_SOURCES } from '../../framework/core/candle';
import type { Candle, CandleBatch, CandleSource, StoredCandle } from '../../framework/core/candle';
import { InvalidCandleError } from '../../framework/core/errors';
import { InvalidCompactionPolicyError, LiveCandleStore } from '../../framework/store/live-store';
import { readDataset } from '../../framework/store/partitions';
import { readWalFile, WriteAheadLog, WriteAheadLogError } from '../../framework/store/wal';
import type { WalEvent } from '../../framework/store/wal';
import { loadJsonCandles } from '../support/shared-data';

const SUBSCRIPTION = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '5m' };
const FIVE_MIN = 300_000;
const ROWS_5M = loadJsonCandles('BTC_USDT-5m.json');
/** Row of 2020-12-31 00:00 UTC, so that a few hundred candles from it span December and January. */
const NEW_YEAR_EVE = ROWS_5M.findIndex((r) => r.openTime === Date.UTC(2020, 11, 31));

let root = '';
afterEach(() => {
  if (root !== '') rmSync(root, { recursive: true, force: true });
});

function tempRoot(): string {
  root = mkdtempSync(path.join(tmpdir(), 'wal-test-'));
  return root;
}

function dir(r: string): string {
  return path.join(r, 'binance', 'BTC_USDT', '5m');
}

/** Rows `from..from+count` of the 5m file as candles closed on the WebSocket, received 1 s + i ms after closing. */
function live(from: number, count: number, source: CandleSource = 'websocket'): StoredCandle[] {
  return ROWS_5M.slice(from, from + count).map((row, i) => ({ ...row, source, receivedAt: row.openTime + FIVE_MIN + 1000 + i }));
}

/** A batch as plain rows `[t, o, h, l, c, v, source, receivedAt]`, for comparisons. */
function batchRows(batch: CandleBatch): unknown[][] {
  return Array.from(batch.openTime, (t, i) => [
    t,
    batch.open[i],
    batch.high[i],
    batch.low[i],
    batch.close[i],
    batch.volume[i],
    CANDLE_SOURCES[batch.source[i]!],
    Number.isNaN(batch.receivedAt[i]) ? null : batch.receivedAt[i],
  ]);
}

function candleRows(candles: readonly StoredCandle[]): unknown[][] {
  return candles.map((c) => [c.openTime, c.open, c.high, c.low, c.close, c.volume, c.source, c.receivedAt]);
}

/** The log's lines (without `\n`), and the byte offset of each. */
function logLines(file: string): { text: string; offset: number }[] {
  const lines: { text: string; offset: number }[] = [];
  let offset = 0;
  for (const text of readFileSync(file, 'latin1').split('\n').slice(0, -1)) {
    lines.push({ text, offset });
    offset += text.length + 1;
  }
  return lines;
}

describe('WriteAheadLog', () => {
  it('round trip: every appended candle is in the log, one checksummed JSON line each, and reads back equal', async () => {
    const r = tempRoot();
    const candles = [...live(0, 300), ...live(300, 700, 'rest')];
    const wal = WriteAheadLog.open(r, SUBSCRIPTION);
    for (const c of candles.slice(0, 300)) await wal.append(c);
    for (let i = 300; i < candles.length; i += 100) await wal.append(candles.slice(i, i + 100));
    expect(wal.candlesInLog).toBe(1000);
    expect(wal.replay()).toEqual({ candles, problems: [] });

    const lines = logLines(wal.path);
    expect(lines).toHaveLength(candles.length);
    lines.forEach(({ text }, i) => {
      const [crc, json] = [text.slice(0, 8), text.slice(9)];
      expect(Number.parseInt(crc, 16)).toBe(crc32(json));
      expect(JSON.parse(json)).toEqual(candleRows([candles[i]!])[0]);
    });
    await wal.close();

    const reopened = WriteAheadLog.open(r, SUBSCRIPTION);
    expect(reopened.recovery).toEqual({ candles: 1000, problems: [], keptAs: [] });
    expect(reopened.replay().candles).toEqual(candles);
    await reopened.close();
  });

  it('writes the line documented in wal.ts for the first candle of the 5m file', async () => {
    const r = tempRoot();
    const wal = WriteAheadLog.open(r, SUBSCRIPTION);
    await wal.append({ ...ROWS_5M[0]!, source: 'websocket', receivedAt: 1606781100123 });
    await wal.close();
    expect(readFileSync(wal.path, 'latin1')).toBe(
      '2f709dd4 [1606780800000,19695.87,19720,19578.96,19607.03,794.500517,"websocket",1606781100123]\n',
    );
  });

  it('compact moves the log into the monthly partitions, with provenance, and empties the log', async () => {
    const r = tempRoot();
    const candles = live(NEW_YEAR_EVE, 600);
    const wal = WriteAheadLog.open(r, SUBSCRIPTION);
    await wal.append(candles);
    const result = await wal.compact();
    expect(result).toEqual({
      candles: 600,
      partitions: [path.join(dir(r), '2020-12.parquet'), path.join(dir(r), '2021-01.parquet')],
      problems: [],
      keptAs: [],
    });
    expect(batchRows(readDataset(r, SUBSCRIPTION))).toEqual(candleRows(candles));
    expect(wal.replay().candles).toEqual([]);
    expect(statSync(wal.path).size).toBe(0);
    // The open log holds the dataset's writer lock (store/writer-lock.ts) until it is closed.
    expect(readdirSync(dir(r)).sort()).toEqual(['2020-12.parquet', '2021-01.parquet', 'wal.log', `writer-${process.pid}.lock`]);
    expect(await wal.compact()).toEqual({ candles: 0, partitions: [], problems: [], keptAs: [] });
    await wal.close();
    expect(readdirSync(dir(r)).sort()).toEqual(['2020-12.parquet', '2021-01.parquet', 'wal.log']);
  });

  it('a torn last record is ignored, and the log holding it is set aside unchanged', async () => {
    const r = tempRoot();
    const candles = live(0, 50);
    const wal = WriteAheadLog.open(r, SUBSCRIPTION);
    await wal.append(candles);
    await wal.close();
    const complete = statSync(wal.path).size;
    // The start of the next record, as a write cut short by a crash leaves it.
    const next = JSON.stringify(candleRows(live(50, 1))[0]);
    const torn = `${crc32(next).toString(16).padStart(8, '0')} ${next}`.slice(0, 40);
    appendFileSync(wal.path, torn);
    const original = readFileSync(wal.path);

    expect(readWalFile(wal.path, '5m')).toEqual({
      candles,
      problems: [{ file: wal.path, kind: 'torn', offset: complete, length: 40, reason: 'incomplete record (no newline)' }],
    });

    const reopened = WriteAheadLog.open(r, SUBSCRIPTION);
    expect(reopened.recovery.candles).toBe(50);
    expect(reopened.recovery.problems.map((p) => [p.kind, p.offset])).toEqual([['torn', complete]]);
    const [kept] = reopened.recovery.keptAs;
    expect(path.basename(kept!)).toMatch(/^wal\.log\.torn-\d+$/);
    expect(readFileSync(kept!).equals(original)).toBe(true);
    expect(batchRows(readDataset(r, SUBSCRIPTION))).toEqual(candleRows(candles));
    expect(statSync(reopened.path).size).toBe(0);
    await reopened.close();
  });

  it('a corrupted middle record is reported with its byte offset, the rest is kept, the file set aside unchanged', async () => {
    const r = tempRoot();
    const candles = live(0, 50);
    const wal = WriteAheadLog.open(r, SUBSCRIPTION);
    await wal.append(candles);
    await wal.close();
    const line = logLines(wal.path)[20]!;
    // One digit of the close price changes, as a flipped bit on disk would do.
    const bytes = readFileSync(wal.path);
    const at = line.offset + line.text.indexOf(String(candles[20]!.close)) + 1;
    bytes[at] = bytes[at] === 0x31 ? 0x32 : 0x31;
    writeFileSync(wal.path, bytes);

    const expected = candles.filter((_, i) => i !== 20);
    expect(readWalFile(wal.path, '5m')).toEqual({
      candles: expected,
      problems: [{ file: wal.path, kind: 'corrupt', offset: line.offset, length: line.text.length + 1, reason: 'checksum mismatch' }],
    });

    const reopened = WriteAheadLog.open(r, SUBSCRIPTION);
    expect(reopened.recovery.problems.map((p) => [p.kind, p.offset])).toEqual([['corrupt', line.offset]]);
    const [kept] = reopened.recovery.keptAs;
    expect(path.basename(kept!)).toMatch(/^wal\.log\.corrupt-\d+$/);
    expect(readFileSync(kept!).equals(bytes)).toBe(true);
    expect(batchRows(readDataset(r, SUBSCRIPTION))).toEqual(candleRows(expected));
    await reopened.close();
  });

  it('group commit: appends of one turn share one fsync; concurrent appends resolve only once synced, all in order', async () => {
    const r = tempRoot();
    const synced: number[] = [];
    const wal = WriteAheadLog.open(r, SUBSCRIPTION, { onEvent: (e) => e.type === 'synced' && synced.push(e.candles) });
    const candles = live(0, 3000);

    await Promise.all(candles.slice(0, 1000).map((c) => wal.append(c)));
    expect(synced).toEqual([1000]);

    // 50 writers, each appending its next candle as soon as the previous one is acknowledged.
    let issued = 1000;
    const early: number[] = [];
    const writer = async (): Promise<void> => {
      while (issued < candles.length) {
        const position = issued++;
        await wal.append(candles[position]!);
        const durable = synced.reduce((a, b) => a + b, 0);
        if (durable <= position) early.push(position);
      }
    };
    await Promise.all(Array.from({ length: 50 }, writer));
    expect(early).toEqual([]);
    expect(synced.reduce((a, b) => a + b, 0)).toBe(3000);
    expect(synced.length).toBeLessThan(1 + 2000);
    expect(wal.replay().candles).toEqual(candles);
    await wal.close();
  });

  it('refuses invalid candles, naming the problem, and writes none of the call', async () => {
    const r = tempRoot();
    const wal = WriteAheadLog.open(r, SUBSCRIPTION);
    const [good, next] = live(0, 2) as [StoredCandle, StoredCandle];
    const bad: [StoredCandle, RegExp][] = [
      [{ ...next, openTime: next.openTime + 60_000 }, /candle 1: openTime .* is not aligned to the 5m timeframe/],
      [{ ...next, high: next.low - 1 }, /candle 1: high/],
      [{ ...next, volume: Number.NaN }, /candle 1: volume NaN/],
      [{ ...next, source: 'telegraph' as CandleSource }, /candle 1: source "telegraph"/],
      [{ ...next, receivedAt: 1.5 }, /candle 1: receivedAt 1.5/],
    ];
    for (const [candle, message] of bad) {
      const failure = wal.append([good, candle]);
      await expect(failure).rejects.toThrow(InvalidCandleError);
      await expect(failure).rejects.toThrow(message);
    }
    expect(statSync(wal.path).size).toBe(0);
    await wal.close();
    await expect(wal.append(good)).rejects.toThrow(WriteAheadLogError);
  });

  it('open compacts a leftover wal.log.compacting again without duplicating a candle', async () => {
    const r = tempRoot();
    const candles = live(NEW_YEAR_EVE, 400);
    const wal = WriteAheadLog.open(r, SUBSCRIPTION);
    await wal.append(candles);
    // As if the process died after writing the partitions but before deleting the compacted log.
    const leftover = path.join(dir(r), 'wal.log.compacting');
    copyFileSync(wal.path, `${leftover}.copy`);
    await wal.compact();
    await wal.close();
    copyFileSync(`${leftover}.copy`, leftover);
    rmSync(`${leftover}.copy`);

    const reopened = WriteAheadLog.open(r, SUBSCRIPTION);
    expect(reopened.recovery).toEqual({ candles: 400, problems: [], keptAs: [] });
    expect(existsSync(leftover)).toBe(false);
    expect(batchRows(readDataset(r, SUBSCRIPTION))).toEqual(candleRows(candles));
    await reopened.close();
  });
});

describe('LiveCandleStore', () => {
  it('readAll merges the partitions and the log, the latest version of a candle winning (a real exchange revision)', async () => {
    const r = tempRoot();
    const events: WalEvent['type'][] = [];
    const store = LiveCandleStore.open(r, SUBSCRIPTION, { onEvent: (e) => events.push(e.type) });
    // 2021-04-22 02:00–02:55: Binance revised 02:10–02:20 after the 5m file was downloaded (see SOURCES.md); the
    // later 1m file, rolled up here, has the revised values.
    const from = ROWS_5M.findIndex((row) => row.openTime === Date.UTC(2021, 3, 22, 2));
    const first = live(from, 12);
    await store.append(first);
    await store.compact();
    const revised = [Date.UTC(2021, 3, 22, 2, 10), Date.UTC(2021, 3, 22, 2, 15), Date.UTC(2021, 3, 22, 2, 20)].map(
      (t): StoredCandle => ({ ...rollUp1m(t), source: 'rest', receivedAt: Date.UTC(2021, 3, 22, 9) }),
    );
    expect(revised.map((c) => c.volume)).not.toEqual(first.slice(2, 5).map((c) => c.volume));
    await store.append(revised);

    const expected = [...first.slice(0, 2), ...revised, ...first.slice(5)];
    expect(batchRows(store.readAll())).toEqual(candleRows(expected));
    const range = { from: Date.UTC(2021, 3, 22, 2, 15), to: Date.UTC(2021, 3, 22, 2, 30) };
    expect(batchRows(store.readAll(range))).toEqual(candleRows(expected.slice(3, 6)));
    await store.close();
    expect(events.filter((e) => e === 'compacted')).toHaveLength(2);
    expect(batchRows(readDataset(r, SUBSCRIPTION))).toEqual(candleRows(expected));
  });

  it('compactEvery compacts on its own after n candles and every ms; close compacts the rest', async () => {
    const r = tempRoot();
    let total = 0;
    let waiting: { atLeast: number; resolve: () => void } | null = null;
    /** Resolves once compactions have moved at least `atLeast` candles (times out if they never do). */
    const compactedAtLeast = (atLeast: number): Promise<void> =>
      new Promise((resolve) => {
        waiting = { atLeast, resolve };
        if (total >= atLeast) resolve();
      });
    const store = LiveCandleStore.open(r, SUBSCRIPTION, {
      onEvent: (e) => {
        if (e.type !== 'compacted') return;
        total += e.candles;
        if (waiting !== null && total >= waiting.atLeast) waiting.resolve();
      },
    });
    expect(() => store.compactEvery({ candles: 0 })).toThrow(InvalidCompactionPolicyError);
    expect(() => store.compactEvery({ ms: 1.5 })).toThrow(/ms is 1.5, expected a positive integer/);

    const candles = live(NEW_YEAR_EVE, 1200);
    store.compactEvery({ candles: 250 });
    for (let i = 0; i < 600; i += 10) await store.append(candles.slice(i, i + 10));
    await compactedAtLeast(250);

    // Only the timer is left to compact the next 300.
    store.compactEvery({ ms: 20 });
    await store.append(candles.slice(600, 900));
    await compactedAtLeast(900);

    await store.append(candles.slice(900));
    await store.close();
    expect(total).toBe(1200);
    expect(batchRows(readDataset(r, SUBSCRIPTION))).toEqual(candleRows(candles));
    expect(statSync(path.join(dir(r), 'wal.log')).size).toBe(0);
    await expect(store.append(candles[0]!)).rejects.toThrow(WriteAheadLogError);
  });
});

/** The 5m candle opening at `t`, aggregated from the five 1m candles of the 1m file. */
function rollUp1m(t: number): Candle {
  const minutes = loadJsonCandles('BTC_USDT-1m.json').filter((c) => c.openTime >= t && c.openTime < t + FIVE_MIN);
  expect(minutes).toHaveLength(5);
  return {
    openTime: t,
    open: minutes[0]!.open,
    high: Math.max(...minutes.map((c) => c.high)),
    low: Math.min(...minutes.map((c) => c.low)),
    close: minutes[4]!.close,
    volume: minutes.reduce((sum, c) => sum + c.volume, 0),
  };
}
