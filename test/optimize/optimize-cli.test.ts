/**
 * `npm run optimize` end to end, as child processes on the shipped BTC/USDT 15m candles: a small TPE search is
 * reproducible, its trials' metrics are the backtest's, and a SIGKILL loses and repeats no trial.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backtestErrorLine } from '../support/backtest-failure';
import { runCli } from '../support/cli';

const runs = mkdtempSync(path.join(tmpdir(), 'optimize-cli-'));
afterAll(() => rmSync(runs, { recursive: true, force: true }));

// 30 TPE trials in each of 2 windows on 6 weeks of 15m candles (4,320 candles: spans of 1,440), plus one
// out-of-sample run per window.
const SEARCH = ['strategies/macd.ts', '--sampler', 'tpe', '--trials', '30', '--windows', '2', '--seed', '7',
  '--from', '2021-01-01', '--to', '2021-02-12', '--threads', '2', '--quiet'];
const TOTAL = 2 * (30 + 1);

interface Row {
  readonly id: string;
  readonly params: Record<string, number>;
  readonly from: number;
  readonly to: number;
  readonly metrics: Record<string, number | string | null>;
}

/** The one optimize-<id> folder under `root`. */
function optimizeDir(root: string): string {
  const found = readdirSync(root).filter((d) => d.startsWith('optimize-'));
  expect(found).toHaveLength(1);
  return path.join(root, found[0]!);
}

function logLines(dir: string): string[] {
  const text = readFileSync(path.join(dir, 'trials.jsonl'), 'utf8');
  return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter((l) => l !== '');
}

function rowsById(dir: string): Row[] {
  return logLines(dir).map((l) => JSON.parse(l) as Row).sort((a, b) => a.id.localeCompare(b.id));
}

describe('npm run optimize', () => {
  const first = path.join(runs, 'first');
  const killed = path.join(runs, 'killed');
  const search = runCli('framework/cli/optimize.ts', [...SEARCH, '--runs', first]);
  // The same command again, side by side with the first: SIGKILLed once a dozen trials are recorded (well before the
  // 62 of the search), then run once more to the end.
  const killedAndResumed = (async () => {
    const child = spawn(process.execPath, ['bin/run.mjs', 'framework/cli/optimize.ts', ...SEARCH, '--runs', killed], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const dirs = existsSync(killed) ? readdirSync(killed) : [];
      if (dirs.length === 1 && existsSync(path.join(killed, dirs[0]!, 'trials.jsonl')) && logLines(path.join(killed, dirs[0]!)).length >= 12) break;
    }
    child.kill('SIGKILL');
    await exited;
    const recorded = logLines(path.join(killed, readdirSync(killed)[0]!)).length;
    const resumed = await runCli('framework/cli/optimize.ts', [...SEARCH, '--runs', killed]);
    return { recorded, resumed };
  })();
  // Awaited by the test below; handled here so that a failure before then is not reported as unhandled.
  killedAndResumed.catch(() => undefined);

  it('records every trial once, and TPE explores', { timeout: 300_000 }, async () => {
    const a = await search;
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    const rows = rowsById(optimizeDir(first));
    expect(rows).toHaveLength(TOTAL);
    expect(new Set(rows.map((r) => r.id)).size).toBe(TOTAL);
    // TPE explored: more than a handful of distinct parameter sets per window.
    expect(new Set(rows.filter((r) => r.id.startsWith('w0-t')).map((r) => JSON.stringify(r.params))).size).toBeGreaterThan(10);
  });

  it('records in-sample metrics that npm run backtest reproduces exactly', { timeout: 300_000 }, async () => {
    await search;
    const dir = optimizeDir(first);
    const rows = rowsById(dir);
    const trial = rows.find((r) => r.id === 'w1-t23')!;
    const best = JSON.parse(readFileSync(path.join(dir, 'best-params.json'), 'utf8')) as Row & { trial: string };
    const backtests = path.join(runs, 'backtests');
    // Without the lookahead check run after a backtest (--no-check): these runs are about the metrics.
    const [byParams, byFile] = await Promise.all([
      runCli('framework/cli/backtest.ts', ['strategies/macd.ts', '--runs', path.join(backtests, 'params'), '--quiet', '--no-check',
        '--from', String(trial.from), '--to', String(trial.to), ...Object.entries(trial.params).flatMap(([k, v]) => ['--param', `${k}=${v}`])]),
      runCli('framework/cli/backtest.ts', ['strategies/macd.ts', '--runs', path.join(backtests, 'file'), '--quiet', '--no-check', '--params-file', path.join(dir, 'best-params.json')]),
    ]);
    expect(byParams.code).toBe(0);
    expect(byFile.code).toBe(0);
    const summary = (root: string) => {
      const run = readdirSync(root)[0]!;
      return JSON.parse(readFileSync(path.join(root, run, 'summary.json'), 'utf8')) as { metrics: Row['metrics'] };
    };
    expect(summary(path.join(backtests, 'params')).metrics).toEqual(trial.metrics);
    const chosen = rows.find((r) => r.id === best.trial)!;
    expect(summary(path.join(backtests, 'file')).metrics).toEqual(chosen.metrics);
  });

  it('gives the same trials when the same command runs again, SIGKILLed and run once more: none lost, none run twice', { timeout: 300_000 }, async () => {
    const { recorded, resumed } = await killedAndResumed;
    expect(recorded).toBeLessThan(TOTAL);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`${TOTAL} trials (${TOTAL - recorded} run now)`);
    const lines = logLines(optimizeDir(killed));
    expect(lines).toHaveLength(TOTAL);
    const rows = rowsById(optimizeDir(killed));
    expect(new Set(rows.map((r) => r.id)).size).toBe(TOTAL);
    await search;
    expect(rows).toEqual(rowsById(optimizeDir(first)));
    // The Parquet compaction holds the same rows in the same order: the same bytes.
    expect(readFileSync(path.join(optimizeDir(killed), 'trials.parquet'))).toEqual(readFileSync(path.join(optimizeDir(first), 'trials.parquet')));
  });

  // Raised by the backtest itself (runBacktest), which npm run backtest prints on one line, exit 1 (a real process in
  // test/cli/backtest-cli.test.ts): in this process (test/support/backtest-failure.ts).
  it('refuses a --param outside the declared space, naming the allowed range', async () => {
    const refused = path.join(runs, 'refused');
    const negative = await backtestErrorLine({ file: 'strategies/macd.ts', params: { fast: '-5' }, runsRoot: refused });
    expect(negative).toBe('error: strategies/macd.ts: parameter "fast" must be a whole number from 4 to 30, got "-5"');
    const fraction = await backtestErrorLine({ file: 'strategies/macd.ts', params: { fast: '2.5' }, runsRoot: refused });
    expect(fraction).toContain('parameter "fast" must be a whole number from 4 to 30, got "2.5"');
    expect(existsSync(refused)).toBe(false);
  });
});
