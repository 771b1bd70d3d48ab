/**
 * `npm run node` with `mode: real` strategies, end to end, on the bus its test file gives (node-real-orders-amqp.test.ts:
 * RabbitMQ; on the in-process bus the same worker kill with an order in flight is part of node-kill.test.ts): real processes (the node, its supervised workers), real ccxt and the project's simulator with a signed account on loopback (started here).
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
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendAdmin } from '../../framework/node/admin';
import type { Simulator } from '../../framework/sim/simulator';
import { expectDiffsClean, killNodes, NodeProcess, runDirs, nodeScratch } from './node-process';
import { expectAccountMatchesJournals, orderEvents, startRealOrdersSimulator } from './real-orders-checks';

const SPEED = 600; // a 1m candle every 100 ms of real time
const KILL_AT = 30; // the order whose answer the simulator holds back; its strategy's worker is killed meanwhile
const credentials = { apiKey: 'node-real-key', secret: 'node-real-secret' };
// A scratch folder of each test file's own (set up in its describe's beforeAll): the vitest forks keep their module
// cache from file to file (isolate: false), so this module's top level runs once for both files that use it.
let scratch = '';
let runs = '';
let control = '';
let config = '';
const FILES: Readonly<Record<string, string>> = {
  'dca-a': 'test/fixtures/strategies/stops-dca-1m.ts',
  'dca-b': 'test/fixtures/strategies/stops-dca-1m.ts',
  recon: 'test/fixtures/strategies/recon-1m.ts',
};

let sim: Simulator | null = null;

/** Defines the scenario's test for the bus named `transport`, with the node options `busArgs()` (read when it runs). */
export function describeRealOrdersNode(transport: string, busArgs: () => readonly string[]): void {
  describe(`npm run node with mode: real strategies (${transport})`, () => {
    beforeAll(() => {
      ({ scratch, runs, control, config } = nodeScratch('node-real-', [
        'strategies:',
        '  - { id: dca-a, file: test/fixtures/strategies/stops-dca-1m.ts, mode: real, allocation: { quote: 4000 } }',
        '  - { id: dca-b, file: test/fixtures/strategies/stops-dca-1m.ts, mode: real, allocation: { quote: 3000 } }',
        '  - { id: recon, file: test/fixtures/strategies/recon-1m.ts, params: { hold: 3 }, mode: real, allocation: { quote: 2000 } }',
      ]));
    });
    afterAll(async () => {
      await killNodes();
      await sim?.stop();
      rmSync(scratch, { recursive: true, force: true });
    });

    it('3 strategies on one account: holding = sum of paper positions, client order ids from the journals, none twice across a SIGKILL', { timeout: 600_000 }, async () => {
      sim = await startRealOrdersSimulator(SPEED, credentials, { orderTimeout: { nth: [KILL_AT], answerAfterMs: 5_000 } });
      const node = new NodeProcess(
        [config, '--sim-url', sim.restUrl, '--speed', String(SPEED), '--max-candles', '60',
          // Every candle is traded (the replay of npm run diff is the reference; the stale rule has its own tests).
          '--stale-after', 'off', '--reconcile-every', '2', '--store', path.join(scratch, 'store'), '--runs', runs, '--control', control, ...busArgs()],
        { ...process.env, CANDLECRAFT_API_KEY: credentials.apiKey, CANDLECRAFT_API_SECRET: credentials.secret },
      );

      // The order held back: whose is it? Its paper order is in a worker's trading.jsonl (checkpointed before it was sent).
      await node.until(() => sim!.account.orders.length >= KILL_AT, `the ${KILL_AT}th exchange order`, { pollMs: 5 });
      const held = sim.account.orders[KILL_AT - 1]!.clientOrderId;
      const paperId = held.replace(/r\d+$/, '');
      const killedId = Object.keys(FILES).find((id) => runDirs(runs, id).some((dir) => orderEvents(dir).some((e) => e.order.clientOrderId === paperId)))!;
      expect(killedId).toBeDefined();
      const status = (await sendAdmin(control, { command: 'status' })).status!;
      const pid = status.workers.find((w) => w.id === killedId)!.pid!;
      process.kill(pid, 'SIGKILL');
      await node.until(() => new RegExp(`${killedId}: continuing a killed run`).test(node.stderr), 'the killed worker to continue its run');
      expect(await node.exited, node.stderr.slice(-3_000)).toBe(0);

      // The killed worker was waiting for that order's answer: its next life skipped it, and sent nothing again.
      expect(node.stderr).toMatch(new RegExp(`${killedId}: an answer to a command of an earlier start, skipped`));
      for (const id of Object.keys(FILES)) expect(runDirs(runs, id), id).toHaveLength(1); // the killed run continued in its folder
      const dirs = Object.fromEntries(Object.keys(FILES).map((id) => [id, runDirs(runs, id)[0]!]));

      // Holding = sum of paper positions (some held), client order ids from the journals, none twice, no finding.
      expect(expectAccountMatchesJournals(sim, runs, dirs)).toBeGreaterThan(0);
      expect(sim.account.orders.length).toBeGreaterThan(KILL_AT);
      expect(node.stderr).not.toMatch(/new entries of .* blocked/);

      await expectDiffsClean(Object.values(dirs));
    });
  });
}
