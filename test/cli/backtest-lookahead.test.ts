import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, type CliOutcome } from '../support/cli';

const scratch = mkdtempSync(path.join(tmpdir(), 'backtest-lookahead-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A backtest over the first six weeks of the shipped 1h candles (1,008 candles). */
function backtest(...args: string[]): Promise<CliOutcome> {
  return runCli('framework/cli/backtest.ts', [...args, '--to', '2021-01-12', '--quiet', '--runs', path.join(scratch, 'runs')]);
}

describe('npm run backtest catches lookahead by itself', () => {
  it('a strategy reading the next close from an array kept in populateIndicators: exit 1, the signals named', async () => {
    const { code, stdout, stderr } = await backtest('test/fixtures/strategies/stashed-close.ts');
    expect(code).toBe(1);
    expect(stdout).toContain('Total return'); // the run itself is reported and written
    expect(stderr).toMatch(/^LOOKAHEAD BIAS: this backtest used candles it could not have seen live/m);
    // Its first signal, on the first candle, is decided on the second candle's close: cut there, it has no signal.
    expect(stderr).toMatch(/first at 2020-12-01T00:00:00.000Z: \{"action":"(enter|exit)_long"\} over the whole history, no signal with the history cut at 2020-12-01T00:00:00.000Z/);
    expect(stderr).toContain('data kept outside the frame');
    expect(stderr).toContain('exit 1: pass --allow-lookahead');
  });

  it('--allow-lookahead still reports it but exits 0; --no-check skips the check', async () => {
    const allowed = await backtest('test/fixtures/strategies/stashed-close.ts', '--allow-lookahead');
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).toContain('LOOKAHEAD BIAS');
    const skipped = await backtest('test/fixtures/strategies/stashed-close.ts', '--no-check');
    expect(skipped.code).toBe(0);
    expect(skipped.stdout + skipped.stderr).not.toMatch(/lookahead (check|bias)/i);
  });

  it('a shifted indicator column: exit 1 naming the column and its first differing candle', async () => {
    const { code, stderr } = await backtest('test/fixtures/strategies/lookahead-shift.ts');
    expect(code).toBe(1);
    // next_close at a cut candle is the next close over the whole history and NaN when the history ends there.
    expect(stderr).toMatch(/column "next_close": at (\S+) it is [\d.]+ over the whole history but NaN with the history cut at \1/);
  });

  it('a strategy counting onData calls in a field: no bias, as every truncated replay runs on a fresh instance', async () => {
    // Shared with the run, the instance would go on counting from the run's last candle and its signals would differ.
    const { code, stdout, stderr } = await runCli('framework/cli/backtest.ts', [
      'test/fixtures/strategies/counter-state.ts', '--to', '2021-04-22', '--quiet', '--runs', path.join(scratch, 'runs'),
    ]);
    expect(stderr).not.toContain('LOOKAHEAD');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^lookahead check: \d+ truncated replays, no lookahead bias found/m);
  });

  // A clean strategy (exit 0, the check reported on one line with its cost): on the README's own
  // `npm run backtest -- strategies/ema-cross.ts` (test/cli/readme/backtests.test.ts).
});
