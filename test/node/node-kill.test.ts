/**
 * A one-process `npm run node` (connector, in-process bus and supervisor in one process, the workers its children)
 * SIGKILLed mid-run, then the same command again: real processes, real ccxt, the project's simulator on loopback
 * (started here, on the shipped BTC/USDT 1m dataset).
 *
 * Three strategies on BTC/USDT 1m — two instances of test/fixtures/strategies/stops-dca-1m.ts (an order on most
 * candles) and test/fixtures/strategies/recon-1m.ts — with no candle limit: the node is killed once every worker has
 * acted on ten candles, and stopped (SIGINT) once every worker has acted on ten more after the restart. The kill moment
 * is decided by what the workers did, never by time. Once on paper, once with `mode: real` (real orders on the
 * simulator's account), where the node is killed while the simulator holds back the answer to an order it executed.
 *
 * It proves: the killed node's workers exit by themselves (none left running); the same command continues every run
 * in its folder (a resume record, not a second run); the candles each run acted on are each minute once, with one gap
 * — the downtime the resume record names — so none acted on twice and none lost after the restart; `npm run diff`
 * exits 0 on every run folder. With real orders: the order in flight at the kill is on the account once (the restarted
 * connector looked it up, sent nothing again), no client order id twice, each from a worker's journal; the account's
 * BTC equals the sum of the paper positions; no reconciliation finding (the first run reopened did not see the others'
 * coins as external).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sendAdmin } from '../../framework/node/admin';
import { replayCandles } from '../../framework/feeds/replay';
import { startSimulator, type Simulator } from '../../framework/sim/simulator';
import { runCli } from '../support/cli';
import { checkpoints, jsonLines, killNodes, NodeProcess, processAlive, runDirs } from './node-process';
import { expectAccountMatchesJournals, orderEvents } from './real-orders-checks';

const SPEED = 600; // a 1m candle every 100 ms of real time
const MINUTE = 60_000;
/** Candles every worker acts on before the node is killed, and again after its restart. */
const K = 10;
const FILES: Readonly<Record<string, string>> = {
  'dca-a': 'test/fixtures/strategies/stops-dca-1m.ts',
  'dca-b': 'test/fixtures/strategies/stops-dca-1m.ts',
  recon: 'test/fixtures/strategies/recon-1m.ts',
};
const IDS = Object.keys(FILES);
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

type Mode = 'paper' | 'real';
const credentials = { apiKey: 'node-kill-key', secret: 'node-kill-secret' };

/**
 * Runs the scenario with every strategy in `mode`: returns the simulator, the runs folder, each strategy's one run
 * folder and the second node's stderr. With `real`, the node is killed while an order's answer is held back by the
 * simulator (the order executed on the account, the connector waiting for its answer).
 */
