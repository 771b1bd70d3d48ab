/**
 * `npm run node` end to end, on either bus (node-cli.test.ts: in-process; node-amqp.test.ts: RabbitMQ), with real
 * processes and real sockets: a node of five strategies — two instances of strategies/macd.ts with different
 * parameters, strategies/macd-trend-filter.ts (15m traded, 1h informative), strategies/dca.ts (BTC/USDT 1h, buying
 * every 4 hours) and strategies/rsi-mean-reversion.ts (ETH/USDT 1h) — over three subscriptions, on the project's
 * simulator (started here, on the shipped datasets) with every market-data fault on: dropped connections, stalls,
 * duplicated, out-of-order and malformed frames, REST 429/500 and malformed rows, and candles revised over REST.
 *
 * It proves: one WebSocket per unique subscription whatever the number of strategies; a worker SIGKILLed mid-run is
 * restarted by the supervisor and continues its run folder while the others keep their process; admin commands (over
 * the control socket; on RabbitMQ over the bus, as from another machine) are acknowledged and idempotent; `status` equals the sum of the workers' trading journals (read
 * here from the files); and `npm run diff` exits 0 on every run folder every worker wrote.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmqpBus } from '../../framework/bus/amqp';
import { sendAdmin } from '../../framework/node/admin';
import { sendAdminOverBus } from '../../framework/node/admin-bus';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';
import { readDataset } from '../../framework/store/partitions';
import { runCli } from '../support/cli';
import { checkpoints, expectDiffsClean, jsonLines, killNodes, NodeProcess, runDirs as runDirsUnder, nodeScratch } from './node-process';

const SPEED = 3_000; // a 15m candle every 300 ms of real time, a 1h candle every 1.2 s
// A scratch folder of each test file's own (set up in its describe's beforeAll): the vitest forks keep their module
// cache from file to file (isolate: false), so this module's top level runs once for both files that use it.
let scratch = '';
let runs = '';
let control = '';
let config = '';
const FILES: Readonly<Record<string, string>> = {
  'macd-fast': 'strategies/macd.ts',
  'macd-slow': 'strategies/macd.ts',
  trend: 'strategies/macd-trend-filter.ts',
  dca: 'strategies/dca.ts',
  rsi: 'strategies/rsi-mean-reversion.ts',
};
/** The unique subscriptions of the five strategies: one WebSocket each. */
const SUBSCRIPTIONS = [
  { symbol: 'BTC/USDT', timeframe: '15m' },
  { symbol: 'BTC/USDT', timeframe: '1h' },
  { symbol: 'ETH/USDT', timeframe: '1h' },
] as const;

let sim: Simulator | null = null;

interface StatusReply {
  ok: boolean;
  message: string;
  status: {
    workers: { id: string; state: string; pid: number | null; restarts: number }[];
    portfolio: {
      strategies: { strategyId: string; equity: number; realisedPnl: number; time: number }[];
      total: { equity: number; realisedPnl: number; exposure: Record<string, { quantity: number }> };
    };
  };
}

/** The bus options of the scenario's node (read when it runs): `[]` for the in-process bus. */
let nodeBusArgs: () => readonly string[] = () => [];

/** `npm run node -- <args> --json`: over the node's RabbitMQ bus when it has one (as from another machine), else its control socket. */
async function adminCli(...args: string[]): Promise<StatusReply> {

  const to = nodeBusArgs().length > 0 ? nodeBusArgs() : ['--control', control];
  const outcome = await runCli('framework/cli/node.ts', [...args, ...to, '--json']);
  expect(outcome.code, outcome.stderr).toBe(0);
  return JSON.parse(outcome.stdout) as StatusReply;
}

/** The same request through the library client (no CLI process to start: seconds saved per call), by the same route. */
async function admin(command: 'status' | 'stop' | 'start' | 'restart', id?: string): Promise<StatusReply> {
  const request = command === 'status' ? { command } : { command, id: id! };
  const url = nodeBusArgs()[1];
  if (url === undefined) return (await sendAdmin(control, request)) as unknown as StatusReply;
  const bus = await AmqpBus.connect(url);
  try {
    return (await sendAdminOverBus(bus, request)) as unknown as StatusReply;
  } finally {
    await bus.close();
  }
}

/** Run folders of a strategy, oldest first. */
const runDirs = (id: string): string[] => runDirsUnder(runs, id);

