import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';

const scratch = mkdtempSync(path.join(tmpdir(), 'live-front-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const runsIn = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);

/** A loopback port nothing listens on: port 1 (tcpmux) is privileged and unused here. */
const UNREACHABLE = 'http://127.0.0.1:1';

describe('live and download against an exchange that cannot be reached', () => {
  it('a failed live start leaves no run folder', async () => {
    const runs = path.join(scratch, 'unreachable-runs');
    const { code, stderr } = await runCli('framework/cli/live.ts', ['strategies/ema-cross.ts', '--sim-url', UNREACHABLE, '--runs', runs, '--store', path.join(scratch, 'store0'), '--quiet']);
    expect(code).toBe(1);
    expect(stderr.trim()).toMatch(/^error: binance BTC\/USDT 1h: the live run could not start: .*ECONNREFUSED 127\.0\.0\.1:1$/);
    expect(runsIn(runs)).toEqual([]);
    // Also when the start fails on the real-orders account (its markets are loaded before the feeds).
    const credentials = { CANDLECRAFT_API_KEY: 'key', CANDLECRAFT_API_SECRET: 'secret' };
    const real = await runCli('framework/cli/live.ts', ['strategies/macd.ts', '--sim-url', UNREACHABLE, '--real-orders', '--runs', runs, '--store', path.join(scratch, 'store0'), '--quiet'], credentials);
    expect(real.code).toBe(1);
    expect(real.stderr.trim()).toMatch(/^error: binance BTC\/USDT 15m: the live run could not start: .*ECONNREFUSED 127\.0\.0\.1:1$/);
    expect(runsIn(runs)).toEqual([]);
  }, 180_000);

  it('download gives up after a bounded number of tries, with one line', async () => {
    const { code, stderr } = await runCli('framework/cli/download.ts', ['binance', 'BTC/USDT', '1h', '--since', '2021-01-01', '--sim-url', UNREACHABLE, '--datasets', path.join(scratch, 'dl'), '--retries', '3', '--quiet']);
    expect(code).toBe(1);
    const errors = stderr.split('\n').filter((l) => l.startsWith('error:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^error: binance BTC\/USDT 1h: loadMarkets failed after 3 tries: /);
    // Each retry is logged as a warning: 3 tries, 2 retries.
    expect(stderr.split('\n').filter((l) => l.includes('failed; retrying'))).toHaveLength(2);
    expect(existsSync(path.join(scratch, 'dl'))).toBe(false);
  }, 180_000);
});

describe('live runs on the in-process simulator', () => {
  // The shipped BTC/USDT 1h ends with the candle of 2021-07-17 20:00 (datasets/README.md). Started past the end, the
  // backfill waits for candles that never come (as a slow start on a fast clock does: CI at load): the data's end is
  // watched from the start, not only once the backfill has caught up.
  it.each(['2021-07-17', '2021-07-18'])("stops with one line when the simulator's data ends (start %s)", async (start) => {
    const runs = path.join(scratch, `end-runs-${start}`);
    const { code, stdout } = await runCli('framework/cli/live.ts', ['strategies/ema-cross.ts', '--exchange', 'sim', '--speed', '36000', '--start', start, '--runs', runs, '--store', path.join(scratch, `store-${start}`), '--quiet']);
    expect(code).toBe(0);
    expect(stdout).toContain("the simulator's data ended with the candle of 2021-07-17T20:00:00.000Z; stopped");
  }, 180_000);

  it('a strategy that throws live still writes summary.json and the report, then names the error', async () => {
    const runs = path.join(scratch, 'throw-runs');
    const { code, stderr } = await runCli('framework/cli/live.ts', ['test/fixtures/strategies/throws-live.ts', '--exchange', 'sim', '--speed', '3600', '--start', '2021-07-17', '--runs', runs, '--store', path.join(scratch, 'store2'), '--quiet']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: .*throws-live\.ts.*division by zero/m);
    const [run] = runsIn(runs);
    const summary = JSON.parse(readFileSync(path.join(runs, run!, 'summary.json'), 'utf8')) as { candles: number; lastCandle: number };
    expect(summary.candles).toBeGreaterThan(0);
    // The last candle is the one the strategy threw on (the broker had filled on it): 2021-07-17 10:00.
    expect(summary.lastCandle).toBe(Date.UTC(2021, 6, 17, 10));
    expect(existsSync(path.join(runs, run!, 'report.html'))).toBe(true);
  }, 180_000);

  // `npm run live` runs `node --import tsx` (package.json): tsx's own CLI relays a Ctrl-C to its child and SIGKILLs it
  // when the child has not acknowledged within ~60 ms (tsx 4, relaySignalToChild), which a busy run can miss.
  it('Ctrl-C under npm run live (SIGINT to the whole process group, as a terminal sends it) writes the report', async () => {
    const runs = path.join(scratch, 'sigint-runs');
    const child = spawn('npm', ['run', 'live', '--', 'strategies/ema-cross.ts', '--exchange', 'sim', '--speed', '3600', '--start', '2021-07-10', '--runs', runs, '--store', path.join(scratch, 'store3')], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    // 'close': every process holding the pipes (npm and the CLI under it) has ended, not just npm.
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if ((stderr.match(/"msg":"closed candle"/g) ?? []).length >= 2) resolve();
      });
    });
    process.kill(-child.pid!, 'SIGINT');
    await closed;
    const [run] = runsIn(runs);
    expect(existsSync(path.join(runs, run!, 'summary.json'))).toBe(true);
    expect(existsSync(path.join(runs, run!, 'report.html'))).toBe(true);
    expect(stdout).toMatch(/^run written to /m);
  }, 180_000);
});
