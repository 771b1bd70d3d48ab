import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Subscription } from '../../framework/core/subscription';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';
import { readDataset } from '../../framework/store/partitions';
import { BTC_5M, rowsOf, slice } from './support';

const SUB: Subscription = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '5m' };
const START = Date.UTC(2021, 2, 1, 0, 7);
const FORMING = Date.UTC(2021, 2, 1, 0, 5);

const scratch = mkdtempSync(path.join(tmpdir(), 'download-cli-'));
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({
    markets: [{ symbol: 'BTC/USDT', timeframe: '5m', candles: readDataset('datasets', SUB) }],
    startTime: START,
    speed: 0,
  });
});
afterAll(async () => {
  await sim.stop();
  rmSync(scratch, { recursive: true, force: true });
});

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the download CLI (node itself, not npx, so that a signal reaches it) against the simulator; `interrupt`, when
 * given, is called with each chunk of standard error and may send the child a signal.
 */
function download(args: readonly string[], interrupt?: (stderr: string, child: { kill: (signal: NodeJS.Signals) => void }) => void): Promise<Outcome> {
  const child = spawn(
    process.execPath,
    ['bin/run.mjs', 'framework/cli/download.ts', 'binance', 'BTC/USDT', '5m', '--sim-url', sim.restUrl, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => {
    stderr += String(d);
    interrupt?.(stderr, child);
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

describe('npm run download', () => {
  it('downloads a range from the simulator, logging JSON lines and no progress bar when stderr is not a terminal', async () => {
    const root = path.join(scratch, 'plain');
    const { code, stdout, stderr } = await download(['--since', '2021-02-01', '--datasets', root]);
    expect(code).toBe(0);
    const expected = slice(BTC_5M, Date.UTC(2021, 1, 1), FORMING);
    expect(rowsOf(readDataset(root, SUB))).toEqual(expected);
    expect(stdout).toContain(`binance BTC/USDT 5m: ${expected.length} candles stored (2021-02-01T00:00:00.000Z to 2021-03-01T00:00:00.000Z)`);
    const lines = stderr.split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('stops after the page being read on Ctrl-C (exit 130) and resumes where it stopped when run again', async () => {
    const root = path.join(scratch, 'interrupted');
    let sent = false;
    const first = await download(['--since', '2021-02-01', '--page-limit', '200', '--datasets', root, '--verbose'], (stderr, child) => {
      if (!sent && stderr.includes('page stored')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    expect(first.code).toBe(130);
    expect(first.stdout).toMatch(/interrupted: candles up to \S+ are stored; run the same command again to resume/);
    const expected = slice(BTC_5M, Date.UTC(2021, 1, 1), FORMING);
    const partial = rowsOf(readDataset(root, SUB));
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(expected.length);
    expect(partial).toEqual(expected.slice(0, partial.length));

    const second = await download(['--datasets', root]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`resumed after the stored candle of ${new Date(partial.at(-1)!.openTime).toISOString()}`);
    expect(rowsOf(readDataset(root, SUB))).toEqual(expected);
  });

  it('fails with one line when a new dataset has no --since', async () => {
    const { code, stderr } = await download(['--datasets', path.join(scratch, 'none')]);
    expect(code).toBe(1);
    expect(stderr).toContain('error: binance BTC/USDT 5m: no candles stored yet; give the first open time to download');
  });
});
