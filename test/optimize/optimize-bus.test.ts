/**
 * `npm run optimize -- --bus amqp://…` with two `npm run optimize-worker` processes on a real RabbitMQ (on loopback,
 * started here): the same trials as the local run, and none lost when a worker is SIGKILLed mid-search.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';
import { useRabbitMq } from '../support/use-rabbitmq';

const runs = mkdtempSync(path.join(tmpdir(), 'optimize-bus-'));
const rabbit = useRabbitMq();
const workers: ChildProcess[] = [];

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  rmSync(runs, { recursive: true, force: true });
}, 60_000);

// 16 TPE trials in each of 2 windows on 6 weeks of 15m candles, plus one out-of-sample run per window.
const SEARCH = ['strategies/macd.ts', '--trials', '16', '--windows', '2', '--seed', '5', '--from', '2021-01-01', '--to', '2021-02-12', '--quiet'];
const TOTAL = 2 * (16 + 1);

function logLines(root: string): string[] {
  const dirs = existsSync(root) ? readdirSync(root) : [];
  const file = dirs.length === 1 ? path.join(root, dirs[0]!, 'trials.jsonl') : '';
  if (file === '' || !existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter((l) => l !== '');
}

const byId = (lines: string[]) => lines.map((l) => JSON.parse(l) as { id: string }).sort((a, b) => a.id.localeCompare(b.id));

function startWorker(url: string): ChildProcess {
  const child = spawn(process.execPath, ['bin/run.mjs', 'framework/cli/optimize-worker.ts', '--bus', url, '--quiet'], { stdio: 'ignore' });
  workers.push(child);
  return child;
}

describe('npm run optimize --bus', () => {
  it('gives the local run\'s trials from two workers, one of them SIGKILLed mid-search', { timeout: 400_000 }, async () => {
    const url = rabbit().url;
    const localRoot = path.join(runs, 'local');
    const busRoot = path.join(runs, 'bus');
    const local = runCli('framework/cli/optimize.ts', [...SEARCH, '--threads', '1', '--runs', localRoot]);
    const [first] = [startWorker(url), startWorker(url)];
    const remote = runCli('framework/cli/optimize.ts', [...SEARCH, '--bus', url, '--runs', busRoot]);
    // Kill the first worker once a few trials are recorded: its trial in flight is unacknowledged, so RabbitMQ
    // hands it to the other worker.
    while (logLines(busRoot).length < 6) await new Promise((resolve) => setTimeout(resolve, 50));
    const exited = new Promise((resolve) => first!.once('exit', resolve));
    first!.kill('SIGKILL');
    await exited;
    const [l, r] = await Promise.all([local, remote]);
    expect(l.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const localLines = logLines(localRoot);
    const busLines = logLines(busRoot);
    expect(localLines).toHaveLength(TOTAL);
    expect(busLines).toHaveLength(TOTAL);
    expect(byId(busLines)).toEqual(byId(localLines));
    const parquet = (root: string) => readFileSync(path.join(root, readdirSync(root)[0]!, 'trials.parquet'));
    expect(parquet(busRoot)).toEqual(parquet(localRoot));
  });
});
