/**
 * The span of a live run is exactly the candles it acted on, and the diff says what it did not compare:
 * - `candles.jsonl` lists only the candles the run acted on: a 15m run whose 1h informative feed stops (the exchange
 *   has no more 1h candles) keeps storing 15m candles durably, but cannot act on them (each waits for the 1h candle that
 *   closes with it) and never journals them;
 * - a replay signal on a candle inside the span that the run did not act on (the exchange had no candle there when the
 *   run read it) is listed as not acted live, with the proven reason, and not counted as a mismatch; the hole is the
 *   first of several after the run's first candle, so that how slowly the run starts does not matter.
 * Real ccxt, the simulator on loopback playing the shipped datasets (edited: a 1h tape ended while the run trades, a 1m
 * candle taken out).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batchFromCandles, candlesFromBatch, sliceBatch, type CandleBatch } from '../../framework/core/candle';
import { lowerBound, upperBound } from '../../framework/core/search';
import { runLive } from '../../framework/node/live';
import { replayCandles } from '../../framework/feeds/replay';
import { diffRun } from '../../framework/parity/diff';
import { readJournal } from '../../framework/report/journal';
import { readTradingJournal } from '../../framework/report/trading-journal';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';
import { readStoredCandles } from '../../framework/store/live-store';
import { waitFor } from '../feeds/support';
import { runCli } from '../support/cli';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const scratch = mkdtempSync(path.join(tmpdir(), 'not-acted-'));
const sims: Simulator[] = [];
afterAll(async () => {
  for (const sim of sims) await sim.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** The candles of `batch` opening before `to` (UTC epoch ms). */
const before = (batch: CandleBatch, to: number): CandleBatch => sliceBatch(batch, 0, lowerBound(batch.openTime, to));

/** The traded candles journaled by the (one) run under `runsRoot` so far: their count and the last one's open time (or −∞). */
function journaled(runsRoot: string): { count: number; last: number } {
  const [dir] = existsSync(runsRoot) ? readdirSync(runsRoot) : [];
  const file = dir === undefined ? '' : path.join(runsRoot, dir, 'candles.jsonl');
  const lines = file !== '' && existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter((l) => l !== '') : [];
  const last = lines.at(-1);
  return { count: lines.length, last: last === undefined ? Number.NEGATIVE_INFINITY : (JSON.parse(last) as { openTime: number }).openTime };
}

