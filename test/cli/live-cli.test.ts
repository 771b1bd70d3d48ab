import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readStoredCandles } from '../../framework/store/live-store';

const scratch = mkdtempSync(path.join(tmpdir(), 'live-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('npm run live -- strategies/macd.ts --exchange sim', () => {
  it('shows candles arriving, and on SIGINT flushes the log, closes the sockets and writes the run', async () => {
    const child = spawn(
      process.execPath,
      ['bin/run.mjs', 'framework/cli/live.ts', 'strategies/macd.ts', '--exchange', 'sim', '--speed', '6000',
        '--start', '2021-03-01', '--store', path.join(scratch, 'store'), '--runs', path.join(scratch, 'runs')],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const deadline = Date.now() + 60_000;
    while ((stderr.match(/"closed candle"/g) ?? []).length < 20) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no candles arrived: ${stderr.slice(-2_000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code, stderr.slice(-2_000)).toBe(0);

    // Status lines name the connection, the last closed candle, the lag and the signals.
    expect(stderr).toMatch(/"status":"open \| last closed 2021-03-01 \d\d:\d\d \| lag [\d.]+s \| candles \d+/);
    expect(stdout).toMatch(/^stopped \| last closed/m);
    const run = /run written to (.+)\/$/m.exec(stdout)![1]!;
    for (const file of ['summary.json', 'run.json', 'candles.jsonl', 'signals.jsonl', 'trades.parquet', 'equity.parquet', 'report.html']) {
      expect(existsSync(path.join(run, file)), file).toBe(true);
    }
    const summary = JSON.parse(readFileSync(path.join(run, 'summary.json'), 'utf8')) as { mode: string; candles: number };
    expect(summary.mode).toBe('live');
    const acted = readFileSync(path.join(run, 'candles.jsonl'), 'utf8').trim().split('\n').length;
    expect(summary.candles).toBe(acted);

    // The write-ahead log was compacted into the monthly partitions: nothing left in the log, every candle stored.
    const dataset = path.join(scratch, 'store', 'sim', 'BTC_USDT', '15m');
    const log = path.join(dataset, 'wal.log');
    expect(!existsSync(log) || statSync(log).size === 0).toBe(true);
    expect(readdirSync(dataset).some((f) => f.endsWith('.parquet'))).toBe(true);
    const stored = readStoredCandles(path.join(scratch, 'store'), { exchange: 'sim', symbol: 'BTC/USDT', timeframe: '15m' });
    expect(stored.openTime.length).toBeGreaterThanOrEqual(acted);
  });
});
