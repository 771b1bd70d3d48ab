/**
 * When a supervised worker process ends, whether and when to start it again: a pure decision (no clock, no
 * processes), so every case can be tested on its own. The rules follow Erlang/OTP's supervisors (at most
 * `maxRestarts` restarts within `windowMs`, else give up: "intensity" and "period") with the exponential back-off and
 * "full jitter" of AWS's Architecture Blog, "Exponential Backoff And Jitter" (M. Brooker, 2015): the n-th restart in
 * the window waits a uniformly random time in `[0, min(maxDelayMs, baseDelayMs × 2^n)]`, floored at `baseDelayMs`.
 *
 * @module
 */

/**
 * How a worker ended:
 * - `exited`: it exited by itself (`code`), e.g. after an uncaught exception; code 0 means it finished its work (a
 *   run with a candle limit): not restarted (OTP's "transient" child);
 * - `crashed`: killed by a signal it did not ask for;
 * - `unresponsive`: it missed its heartbeats (an endless loop blocks its event loop) and the supervisor killed it;
 * - `out_of_memory`: V8 aborted at the heap limit the supervisor gave it;
 * - `load_failed`: its plugin could not be loaded (a missing file, a syntax error, no strategy class): a restart
 *   would fail the same way, so it is never retried;
 * - `stopped`: the supervisor was asked to stop it: not restarted.
 */
export type WorkerEnd =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'crashed'; readonly signal: string }
  | { readonly kind: 'unresponsive' }
  | { readonly kind: 'out_of_memory' }
  | { readonly kind: 'load_failed'; readonly message: string }
  | { readonly kind: 'stopped' };

/** The restart policy; times in ms. */
export interface RestartPolicy {
  /** Most restarts within {@link windowMs}; one more marks the worker failed. Default 5. */
  readonly maxRestarts: number;
  /** Default 10 minutes. */
  readonly windowMs: number;
  /** Default 500 ms. */
  readonly baseDelayMs: number;
  /** Default 30 s. */
  readonly maxDelayMs: number;
}

/** The default {@link RestartPolicy}. */
export const DEFAULT_RESTART_POLICY: RestartPolicy = { maxRestarts: 5, windowMs: 600_000, baseDelayMs: 500, maxDelayMs: 30_000 };

/** What to do after a worker ended. */
export type RestartDecision =
  | { readonly action: 'restart'; readonly delayMs: number; readonly attempt: number }
  | { readonly action: 'fail'; readonly reason: string }
  | { readonly action: 'none' };

/**
 * Decides what to do after a worker ended at `now`.
 *
 * @param end - how it ended.
 * @param restarts - times (ms) of its earlier restarts, oldest first.
 * @param now - the end's time (ms).
 * @param random - a uniform number in [0, 1) for the jitter.
 */
export function decideRestart(
  end: WorkerEnd,
  restarts: readonly number[],
  now: number,
  random: number,
  policy: RestartPolicy = DEFAULT_RESTART_POLICY,
): RestartDecision {
  if (end.kind === 'stopped' || (end.kind === 'exited' && end.code === 0)) return { action: 'none' };
  if (end.kind === 'load_failed') return { action: 'fail', reason: `the plugin failed to load (not retried): ${end.message}` };
  const recent = restarts.filter((t) => now - t < policy.windowMs).length;
  if (recent >= policy.maxRestarts) {
    return {
      action: 'fail',
      reason: `${describeEnd(end)}; ${recent} restarts within ${policy.windowMs / 1000} s already (at most ${policy.maxRestarts})`,
    };
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** recent);
  return { action: 'restart', delayMs: Math.max(policy.baseDelayMs, Math.floor(random * ceiling)), attempt: recent + 1 };
}

/** One line saying how a worker ended. */
export function describeEnd(end: WorkerEnd): string {
  switch (end.kind) {
    case 'exited':
      return end.code === 0 ? 'finished (exit code 0)' : `exited with code ${end.code}`;
    case 'crashed':
      return `killed by ${end.signal}`;
    case 'unresponsive':
      return 'missed its heartbeats (blocked event loop) and was killed';
    case 'out_of_memory':
      return 'ran out of memory at its heap limit';
    case 'load_failed':
      return `failed to load: ${end.message}`;
    case 'stopped':
      return 'stopped on request';
  }
}
