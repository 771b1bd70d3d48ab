import { describe, expect, it } from 'vitest';
import { decideRestart, type RestartPolicy } from '../../framework/supervisor/restart-policy';

const policy: RestartPolicy = { maxRestarts: 3, windowMs: 60_000, baseDelayMs: 500, maxDelayMs: 4_000 };
const MIN = 60_000;

describe('decideRestart', () => {
  it('backs off exponentially with full jitter, floored at the base delay', () => {
    // No restart in the window: ceiling min(4000, 500 × 2^0) = 500; random 0.9 → 450, floored to 500.
    expect(decideRestart({ kind: 'exited', code: 1 }, [], 10 * MIN, 0.9, policy)).toEqual({ action: 'restart', delayMs: 500, attempt: 1 });
    // Two restarts in the window: ceiling min(4000, 500 × 2^2) = 2000; random 0.75 → 1500.
    expect(decideRestart({ kind: 'crashed', signal: 'SIGSEGV' }, [10 * MIN - 5_000, 10 * MIN - 1_000], 10 * MIN, 0.75, policy)).toEqual({
      action: 'restart',
      delayMs: 1_500,
      attempt: 3,
    });
  });

  it('does not restart a worker that finished its work (exit code 0), as an OTP transient child', () => {
    expect(decideRestart({ kind: 'exited', code: 0 }, [], 10 * MIN, 0.5, policy)).toEqual({ action: 'none' });
    expect(decideRestart({ kind: 'exited', code: 2 }, [], 10 * MIN, 0.5, policy).action).toBe('restart');
  });

  it('caps the delay at maxDelayMs', () => {
    // Restarts long ago do not count; with maxRestarts 10 and 5 recent: ceiling min(4000, 500 × 32) = 4000; 0.5 → 2000.
    const recent = [1, 2, 3, 4, 5].map((k) => 10 * MIN - k * 1_000);
    expect(decideRestart({ kind: 'unresponsive' }, recent, 10 * MIN, 0.5, { ...policy, maxRestarts: 10 })).toEqual({
      action: 'restart',
      delayMs: 2_000,
      attempt: 6,
    });
  });

  it('gives up after maxRestarts within the window, and counts only restarts inside it', () => {
    const three = [10 * MIN - 30_000, 10 * MIN - 20_000, 10 * MIN - 10_000];
    const decision = decideRestart({ kind: 'out_of_memory' }, three, 10 * MIN, 0.5, policy);
    expect(decision).toEqual({
      action: 'fail',
      reason: 'ran out of memory at its heap limit; 3 restarts within 60 s already (at most 3)',
    });
    // The oldest restart is 61 s old: two in the window, so one more restart.
    const older = [10 * MIN - 61_000, 10 * MIN - 20_000, 10 * MIN - 10_000];
    expect(decideRestart({ kind: 'out_of_memory' }, older, 10 * MIN, 0, policy)).toMatchObject({ action: 'restart', attempt: 3 });
  });

  it('never retries a plugin that failed to load, and never restarts a stopped worker', () => {
    expect(decideRestart({ kind: 'load_failed', message: 'strategies/x.ts: no strategy class' }, [], 0, 0, policy)).toEqual({
      action: 'fail',
      reason: 'the plugin failed to load (not retried): strategies/x.ts: no strategy class',
    });
    expect(decideRestart({ kind: 'stopped' }, [], 0, 0, policy)).toEqual({ action: 'none' });
  });
});
