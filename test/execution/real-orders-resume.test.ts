/**
 * `npm run live -- … --real-orders` killed by SIGKILL while long, then the same command: a live child on the simulator
 * (running in this process, with an account) is killed; the same command runs again. The run continues in the same
 * folder with the broker and the executor's holding restored, reconciles with the account at its restart (in sync:
 * nothing to close, nothing external), its trades equal those of a run over the same candles without the kill, the
 * account ends holding exactly what the paper position says, and no client order id reached the exchange twice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { brokerConfig } from '../../framework/broker/broker-config';
import { PaperBroker } from '../../framework/broker/paper-broker';
import { batchFromCandles, type StoredCandle } from '../../framework/core/candle';
import { Engine } from '../../framework/engine/engine';
import type { OrderRecord } from '../../framework/execution/orders-journal';
import { diffRun } from '../../framework/parity/diff';
import { readJournal } from '../../framework/report/journal';
import { readTradingJournal } from '../../framework/report/trading-journal';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';
import { readDataset } from '../../framework/store/partitions';
import { loadStrategy } from '../../framework/strategy/loader';

const FILE = 'test/fixtures/strategies/account-scaling.ts';
const BTC_15M = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '15m' } as const;
const SPEED = 3_000; // a 15m candle every 300 ms
const credentials = { apiKey: 'resume-real-key', secret: 'resume-real-secret' };
const scratch = mkdtempSync(path.join(tmpdir(), 'real-orders-resume-'));
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
    ['bin/run.mjs', 'framework/cli/live.ts', FILE, '--sim-url', sim!.restUrl, '--speed', String(SPEED), '--real-orders',
      // The stale rule (tested on its own) is off so that the replay below, which trades every candle, is the reference.
      '--store', path.join(scratch, 'store'), '--runs', path.join(scratch, 'runs'), '--stale-after', 'off', ...args],
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

/** The broker states checkpointed so far in the only run folder. */
function checkpoints(): { position: unknown }[] {
  const dir = runDir();
  const file = dir === null ? '' : path.join(dir, 'trading.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{"kind":"state"'))
    .map((l) => (JSON.parse(l) as { state: { position: unknown } }).state);
}

/** Whether the last line of the run's `orders.jsonl` is an order sent without an answer yet, or torn mid-write. */
function orderInFlight(): boolean {
  const dir = runDir();
  const file = dir === null ? '' : path.join(dir, 'orders.jsonl');
  if (!existsSync(file)) return false;
  const text = readFileSync(file, 'utf8');
  if (!text.endsWith('\n') && text !== '') return true;
  return text.trim().split('\n').at(-1)!.includes('"status":"sending"');
}

describe('npm run live --real-orders after a SIGKILL while long', () => {
  it('restores the position and the holding, reconciles in sync, trades as a run without the kill, sends no order twice', { timeout: 420_000 }, async () => {
    sim = await startSimulator({
      markets: [{ symbol: 'BTC/USDT', timeframe: '15m', candles: readDataset('datasets', BTC_15M) }],
      startTime: Date.UTC(2021, 2, 1),
      speed: SPEED,
      account: credentials,
    });
    const first = live(['--verbose']);
    const deadline = Date.now() + 180_000;
    // Kill the whole child once it has acted on 8 candles and holds a position (and so does the account), with no order
    // in flight (that case is real-orders-kill-in-flight's): the child is frozen (SIGSTOP) while its files are read, so
    // nothing can go out between the look and the kill.
    for (;;) {
      first.child.kill('SIGSTOP');
      const states = checkpoints();
      if (states.length >= 8 && states.at(-1)!.position !== null && sim.account.balance('BTC').free > 0 && !orderInFlight()) break;
      first.child.kill('SIGCONT');
      if (Date.now() > deadline || first.child.exitCode !== null) throw new Error(`no position taken: ${first.stderr().slice(-2_000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    first.child.kill('SIGKILL');
    await first.exited;
    expect(first.stderr()).toMatch(/"pass":1,"why":"start",.*"msg":"reconciliation pass"/);
    const ordersBefore = sim.account.orders.length;
    expect(ordersBefore).toBeGreaterThan(0);

    const second = live(['--max-candles', '30']);
    expect(await second.exited, second.stderr().slice(-2_000)).toBe(0);
    expect(second.stderr()).toMatch(/continuing a killed run/);
    expect(readdirSync(path.join(scratch, 'runs'))).toHaveLength(1); // the same folder, continued
    const dir = runDir()!;

    // Reconciled at both starts: in sync each time (the restored holding is the account's), nothing closed or external.
    const events = readFileSync(path.join(dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(events.filter((e) => e.type !== 'trade_executed')).toEqual([]);
    expect(sim.account.orders.length).toBeGreaterThan(ordersBefore); // the continued part traded too

    // A fresh broker over exactly the candles the run acted on (both parts), with the run's own settings: the same trades.
    const acted = readFileSync(path.join(dir, 'candles.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as StoredCandle);
    const { strategy } = await loadStrategy(FILE);
    const replayed = new PaperBroker(brokerConfig(readJournal(dir).header.broker));
    await new Engine({ strategy, broker: replayed, file: FILE, subscription: BTC_15M }).replay(batchFromCandles(acted));
    replayed.closeAll(acted.at(-1)!);
    const journal = readTradingJournal(dir);
    expect(journal.trades.length).toBeGreaterThan(2);
    expect(journal.trades).toEqual(replayed.trades);
    expect(journal.fills).toEqual(replayed.fills);

    // The account holds what the paper position says at the stop (the end-of-run close is the report's, not sent):
    // flat when paper is flat.
    const records = readFileSync(path.join(dir, 'orders.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as OrderRecord);
    const last = records.at(-1)!;
    expect(units(last.held)).toBe(units(last.target));
    expect(units(sim.account.balance('BTC').free)).toBe(units(last.held));
    const closing = journal.checkpoints.at(-2)!.state; // before the report's close
    const pending = closing.pendingOrders.reduce((sum, p) => sum + (p.order.side === 'buy' ? 1 : -1) * units(p.order.quantity), 0);
    expect(units(sim.account.balance('BTC').free)).toBe(units(closing.position?.quantity ?? 0) + pending);

    // No client order id reached the exchange twice.
    const ids = sim.account.orders.map((o) => o.clientOrderId);
    expect(new Set(ids).size).toBe(ids.length);

    const report = await diffRun(FILE, dir);
    expect(report.unexplained).toBe(0);
  });
});
