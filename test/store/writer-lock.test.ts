/**
 * One process writes a dataset at a time (framework/store/writer-lock.ts), with real processes: a live run on the
 * simulator holds its store's dataset; a second live run on the same store, and a partition write from this process,
 * fail with one line naming it and write nothing; once the first is SIGKILLed, its lock is stale and the next run
 * takes the dataset over at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batchFromCandles } from '../../framework/core/candle';
import { readDataset, writeCandles } from '../../framework/store/partitions';
import { DatasetLockedError } from '../../framework/store/writer-lock';
import { runCli } from '../support/cli';

const scratch = mkdtempSync(path.join(tmpdir(), 'writer-lock-'));
const STORE = path.join(scratch, 'live-data');
const SUBSCRIPTION = { exchange: 'sim', symbol: 'BTC/USDT', timeframe: '15m' } as const;
const DATASET = path.join(STORE, 'sim', 'BTC_USDT', '15m');
const LIVE = ['strategies/macd.ts', '--exchange', 'sim', '--store', STORE];

let first: ChildProcess | null = null;
afterAll(() => {
  first?.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

const lockFiles = (): string[] => (existsSync(DATASET) ? readdirSync(DATASET).filter((name) => name.endsWith('.lock')) : []);
const runFolders = (runs: string): string[] => (existsSync(runs) ? readdirSync(runs) : []);

/** A 2021-01-01 candle no live run here writes (its history starts in May 2021), with a volume to recognise it by. */
const MARKER = { openTime: Date.UTC(2021, 0, 1), open: 1, high: 1, low: 1, close: 1, volume: 4242.42, source: 'import', receivedAt: null } as const;
const markerStored = (): boolean =>
  readDataset(STORE, SUBSCRIPTION, { from: MARKER.openTime, to: MARKER.openTime + 1 }).volume.includes(MARKER.volume);

async function waitFor(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 150_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('one writer per dataset', () => {
  it('refuses a second live run and a partition write while a live run holds the store, naming it, writing nothing', async () => {
    // 1.5 s of real time per 15m candle: the first run is still live when the second starts.
    first = spawn(process.execPath, ['bin/run.mjs', 'framework/cli/live.ts', ...LIVE, '--speed', '600', '--runs', path.join(scratch, 'runs-1')], {
      stdio: 'ignore',
    });
    const pid = first.pid!;
    await waitFor(`the first run's write-ahead log in ${DATASET}`, () => existsSync(path.join(DATASET, 'wal.log')));

    const runs2 = path.join(scratch, 'runs-2');
    const second = await runCli('framework/cli/live.ts', [...LIVE, '--speed', '6000', '--max-candles', '5', '--runs', runs2]);
    expect(second.code, second.stderr).toBe(1);
    const errors = second.stderr.split('\n').filter((line) => line.trim() !== '');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      new RegExp(
        `^error: .*sim BTC/USDT 15m in ${STORE} is being written by another process \\(pid ${pid}, since 20\\d\\d-\\S+: ` +
          'live\\.js strategies/macd\\.ts --exchange sim .*\\); one process writes a dataset at a time: wait for it to end or stop it, or write to another folder$',
      ),
    );
    expect(runFolders(runs2)).toEqual([]);
    expect(lockFiles()).toEqual([`writer-${pid}.lock`]);

    expect(() => writeCandles(STORE, SUBSCRIPTION, batchFromCandles([MARKER]))).toThrow(DatasetLockedError);
    expect(markerStored()).toBe(false);
    expect(lockFiles()).toEqual([`writer-${pid}.lock`]);
  }, 240_000);

  it('takes the dataset over at once from a writer killed with SIGKILL, and releases it when done', async () => {
    const killed = first!;
    const exited = new Promise((resolve) => killed.once('exit', resolve));
    killed.kill('SIGKILL');
    await exited;
    first = null;
    // The killed run could not remove its lock file: it is stale now.
    expect(lockFiles()).toEqual([`writer-${killed.pid}.lock`]);

    const runs3 = path.join(scratch, 'runs-3');
    const third = await runCli('framework/cli/live.ts', [...LIVE, '--speed', '6000', '--max-candles', '3', '--runs', runs3]);
    expect(third.code, third.stderr).toBe(0);
    expect(runFolders(runs3)).toHaveLength(1);
    expect(lockFiles()).toEqual([]);

    writeCandles(STORE, SUBSCRIPTION, batchFromCandles([MARKER]));
    expect(markerStored()).toBe(true);
    expect(lockFiles()).toEqual([]);
  }, 240_000);
});