/** The JSON lines of a run's trading journal. */
function journal(dir: string): { kind: string; state?: { equity: number; position: { quantity: number; side: string } | null }; trade?: { pnl: number } }[] {
  return jsonLines(path.join(dir, 'trading.jsonl'));
}

/** Defines the scenario's test for the bus named `transport`, with the node options `busArgs()` (read when it runs). */
export function describeNode(transport: string, busArgs: () => readonly string[]): void {
  nodeBusArgs = busArgs;
  describe(`npm run node (${transport})`, () => {
    beforeAll(() => {
      ({ scratch, runs, control, config } = nodeScratch('node-cli-', [
        'strategies:',
        '  - { id: macd-fast, file: strategies/macd.ts, params: { fast: 6, slow: 14, signal: 5 }, allocation: { quote: 5000 } }',
        '  - { id: macd-slow, file: strategies/macd.ts, params: { fast: 12, slow: 26 }, allocation: { quote: 3000 } }',
        '  - { id: trend, file: strategies/macd-trend-filter.ts, allocation: { quote: 2000 } }',
        '  - { id: dca, file: strategies/dca.ts, params: { every: 4, takeProfit: 0.01 }, allocation: { quote: 1000 } }',
        '  - { id: rsi, file: strategies/rsi-mean-reversion.ts, allocation: { quote: 1000 } }',
      ]));
    });
    afterAll(async () => {
      await killNodes();
      await sim?.stop();
      rmSync(scratch, { recursive: true, force: true });
    });

    it('runs 5 strategies over 3 subscriptions with every fault: one socket each, a SIGKILLed worker continues its run, admin, status = journals, diff 0', { timeout: 600_000 }, async () => {
      sim = await startSimulator({
        markets: SUBSCRIPTIONS.map(({ symbol, timeframe }) => ({
          symbol,
          timeframe,
          candles: readDataset('datasets', { exchange: 'binance', symbol, timeframe }),
        })),
        startTime: Date.UTC(2021, 0, 10), // 40 days of history: quick to load, compute and replay
        speed: SPEED,
        seed: 14,
        // Every market-data fault, at rates that fire each a few times over the ~300 frames and ~100 REST requests of
        // the run (the order-path faults have their own tests: these strategies trade on paper).
        faults: {
          drop: { rate: 0.02 },
          stall: { rate: 0.01 },
          duplicate: { rate: 0.05 },
          outOfOrder: { rate: 0.05 },
          malformed: { rate: 0.03 },
          rest429: { rate: 0.03 },
          rest500: { rate: 0.03 },
          restMalformed: { rate: 0.05 },
          revision: { rate: 0.05 },
        },
      });
      // One WebSocket per unique subscription, not one per strategy (six): never more than three open at once.
      let mostSockets = 0;
      const sockets = setInterval(() => (mostSockets = Math.max(mostSockets, sim!.stats.wsOpenConnections)), 20);
      const node = new NodeProcess([config, '--sim-url', sim.restUrl, '--speed', String(SPEED),
        // On a loaded machine some candles arrive late at 300 ms per candle: every candle is traded so that the replay
        // (npm run diff) is the reference; the stale rule has its own tests.
        '--stale-after', 'off', '--store', path.join(scratch, 'store'), '--runs', runs, '--control', control, ...busArgs()]);
      const spawnedAt = Date.now();

      await node.until(() => Object.keys(FILES).every((id) => checkpoints(runDirs(id)[0]) >= 10), 'ten candles acted on by every worker');
      console.log(`node started, every worker 10 candles in: ${Date.now() - spawnedAt} ms`);

      const before = await admin('status'); // the CLI's status is run at the end (status = journals)
      expect(before.ok).toBe(true);
      // list: the configuration as the node runs it (the YAML above), each worker's state.
      const listed = (await adminCli('list')) as unknown as { message: string; strategies: { id: string; file: string; params: object; mode: string; allocation: object; state: string }[] };
      expect(listed.message).toBe('5 strategies');
      expect(listed.strategies.map((s) => [s.id, s.file, s.mode, s.state])).toEqual(Object.entries(FILES).map(([id, file]) => [id, file, 'paper', 'running']));
      expect(listed.strategies[0]).toMatchObject({ params: { fast: 6, slow: 14, signal: 5 }, allocation: { quote: 5000 } });
      expect(listed.strategies[3]).toMatchObject({ params: { every: 4, takeProfit: 0.01 }, allocation: { quote: 1000 } });
      const pid = (id: string, reply: StatusReply): number | null => reply.status.workers.find((w) => w.id === id)!.pid;
      const killedPid = pid('macd-fast', before)!;
      const killedAt = checkpoints(runDirs('macd-fast')[0]);
      process.kill(killedPid, 'SIGKILL');
      const killedTime = Date.now();
      await node.until(() => /macd-fast: continuing a killed run/.test(node.stderr), 'the restarted worker to continue its run');
      console.log(`SIGKILL to the restarted worker continuing its run: ${Date.now() - killedTime} ms`);
      await node.until(() => checkpoints(runDirs('macd-fast')[0]) >= killedAt + 10, 'the restarted worker to act on ten more candles');
      const afterKill = await admin('status');
      const fast = afterKill.status.workers.find((w) => w.id === 'macd-fast')!;
      expect(fast.restarts).toBe(1);
      expect(fast.pid).not.toBe(killedPid);
      expect(runDirs('macd-fast')).toHaveLength(1); // the same run folder, continued
      expect(node.stderr).toMatch(/macd-fast: continuing a killed run/);
      // The others were not touched.
      for (const id of ['macd-slow', 'trend', 'dca', 'rsi']) {
        expect(pid(id, afterKill)).toBe(pid(id, before));
        expect(afterKill.status.workers.find((w) => w.id === id)!.restarts).toBe(0);
      }

      // Admin commands are acknowledged and idempotent.
      const restarted = await admin('restart', 'trend');
      expect(restarted).toMatchObject({ ok: true, message: 'trend restarted' });
      expect(await admin('start', 'trend')).toMatchObject({ ok: true, message: 'trend is already running' });
      await node.until(() => runDirs('trend').length === 2 && checkpoints(runDirs('trend')[1]) >= 5, 'the restarted trend worker to act on five candles');
      for (const id of Object.keys(FILES)) expect(await admin('stop', id)).toMatchObject({ ok: true, message: `${id} stopped` });
      expect(await admin('stop', 'trend')).toMatchObject({ ok: true, message: 'trend was not running' });
      const unknown = await runCli('framework/cli/node.ts', ['stop', 'nope', '--control', control]);
      expect(unknown.code).toBe(1);
      expect(unknown.stdout).toMatch(/no strategy "nope" in this node/);

      // status = the sum of the workers' journals (each one's newest run: its last checkpoint and its closed trades).
      const final = await adminCli('status');
      expect(final.status.workers.map((w) => w.state)).toEqual(Object.keys(FILES).map(() => 'stopped'));
      let equity = 0;
      let realised = 0;
      for (const id of Object.keys(FILES)) {
        const lines = journal(runDirs(id).at(-1)!);
        const last = lines.filter((l) => l.kind === 'state').at(-1)!.state!;
        const pnl = lines.filter((l) => l.kind === 'trade').reduce((sum, l) => sum + l.trade!.pnl, 0);
        const line = final.status.portfolio.strategies.find((s) => s.strategyId === id)!;
        expect(line.equity).toBe(last.equity);
        expect(line.realisedPnl).toBeCloseTo(pnl, 9);
        equity += last.equity;
        realised += pnl;
      }
      expect(final.status.portfolio.total.equity).toBeCloseTo(equity, 9);
      expect(final.status.portfolio.total.realisedPnl).toBeCloseTo(realised, 9);
      expect(final.status.portfolio.total.exposure).toEqual({}); // every position closed at the stop

      node.child.kill('SIGINT');
      expect(await node.exited, node.stderr.slice(-3_000)).toBe(0);
      clearInterval(sockets);
      const { faults, wsConnections } = sim.stats;
      console.log(`node scenario: most sockets open at once ${mostSockets}, accepted ${wsConnections}, faults ${JSON.stringify(faults)}`);
      expect(mostSockets).toBe(SUBSCRIPTIONS.length);
      for (const kind of ['drop', 'stall', 'duplicate', 'outOfOrder', 'malformed', 'rest429', 'rest500', 'restMalformed', 'revision'] as const) expect(faults[kind], kind).toBeGreaterThan(0);

      // npm run diff on every run folder of every worker: the killed and continued one, and both of the restarted one.
      const runsToDiff = Object.keys(FILES).flatMap((id) => runDirs(id));
      expect(runsToDiff).toHaveLength(6);
      await expectDiffsClean(runsToDiff);
    });
  });
}
