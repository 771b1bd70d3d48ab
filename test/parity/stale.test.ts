/**
 * Stale candles: a live run on the simulator loses the exchange for 30 candles of exchange time (the simulator is
 * stopped and started again on the same port, its clock carried on), reconnects and backfills the candles it missed
 * over REST (stale limit: 10 timeframes). None of the backfilled candles is traded; each is journaled with its arrival time and a stale decision;
 * `npm run diff` replays the same decisions from the journal and exits 0.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLive, type LiveResult } from '../../framework/node/live';
import { replayCandles } from '../../framework/feeds/replay';
import { diffRun, type DiffReport } from '../../framework/parity/diff';
import { readJournal, type JournalContents } from '../../framework/report/journal';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';
import { waitFor } from '../feeds/support';

/** A test that runs `npm run diff` as a child process: it replays the run from the origin, minutes on a loaded machine. */
const CLI_TIMEOUT_MS = 180_000;

const exec = promisify(execFile);
const STRATEGY = 'test/fixtures/strategies/every-candle-1m.ts';
const M1 = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' } as const;
const MINUTE = 60_000;
/** A 1m candle every 300 ms of real time. */
const SPEED = 200;
/**
 * The stale limit of the run, in timeframes: 3 s of real time, so that load does not make streamed candles late (at
 * 900 ms, a load of 28 on the two cores made nearly every streamed candle stale).
 */
const STALE_AFTER = 10;
const START = Date.UTC(2021, 3, 21, 2, 0);
/** The outage, in candles of exchange time. */
const OUTAGE = 45;
const scratch = mkdtempSync(path.join(tmpdir(), 'stale-'));
const markets = [{ symbol: M1.symbol, timeframe: M1.timeframe, candles: replayCandles('datasets', M1) }];

let sims: Simulator[] = [];
let live: LiveResult;
let journal: JournalContents;
let report: DiffReport;
/** Exchange times the simulator stopped and started again. */
let down: { from: number; to: number };

beforeAll(async () => {
  const first = await startSimulator({ markets, startTime: START, speed: SPEED });
  sims.push(first);
  const abort = new AbortController();
  let traded = 0;
  const running = runLive({
    file: STRATEGY,
    simulator: { endpoints: { restUrl: first.restUrl, wsUrl: first.wsUrl }, speed: SPEED },
    storeRoot: path.join(scratch, 'store'),
    runsRoot: path.join(scratch, 'runs'),
    staleAfter: STALE_AFTER,
    signal: abort.signal,
    onStatus: () => void traded++,
  });
  try {
    // Waits on what the run did, in minutes: a load of 36 on the two cores made the run's start take over a minute.
    await waitFor(() => traded >= 15, '15 traded candles before the outage', 300_000);
    const stoppedAt = { exchange: first.clock(), real: performance.now() };
    await first.stop();
    await new Promise((resolve) => setTimeout(resolve, (OUTAGE * MINUTE) / SPEED));
    const startTime = Math.floor(stoppedAt.exchange + (performance.now() - stoppedAt.real) * SPEED);
    sims.push(await startSimulator({ port: first.port, markets, startTime, speed: SPEED }));
    down = { from: stoppedAt.exchange, to: startTime };
    const before = traded;
    await waitFor(() => traded >= before + OUTAGE + 10, 'the backfill and 10 more candles after it', 300_000);
  } finally {
    abort.abort();
    live = await running;
  }
  journal = readJournal(live.dir);
  report = await diffRun(STRATEGY, live.dir);
}, 900_000);

afterAll(async () => {
  for (const sim of sims) await sim.stop();
  sims = [];
  rmSync(scratch, { recursive: true, force: true });
});

/** The stale rule computed here, by hand: arrived more than ten 1m timeframes after the close (open time + 1m). */
const arrivedLate = (c: { openTime: number; arrivedAt?: number }): boolean => c.arrivedAt! - (c.openTime + MINUTE) > STALE_AFTER * MINUTE;

