/**
 * Crash safety of the live store under a real SIGKILL. A child process (test/support/wal-crash-writer.ts) appends real
 * BTC/USDT 5m candles and compacts every 2000 candles; it is killed either at a precise point (it blocks at a chosen
 * WalEvent and says so) or at an arbitrary one (after some number of acknowledgements, or some ms). A new process
 * (this one) then opens the store and checks, against the JSON file read here and the child's own report of what it
 * issued and what was acknowledged:
 * - every acknowledged candle is stored, once, with the OHLCV of the source file;
 * - each stored candle is a version the child issued, no older than the last acknowledged one of its open time;
 * - nothing else is stored, no compaction is left over, no log was set aside as corrupt, and the partitions alone
 *   (after close) hold the same.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CANDLE_SOURCES } from '../../framework/core/candle';
import type { CandleBatch } from '../../framework/core/candle';
import { LiveCandleStore } from '../../framework/store/live-store';
import { readDataset } from '../../framework/store/partitions';
import { readWalFile } from '../../framework/store/wal';
import { loadJsonCandles } from '../support/shared-data';

const REPO = path.resolve(import.meta.dirname, '../..');
const WRITER = path.join(REPO, 'test/support/wal-crash-writer.ts');
const SUBSCRIPTION = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '5m' };
const ROWS = loadJsonCandles('BTC_USDT-5m.json');
const ROW_BY_TIME = new Map(ROWS.map((r) => [r.openTime, r]));
/** Row of 2020-12-31 20:00 UTC: the first compaction (2000 candles, about a week) spans December and January. */
const NEAR_NEW_YEAR = ROWS.findIndex((r) => r.openTime >= Date.UTC(2020, 11, 31, 20));

const roots: string[] = [];
afterAll(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

function tempRoot(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'wal-crash-'));
  roots.push(root);
  return root;
}

interface ChildOptions {
  readonly start: number;
  readonly count: number;
  readonly writers?: number;
  readonly reviseEvery?: number;
  /** `<event type>:<n>`: the child blocks there and is killed. */
  readonly pauseAt?: string;
  /** Kill once this many appends were acknowledged. */
  readonly killAfterAcks?: number;
  /** Kill this many ms after the child said `ready`. */
  readonly killAfterMs?: number;
}

interface ChildRun {
  readonly lines: readonly string[];
  readonly killed: boolean;
}

/** Runs the writer on `root` until it is done or killed by SIGKILL as asked; returns its stdout lines. */
function runChild(root: string, options: ChildOptions): Promise<ChildRun> {
  const child = spawn(process.execPath, ['bin/run.mjs', WRITER], {
    cwd: REPO,
    env: {
      ...process.env,
      WAL_ROOT: root,
      WAL_START: String(options.start),
      WAL_COUNT: String(options.count),
      WAL_WRITERS: String(options.writers ?? 32),
      WAL_REVISE_EVERY: String(options.reviseEvery ?? 0),
      WAL_COMPACT_EVERY: '2000',
      ...(options.pauseAt !== undefined ? { WAL_PAUSE_AT: options.pauseAt } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  let acks = 0;
  let killed = false;
  const kill = (): void => {
    if (!killed) killed = child.kill('SIGKILL');
  };
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      if (line.startsWith('ack ')) acks++;
      if (line.startsWith('paused ')) kill();
      if (options.killAfterAcks !== undefined && acks >= options.killAfterAcks) kill();
      if (line === 'ready' && options.killAfterMs !== undefined) setTimeout(kill, options.killAfterMs);
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (killed && signal === 'SIGKILL') resolve({ lines, killed });
      else if (code === 0 && lines.at(-1) === 'done') resolve({ lines, killed: false });
      else reject(new Error(`writer exited with code ${code}, signal ${signal}:\n${stderr}`));
    });
  });
}

interface Version {
  readonly order: number;
  readonly source: string;
  readonly receivedAt: number;
}

/** Per open time: the versions the children issued (in log order) and the order of the last acknowledged one. */
function issuedVersions(runs: readonly ChildRun[]): Map<number, { versions: Version[]; lastAcked: number }> {
  const byTime = new Map<number, { versions: Version[]; lastAcked: number }>();
  const timeOfOrder = new Map<number, number>();
  runs.forEach((run, r) => {
    for (const line of run.lines) {
      const [kind, seq, openTime, source, receivedAt] = line.split(' ');
      const order = r * 1e9 + Number(seq);
      if (kind === 'issue') {
        const entry = byTime.get(Number(openTime)) ?? { versions: [], lastAcked: -1 };
        entry.versions.push({ order, source: source!, receivedAt: Number(receivedAt) });
        byTime.set(Number(openTime), entry);
        timeOfOrder.set(order, Number(openTime));
      } else if (kind === 'ack') {
        const entry = byTime.get(timeOfOrder.get(order)!)!;
        entry.lastAcked = Math.max(entry.lastAcked, order);
      }
    }
  });
  return byTime;
}

