/**
 * The trading node split in two processes sharing one RabbitMQ (`--role connector` and `--role workers`), with real
 * processes, a real broker on loopback (test/support/rabbitmq.ts, this file's own) and the project's simulator on a
 * manual clock (speed 0: the test moves the exchange one 15m candle at a time, so both runs see the same candles
 * whatever the machine's load).
 *
 * The reference is one process on the default in-process bus. The split run goes through the two faults of a
 * distributed node mid-run: a SIGKILL of the connector process, restarted with the same command (candles closed while
 * it was down reach the workers from its REST backfill), and a stop/start of RabbitMQ (the connector keeps storing
 * candles while their publication fails; the workers fill the hole from the store once the broker is back). It proves:
 * each worker acts on the same candles, each once and none missing, with the same signals and the same trades as the
 * one-process node; admin status is answered over the bus by the workers' side; `npm run diff` exits 0 on every run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmqpBus } from '../../framework/bus/amqp';
import type { NodeStatus } from '../../framework/node/admin';
import { sendAdminOverBus } from '../../framework/node/admin-bus';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';
import { readStoredCandles } from '../../framework/store/live-store';
import { readDataset } from '../../framework/store/partitions';
import { runCli } from '../support/cli';
import { startRabbitMq, type RabbitMq } from '../support/rabbitmq';
import { expectDiffsClean } from './node-process';

const TF = 15 * 60_000;
const START = Date.UTC(2021, 0, 10); // 40 days of history: quick to load and replay
/** Candles each worker acts on (then it finishes and the workers' side exits by itself). */
const CANDLES = 16;
const FILES: Readonly<Record<string, string>> = { macd: 'strategies/macd.ts', trend: 'strategies/macd-trend-filter.ts' };
const scratch = mkdtempSync(path.join(tmpdir(), 'node-split-'));
const config = path.join(scratch, 'node.yaml');
writeFileSync(
  config,
  [
    'strategies:',
    '  - { id: macd, file: strategies/macd.ts, params: { fast: 6, slow: 14, signal: 5 }, allocation: { quote: 5000 } }',
    '  - { id: trend, file: strategies/macd-trend-filter.ts, allocation: { quote: 5000 } }',
    '',
  ].join('\n'),
);

let rabbit: RabbitMq | undefined;
const processes: ChildProcess[] = [];
const simulators: Simulator[] = [];
beforeAll(async () => {
  rabbit = await startRabbitMq();
}, 180_000);
afterAll(async () => {
  for (const child of processes) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
  }
  for (const sim of simulators) await sim.stop();
  await rabbit?.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

/** A node process (`npm run node -- <config> …`) and what it has written to stderr. */
interface NodeProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stderr: string;
}

