/**
 * Ctrl-C under `npx tsx framework/cli/live.ts …` (the README's other way to start a run) leaves the run written, as
 * under `npm run live`: tsx's CLI relays each SIGINT to its child and SIGKILLs a child that does not acknowledge within
 * 30 ms, and under npx it gets each Ctrl-C twice (from the terminal and from npm), so a child busy writing its run was
 * killed (see framework/cli/tsx-relay.ts). Real processes: npx, tsx's CLI, the run, the in-process simulator.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const scratch = mkdtempSync(path.join(tmpdir(), 'live-npx-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('npx tsx framework/cli/live.ts', () => {
  it('Ctrl-C, pressed again and again, to the whole process group (as a terminal sends it) still writes summary.json and report.html', async () => {
    const runs = path.join(scratch, 'runs');
    const child = spawn(
      'npx',
      ['tsx', 'framework/cli/live.ts', 'strategies/ema-cross.ts', '--exchange', 'sim', '--speed', '3600', '--start', '2021-07-10', '--runs', runs, '--store', path.join(scratch, 'store')],
      { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    // 'close': every process holding the pipes (npx, tsx and the run under them) has ended.
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    let done = false;
    void closed.then(() => (done = true));
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if ((stderr.match(/"msg":"closed candle"/g) ?? []).length >= 2) resolve();
      });
    });
    // An impatient user: Ctrl-C every 100 ms until the command has ended, so that some reach it mid-write.
    while (!done) {
      process.kill(-child.pid!, 'SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await closed;
    const [run] = existsSync(runs) ? readdirSync(runs) : [];
    expect(run).toBeDefined();
    const summary = JSON.parse(readFileSync(path.join(runs, run!, 'summary.json'), 'utf8')) as { candles: number };
    expect(summary.candles).toBeGreaterThanOrEqual(2);
    expect(existsSync(path.join(runs, run!, 'report.html'))).toBe(true);
    expect(stdout).toMatch(/^run written to /m);
  }, 180_000);
});