async function killAndRestart(mode: Mode): Promise<{ sim: Simulator; runs: string; dirs: Record<string, string>; stderr: string; held: string | null }> {
  const root = path.join(scratch, mode);
  const runs = path.join(root, 'runs');
  const control = path.join(root, 'node.sock');
  const config = path.join(scratch, `${mode}.yaml`);
  writeFileSync(
    config,
    [
      'strategies:',
      `  - { id: dca-a, file: test/fixtures/strategies/stops-dca-1m.ts, mode: ${mode}, allocation: { quote: 4000 } }`,
      `  - { id: dca-b, file: test/fixtures/strategies/stops-dca-1m.ts, mode: ${mode}, allocation: { quote: 3000 } }`,
      `  - { id: recon, file: test/fixtures/strategies/recon-1m.ts, params: { hold: 3 }, mode: ${mode}, allocation: { quote: 2000 } }`,
      '',
    ].join('\n'),
  );
  await sim?.stop();
  sim = await startSimulator({
    markets: [{ symbol: 'BTC/USDT', timeframe: '1m', candles: replayCandles('datasets', { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' }) }],
    startTime: Date.UTC(2021, 3, 21, 2, 0),
    speed: SPEED,
    ...(mode === 'real' && { account: { ...credentials, balances: { USDT: 10_000, BTC: 0 } } }),
  });
  const s = sim;
  // The same command both times. No candle limit: a worker at its limit would finish its run before the kill.
  // Every candle is traded (the replay of npm run diff is the reference; the stale rule has its own tests).
  const command = [config, '--sim-url', s.restUrl, '--speed', String(SPEED), '--stale-after', 'off', '--store', path.join(root, 'store'), '--runs', runs, '--control', control,
    ...(mode === 'real' ? ['--reconcile-every', '2'] : [])];
  const env = { ...process.env, ...(mode === 'real' && { CANDLECRAFT_API_KEY: credentials.apiKey, CANDLECRAFT_API_SECRET: credentials.secret }) };

  const first = new NodeProcess(command, env);
  await first.until(() => IDS.every((id) => checkpoints(runDirs(runs, id)[0]) >= K), `${K} candles acted on by every worker`);
  const workers = (await sendAdmin(control, { command: 'status' })).status!.workers;
  expect(workers.map((w) => [w.id, w.state, w.restarts])).toEqual(IDS.map((id) => [id, 'running', 0]));
  const pids = workers.map((w) => w.pid!);
  for (const pid of pids) workerPids.add(pid);
  let held: string | null = null;
  if (mode === 'real') {
    // The next order executes on the account but its answer never comes: the node is killed while it waits.
    const sent = s.account.orders.length;
    s.holdNextOrderAnswer();
    await first.until(() => s.account.orders.length > sent, 'the order whose answer is held back', { pollMs: 5 });
    held = s.account.orders[sent]!.clientOrderId;
  }
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
    // One resume record: after the last candle acted on before the kill, from the first one after the restart.
    const resume = resumes(dir);
    expect(resume, id).toHaveLength(1);
    expect(resume[0]!.after, id).toBe(killedAt[id]!.last);
    // Each minute acted on once, in order, with one gap: the downtime, exactly as the resume record names it.
    const times = candleTimes(dir);
    const gaps = times.slice(1).flatMap((t, i) => (t - times[i]! === MINUTE ? [] : [[times[i]!, t]]));
    expect(gaps, id).toEqual([[resume[0]!.after, resume[0]!.first]]);
    expect(resume[0]!.first, id).toBeGreaterThan(resume[0]!.after);
    expect(times.filter((t) => t > resume[0]!.after).length, id).toBeGreaterThanOrEqual(K);
  }

  const dirs = Object.fromEntries(IDS.map((id) => [id, runDirs(runs, id)[0]!]));
  const diffs = await Promise.all(IDS.map((id) => runCli('framework/cli/diff.ts', [FILES[id]!, '--run', dirs[id]!])));
  diffs.forEach((diff, i) => {
    expect(diff.code, `${IDS[i]}\n${diff.stdout}\n${diff.stderr}`).toBe(0);
    expect(diff.stdout).toMatch(/0 unexplained/);
  });
  return { sim: s, runs, dirs, stderr: second.stderr, held };
}

describe('npm run node SIGKILLed mid-run, then the same command again', () => {
  it('paper: the workers exit with the node; every run continues in its folder, each candle acted on once, diff 0', { timeout: 600_000 }, async () => {
    await killAndRestart('paper');
  });

  it('real orders, killed with an order in flight: every run continues; no client order id twice; holding = sum of paper positions', { timeout: 600_000 }, async () => {
    const { sim: s, runs, dirs, stderr, held } = await killAndRestart('real');
    // The order in flight at the kill: on the account once, taken up by the restarted connector, not sent again.
    expect(s.account.orders.filter((o) => o.clientOrderId === held)).toHaveLength(1);
    expect(Object.values(dirs).some((dir) => orderEvents(dir).some((e) => e.order.clientOrderId === held!.replace(/r\d+$/, '')))).toBe(true);
    expectAccountMatchesJournals(s, runs, dirs);
    expect(stderr).not.toMatch(/new entries of .* blocked/);
  });
});
