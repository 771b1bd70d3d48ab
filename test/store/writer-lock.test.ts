/**
 * One process writes a dataset at a time (framework/store/writer-lock.ts), with real processes: a live run on the
 * simulator holds its store's dataset; a second live run on the same store, and a partition write from this process,
 * fail with one line naming it and write nothing; once the first is SIGKILLed, its lock is stale and the next run
 * takes the dataset over at once. A lock whose pid now names another process (reused, as after a reboot) is stale too.
 * The first two tests are one scenario in two steps, in file order: the live run started by `beforeAll` holds the
 * dataset in the first and is SIGKILLed in the second.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchFromCandles } from '../../framework/core/candle';
import { readDataset, writeCandles } from '../../framework/store/partitions';
import { acquireWriterLock, DatasetLockedError } from '../../framework/store/writer-lock';
import { waitFor } from '../feeds/support';
import { runCli } from '../support/cli';

const scratch = mkdtempSync(path.join(tmpdir(), 'writer-lock-'));
const STORE = path.join(scratch, 'live-data');
const SUBSCRIPTION = { exchange: 'sim', symbol: 'BTC/USDT', timeframe: '15m' } as const;
const DATASET = path.join(STORE, 'sim', 'BTC_USDT', '15m');
const LIVE = ['strategies/macd.ts', '--exchange', 'sim', '--store', STORE];

/** The live run holding the dataset, started by `beforeAll`; null once the second test has killed it. */
let first: ChildProcess | null = null;
beforeAll(async () => {
  // 1.5 s of real time per 15m candle: the first run is still live when the second starts.
  first = spawn(process.execPath, ['bin/run.mjs', 'framework/cli/live.ts', ...LIVE, '--speed', '600', '--runs', path.join(scratch, 'runs-1')], {
    stdio: 'ignore',
  });
  await waitFor(() => existsSync(path.join(DATASET, 'wal.log')), `the first run's write-ahead log in ${DATASET}`, 150_000);
}, 180_000);
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

describe('one writer per dataset', () => {
  it('refuses a second live run and a partition write while a live run holds the store, naming it, writing nothing', async () => {
    const pid = first!.pid!;

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

  it('takes over a lock whose pid was reused by another process, or that was written before the last boot', async () => {
    const dir = path.join(scratch, 'reused');
    mkdirSync(dir);
    // A real process holding a pid; its start tick is field 22 of /proc/<pid>/stat (proc(5)).
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120_000)'], { stdio: 'ignore' });
    try {
      const pid = other.pid!;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const start = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
      const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      const lock = path.join(dir, `writer-${pid}.lock`);
      const write = (identity: object): void =>
        writeFileSync(lock, `${JSON.stringify({ pid, command: 'live.js strategies/macd.ts', since: Date.now() - 60_000, ...identity })}\n`);

      write({ boot, start });
      expect(() => acquireWriterLock(dir, 'the reused test dataset')).toThrow(
        new RegExp(`^the reused test dataset is being written by another process \\(pid ${pid}, since .*: live\\.js strategies/macd\\.ts\\); `),
      );
      expect(existsSync(lock)).toBe(true);

      for (const stale of [{ boot, start: start - 1 }, { boot: '00000000-0000-0000-0000-000000000000', start }]) {
        write(stale);
        const release = acquireWriterLock(dir, 'the reused test dataset');
        expect(readdirSync(dir)).toEqual([`writer-${process.pid}.lock`]);
        release();
        expect(readdirSync(dir)).toEqual([]);
      }
    } finally {
      other.kill('SIGKILL');
    }
  });
});
