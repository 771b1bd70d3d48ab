import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderRecord } from '../../framework/execution/orders-journal';
import { replayCandles } from '../../framework/feeds/replay';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';

const exec = promisify(execFile);
const scratch = mkdtempSync(path.join(tmpdir(), 'real-orders-'));
const API_KEY = 'sim-key-3f9a1c7e5b';
const SECRET = 'sim-secret-8d2e6b4a0c9f';
const M1 = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' } as const;

let sim: Simulator;
let output = '';
let run = '';

beforeAll(async () => {
  sim = await startSimulator({
    markets: [{ symbol: M1.symbol, timeframe: M1.timeframe, candles: replayCandles('datasets', M1) }],
    startTime: Date.UTC(2021, 3, 21, 2, 0),
    speed: 3_000,
    account: { apiKey: API_KEY, secret: SECRET },
  });
  const child = spawn(
    process.execPath,
    ['bin/run.mjs', 'framework/cli/live.ts', 'test/fixtures/strategies/candle-body-1m.ts', '--sim-url', sim.restUrl,
      '--speed', '3000', '--real-orders', '--max-candles', '300', '--verbose', '--stale-after', 'off',
      '--store', path.join(scratch, 'store'), '--runs', path.join(scratch, 'runs')],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CANDLECRAFT_API_KEY: API_KEY, CANDLECRAFT_API_SECRET: SECRET } },
  );
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`live --real-orders exited ${code}: ${output.slice(-2_000)}`);
  run = path.join(scratch, 'runs', readdirSync(path.join(scratch, 'runs'))[0]!);
}, 120_000);

afterAll(async () => {
  await sim?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('npm run live -- --real-orders, against the simulator', () => {
  it('mirrors every paper order as a signed market order with its client order id, and journals it', () => {
    const orders = readFileSync(path.join(run, 'orders.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as OrderRecord).filter((o) => o.status !== 'sending');
    // How many depends on which 300 candles the run sees (the child joins the simulator's clock after its start-up).
    expect(orders.length).toBeGreaterThan(0);
    // Nothing failed; a few differences were too small to send (what the paper broker could not afford when the open
    // gapped above the deciding close: the stake is all the equity), left for the position's next order.
    const failed = orders.filter((o) => o.failure !== null);
    expect(failed.filter((o) => !/below the market's minimum order value/.test(o.failure!.message))).toEqual([]);
    const sent = orders.filter((o) => o.failure === null);
    // The simulator filled exactly these, after checking the key and the HMAC signature of each request.
    expect(sim.account.orders.map((o) => [o.clientOrderId, String(o.orderId), o.side.toLowerCase(), o.executedQuantity])).toEqual(
      sent.map((o) => [o.clientOrderId, o.orderId, o.side, o.filled]),
    );
    expect(orders[0]!.side).toBe('buy');
    // Each acted signal's paper order is sent under its own client order id (exits included: the old router sold only
    // what it had bought, and missed exits decided before an entry's answer).
    const signals = readFileSync(path.join(run, 'signals.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { acted: boolean; action: string });
    const paperIds = new Set(sent.map((o) => o.paperClientOrderId));
    expect(paperIds.size).toBe(signals.filter((s) => s.acted).length);
    expect(new Set(sent.filter((o) => o.reason === 'exit').map((o) => o.paperClientOrderId)).size).toBe(signals.filter((s) => s.acted && s.action === 'exit_long').length);
    // The account ends holding what the run's journal says it holds.
    expect(Math.round(sim.account.balance('BTC').free * 1e8)).toBe(Math.round(orders.at(-1)!.held * 1e8));
  });

  it('never writes the key or the secret to its output, journal or report', () => {
    const files = readdirSync(run).map((f) => readFileSync(path.join(run, f), 'utf8'));
    for (const text of [output, ...files]) {
      expect(text.includes(API_KEY)).toBe(false);
      expect(text.includes(SECRET)).toBe(false);
    }
  });

  it('refuses at start a strategy that declares canShort, naming the strategy and the flag', async () => {
    const failed = await exec(
      process.execPath,
      ['bin/run.mjs', 'framework/cli/live.ts', 'test/fixtures/strategies/can-short.ts', '--exchange', 'sim', '--real-orders', '--runs', path.join(scratch, 'short')],
      { env: { ...process.env, CANDLECRAFT_API_KEY: API_KEY, CANDLECRAFT_API_SECRET: SECRET } },
    ).then(() => null, (e: unknown) => e as { code: number; stderr: string });
    expect(failed?.code).toBe(1);
    expect(failed?.stderr.trim()).toBe(
      'error: --real-orders: strategy "can-short" declares canShort = true, but a spot account cannot short; run it without --real-orders',
    );
  });

  it('refuses to start without the credentials in the environment, naming the variables', async () => {
    const env = { ...process.env };
    delete env['CANDLECRAFT_API_KEY'];
    delete env['CANDLECRAFT_API_SECRET'];
    const failed = await exec(
      process.execPath,
      ['bin/run.mjs', 'framework/cli/live.ts', 'strategies/macd.ts', '--exchange', 'sim', '--real-orders', '--runs', path.join(scratch, 'refused')],
      { env },
    ).then(() => null, (e: unknown) => e as { code: number; stderr: string });
    expect(failed?.code).toBe(1);
    expect(failed?.stderr.trim()).toBe(
      'error: --real-orders needs the API credentials in the environment: set CANDLECRAFT_API_KEY and CANDLECRAFT_API_SECRET',
    );
  });
});
