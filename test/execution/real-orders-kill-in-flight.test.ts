/**
 * `npm run live -- … --real-orders` SIGKILLed while an order is in flight, right after a hand sale was closed on paper,
 * then the same command (issue 12: durable trading state, reconciliation).
 *
 * The fixture enters whenever flat and never exits. While the run is long, the test sells the whole holding by hand;
 * reconciliation finds it, the paper trade closes as `closed_on_exchange` on the next candle, and on that candle's
 * close the strategy enters again. The simulator executes that entry but never answers it (accept-then-timeout), so the
 * child is deterministically inside the request — after the candle's checkpoint and the executor's `reconcile` line,
 * with the order's `sending` line unanswered — when it is SIGKILLed.
 *
 * The same command then: restores the paper state of that candle (the trade closed, the entry pending), looks the order
 * up by its client order id (never re-sent), and ends with the account holding exactly the paper position: no phantom
 * paper position for coins sold by hand, no stranded coins, no client order id twice, and `npm run diff` agrees.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { OrderRecord } from '../../framework/execution/orders-journal';
import { replayCandles } from '../../framework/feeds/replay';
import { diffRun } from '../../framework/parity/diff';
import { readTradingJournal } from '../../framework/report/trading-journal';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';

const FIXTURE = 'test/fixtures/strategies/recon-1m.ts';
const M1 = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' } as const;
const credentials = { apiKey: 'in-flight-key', secret: 'in-flight-secret' };
/** A 1m candle every 100 ms of real time. */
const SPEED = 600;
const scratch = mkdtempSync(path.join(tmpdir(), 'real-orders-in-flight-'));
let sim: Simulator | null = null;
afterAll(async () => {
  await sim?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const units = (quantity: number): number => Math.round(quantity * 1e8);

/** `npm run live` as the README gives it (node bin/run.mjs framework/cli/live.ts), keys in the environment. */
function live(args: readonly string[]): { child: ChildProcess; stderr: () => string; exited: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    ['bin/run.mjs', 'framework/cli/live.ts', FIXTURE, '--param', 'hold=0', '--param', 'add=0', '--sim-url', sim!.restUrl,
      '--speed', String(SPEED), '--real-orders', '--reconcile-every', '0.1', '--stale-after', 'off',
      '--store', path.join(scratch, 'store'), '--runs', path.join(scratch, 'runs'), ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CANDLECRAFT_API_KEY: credentials.apiKey, CANDLECRAFT_API_SECRET: credentials.secret } },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.resume();
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, stderr: () => stderr, exited };
}

function runDir(): string | null {
  const runs = path.join(scratch, 'runs');
  const [run] = existsSync(runs) ? readdirSync(runs) : [];
  return run === undefined ? null : path.join(runs, run);
}

function records(dir: string): OrderRecord[] {
  const file = path.join(dir, 'orders.jsonl');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.endsWith('}')).map((l) => JSON.parse(l) as OrderRecord) : [];
}

async function until(what: string, ok: () => boolean, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (!ok()) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`timed out waiting for ${what}: ${stderr().slice(-2_000)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('npm run live --real-orders SIGKILLed with an order in flight after a hand sale', () => {
  it('restores the closed trade and the pending entry, resolves the order by its client id, and ends with the account holding the paper position', { timeout: 300_000 }, async () => {
    sim = await startSimulator({
      markets: [{ symbol: M1.symbol, timeframe: M1.timeframe, candles: replayCandles('datasets', M1) }],
      startTime: Date.UTC(2021, 3, 22),
      speed: SPEED,
      account: credentials,
      faults: { orderTimeout: { nth: [2] } }, // the run's second order executes and is never answered
    });
    const account = sim.account;
    const runOrders = () => account.orders.filter((o) => !o.manual);
    const first = live(['--verbose']);
    await until('the first entry', () => runOrders().length === 1 && account.balance('BTC').free > 0 && records(runDir() ?? '').some((r) => r.status === 'closed'), first.child, first.stderr);
    const sale = account.trade({ symbol: M1.symbol, side: 'sell', quantity: account.balance('BTC').free });
    await until('the entry after the sale to be in flight', () => runOrders().length === 2, first.child, first.stderr);
    first.child.kill('SIGKILL');
    await first.exited;
    const dir = runDir()!;
    // The kill point: the candle's checkpoint (the trade closed, the entry pending) and the reconcile line are durable;
    // the entry's order was sent and never answered.
    const killed = readTradingJournal(dir);
    expect(killed.trades.map((t) => t.exitReason)).toEqual(['closed_on_exchange']);
    const pending = killed.state!.pendingOrders.map((p) => p.order.clientOrderId);
    expect(pending).toEqual([runOrders()[1]!.clientOrderId]);
    expect(records(dir).map((r) => r.request === 'reconcile' ? 'reconcile' : r.status).slice(-2)).toEqual(['reconcile', 'sending']);

    const second = live(['--max-candles', '5']);
    expect(await second.exited, second.stderr().slice(-2_000)).toBe(0);
    expect(second.stderr()).toMatch(/continuing a killed run/);
    expect(readdirSync(path.join(scratch, 'runs'))).toHaveLength(1);

    // Each client order id reached the exchange once: the entry, and the entry after the sale (looked up, not re-sent).
    const ids = runOrders().map((o) => o.clientOrderId);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
    const journal = readTradingJournal(dir);
    // (the report's end-of-data close at the stop is not sent: the exchange keeps the position for the next run)
    expect(journal.trades.filter((t) => t.exitReason !== 'end_of_data').map((t) => [t.exitReason, t.exitPrice])).toEqual([['closed_on_exchange', sale.price]]);
    // The pending entry filled on paper on the restarted run's first candle: the paper position is the exchange's fill.
    expect(journal.fills.filter((f) => f.clientOrderId === pending[0]).map((f) => units(f.quantity))).toEqual([units(runOrders()[1]!.executedQuantity)]);
    const position = journal.checkpoints.at(-2)!.state.position; // before the report's close
    expect(units(account.balance('BTC').free)).toBe(units(position?.quantity ?? 0));
    const last = records(dir).at(-1)!;
    expect(units(last.held)).toBe(units(account.balance('BTC').free));
    expect(records(dir).filter((r) => r.request === 'reconcile')).toHaveLength(1);
    // Nothing unexplained, nothing failed: the restart reconciled in sync.
    const events = readFileSync(path.join(dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.filter((e) => e['type'] === 'trade_failed' || e['finding'] === 'unexplained')).toEqual([]);
    const report = await diffRun(FIXTURE, dir);
    expect(report.unexplained).toBe(0);
  });
});
