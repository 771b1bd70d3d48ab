import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderExecutor } from '../../framework/execution/executor';
import type { OrderRecord } from '../../framework/execution/orders-journal';
import { createExchange } from '../../framework/feeds/live/exchange';
import { replayCandles } from '../../framework/feeds/replay';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';
import { CHILD_CREDENTIALS, CHILD_ENTRY } from '../support/executor-child';

// A run SIGKILLed while its order was in flight (sent, executed by the exchange, not answered): the next executor in
// the same run folder looks the order up by its client order id before anything else, counts its fill, and never
// sends it again.
const H1 = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' } as const;
const scratch = mkdtempSync(path.join(tmpdir(), 'executor-resume-'));
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({
    markets: [{ symbol: H1.symbol, timeframe: H1.timeframe, candles: replayCandles('datasets', H1) }],
    startTime: Date.UTC(2021, 2, 1, 10, 30),
    speed: 0,
    account: CHILD_CREDENTIALS,
    faults: { orderTimeout: { nth: [1] } }, // the first order executes and its answer is never sent
  });
});

afterAll(async () => {
  await sim.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('OrderExecutor after a SIGKILL with an order in flight', () => {
  it('resolves the order by its client order id, never re-sends it, and goes on from the holding it found', async () => {
    const dir = mkdtempSync(path.join(scratch, 'run-'));
    const child = spawn(process.execPath, ['bin/run.mjs', 'test/support/executor-child.ts'], {
      env: { ...process.env, EX_DIR: dir, EX_REST: sim.restUrl },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const deadline = Date.now() + 60_000;
    while (sim.account.orders.length === 0) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the child sent no order: ${stderr.slice(-2_000)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const killed = readFileSync(path.join(dir, 'orders.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as OrderRecord);
    expect(killed.map((r) => [r.clientOrderId, r.status])).toEqual([[CHILD_ENTRY.clientOrderId, 'sending']]);

    const exchange = createExchange('binance', { urls: sim, enableRateLimit: false, credentials: CHILD_CREDENTIALS });
    try {
      const executor = new OrderExecutor({ venue: exchange, symbol: 'BTC/USDT', strategy: 'resume', dir, limits: { retryDelayMs: 50, queryDelayMs: 50 } });
      await executor.start();
      expect(executor.held).toBe(0.02);
      // the entry's fill event on paper: the exchange already holds the target, nothing is sent
      executor.listener({ order: { ...CHILD_ENTRY, status: 'filled', filledQuantity: 0.02 }, targetQuantity: 0.02 });
      // then an exit: the 0.02 found is sold
      const exit = { ...CHILD_ENTRY, clientOrderId: `${CHILD_ENTRY.clientOrderId.slice(0, -1)}1`, side: 'sell' as const, reason: 'exit' as const };
      executor.listener({ order: exit, targetQuantity: 0 });
      await executor.flush();
      executor.close();
      const all = await exchange.fetchOrders('BTC/USDT');
      expect(all.map((o) => [o.clientOrderId, o.side, o.filled])).toEqual([
        [CHILD_ENTRY.clientOrderId, 'buy', 0.02],
        [exit.clientOrderId, 'sell', 0.02],
      ]);
      const balance = await exchange.fetchBalance();
      expect((balance.total as unknown as Record<string, number | undefined>)['BTC'] ?? 0).toBe(0);
      const records = readFileSync(path.join(dir, 'orders.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as OrderRecord);
      expect(records.map((r) => [r.request, r.clientOrderId, r.status, r.held])).toEqual([
        ['create', CHILD_ENTRY.clientOrderId, 'sending', 0],
        ['fetch', CHILD_ENTRY.clientOrderId, 'closed', 0.02],
        ['create', exit.clientOrderId, 'sending', 0.02],
        ['create', exit.clientOrderId, 'closed', 0],
      ]);
    } finally {
      await exchange.close();
    }
  }, 90_000);
});
