import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../../framework/engine/backtest';
import { runLive, type LiveResult } from '../../framework/node/live';
import { diffRun } from '../../framework/parity/diff';
import { readJournal } from '../../framework/report/journal';

/** A test that runs `npm run diff` as a child process: it replays the run from the origin, minutes on a loaded machine. */
const CLI_TIMEOUT_MS = 180_000;

const exec = promisify(execFile);
const scratch = mkdtempSync(path.join(tmpdir(), 'parity-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const FILTERED = 'strategies/macd-trend-filter.ts';

describe('a live run of a 15m strategy with a 1h informative subscription, against the simulator', () => {
  let live: LiveResult;
  beforeAll(async () => {
    live = await runLive({
      file: FILTERED,
      simulator: { start: Date.UTC(2021, 0, 10), speed: 10_000 },
      storeRoot: path.join(scratch, 'store'),
      runsRoot: path.join(scratch, 'runs'),
      maxCandles: 200,
    });
    // 200 candles acted on, each with two fdatasyncs: minutes on an overloaded machine.
  }, 600_000);

  it('journals every traded candle and signal with the strategy, parameters hash and provenance', () => {
    const journal = readJournal(live.dir);
    expect(journal.header.mode).toBe('live');
    expect(journal.candles.map((c) => c.openTime)).toEqual(live.liveCandles.map((c) => c.openTime));
    expect(journal.signals).toHaveLength(live.engine.signals.length);
    for (const signal of journal.signals) {
      expect(signal.strategy).toEqual(live.engine.identity);
      expect(signal.subscription).toEqual({ exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' });
      expect(['websocket', 'rest']).toContain(signal.provenance.source);
      expect(signal.provenance.receivedAt).toBeGreaterThan(0);
      expect(Number.isFinite(signal.indicators['close_1h'])).toBe(true);
    }
  });

  it('replays to the same signals, bit for bit, 1h candles visible only once closed in both', async () => {
    expect(live.engine.signals.length).toBeGreaterThan(0);
    const report = await diffRun(FILTERED, live.dir);
    expect(report.liveSignals).toBe(live.engine.signals.length);
    expect(report.matched).toBe(report.liveSignals);
    expect(report.replaySignals).toBe(report.liveSignals);
    expect(report.mismatches).toEqual([]);
    expect(report.indicatorDrift).toBe(0);
    expect(JSON.parse(readFileSync(path.join(live.dir, 'diff.json'), 'utf8')).matched).toBe(report.matched);
  });

  it('npm run diff prints the comparison and exits 0', async () => {
    const { stdout } = await exec(process.execPath, ['bin/run.mjs', 'framework/cli/diff.ts', FILTERED, '--run', live.dir]);
    expect(stdout).toContain(`${live.engine.signals.length} matched, 0 mismatched (0 unexplained)`);
  }, CLI_TIMEOUT_MS);
});

describe('npm run diff on a live run of a strategy with lookahead in populateIndicators', () => {
  it('explains every difference as lookahead, naming the column', async () => {
    const file = 'test/fixtures/strategies/lookahead-shift.ts';
    const live = await runLive({
      file,
      simulator: { start: Date.UTC(2021, 2, 1), speed: 60_000 },
      storeRoot: path.join(scratch, 'store-lookahead'),
      runsRoot: path.join(scratch, 'runs'),
      maxCandles: 25,
    });
    // Live, the next close does not exist yet: no signal; the replay sees it on every candle but the last.
    expect(live.engine.signals).toEqual([]);
    const report = await diffRun(file, live.dir);
    expect(report.mismatches.length).toBeGreaterThanOrEqual(20);
    expect(report.unexplained).toBe(0);
    for (const mismatch of report.mismatches) {
      expect(mismatch.live).toBeNull();
      expect(mismatch.cause).toEqual({ kind: 'lookahead', column: 'next_close' });
    }
  });
});

describe('npm run diff on a backtest', () => {
  it('matches every signal of the run', async () => {
    const result = await runBacktest({ file: 'strategies/ema-cross.ts', runsRoot: path.join(scratch, 'runs') });
    const report = await diffRun('strategies/ema-cross.ts', result.dir);
    expect(report.mode).toBe('backtest');
    expect(report.matched).toBe(result.engine.signals.length);
    expect(report.mismatches).toEqual([]);
  });

  it('refuses a strategy that is not the run\'s', async () => {
    const result = await runBacktest({ file: 'strategies/ema-cross.ts', runsRoot: path.join(scratch, 'runs') });
    await expect(diffRun('strategies/macd.ts', result.dir)).rejects.toThrow(
      `strategies/macd.ts is strategy "macd", but run ${result.summary.runId} ran "ema-cross"`,
    );
  });
});
