import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const DATASET = 'datasets/binance/BTC_USDT/5m';

describe('sim CLI', () => {
  it.skipIf(!existsSync(DATASET))('serves a stored dataset and stops on SIGTERM, logging its counters', async () => {
    // node itself (not npx) so that SIGTERM reaches the CLI
    const child = spawn(process.execPath, ['bin/run.mjs', 'framework/cli/sim.ts', '--dataset', 'binance/BTC_USDT/5m', '--speed', '0',
      '--start', '2021-03-01', '--port', '0', '--faults', 'rest500', '--fault-rate', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const restUrl = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        stdout += String(d);
        const match = /REST (http:\/\/127\.0\.0\.1:\d+)\/api\/v3/.exec(stdout);
        if (match !== null) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`sim CLI exited early (${code}): ${stderr}`)));
    });
    const time = (await (await fetch(`${restUrl}/api/v3/time`)).json()) as { serverTime: number };
    expect(time.serverTime).toBe(Date.UTC(2021, 2, 1));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const stopped = stderr.split('\n').filter((l) => l.includes('simulator stopped')).map((l) => JSON.parse(l) as { restRequests: number });
    expect(stopped.length).toBe(1);
    expect(stopped[0]!.restRequests).toBe(1);
  });
});