/** Opens the store as a new process would after the crash, checks it (see the file comment), closes it. */
async function checkRecovered(root: string, runs: readonly ChildRun[]): Promise<{ acked: number; stored: number }> {
  const issued = issuedVersions(runs);
  const store = LiveCandleStore.open(root, SUBSCRIPTION);
  const dir = path.join(root, 'binance', 'BTC_USDT', '5m');
  expect(existsSync(path.join(dir, 'wal.log.compacting'))).toBe(false);
  const live = store.readAll();
  await store.close();
  // Killed before its first append was durable (250 ms after opening, on a loaded machine): nothing stored, and no
  // partition either (readDataset would say the dataset does not exist).
  const compacted = live.openTime.length === 0 ? live : readDataset(root, SUBSCRIPTION);
  expect(Array.from(compacted.openTime)).toEqual(Array.from(live.openTime));
  // A write cut short by the kill may leave a torn tail, set aside by the recovery; nothing else may be.
  for (const name of readdirSync(dir).filter((n) => n.startsWith('wal.log.'))) {
    expect(name).toMatch(/^wal\.log\.torn-\d+(-\d+)?$/);
    expect(readWalFile(path.join(dir, name), '5m').problems.map((p) => p.kind)).toEqual(['torn']);
  }

  expect(batchProblems(live, issued)).toEqual([]);
  expect(batchProblems(compacted, issued)).toEqual([]);
  const acked = [...issued.values()].filter((e) => e.lastAcked >= 0).length;
  return { acked, stored: live.openTime.length };
}

/** What is wrong with a recovered batch (see the file comment); empty when nothing is. */
function batchProblems(batch: CandleBatch, issued: ReturnType<typeof issuedVersions>): string[] {
  const problems: string[] = [];
  const stored = new Set<number>();
  for (let i = 0; i < batch.openTime.length; i++) {
    const t = batch.openTime[i]!;
    if (stored.has(t)) problems.push(`${t}: stored twice`);
    stored.add(t);
    const entry = issued.get(t);
    const row = ROW_BY_TIME.get(t);
    if (entry === undefined || row === undefined) {
      problems.push(`${t}: stored but never issued`);
      continue;
    }
    const ohlcv = [batch.open[i], batch.high[i], batch.low[i], batch.close[i], batch.volume[i]].join();
    if (ohlcv !== [row.open, row.high, row.low, row.close, row.volume].join()) problems.push(`${t}: OHLCV ${ohlcv} differs from the source file`);
    const source = CANDLE_SOURCES[batch.source[i]!];
    const version = entry.versions.findLast((v) => v.source === source && v.receivedAt === batch.receivedAt[i]);
    if (version === undefined) problems.push(`${t}: stored provenance ${source} ${batch.receivedAt[i]} was never issued`);
    else if (version.order < entry.lastAcked) problems.push(`${t}: the acknowledged version was replaced by an older one`);
  }
  for (const [t, entry] of issued) {
    if (entry.lastAcked >= 0 && !stored.has(t)) problems.push(`${t}: acknowledged but missing`);
  }
  return problems;
}

describe.concurrent('live store after SIGKILL', () => {
  const precise: [string, Omit<ChildOptions, 'count'>][] = [
    ['mid-append: a group written but not yet fsynced', { start: NEAR_NEW_YEAR, pauseAt: 'written:40', reviseEvery: 7 }],
    ['mid-compaction: wal.log renamed, no partition written yet', { start: NEAR_NEW_YEAR, pauseAt: 'rotated:1', reviseEvery: 7 }],
    ['mid-compaction: between the two months of one compaction', { start: NEAR_NEW_YEAR, pauseAt: 'partition-written:1', reviseEvery: 7 }],
    ['mid-compaction: every month written, log not yet deleted', { start: NEAR_NEW_YEAR, pauseAt: 'partition-written:2', reviseEvery: 7 }],
  ];
  for (const [name, options] of precise) {
    it(name, async () => {
      const root = tempRoot();
      const run = await runChild(root, { ...options, count: 6000 });
      expect(run.killed).toBe(true);
      expect(run.lines.at(-1)).toMatch(/^paused /);
      const { acked, stored } = await checkRecovered(root, [run]);
      expect(acked).toBeGreaterThan(0);
      expect(stored).toBeGreaterThanOrEqual(acked);
    });
  }

  it('killed again while recovering from a crash mid-compaction', async () => {
    const root = tempRoot();
    const first = await runChild(root, { start: NEAR_NEW_YEAR, count: 6000, pauseAt: 'rotated:2' });
    // The first partition written by the second run is the recovery of the first run's leftover compaction.
    const second = await runChild(root, { start: NEAR_NEW_YEAR + 6000, count: 6000, pauseAt: 'partition-written:1' });
    expect(second.lines).toEqual(['paused partition-written 1']);
    const { acked } = await checkRecovered(root, [first, second]);
    // Two compactions started, each after 2000 candles were durable; at most one append per writer was unreported.
    expect(acked).toBeGreaterThanOrEqual(4000 - 32);
  });

  const arbitrary: [string, Omit<ChildOptions, 'start' | 'count'>][] = [
    ['after 500 acknowledgements', { killAfterAcks: 500 }],
    ['after 5555 acknowledgements', { killAfterAcks: 5555, writers: 4 }],
    ['250 ms after start', { killAfterMs: 250 }],
    ['700 ms after start', { killAfterMs: 700, writers: 64 }],
  ];
  for (const [name, options] of arbitrary) {
    it(`at an arbitrary point: ${name}`, async () => {
      const root = tempRoot();
      const run = await runChild(root, { ...options, start: NEAR_NEW_YEAR - 3000, count: 20_000, reviseEvery: 5 });
      await checkRecovered(root, [run]);
    });
  }

  it('a run killed, restarted and killed again keeps both runs’ acknowledged candles', async () => {
    const root = tempRoot();
    const first = await runChild(root, { start: 20_000, count: 20_000, killAfterAcks: 2500, reviseEvery: 3 });
    // The second run appends many of the same candles again (as a restarted feed would after a backfill).
    const second = await runChild(root, { start: 21_000, count: 20_000, killAfterAcks: 4100, reviseEvery: 3 });
    await checkRecovered(root, [first, second]);
  });
});
