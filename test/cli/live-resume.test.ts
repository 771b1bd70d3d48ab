/**
 * `npm run live` continues a run killed by SIGKILL: a live child on its in-process simulator (`--exchange sim`) is
 * killed while long; the same command is run again. It must continue the same run folder with the broker restored from
 * trading.jsonl (position, stop, client order ids), and the whole run's trades must equal those of a replay of exactly
 * the candles the run acted on (both parts) through a fresh broker, with no order made twice. The restarted simulator
 * resumes its clock after what the run traded plus the time it was down (nothing is traded twice), and the candles
 * that closed meanwhile come over its REST API into the run's store (the backfill), not from the simulator's datasets.
 * The continuation journals its resume (trading.jsonl), and `npm run diff` exits 0 comparing signals, orders, fills,
 * trades and the broker's state across both parts, attributing the replay's signals on the candles in between to the
 * downtime by that record.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { brokerConfig, strategyKeyOf } from '../../framework/broker/broker-config';
import { PaperBroker } from '../../framework/broker/paper-broker';
import { batchFromCandles, CANDLE_SOURCES, type StoredCandle } from '../../framework/core/candle';
import { Engine } from '../../framework/engine/engine';
import type { DiffReport } from '../../framework/parity/diff';
import { readTradingJournal } from '../../framework/report/trading-journal';
import { readStoredCandles } from '../../framework/store/live-store';
import { loadStrategy } from '../../framework/strategy/loader';
import { runCli } from '../support/cli';

const FILE = 'test/fixtures/strategies/account-scaling.ts';
const BTC_15M = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' } as const;
const SPEED = 3_000; // a 15m candle every 300 ms
const M15 = 900_000;
const scratch = mkdtempSync(path.join(tmpdir(), 'live-resume-'));
const STORE = path.join(scratch, 'store');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function live(args: readonly string[]): { child: ChildProcess; stderr: () => string; exited: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    ['bin/run.mjs', 'framework/cli/live.ts', FILE, '--exchange', 'sim', '--start', '2021-03-01', '--speed', String(SPEED),
      // At 300 ms of real time per candle a loaded machine delivers some candles late: the stale rule (tested on its own
      // in test/parity/stale.test.ts) is off so that the replay below, which trades every candle, is the reference.
      '--store', STORE, '--runs', path.join(scratch, 'runs'), '--stale-after', 'off', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.resume();
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, stderr: () => stderr, exited };
}

/** The broker states checkpointed so far in the only run folder. */
function checkpoints(): { position: unknown }[] {
  const runs = path.join(scratch, 'runs');
  if (!existsSync(runs)) return [];
  const [run] = readdirSync(runs);
  const file = run === undefined ? '' : path.join(runs, run, 'trading.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{"kind":"state"'))
    .map((l) => (JSON.parse(l) as { state: { position: unknown } }).state);
}