function startNode(args: readonly string[]): NodeProcess {
  const child = spawn(process.execPath, ['bin/run.mjs', 'framework/cli/node.ts', config, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  processes.push(child);
  const node: NodeProcess = { child, exited: new Promise((r) => child.once('exit', (code) => r(code))), stderr: '' };
  child.stderr!.on('data', (chunk: Buffer) => (node.stderr += chunk.toString()));
  child.stdout!.resume();
  return node;
}

async function until(predicate: () => boolean, what: string, nodes: readonly NodeProcess[]): Promise<void> {
  const deadline = Date.now() + 120_000; // a guard against a hang, not a speed target
  while (!predicate()) {
    const logs = nodes.map((n) => n.stderr.slice(-2_000)).join('\n---\n');
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${logs}`);
    if (nodes.some((n) => /failed, not restarted/.test(n.stderr))) throw new Error(`a worker failed while waiting for ${what}:\n${logs}`);
    const dead = nodes.find((n) => n.child.exitCode !== null);
    if (dead !== undefined) throw new Error(`a node exited (${dead.child.exitCode}) while waiting for ${what}:\n${logs}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The simulator of one run: BTC/USDT 15m and 1h from the shipped datasets, its clock stopped at {@link START}. */
async function simulator(): Promise<Simulator> {
  const sim = await startSimulator({
    markets: ['15m', '1h'].map((timeframe) => ({ symbol: 'BTC/USDT', timeframe, candles: readDataset('datasets', { exchange: 'binance', symbol: 'BTC/USDT', timeframe }) })),
    startTime: START,
    speed: 0,
  });
  simulators.push(sim);
  return sim;
}

/** Closes the 15m candle number `k` (1 = the one opening at START): the clock 1 s past its close. */
function closeCandle(sim: Simulator, k: number): void {
  sim.advanceTo(Math.max(sim.clock(), START + k * TF + 1_000));
}

/** The only run folder of strategy `id` under `runs`. */
function runDir(runs: string, id: string): string | undefined {
  const dir = path.join(runs, id);
  const names = existsSync(dir) ? readdirSync(dir) : [];
  return names.length === 1 ? path.join(dir, names[0]!) : undefined;
}

function lines(file: string): Record<string, unknown>[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.endsWith('}'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Open times of the traded candles a run acted on (its journal's candles.jsonl), in order. */
function acted(runs: string, id: string): number[] {
  const dir = runDir(runs, id);
  return dir === undefined ? [] : lines(path.join(dir, 'candles.jsonl')).filter((c) => c['market'] === undefined).map((c) => c['openTime'] as number);
}

/** What must be equal between the runs: each signal (without its arrival and provenance), each trade and fill, each checkpoint. */
function decisions(runs: string, id: string): { signals: unknown[]; trading: unknown[] } {
  const dir = runDir(runs, id)!;
  const signals = lines(path.join(dir, 'signals.jsonl')).map(({ openTime, action, signal, candle, indicators, acted, reason }) => ({ openTime, action, signal, candle, indicators, acted, reason }));
  const trading = lines(path.join(dir, 'trading.jsonl')).filter((l) => ['trade', 'fill', 'state', 'position'].includes(l['kind'] as string));
  return { signals, trading };
}

const everyWorker = (runs: string, n: number) => (): boolean => Object.keys(FILES).every((id) => acted(runs, id).length >= n);

describe('npm run node split in two processes over RabbitMQ (--role connector / --role workers)', () => {
  it('refuses --role connector or workers without an amqp:// bus, in one line', async () => {
    const outcome = await runCli('framework/cli/node.ts', [config, '--role', 'workers', '--exchange', 'sim']);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr.trim().split('\n')).toEqual([
      'error: --role workers: the connector and the workers run in two processes only over RabbitMQ; give --bus amqp://… (the in-process bus lives in one process; without --role a node runs both)',
    ]);
  });

  it('acts on the same candles with the same signals and trades as one process, through a connector SIGKILL and a RabbitMQ stop/start', { timeout: 900_000 }, async () => {
    const common = (sim: Simulator, dir: string): string[] => [
      '--sim-url', sim.restUrl, '--speed', '1', // the manual clock: the feeds' exchange clock runs at real time between syncs
      '--stale-after', 'off', // a candle late after a fault is acted on (the stale rule has its own tests)
      '--max-candles', String(CANDLES), '--store', path.join(dir, 'store'), '--runs', path.join(dir, 'runs'), '--control', path.join(dir, 'node.sock'),
    ];

    // The reference: one process, in-process bus, one candle at a time.
    const one = path.join(scratch, 'one');
    const sim1 = await simulator();
    const node = startNode(common(sim1, one));
    await until(() => /node running/.test(node.stderr), 'the one-process node to run', [node]);
    for (let k = 1; k <= CANDLES; k++) {
      closeCandle(sim1, k);
      await until(everyWorker(path.join(one, 'runs'), k), `every worker to act on candle ${k}`, [node]);
    }
    expect(await node.exited, node.stderr.slice(-3_000)).toBe(0); // every worker finished: the node stops

    // The split: a connector process and a workers process on one RabbitMQ.
    const two = path.join(scratch, 'two');
    const runs = path.join(two, 'runs');
    const store = path.join(two, 'store');
    const sim2 = await simulator();
    const connectorArgs = [...common(sim2, two), '--bus', rabbit!.url, '--role', 'connector'];
    let connector = startNode(connectorArgs);
    const workers = startNode([...common(sim2, two), '--bus', rabbit!.url, '--role', 'workers']);
    await until(() => /connector running/.test(connector.stderr) && /node running/.test(workers.stderr), 'both halves to run', [connector, workers]);
    const step = async (from: number, to: number): Promise<void> => {
      for (let k = from; k <= to; k++) {
        closeCandle(sim2, k);
        await until(everyWorker(runs, k), `every worker to act on candle ${k}`, [connector, workers]);
      }
    };
    await step(1, 4);

    // Admin from the workers' side, over the bus (as from another machine).
    const admin = await AmqpBus.connect(rabbit!.url);
    const reply = await sendAdminOverBus(admin, { command: 'status' }).finally(() => admin.close());
    expect(reply.ok).toBe(true);
    expect((reply.status as NodeStatus).workers.map((w) => [w.id, w.state])).toEqual([['macd', 'running'], ['trend', 'running']]);

    // SIGKILL of the connector; three candles close while it is down; the same command starts it again.
    connector.child.kill('SIGKILL');
    await connector.exited;
    for (let k = 5; k <= 7; k++) closeCandle(sim2, k);
    connector = startNode(connectorArgs);
    await until(everyWorker(runs, 7), 'every worker to act on the candles that closed while the connector was down', [connector, workers]);
    await step(8, 9);

    // RabbitMQ stopped: the connector keeps storing candles (their publication fails); the workers survive.
    await rabbit!.stop();
    for (let k = 10; k <= 11; k++) closeCandle(sim2, k);
    const stored = (): number[] => [...readStoredCandles(store, { exchange: 'sim', symbol: 'BTC/USDT', timeframe: '15m' }, { from: START }).openTime];
    await until(() => stored().includes(START + 10 * TF), 'the connector to store candles 10 and 11 while RabbitMQ is down', [connector, workers]);
    await until(() => /not published \(stored; workers fill it from the store\)/.test(connector.stderr), 'a publication to fail', [connector, workers]);
    await rabbit!.start();
    // Candles until the workers' side has finished: the first published after the broker is back shows the hole.
    for (let k = 12; workers.child.exitCode === null && k <= CANDLES + 20; k++) {
      closeCandle(sim2, k);
      const before = Math.min(...Object.keys(FILES).map((id) => acted(runs, id).length));
      const deadline = Date.now() + 2_000; // pacing only (the clients reconnect with back-off): nothing asserted on it
      while (workers.child.exitCode === null && Math.min(...Object.keys(FILES).map((id) => acted(runs, id).length)) === before && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    // Every worker acted on its last candle (a worker stuck behind an unfilled hole never does): the side exits by itself.
    await until(() => workers.child.exitCode !== null || workers.child.signalCode !== null, 'the workers to finish', [connector]);
    expect(await workers.exited, workers.stderr.slice(-3_000)).toBe(0);
    expect(workers.stderr).toMatch(/hole filled from the store/);
    connector.child.kill('SIGINT');
    expect(await connector.exited, connector.stderr.slice(-3_000)).toBe(0);

    // Every candle acted on once, none missing, the same as one process; the same signals and trades.
    for (const id of Object.keys(FILES)) {
      const expected = Array.from({ length: CANDLES }, (_, i) => START + i * TF);
      expect(acted(path.join(one, 'runs'), id), id).toEqual(expected);
      expect(acted(runs, id), id).toEqual(expected);
      expect(decisions(runs, id), id).toEqual(decisions(path.join(one, 'runs'), id));
    }
    const trades = Object.keys(FILES).flatMap((id) => decisions(runs, id).trading.filter((l) => (l as { kind: string }).kind === 'trade'));
    expect(trades.length).toBeGreaterThan(0); // the comparison covers trades, not only their absence
    // npm run diff on each strategy's run of both nodes, in one command: it exits 0 with nothing unexplained.
    await expectDiffsClean([path.join(one, 'runs'), runs].flatMap((root) => Object.keys(FILES).map((id) => runDir(root, id)!)));
  });
});
