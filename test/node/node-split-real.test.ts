/**
 * `mode: real` on a node split in two processes over RabbitMQ (`--role workers`, then `--role connector`): the
 * connector process holds the account's keys and runs the trade desk beside the market data; the workers' process,
 * started first and without keys, sends its workers' `commands.execute_trade` over the bus, where they wait for the
 * connector. Real processes, a real RabbitMQ, real ccxt and the simulator's signed account on loopback.
 *
 * It proves: every order of both strategies went out through the connector (the account holds the sum of the paper
 * positions, every client order id is a worker journal's, none twice, each strategy's `orders.jsonl` holding is its
 * paper target) and `npm run diff` exits 0 on every run folder.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../framework/sim/simulator';
import { useRabbitMq } from '../support/use-rabbitmq';
import { expectDiffsClean, killNodes, NodeProcess, runDirs } from './node-process';
import { expectAccountMatchesJournals, startRealOrdersSimulator } from './real-orders-checks';

const SPEED = 600; // a 1m candle every 100 ms of real time
const CANDLES = 30;
const credentials = { apiKey: 'split-real-key', secret: 'split-real-secret' };
const FILES: Readonly<Record<string, string>> = {
  dca: 'test/fixtures/strategies/stops-dca-1m.ts',
  recon: 'test/fixtures/strategies/recon-1m.ts',
};
const scratch = mkdtempSync(path.join(tmpdir(), 'node-split-real-'));
const runs = path.join(scratch, 'runs');
const config = path.join(scratch, 'node.yaml');
writeFileSync(
  config,
  [
    'strategies:',
    `  - { id: dca, file: ${FILES['dca']}, mode: real, allocation: { quote: 4000 } }`,
    `  - { id: recon, file: ${FILES['recon']}, params: { hold: 3 }, mode: real, allocation: { quote: 2000 } }`,
    '',
  ].join('\n'),
);

const rabbit = useRabbitMq();
let sim: Simulator | null = null;
afterAll(async () => {
  await killNodes();
  await sim?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe('npm run node split in two processes with mode: real strategies (RabbitMQ)', () => {
  it('the connector process executes the orders of the workers\' process: account = journals, client order ids unique, diff 0', { timeout: 600_000 }, async () => {
    sim = await startRealOrdersSimulator(SPEED, credentials);
    // Every candle is traded (the replay of npm run diff is the reference; the stale rule has its own tests).
    const common = [config, '--sim-url', sim.restUrl, '--speed', String(SPEED), '--stale-after', 'off', '--reconcile-every', '2',
      '--store', path.join(scratch, 'store'), '--runs', runs, '--bus', rabbit().url];
    const { CANDLECRAFT_API_KEY: _key, CANDLECRAFT_API_SECRET: _secret, ...noKeys } = process.env;
    const workers = new NodeProcess([...common, '--role', 'workers', '--max-candles', String(CANDLES), '--control', path.join(scratch, 'node.sock')], noKeys);
    const connector = new NodeProcess([...common, '--role', 'connector'], { ...noKeys, CANDLECRAFT_API_KEY: credentials.apiKey, CANDLECRAFT_API_SECRET: credentials.secret });
    const connectorGone = connector.exited.then((code) => {
      throw new Error(`the connector exited (${code}) before the workers finished: ${connector.stderr.slice(-3_000)}`);
    });
    expect(await Promise.race([workers.exited, connectorGone]), workers.stderr.slice(-3_000)).toBe(0);
    connector.child.kill('SIGINT');
    expect(await connector.exited, connector.stderr.slice(-3_000)).toBe(0);

    const dirs = Object.fromEntries(Object.keys(FILES).map((id) => [id, runDirs(runs, id)]));
    for (const id of Object.keys(FILES)) expect(dirs[id], id).toHaveLength(1);
    const one = Object.fromEntries(Object.entries(dirs).map(([id, [dir]]) => [id, dir!]));
    expectAccountMatchesJournals(sim, runs, one);
    expect(sim.account.orders.length).toBeGreaterThan(CANDLES / 3);

    await expectDiffsClean(Object.values(one));
  });
});