describe('candles.jsonl lists only the candles the run acted on', () => {
  it('not those stored durably while the run waited for an informative candle that never came', async () => {
    const file = 'strategies/macd-trend-filter.ts';
    const start = Date.UTC(2021, 0, 10);
    const m15 = replayCandles('datasets', { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' });
    const h1 = replayCandles('datasets', { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' });
    // The exchange's 1h data ends where the run has got to (below), not at a fixed time: at this speed two days of
    // candles are 17 s of real time, and at load 25 the run's start took longer, so that it waited for the missing 1h
    // candle from its first 15m candle on and never acted.
    const sim = await startSimulator({
      markets: [
        { symbol: 'BTC/USDT', timeframe: '15m', candles: m15 },
        { symbol: 'BTC/USDT', timeframe: '1h', candles: h1 },
      ],
      startTime: start,
      speed: 10_000,
    });
    sims.push(sim);
    const storeRoot = path.join(scratch, 'store-informative');
    const runsRoot = path.join(scratch, 'runs-informative');
    const abort = new AbortController();
    const running = runLive({
      file,
      simulator: { endpoints: { restUrl: sim.restUrl, wsUrl: sim.wsUrl }, speed: 10_000 },
      storeRoot,
      runsRoot,
      staleAfter: Number.POSITIVE_INFINITY,
      signal: abort.signal,
    });
    const stored = (): CandleBatch => readStoredCandles(storeRoot, { exchange: 'sim', symbol: 'BTC/USDT', timeframe: '15m' });
    let lastActed = Number.NaN;
    try {
      // Once the run has acted on its first candle (its start can take minutes on an overloaded machine), the next 1h
      // candle to open, at L, becomes the exchange's last. A 15m candle is acted on once the 1h candles that closed
      // with it (or before) have arrived: the one closing at L + 2h waits for the 1h candle of L + 1h, which never
      // comes. The last candle acted on is therefore the one opening at L + 1h30.
      await waitFor(() => journaled(runsRoot).count > 0, 'the run to act on its first candle', 400_000);
      const lastHour = h1.openTime[upperBound(h1.openTime, sim.clock())]!;
      sim.endData('BTC/USDT', '1h', lastHour);
      lastActed = lastHour + HOUR + 30 * MINUTE;
      // The run has acted on every candle it can, and five 15m candles after those are in its write-ahead log: made
      // durable while it waited.
      await waitFor(
        () => journaled(runsRoot).last === lastActed && stored().openTime.filter((t) => t > lastActed).length >= 5,
        'the last candle acted on and five 15m candles stored past it',
        // Each candle acted on takes two fdatasyncs (the disk is shared): the wait goes on while the run journals
        // candles, and fails after 120 s without one (the five stored after the last come every 90 ms of real time).
        120_000,
        () => journaled(runsRoot).count,
      );
    } finally {
      abort.abort();
    }
    const live = await running;
    const journal = readJournal(live.dir);
    const times = journal.candles.map((c) => c.openTime);
    expect(times.at(-1)).toBe(lastActed);
    expect(stored().openTime.filter((t) => t > lastActed).length).toBeGreaterThanOrEqual(5);
    // Exactly the candles acted on: those the broker checkpointed (one each, plus the close at the stop) and the run's own list.
    const checkpoints = readTradingJournal(live.dir).checkpoints.map((c) => c.time);
    expect([...times, lastActed]).toEqual(checkpoints);
    expect(times).toEqual(live.liveCandles.map((c) => c.openTime));
    const report = await diffRun(file, live.dir);
    expect(report.span!.last).toBe(lastActed);
    expect(report.unexplained).toBe(0);
  }, 600_000);
});

describe('replay signals on candles the live run did not act on', () => {
  it('are listed as not acted live with the proven reason, not counted as mismatches', async () => {
    const file = 'test/fixtures/strategies/every-candle-1m.ts';
    const start = Date.UTC(2021, 3, 21, 2, 0);
    const m1 = replayCandles('datasets', { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' });
    // The exchange has no candle every 30 minutes from start + 90 min to start + 12 h (the shipped datasets, which the
    // replay reads, do). The run is stopped two candles after the first hole after its first candle acted on: however
    // slow its start, that hole is inside its span, and it is the only one.
    const holes = Array.from({ length: 22 }, (_, i) => start + 90 * MINUTE + i * 30 * MINUTE);
    const tape = batchFromCandles(candlesFromBatch(before(m1, start + 12 * HOUR)).filter((c) => !holes.includes(c.openTime)));
    const sim = await startSimulator({ markets: [{ symbol: 'BTC/USDT', timeframe: '1m', candles: tape }], startTime: start, speed: 1_200 });
    sims.push(sim);
    const runsRoot = path.join(scratch, 'runs-hole');
    const abort = new AbortController();
    let hole: number | undefined;
    const live = await runLive({
      file,
      simulator: { endpoints: { restUrl: sim.restUrl, wsUrl: sim.wsUrl }, speed: 1_200 },
      storeRoot: path.join(scratch, 'store-hole'),
      runsRoot,
      staleAfter: Number.POSITIVE_INFINITY,
      signal: abort.signal,
      onStatus: () => {
        const [dir] = readdirSync(runsRoot);
        hole ??= holes.find((h) => h > readJournal(path.join(runsRoot, dir!)).candles[0]!.openTime);
        if (hole !== undefined && journaled(runsRoot).last >= hole + 2 * MINUTE) abort.abort();
      },
    });
    expect(hole).toBeDefined();
    const acted = readJournal(live.dir).candles.map((c) => c.openTime);
    expect(acted[0]).toBeLessThan(hole!);
    expect(acted.at(-1)).toBeGreaterThan(hole!);
    expect(acted).not.toContain(hole);
    const report = await diffRun(file, live.dir);
    const iso = (t: number): string => new Date(t).toISOString().replace(/\./g, '\\.');
    // every-candle-1m decides by the open time alone: at an even minute, enter long.
    expect(report.notActed).toEqual([
      {
        openTime: hole,
        replay: { action: 'enter_long', tag: 'even_minute' },
        reason: expect.stringMatching(
          new RegExp(
            `^not in the run's live store \\(the replay has it from the shipped datasets\\): never received by the run, which was running ` +
              `\\(no resume record covers it\\) and acted on the candle of ${iso(hole! + MINUTE)}`,
          ),
        ),
      },
    ]);
    expect(report.mismatches).toEqual([]);
    expect(report.matched).toBe(report.liveSignals);
    expect(report.unexplained).toBe(0);
    const { code, stdout } = await runCli('framework/cli/diff.ts', [file, '--run', live.dir]);
    expect(code).toBe(0);
    expect(stdout).toContain('replay signals on candles the run did not act on: 1 (not compared; 0 without a proven reason)');
    expect(stdout).toContain(`${new Date(hole!).toISOString()}  replay: enter_long (even_minute)  not acted live: not in the run's live store`);
  }, 600_000);
});
