/**
 * A one-process `npm run node` (connector, in-process bus and supervisor in one process, the workers its children)
 * SIGKILLed mid-run, then the same command again: real processes, real ccxt, the project's simulator on loopback
 * (started here, on the shipped BTC/USDT 1m dataset).
 *
 * Three strategies on BTC/USDT 1m — two instances of test/fixtures/strategies/stops-dca-1m.ts (an order on most
 * candles), one on paper and one with `mode: real` (real orders on the simulator's account), and
 * test/fixtures/strategies/recon-1m.ts with `mode: real` — with no candle limit. First the worker whose command is the
 * account's 8th order is SIGKILLed while the simulator holds that order's answer back for 5 s (accept, execute, answer
 * late). Then the node is killed once every worker has acted on ten candles, while the simulator holds back the answer
 * to another order it executed, and stopped (SIGINT) once every worker has acted on ten more after the restart. The
 * kill moments are decided by what the workers did, never by time. One node holds both modes and both kills, so one
 * run proves them all (a node for each cost the processes twice or thrice over).
 *
 * The worker's SIGKILL with an order in flight (in-process bus; test/node/node-real-orders-amqp.test.ts does it on
 * RabbitMQ): the supervisor restarts it, it continues its run in its folder, its catch-up finds the order done and
 * sends nothing again, and the late answer to its earlier life is skipped; the order is on the account once.
 *
 * It proves, for the paper and the real workers alike: the killed node's workers exit by themselves (none left
 * running); the same command continues every run in its folder (a resume record, not a second run); the candles each
 * run acted on are each minute once, with one gap — the downtime the resume record names — so none acted on twice and
 * none lost after the restart; `npm run diff` exits 0 on every run folder. With real orders: the order in flight at the
 * kill is on the account once (the restarted connector looked it up, sent nothing again), no client order id twice,
 * each from a real worker's journal; the account's BTC equals the sum of the real strategies' paper positions (the
 * paper one's never reach it); no reconciliation finding (the first run reopened did not see the others' coins as
 * external).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sendAdmin } from '../../framework/node/admin';
import type { Simulator } from '../../framework/sim/simulator';
import { checkpoints, expectDiffsClean, jsonLines, killNodes, NodeProcess, processAlive, runDirs } from './node-process';
import { expectAccountMatchesJournals, orderEvents, startRealOrdersSimulator } from './real-orders-checks';

const SPEED = 600; // a 1m candle every 100 ms of real time
const MINUTE = 60_000;
/** The account's order whose answer the simulator holds back for 5 s while its worker is SIGKILLed. */
const WORKER_KILL_AT = 8;
/** Candles every worker acts on before the node is killed, and again after its restart. */
const K = 10;
/** Each strategy's mode: the paper one beside the real ones, on one account. */
const MODES: Readonly<Record<string, 'paper' | 'real'>> = { 'dca-a': 'paper', 'dca-b': 'real', recon: 'real' };
const IDS = Object.keys(MODES);
const REAL = IDS.filter((id) => MODES[id] === 'real');
const scratch = mkdtempSync(path.join(tmpdir(), 'node-kill-'));
let sim: Simulator | null = null;
/** Every worker pid seen: SIGKILLed in afterAll should one outlive its node (the property under test failing). */
const workerPids = new Set<number>();

