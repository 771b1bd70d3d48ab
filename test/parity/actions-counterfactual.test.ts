/**
 * What a live run did is explained by counterfactual too. A live run on the simulator stops at a candle with a position
 * open, so its end-of-run close fills at that candle's close (as in the CI failure of the stale test: the live close at
 * one version of the last candle, the replay's at the store's). Then the exchange revises that candle and the revision
 * is stored after the run (as the next run's re-read of recent candles stores it): the replay now fills the close at
 * the revised price. The same signals acted on differently are explained as the revision only because replaying with
 * the version the run acted on (candles.jsonl) reproduces the live action; a difference no counterfactual reproduces
 * (another fee rate) stays unexplained.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLive, type LiveResult } from '../../framework/node/live';
import { diffRun, type DiffReport } from '../../framework/parity/diff';
import { readJournal, type JournaledCandle } from '../../framework/report/journal';
import { readTradingJournal } from '../../framework/report/trading-journal';
import { LiveCandleStore } from '../../framework/store/live-store';
import { runCli } from '../support/cli';

/** A test that runs `npm run diff` as a child process: it replays the run from the origin, minutes on a loaded machine. */
const CLI_TIMEOUT_MS = 180_000;

const STRATEGY = 'test/fixtures/strategies/every-candle-1m.ts';
const SIM_M1 = { exchange: 'sim', symbol: 'BTC/USDT', timeframe: '1m' } as const;
const MINUTE = 60_000;
const scratch = mkdtempSync(path.join(tmpdir(), 'actions-cf-'));
const storeRoot = path.join(scratch, 'store');
const runsRoot = path.join(scratch, 'runs');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let live: LiveResult;
/** The last candle the run acted on, as journaled. */
let last: JournaledCandle;
let clean: DiffReport;
let revisedClose: number;
let report: DiffReport;

beforeAll(async () => {
  // every-candle-1m enters on even minutes and exits on odd ones, each filled at the next candle's open: after an odd
  // minute's candle a position is open (entered at its open). Stop there, so the end-of-run close fills at its close.
  const abort = new AbortController();
  let acted = 0;
  live = await runLive({
    file: STRATEGY,
    simulator: { start: Date.UTC(2021, 3, 21, 2, 0), speed: 600 },
    storeRoot,
    runsRoot,
    staleAfter: Number.POSITIVE_INFINITY,
    signal: abort.signal,
    onStatus: () => {
      if (++acted < 6) return;
      const [dir] = readdirSync(runsRoot);
      const lines = readFileSync(path.join(runsRoot, dir!, 'candles.jsonl'), 'utf8').trim().split('\n');
      if ((JSON.parse(lines.at(-1)!) as JournaledCandle).openTime % (2 * MINUTE) === MINUTE) abort.abort();
    },
  });
  clean = await diffRun(STRATEGY, live.dir);
  last = readJournal(live.dir).candles.at(-1)!;
  // The exchange's revision of that candle, stored after the run: another close inside its range.
  revisedClose = last.close === last.high ? last.low : last.high;
  const store = LiveCandleStore.open(storeRoot, SIM_M1);
  const { arrivedAt: _arrivedAt, ...candle } = last;
  await store.append({ ...candle, close: revisedClose, source: 'rest', receivedAt: last.arrivedAt! + 5 * MINUTE });
  await store.close();
  report = await diffRun(STRATEGY, live.dir);
}, 120_000);

describe('actions that differ because a candle was revised after the run acted on it', () => {
  it('before the revision, the run and its replay did the same: no difference', () => {
    expect(last.openTime % (2 * MINUTE)).toBe(MINUTE);
    expect(clean.unexplained).toBe(0);
    expect(clean.actions!.differences).toEqual([]);
    expect(clean.actions!.fills.live).toBeGreaterThan(0);
  });

  it('the run closed its position at the end of the run at the close it acted on; the replay of the store at the revised one', () => {
    const fills = readTradingJournal(live.dir).fills;
    const close = fills.at(-1)!;
    // The end-of-run close: a sell at the last candle, at its close as journaled (no slippage by default).
    expect(close.time).toBe(last.openTime);
    expect(close.price).toBe(last.close);
    expect(report.revisions).toEqual([
      {
        openTime: last.openTime,
        before: { openTime: last.openTime, open: last.open, high: last.high, low: last.low, close: last.close, volume: last.volume },
        after: { openTime: last.openTime, open: last.open, high: last.high, low: last.low, close: revisedClose, volume: last.volume },
      },
    ]);
    expect(report.mismatches).toEqual([]);
    const fill = report.actions!.differences.find((d) => d.kind === 'fill' && d.index === fills.length - 1)!;
    // The first field that differs is the fee (the fields are compared in name order): it is the fill's notional times the rate.
    expect(fill.field).toBe('fee');
    expect((fill.live as { price: number }).price).toBe(last.close);
    expect((fill.replay as { price: number }).price).toBe(revisedClose);
  });

  it('explains every difference as that revision, because the replay with the version the run acted on reproduces it', async () => {
    const { differences } = report.actions!;
    // The close's order event, fill and trade, the state after the candle (its equity) and after the close.
    expect(differences.map((d) => d.kind).sort()).toEqual(['event', 'fill', 'state', 'state', 'trade']);
    for (const d of differences) {
      expect(d.followsSignalMismatch).toBeNull();
      expect(d.cause).toEqual({ kind: 'revision', openTime: last.openTime });
    }
    expect(report.unexplained).toBe(0);
    const { code, stdout } = await runCli('framework/cli/diff.ts', [STRATEGY, '--run', live.dir]);
    expect(code).toBe(0);
    expect(stdout).toContain(`was revised after the run acted on it (the replay with the versions the run saw gives the run's action)`);
  }, CLI_TIMEOUT_MS);

  it('leaves unexplained what no counterfactual reproduces: the same run diffed with another fee rate exits 1, also among several runs', async () => {
    const tampered = path.join(scratch, 'tampered');
    cpSync(live.dir, tampered, { recursive: true });
    const header = JSON.parse(readFileSync(path.join(tampered, 'run.json'), 'utf8')) as { broker: { feeRate: number } };
    header.broker.feeRate = 0.002;
    writeFileSync(path.join(tampered, 'run.json'), JSON.stringify(header));
    const other = await diffRun(STRATEGY, tampered);
    expect(other.revisions).toHaveLength(1);
    expect(other.actions!.differences[0]!.cause).toBeNull();
    expect(other.unexplained).toBeGreaterThan(0);
    // Several runs in one command, each with the strategy file its run.json names: the clean run and the tampered one
    // each get their report; one with an unexplained difference makes the command exit 1.
    const { code, stdout } = await runCli('framework/cli/diff.ts', ['--run', live.dir, '--run', tampered]);
    expect(code).toBe(1);
    const reports = stdout.split(/\n\n/);
    expect(reports).toHaveLength(3);
    expect(reports[0]).toContain(`comparison written to ${path.join(live.dir, 'diff.json')}`);
    expect(reports[0]).not.toContain('UNEXPLAINED');
    expect(reports[1]).toContain('UNEXPLAINED: the same signals were acted on differently');
    expect(reports[1]).toContain(`comparison written to ${path.join(tampered, 'diff.json')}`);
    expect(reports[2]).toBe('2 runs compared, 1 with unexplained differences\n');
  }, CLI_TIMEOUT_MS);
});
