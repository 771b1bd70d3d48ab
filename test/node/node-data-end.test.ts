import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCli } from '../support/cli';

describe('npm run node on the in-process simulator', () => {
  // The shipped BTC/USDT 15m and 1h end on 2021-07-17 (datasets/README.md). Started past the end, every feed's
  // backfill waits for candles that never come (as a slow start on a fast clock does at load): the node still stops
  // at the data's end rather than waiting for ever in its start, and at once, as no worker got a live candle to act on.
  it("stops at the simulator's data end when started past it", async () => {
    const scratch = mkdtempSync(path.join(tmpdir(), 'node-data-end-'));
    onTestFinished(() => rmSync(scratch, { recursive: true, force: true }));
    const { code, stdout, stderr } = await runCli('framework/cli/node.ts', ['nodes/example.yaml', '--exchange', 'sim', '--speed', '36000', '--start', '2021-07-18', '--runs', path.join(scratch, 'runs'), '--store', path.join(scratch, 'store'), '--quiet']);
    expect(code).toBe(0);
    expect(stderr).toContain('"lastCandles":{"market_data.binance.btc_usdt.15m":"2021-07-17T20:45:00.000Z","market_data.binance.btc_usdt.1h":"2021-07-17T20:00:00.000Z"},"msg":"the simulator\'s data ended: stopping"');
    // Nothing went out live: the node does not wait for its workers to act on the last candles (up to 30 s).
    expect(stderr).toContain('"msg":"no candle went out live before the data ended: the workers stop at once"');
    expect(stdout).toMatch(/^runs written to /m);
  }, 180_000);
});