afterAll(async () => {
  await killNodes();
  for (const pid of workerPids) if (processAlive(pid)) process.kill(pid, 'SIGKILL');
  await sim?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const candleTimes = (dir: string): number[] => jsonLines<{ openTime: number; market?: string }>(path.join(dir, 'candles.jsonl')).filter((c) => c.market === undefined).map((c) => c.openTime);
const lastCheckpoint = (dir: string): number => jsonLines<{ kind: string; time: number }>(path.join(dir, 'trading.jsonl')).filter((l) => l.kind === 'state').at(-1)!.time;
const resumes = (dir: string): { after: number; first: number }[] =>
  jsonLines<{ kind: string; after: number; first: number }>(path.join(dir, 'trading.jsonl')).filter((l) => l.kind === 'resume');

const credentials = { apiKey: 'node-kill-key', secret: 'node-kill-secret' };

/**
 * Runs the scenario: returns the simulator, the runs folder, each strategy's one run folder, the second node's stderr
 * and the client order ids of the orders whose answers the simulator held back at the worker's and the node's kill
 * (executed on the account, the connector waiting for their answer).
 */
async function killAndRestart(): Promise<{ sim: Simulator; runs: string; dirs: Record<string, string>; stderr: string; held: readonly string[] }> {
  const runs = path.join(scratch, 'runs');
  const control = path.join(scratch, 'node.sock');
  const config = path.join(scratch, 'node.yaml');
  writeFileSync(
    config,
    [
      'strategies:',
      `  - { id: dca-a, file: test/fixtures/strategies/stops-dca-1m.ts, mode: ${MODES['dca-a']}, allocation: { quote: 4000 } }`,
      `  - { id: dca-b, file: test/fixtures/strategies/stops-dca-1m.ts, mode: ${MODES['dca-b']}, allocation: { quote: 3000 } }`,
      `  - { id: recon, file: test/fixtures/strategies/recon-1m.ts, params: { hold: 3 }, mode: ${MODES['recon']}, allocation: { quote: 2000 } }`,
      '',
    ].join('\n'),
  );
  sim = await startRealOrdersSimulator(SPEED, credentials, { orderTimeout: { nth: [WORKER_KILL_AT], answerAfterMs: 5_000 } });
  const s = sim;
  // The same command both times. No candle limit: a worker at its limit would finish its run before the kill.
  // Every candle is traded (the replay of npm run diff is the reference; the stale rule has its own tests).
  const command = [config, '--sim-url', s.restUrl, '--speed', String(SPEED), '--stale-after', 'off', '--store', path.join(scratch, 'store'), '--runs', runs, '--control', control,
    '--reconcile-every', '2'];
  const env = { ...process.env, CANDLECRAFT_API_KEY: credentials.apiKey, CANDLECRAFT_API_SECRET: credentials.secret };

  const first = new NodeProcess(command, env);
  // The worker whose order's answer is held back (its paper order is in its trading.jsonl, checkpointed before it was
  // sent) is SIGKILLed while it waits; the supervisor restarts it and it continues its run.
  await first.until(() => s.account.orders.length >= WORKER_KILL_AT, `the ${WORKER_KILL_AT}th exchange order`, { pollMs: 5 });
  const heldAtWorkerKill = s.account.orders[WORKER_KILL_AT - 1]!.clientOrderId;
  const workerKilled = REAL.find((id) => runDirs(runs, id).some((dir) => orderEvents(dir).some((e) => e.order.clientOrderId === heldAtWorkerKill.replace(/r\d+$/, ''))))!;
  expect(workerKilled).toBeDefined();
  const killedPid = (await sendAdmin(control, { command: 'status' })).status!.workers.find((w) => w.id === workerKilled)!.pid!;
  workerPids.add(killedPid);
  process.kill(killedPid, 'SIGKILL');
  await first.until(() => new RegExp(`${workerKilled}: continuing a killed run`).test(first.stderr), 'the killed worker to continue its run');
  // The late answer reaches the restarted worker, which skips it (an answer to its earlier life).
  await first.until(() => new RegExp(`${workerKilled}: an answer to a command of an earlier start, skipped`).test(first.stderr), 'the late answer to be skipped');

  // The restarted worker has acted on a candle of its new life (its resume record is written with that candle's
  // checkpoint): killed before it, the node would leave one resume record for the two kills. It may have had its K
  // candles before its own kill.
  await first.until(() => resumes(runDirs(runs, workerKilled)[0]!).length === 1, `${workerKilled} to act on a candle after its restart`);
  await first.until(() => IDS.every((id) => checkpoints(runDirs(runs, id)[0]) >= K), `${K} candles acted on by every worker`);
  const workers = (await sendAdmin(control, { command: 'status' })).status!.workers;
  expect(workers.map((w) => [w.id, w.state, w.restarts])).toEqual(IDS.map((id) => [id, 'running', id === workerKilled ? 1 : 0]));
  const pids = workers.map((w) => w.pid!);
  for (const pid of pids) workerPids.add(pid);
  // The next order executes on the account but its answer never comes: the node is killed while it waits.
  const sent = s.account.orders.length;
  s.holdNextOrderAnswer();
  await first.until(() => s.account.orders.length > sent, 'the order whose answer is held back', { pollMs: 5 });
  const held = s.account.orders[sent]!.clientOrderId;
  first.child.kill('SIGKILL');
  expect(await first.exited).toBeNull();
  // Its workers notice the node is gone and exit by themselves.
  const deadline = Date.now() + 60_000;
  while (pids.some(processAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(pids.filter(processAlive), 'workers still running after their node was SIGKILLed').toEqual([]);
  // Where each run stands: its checkpoints, and the candle of the last (one journaled after it is cut at the restart).
  const killedAt = Object.fromEntries(IDS.map((id) => [id, { count: checkpoints(runDirs(runs, id)[0]), last: lastCheckpoint(runDirs(runs, id)[0]!) }]));

  const second = new NodeProcess(command, env);
  const continued = (id: string): boolean => new RegExp(`${id}: continuing a killed run`).test(second.stderr);
  for (const id of IDS) {
    await second.until(() => continued(id) || runDirs(runs, id).length > 1, `${id} to continue its run`);
    expect(runDirs(runs, id), `${id}: a second run folder, not the run continued`).toHaveLength(1);
  }
  await second.until(() => IDS.every((id) => checkpoints(runDirs(runs, id)[0]) >= killedAt[id]!.count + K), `${K} more candles acted on by every worker`);
  second.child.kill('SIGINT');
  expect(await second.exited, second.stderr.slice(-3_000)).toBe(0);

  for (const id of IDS) {
    const dirs = runDirs(runs, id);
    expect(dirs, id).toHaveLength(1); // continued in its folder, not a second run
    const [dir] = dirs as [string];
    // A resume record per kill (the worker's own, then the node's): the last one after the last candle acted on
    // before the node's kill, from the first one after its restart.
    const resume = resumes(dir);
    expect(resume, id).toHaveLength(id === workerKilled ? 2 : 1);
    const last = resume.at(-1)!;
    expect(last.after, id).toBe(killedAt[id]!.last);
    // Each minute acted on once, in order, with a gap only where a resume record names the downtime (a worker
    // restarted within a minute of exchange time leaves none).
    const times = candleTimes(dir);
    const gaps = times.slice(1).flatMap((t, i) => (t - times[i]! === MINUTE ? [] : [[times[i]!, t]]));
    expect(gaps, id).toEqual(resume.filter((r) => r.first - r.after > MINUTE).map((r) => [r.after, r.first]));
    for (const r of resume) expect(r.first, id).toBeGreaterThan(r.after);
    expect(gaps.at(-1), id).toEqual([last.after, last.first]); // the node's downtime: seconds, many minutes of exchange time
    expect(times.filter((t) => t > last.after).length, id).toBeGreaterThanOrEqual(K);
  }

  const dirs = Object.fromEntries(IDS.map((id) => [id, runDirs(runs, id)[0]!]));
  await expectDiffsClean(Object.values(dirs));
  return { sim: s, runs, dirs, stderr: second.stderr, held: [heldAtWorkerKill, held] };
}

describe('npm run node SIGKILLed mid-run, then the same command again', () => {
  it('paper and real workers, a worker then the node killed with an order in flight: the workers exit with the node; every run continues in its folder, each candle acted on once, diff 0; no client order id twice; holding = sum of the real paper positions', { timeout: 600_000 }, async () => {
    const { sim: s, runs, dirs, stderr, held } = await killAndRestart();
    // The orders in flight at the kills: on the account once, each from a real worker's journal, not sent again.
    for (const id of held) {
      expect(s.account.orders.filter((o) => o.clientOrderId === id), id).toHaveLength(1);
      expect(REAL.some((strategy) => orderEvents(dirs[strategy]!).some((e) => e.order.clientOrderId === id.replace(/r\d+$/, ''))), id).toBe(true);
    }
    expectAccountMatchesJournals(s, runs, Object.fromEntries(REAL.map((id) => [id, dirs[id]!])));
    // The paper strategy traded too, on paper only: none of its client order ids reached the account.
    const paperIds = new Set(orderEvents(dirs['dca-a']!).map((e) => e.order.clientOrderId));
    expect(paperIds.size).toBeGreaterThan(0);
    expect(s.account.orders.filter((o) => paperIds.has(o.clientOrderId.replace(/r\d+$/, '')))).toEqual([]);
    expect(stderr).not.toMatch(/new entries of .* blocked/);
  });
});