describe('npm run live after a SIGKILL', () => {
  it('continues the killed run: same folder, restored position, the trades of a replay of the candles acted on', { timeout: 240_000 }, async () => {
    const first = live([]);
    const deadline = Date.now() + 120_000;
    // Kill once it has acted on a dozen candles and holds a position.
    for (;;) {
      const states = checkpoints();
      if (states.length >= 12 && states.at(-1)!.position !== null) break;
      if (Date.now() > deadline || first.child.exitCode !== null) throw new Error(`no position taken: ${first.stderr().slice(-2_000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    first.child.kill('SIGKILL');
    await first.exited;
    const killedAt = checkpoints();
    const storedAtKill = readStoredCandles(STORE, { ...BTC_15M, exchange: 'sim' }).openTime;

    // A continuation whose start fails (its simulator unreachable) leaves the killed run's folder as it was.
    const journalAtKill = readFileSync(path.join(scratch, 'runs', readdirSync(path.join(scratch, 'runs'))[0]!, 'trading.jsonl'), 'utf8');
    const failed = live(['--sim-url', 'http://127.0.0.1:1']);
    expect(await failed.exited).toBe(1);
    expect(failed.stderr()).toMatch(/the live run could not start/);
    expect(readFileSync(path.join(scratch, 'runs', readdirSync(path.join(scratch, 'runs'))[0]!, 'trading.jsonl'), 'utf8')).toBe(journalAtKill);
    const lastActedBeforeKill = readTradingJournal(path.join(scratch, 'runs', readdirSync(path.join(scratch, 'runs'))[0]!)).checkpoints.at(-1)!.time;

    const second = live(['--max-candles', '40']);
    expect(await second.exited, second.stderr().slice(-2_000)).toBe(0);
    expect(second.stderr()).toMatch(/continuing a killed run/);

    const runs = readdirSync(path.join(scratch, 'runs'));
    expect(runs).toHaveLength(1); // the same folder, continued
    const dir = path.join(scratch, 'runs', runs[0]!);
    expect(existsSync(path.join(dir, 'summary.json'))).toBe(true);
    // The report covers the continued part: its exposure counts only that part's candles (not the killed part's).
    const summary = JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8')) as { candles: number; metrics: { exposure: number } };
    type Exposed = { exposedCandles: number };
    const restored = killedAt.at(-1) as unknown as Exposed;
    const final = checkpoints().at(-1) as unknown as Exposed;
    expect(restored.exposedCandles).toBeGreaterThan(0); // killed while long
    expect(summary.metrics.exposure).toBe((final.exposedCandles - restored.exposedCandles) / summary.candles);
    const journal = readTradingJournal(dir);
    expect(checkpoints().length).toBeGreaterThan(killedAt.length + 30);

    // The candles the run acted on, both parts, in order, each once.
    const acted = readFileSync(path.join(dir, 'candles.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as StoredCandle);
    const times = acted.map((c) => c.openTime);
    expect(new Set(times).size).toBe(times.length);
    expect([...times].sort((a, b) => a - b)).toEqual(times);

    // The restarted simulator's clock went on past the killed part: the candles that closed while the run was down,
    // after the last one it had stored, came over REST into the store (as history, not traded), with no gap.
    const killedLast = (killedAt.at(-1) as unknown as { lastTime: number }).lastTime;
    const continuedFirst = times[times.indexOf(killedLast) + 1]!;
    const stored = readStoredCandles(STORE, { ...BTC_15M, exchange: 'sim' });
    const lastAtKill = storedAtKill.at(-1)!;
    const between = Array.from(stored.openTime.keys()).filter((i) => stored.openTime[i]! > lastAtKill && stored.openTime[i]! < continuedFirst);
    expect(between.map((i) => stored.openTime[i])).toEqual(between.map((_, k) => lastAtKill + (k + 1) * M15));
    expect(between.length).toBe((continuedFirst - lastAtKill) / M15 - 1);
    // Those closed by the time the simulator resumed (its clock is logged) were read over REST: at least one.
    const resumedAt = Date.parse(/simulatorClock\W+(\d{4}-\d\d-\d\dT[\d:.]+Z)/.exec(second.stderr())![1]!);
    expect(resumedAt).toBeGreaterThan(killedLast + M15);
    const downtime = between.filter((i) => stored.openTime[i]! + M15 <= resumedAt);
    expect(downtime.length).toBeGreaterThan(0);
    expect(downtime.map((i) => CANDLE_SOURCES[stored.source[i]!])).toEqual(downtime.map(() => 'rest'));

    // A fresh broker over exactly those candles, with the same strategy and settings.
    const { strategy } = await loadStrategy(FILE);
    const replayed = new PaperBroker({ strategyKey: strategyKeyOf(strategy), ...brokerConfig() });
    await new Engine({ strategy, broker: replayed, file: FILE, subscription: BTC_15M }).replay(batchFromCandles(acted));
    replayed.closeAll(acted.at(-1)!);
    expect(journal.trades.length).toBeGreaterThan(2);
    expect(journal.trades).toEqual(replayed.trades);
    expect(journal.fills).toEqual(replayed.fills);
    // No order made twice: each client order id is accepted once.
    const accepted = journal.events.filter((e) => e.order.status === 'accepted').map((e) => e.order.clientOrderId);
    expect(new Set(accepted).size).toBe(accepted.length);

    // The continuation journaled its resume: after the last candle the killed part had checkpointed, first acting on
    // the next candle of candles.jsonl (the candles between closed while the run was down, or starting again).
    expect(lastActedBeforeKill).toBe(killedLast);
    const firstContinued = continuedFirst;
    expect(journal.resumes).toEqual([{ after: lastActedBeforeKill, first: firstContinued }]);
    const down = (t: number): boolean => t > lastActedBeforeKill && t < firstContinued;

    // npm run diff covers both parts: every signal on a candle acted on matches the replay's; the replay's signals on
    // the downtime's candles (a restart takes seconds, over four candles here: the strategy signals on every fourth
    // candle at least) are listed as not acted live, closed while the run was down, proven by the resume record.
    const diff = await runCli('framework/cli/diff.ts', [FILE, '--run', dir]);
    expect(diff.code, `${diff.stdout}\n${diff.stderr}`).toBe(0);
    const report = JSON.parse(readFileSync(path.join(dir, 'diff.json'), 'utf8')) as DiffReport;
    // Decisions, orders, fills, trades and the broker's state (position, cash, equity) after every candle acted on, in
    // both parts, equal to the replay's.
    expect(report.actions).toMatchObject({
      events: { live: journal.events.length, replay: journal.events.length },
      fills: { live: journal.fills.length, replay: journal.fills.length },
      trades: { live: journal.trades.length, replay: journal.trades.length },
      states: journal.checkpoints.length,
      differences: [],
      unexplained: 0,
    });
    expect(journal.checkpoints.some((c) => c.time < lastActedBeforeKill) && journal.checkpoints.some((c) => c.time >= firstContinued)).toBe(true);
    expect(report.liveSignals).toBeGreaterThan(10);
    expect(report.unexplained).toBe(0);
    expect(report.mismatches).toEqual([]);
    expect(report.matched).toBe(report.liveSignals);
    expect(report.notActed.length).toBeGreaterThan(0);
    for (const n of report.notActed) {
      expect(down(n.openTime), new Date(n.openTime).toISOString()).toBe(true);
      expect(n.reason).toBe(
        `closed while the run was down: the run was killed after acting on the candle of ${new Date(lastActedBeforeKill).toISOString()} and its ` +
          `continuation acted first on the candle of ${new Date(firstContinued).toISOString()} (trading.jsonl's resume record); history to the continuation, not traded`,
      );
    }
  });
});
