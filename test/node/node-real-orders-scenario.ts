/**
 * `npm run node` with `mode: real` strategies, end to end, on either bus (node-real-orders.test.ts: in-process;
 * node-real-orders-amqp.test.ts: RabbitMQ): real processes (the node, its supervised workers), real ccxt and the project's simulator with a signed account on loopback (started here).
 *
 * Three strategies on one account, all on BTC/USDT 1m: two instances of test/fixtures/strategies/stops-dca-1m.ts
 * (entries, DCA adds, partial exits, 0.1% stops and 0.2% take-profits: an order on most candles) and
 * test/fixtures/strategies/recon-1m.ts (in for three candles, out). The simulator holds back its answer to the 30th
 * order for 5 s (accept, execute, answer late); the worker whose command that is is SIGKILLed while it waits.
 *
 * It proves: after the run the account's BTC equals the sum of the strategies' paper positions (the last target each
 * worker's journal asked for); every exchange order carries a client order id from a worker's `trading.jsonl`, none
 * twice, although the killed worker resumed (its catch-up found the order done and sent nothing again; the late
 * answer to its earlier life was skipped); and `npm run diff` exits 0 on every run folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { OrderEvent } from '../../framework/broker/orders';
import { sendAdmin } from '../../framework/node/admin';
import { replayCandles } from '../../framework/feeds/replay';
import type { OrderRecord } from '../../framework/execution/orders-journal';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';
import { runCli } from '../support/cli';

const SPEED = 600; // a 1m candle every 100 ms of real time
const KILL_AT = 30; // the order whose answer the simulator holds back; its strategy's worker is killed meanwhile
const credentials = { apiKey: 'node-real-key', secret: 'node-real-secret' };
const scratch = mkdtempSync(path.join(tmpdir(), 'node-real-'));
const runs = path.join(scratch, 'runs');
const control = path.join(scratch, 'node.sock');
const config = path.join(scratch, 'node.yaml');
const FILES: Readonly<Record<string, string>> = {
  'dca-a': 'test/fixtures/strategies/stops-dca-1m.ts',
  'dca-b': 'test/fixtures/strategies/stops-dca-1m.ts',
  recon: 'test/fixtures/strategies/recon-1m.ts',
};
writeFileSync(
  config,
  [
    'strategies:',
    '  - { id: dca-a, file: test/fixtures/strategies/stops-dca-1m.ts, mode: real, allocation: { quote: 4000 } }',
    '  - { id: dca-b, file: test/fixtures/strategies/stops-dca-1m.ts, mode: real, allocation: { quote: 3000 } }',
    '  - { id: recon, file: test/fixtures/strategies/recon-1m.ts, params: { hold: 3 }, mode: real, allocation: { quote: 2000 } }',
    '',
  ].join('\n'),
);

let sim: Simulator | null = null;
let node: ChildProcess | null = null;
let stderr = '';
afterAll(async () => {
  if (node !== null && node.exitCode === null) {
    node.kill('SIGKILL');
    await new Promise((r) => node!.once('exit', r));
  }
  await sim?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const units = (quantity: number): number => Math.round(quantity * 1e8);

function runDirs(id: string): string[] {
  const dir = path.join(runs, id);
  return existsSync(dir) ? readdirSync(dir).filter((name) => !name.endsWith('.jsonl')).sort().map((name) => path.join(dir, name)) : [];
}

function jsonLines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.endsWith('}'))
    .map((line) => JSON.parse(line) as T);
}

/** The paper order events a run journaled (`trading.jsonl`), oldest first. */
const orderEvents = (dir: string): OrderEvent[] => jsonLines<{ kind: string } & OrderEvent>(path.join(dir, 'trading.jsonl')).filter((l) => l.kind === 'order');

