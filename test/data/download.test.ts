import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sourceCode } from '../../framework/core/candle';
import type { Subscription } from '../../framework/core/subscription';
import { DownloadError } from '../../framework/data/fetch-candles';
import { downloadCandles } from '../../framework/data/download';
import { connectCcxt, type ProBinance } from '../../framework/sim/ccxt-client';
import type { FaultConfig } from '../../framework/sim/config';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';
import { readDataset } from '../../framework/store/partitions';
import { BTC_5M, capturingLogger, plainGaps, rowsOf, slice } from './support';

const SUB: Subscription = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '5m' };
const TF = 5 * 60_000;
/** Exchange time at start: 2021-03-01 00:07 UTC, so the 00:05 candle is forming and 00:00 is the last closed one. */
const START = Date.UTC(2021, 2, 1, 0, 7);
const FORMING = Date.UTC(2021, 2, 1, 0, 5);
const SINCE = Date.UTC(2021, 1, 1);
/** Small waits between retries, so that a wait longer than this one was asked for by the exchange. */
const BACKOFF = { baseMs: 5, maxMs: 20 };

const scratch = mkdtempSync(path.join(tmpdir(), 'download-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let sim: Simulator | undefined;
let exchange: ProBinance | undefined;
let roots = 0;

/** The simulator playing the shipped BTC/USDT 5m dataset from START, and real ccxt (with its rate limiter) on it. */
async function connect(faults: FaultConfig = {}): Promise<ProBinance> {
  sim = await startSimulator({
    markets: [{ symbol: 'BTC/USDT', timeframe: '5m', candles: readDataset('datasets', SUB) }],
    startTime: START,
    speed: 0,
    faults,
  });
  exchange = connectCcxt(sim, { enableRateLimit: true });
  return exchange;
}

function freshRoot(): string {
  return path.join(scratch, `root-${++roots}`);
}

afterEach(async () => {
  await exchange?.close();
  await sim?.stop();
  exchange = undefined;
  sim = undefined;
});

describe('downloadCandles on the simulator', () => {
  it('stores exactly the closed candles of the range, from REST, in monthly partitions', async () => {
    const ex = await connect();
    const root = freshRoot();
    const before = Date.now();
    const result = await downloadCandles({ exchange: ex, subscription: SUB, root, since: SINCE });
    const after = Date.now();

    const expected = slice(BTC_5M, SINCE, FORMING);
    const stored = readDataset(root, SUB);
    expect(rowsOf(stored)).toEqual(expected);
    expect(expected.at(-1)!.openTime).toBe(FORMING - TF); // the forming candle is not stored
    expect(stored.source.every((s) => s === sourceCode('rest'))).toBe(true);
    expect(stored.receivedAt.every((r) => r >= before && r <= after)).toBe(true);
    expect(readdirSync(path.join(root, 'binance', 'BTC_USDT', '5m')).sort()).toEqual(['2021-02.parquet', '2021-03.parquet']);

    const gaps = plainGaps(expected.map((c) => c.openTime), TF);
    expect(gaps.length).toBeGreaterThan(0); // 2021-02-11 maintenance
    expect(result.gaps.map((g) => [g.start, g.end, g.missing])).toEqual(gaps);
    expect(result).toMatchObject({
      complete: true,
      stored: expected.length,
      first: SINCE,
      last: FORMING - TF,
      from: SINCE,
      to: FORMING,
      reached: FORMING,
      resumedAfter: null,
      rejected: 0,
      pages: Math.ceil(expected.length / 1000),
    });
  });

  it('resumes an interrupted download after its last stored candle: no gap, no duplicate, stored rows untouched', async () => {
    const ex = await connect();
    const root = freshRoot();
    const abort = new AbortController();
    const first = await downloadCandles({
      exchange: ex,
      subscription: SUB,
      root,
      since: SINCE,
      pageLimit: 500,
      signal: abort.signal,
      onProgress: (p) => p.pages === 3 && abort.abort(),
    });
    expect(first.complete).toBe(false);
    expect(first.pages).toBe(3);
    const partial = readDataset(root, SUB);
    expect(rowsOf(partial)).toEqual(slice(BTC_5M, SINCE, FORMING).slice(0, 1500));

    const second = await downloadCandles({ exchange: ex, subscription: SUB, root });
    expect(second.complete).toBe(true);
    expect(second.resumedAfter).toBe(first.last);
    const full = readDataset(root, SUB);
    expect(rowsOf(full)).toEqual(slice(BTC_5M, SINCE, FORMING));
    // The rows stored by the interrupted run keep their values and provenance.
    expect(Array.from(full.receivedAt.subarray(0, 1500))).toEqual(Array.from(partial.receivedAt));

    // Two hours later on the exchange: the candle that was forming is closed now and comes next.
    sim!.advanceTo(START + 2 * 3_600_000);
    const third = await downloadCandles({ exchange: ex, subscription: SUB, root });
    expect(third.first).toBe(FORMING);
    expect(third.stored).toBe(24);
    expect(rowsOf(readDataset(root, SUB))).toEqual(slice(BTC_5M, SINCE, FORMING + 24 * TF));

    const upToDate = await downloadCandles({ exchange: ex, subscription: SUB, root });
    expect(upToDate).toMatchObject({ stored: 0, pages: 0, complete: true });
  });

  it('retries REST 500 with backoff and waits out a 429 for its Retry-After', async () => {
    const ex = await connect({ rest500: { nth: [3, 4] }, rest429: { nth: [6], retryAfterSec: 1 } });
    const root = freshRoot();
    const { logger, records } = capturingLogger();
    const result = await downloadCandles({ exchange: ex, subscription: SUB, root, since: SINCE, logger, backoff: BACKOFF });

    expect(rowsOf(readDataset(root, SUB))).toEqual(slice(BTC_5M, SINCE, FORMING));
    expect(sim!.stats.faults.rest500).toBe(2);
    expect(sim!.stats.faults.rest429).toBe(1);
    expect(result.retries).toBe(3);
    expect(result.rateLimitWaits).toBe(1);
    const retried = records.filter((r) => String(r['msg']).endsWith('failed; retrying'));
    expect(retried.map((r) => r['retryAfterMs'])).toEqual([null, null, 1000]);
    expect(retried[2]!['waitMs']).toBeGreaterThanOrEqual(1000);
  });

  it('does not fetch before the first stored candle and never rewrites stored candles', async () => {
    const ex = await connect();
    const root = freshRoot();
    const laterStart = Date.UTC(2021, 1, 20);
    await downloadCandles({ exchange: ex, subscription: SUB, root, since: laterStart, until: Date.UTC(2021, 1, 25) });
    const before = readDataset(root, SUB);
    const { logger, records } = capturingLogger();
    const result = await downloadCandles({ exchange: ex, subscription: SUB, root, since: SINCE, logger });
    expect(result.from).toBe(Date.UTC(2021, 1, 25));
    expect(records.some((r) => r['level'] === 40 && String(r['msg']).includes('extended forward only'))).toBe(true);
    const after = readDataset(root, SUB);
    expect(rowsOf(after)).toEqual(slice(BTC_5M, laterStart, FORMING));
    expect(Array.from(after.receivedAt.subarray(0, before.openTime.length))).toEqual(Array.from(before.receivedAt));
  });

  it('fails with a DownloadError, storing nothing, for an unknown market or a new dataset without since', async () => {
    const ex = await connect();
    const root = freshRoot();
    await expect(downloadCandles({ exchange: ex, subscription: { ...SUB, symbol: 'ETH/USDT' }, root, since: SINCE })).rejects.toThrow(
      /binance ETH\/USDT 5m: the exchange binance has no market ETH\/USDT/,
    );
    await expect(downloadCandles({ exchange: ex, subscription: SUB, root })).rejects.toBeInstanceOf(DownloadError);
    await expect(downloadCandles({ exchange: ex, subscription: { ...SUB, timeframe: '2m' }, root, since: SINCE })).rejects.toThrow(
      /fetchOHLCV binance BTC\/USDT 2m from 2021-02-01T00:00:00.000Z failed/,
    );
    expect(() => readdirSync(root)).toThrow(/ENOENT/);
  });
});