describe('candles backfilled after a reconnect are not traded', () => {
  it('journals every traded candle with its arrival time on the exchange clock, and the limit in run.json', () => {
    expect(journal.header.staleAfter).toBe(STALE_AFTER);
    expect(journal.candles.length).toBe(live.liveCandles.length);
    for (const c of journal.candles) {
      expect(Number.isInteger(c.arrivedAt)).toBe(true);
      // Arrival is after the close (by the exchange clock, within its error) and never before the candle was received.
      expect(c.arrivedAt!).toBeGreaterThanOrEqual(Math.floor(c.receivedAt!));
    }
  });

  it('acts only on closed candles with their final values: every candle journaled is the dataset\'s (no faults played)', () => {
    // The simulator came back with its clock behind the run's estimate (its start takes real time, times the speed):
    // a feed that judged REST answers by the old estimate took forming candles as closed.
    const data = markets[0]!.candles;
    const row = new Map(Array.from(data.openTime, (t, i) => [t, i]));
    const differing = journal.candles.filter((c) => {
      const i = row.get(c.openTime)!;
      return [c.open, c.high, c.low, c.close, c.volume].join() !== [data.open[i], data.high[i], data.low[i], data.close[i], data.volume[i]].join();
    });
    expect(differing.map((c) => `${new Date(c.openTime).toISOString()} ${c.source} close ${c.close}`)).toEqual([]);
    expect(live.feed.revisions).toBe(0);
  });

  it('backfilled the candles that closed during the outage over REST, each stale, none traded', () => {
    // Every candle that closed while the exchange was away arrived after the simulator came back; all but the last
    // four closed more than three timeframes (and the clock estimate's error) before that.
    const missed = journal.candles.filter((c) => c.openTime + MINUTE > down.from && c.openTime + MINUTE <= down.to - (STALE_AFTER + 1) * MINUTE);
    expect(missed.length).toBeGreaterThanOrEqual(20);
    const signals = new Map(journal.signals.map((s) => [s.openTime, s]));
    for (const c of missed) {
      const at = new Date(c.openTime).toISOString();
      expect(c.source, at).toBe('rest');
      expect(c.arrivedAt!, at).toBeGreaterThanOrEqual(down.to);
      expect(arrivedLate(c), at).toBe(true);
      const signal = signals.get(c.openTime);
      // onData ran on it (every candle has a signal in this strategy), but the signal did not reach the broker.
      expect(signal, at).toBeDefined();
      expect(signal!.acted, at).toBe(false);
      expect(signal!.reason, at).toMatch(/^stale: arrived \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z, \d+\.\d\d timeframes after its close at .* \(limit 10\)$/);
      expect(signal!.arrivedAt, at).toBe(c.arrivedAt);
    }
  });

  it('decides every candle by the rule: stale exactly when it arrived more than --stale-after timeframes after its close', () => {
    const signals = new Map(journal.signals.map((s) => [s.openTime, s]));
    let fresh = 0;
    for (const c of journal.candles) {
      const signal = signals.get(c.openTime)!;
      expect(signal.reason?.startsWith('stale:') === true, new Date(c.openTime).toISOString()).toBe(arrivedLate(c));
      if (!arrivedLate(c)) fresh++;
    }
    // Candles streamed before and after the outage were on time, and those are traded (the broker decides).
    expect(fresh).toBeGreaterThan(0);
    expect(journal.signals.some((s) => s.acted)).toBe(true);
  });

  it('replays to the same signals and the same stale decisions: npm run diff exits 0', async () => {
    expect(report.unexplained).toBe(0);
    expect(report.mismatches).toEqual([]);
    expect(report.matched).toBe(journal.signals.length);
    const { stdout } = await exec(process.execPath, ['bin/run.mjs', 'framework/cli/diff.ts', STRATEGY, '--run', live.dir]);
    expect(stdout).toContain(`${journal.signals.length} matched, 0 mismatched (0 unexplained)`);
  }, CLI_TIMEOUT_MS);

  it('compares what the run did: order events, fills, trades and the state after every candle equal the replay\'s', () => {
    const actions = report.actions!;
    expect(actions).not.toBeNull();
    // A checkpoint per candle acted on, and one more for the close at the stop (the report's end of run).
    expect(actions.states).toBe(journal.candles.length + 1);
    expect(actions.fills.live).toBeGreaterThan(0);
    expect(actions.fills.replay).toBe(actions.fills.live);
    expect(actions.events.replay).toBe(actions.events.live);
    expect(actions.trades.replay).toBe(actions.trades.live);
    expect(actions.differences).toEqual([]);
  });

  it('finds the same signals acted on differently: the run diffed with another fee rate in its run.json is unexplained', async () => {
    const tampered = path.join(scratch, 'tampered');
    cpSync(live.dir, tampered, { recursive: true });
    rmSync(path.join(tampered, 'diff.json'), { force: true });
    const header = JSON.parse(readFileSync(path.join(tampered, 'run.json'), 'utf8')) as { broker: { feeRate: number } };
    expect(header.broker.feeRate).toBe(0.001);
    header.broker.feeRate = 0.002;
    writeFileSync(path.join(tampered, 'run.json'), JSON.stringify(header));
    const other = await diffRun(STRATEGY, tampered);
    // The signals do not depend on the fee: they all match; what the broker did with them does not. The first entry
    // is sized differently: quantity = stake / (close × (1 + fee rate)).
    expect(other.mismatches).toEqual([]);
    const first = other.actions!.differences[0]!;
    expect(first.kind).toBe('event');
    expect(first.field).toBe('order.quantity');
    const quantity = (side: unknown): number => (side as { order: { quantity: number } }).order.quantity;
    expect(quantity(first.replay) / quantity(first.live)).toBeCloseTo(1.001 / 1.002, 12);
    expect(first.followsSignalMismatch).toBeNull();
    expect(other.unexplained).toBe(other.actions!.differences.length);
    await expect(exec(process.execPath, ['bin/run.mjs', 'framework/cli/diff.ts', STRATEGY, '--run', tampered])).rejects.toMatchObject({
      code: 1,
      stdout: expect.stringContaining('event #1'),
    });
  }, CLI_TIMEOUT_MS);
});