async function until(predicate: () => boolean, what: string, pollMs = 50): Promise<void> {
  const deadline = Date.now() + 300_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; node stderr: ${stderr.slice(-3_000)}`);
    if (node?.exitCode !== null) throw new Error(`the node exited (${node?.exitCode}) while waiting for ${what}: ${stderr.slice(-3_000)}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Defines the scenario's test for the bus named `transport`, with the node options `busArgs()` (read when it runs). */
export function describeRealOrdersNode(transport: string, busArgs: () => readonly string[]): void {
  describe(`npm run node with mode: real strategies (${transport})`, () => {
    it('3 strategies on one account: holding = sum of paper positions, client order ids from the journals, none twice across a SIGKILL', { timeout: 600_000 }, async () => {
      sim = await startSimulator({
        markets: [{ symbol: 'BTC/USDT', timeframe: '1m', candles: replayCandles('datasets', { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' }) }],
        startTime: Date.UTC(2021, 3, 21, 2, 0),
        speed: SPEED,
        account: { ...credentials, balances: { USDT: 10_000, BTC: 0 } },
        faults: { orderTimeout: { nth: [KILL_AT], answerAfterMs: 5_000 } },
      });
      node = spawn(
        process.execPath,
        ['--import', 'tsx', 'framework/cli/node.ts', config, '--sim-url', sim.restUrl, '--speed', String(SPEED), '--max-candles', '60',
          // Every candle is traded (the replay of npm run diff is the reference; the stale rule has its own tests).
          '--stale-after', 'off', '--reconcile-every', '2', '--store', path.join(scratch, 'store'), '--runs', runs, '--control', control, ...busArgs()],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CANDLECRAFT_API_KEY: credentials.apiKey, CANDLECRAFT_API_SECRET: credentials.secret } },
      );
      node.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      node.stdout!.resume();
      const exited = new Promise<number | null>((r) => node!.once('exit', (code) => r(code)));

      // The order held back: whose is it? Its paper order is in a worker's trading.jsonl (checkpointed before it was sent).
      await until(() => sim!.account.orders.length >= KILL_AT, `the ${KILL_AT}th exchange order`, 5);
      const held = sim.account.orders[KILL_AT - 1]!.clientOrderId;
      const paperId = held.replace(/r\d+$/, '');
      const killedId = Object.keys(FILES).find((id) => runDirs(id).some((dir) => orderEvents(dir).some((e) => e.order.clientOrderId === paperId)))!;
      expect(killedId).toBeDefined();
      const status = (await sendAdmin(control, { command: 'status' })).status!;
      const pid = status.workers.find((w) => w.id === killedId)!.pid!;
      process.kill(pid, 'SIGKILL');
      await until(() => new RegExp(`${killedId}: continuing a killed run`).test(stderr), 'the killed worker to continue its run');
      expect(await exited, stderr.slice(-3_000)).toBe(0);

      // The killed worker was waiting for that order's answer: its next life skipped it, and sent nothing again.
      expect(stderr).toMatch(new RegExp(`${killedId}: an answer to a command of an earlier start, skipped`));
      const dirs = Object.fromEntries(Object.keys(FILES).map((id) => [id, runDirs(id)]));
      for (const id of Object.keys(FILES)) expect(dirs[id], id).toHaveLength(1); // the killed run continued in its folder

      // Every exchange order's client order id is a paper order's of a worker journal (or its follow-up <id>r<n>), none twice.
      const exchangeIds = sim.account.orders.map((o) => o.clientOrderId);
      expect(new Set(exchangeIds).size).toBe(exchangeIds.length);
      const paperIds = new Set(Object.values(dirs).flatMap(([dir]) => orderEvents(dir!).map((e) => e.order.clientOrderId)));
      expect(exchangeIds.filter((id) => !paperIds.has(id.replace(/r\d+$/, '')))).toEqual([]);
      expect(exchangeIds.length).toBeGreaterThan(KILL_AT);
      for (const id of Object.keys(FILES)) expect(exchangeIds.some((c) => orderEvents(dirs[id]![0]!).some((e) => e.order.clientOrderId === c)), id).toBe(true);

      // The account's BTC = the sum of the paper positions each worker had decided when it stopped: the target of its
      // last order event before its last candle's checkpoint (pending orders included: an add decided on the last candle
      // went out at once, its paper fill would have come at the next open). The report's close at the stop (and the
      // cancellation of such a pending order), journaled after that checkpoint, is not mirrored: the exchange keeps the
      // position, as npm run live --real-orders.
      let paper = 0;
      for (const id of Object.keys(FILES)) {
        const lines = jsonLines<{ kind: string } & OrderEvent>(path.join(dirs[id]![0]!, 'trading.jsonl'));
        const checkpoints = lines.flatMap((l, i) => (l.kind === 'state' ? [i] : []));
        const decided = lines.slice(0, checkpoints.at(-2)).filter((l) => l.kind === 'order');
        const target = decided.at(-1)?.targetQuantity ?? 0;
        paper += units(target);
        // and each strategy's own holding on the connector is its paper target (orders.jsonl, the executor's journal)
        const records = jsonLines<OrderRecord>(path.join(dirs[id]![0]!, 'orders.jsonl')).filter((r) => r.status !== 'sending');
        expect(units(records.at(-1)!.held), id).toBe(units(target));
      }
      const btc = sim.account.balance('BTC');
      expect(units(btc.free + btc.locked)).toBe(paper);
      expect(paper).toBeGreaterThan(0);
      // No reconciliation pass found a difference (the passes ran every 2 s, between commands).
      expect(jsonLines<{ finding: string }>(path.join(runs, 'events.jsonl'))).toEqual([]);
      expect(stderr).not.toMatch(/new entries of .* blocked/);

      const diffs = await Promise.all(Object.entries(dirs).map(([id, [dir]]) => runCli('framework/cli/diff.ts', [FILES[id]!, '--run', dir!])));
      diffs.forEach((diff, i) => {
        expect(diff.code, `${Object.keys(dirs)[i]}\n${diff.stdout}\n${diff.stderr}`).toBe(0);
        expect(diff.stdout).toMatch(/0 unexplained/);
      });
    });
  });
}
