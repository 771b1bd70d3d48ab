/**
 * The V8 compiler limits of a process that runs optimisation trials.
 *
 * @module
 */
import { setFlagsFromString } from 'node:v8';

/**
 * How much bytecode V8's optimising compiler (TurboFan) may inline into one function, raised from V8's defaults (460
 * bytes per inlined function, 920 cumulative, 4,600 absolute; `node --v8-options`) so that a trial's per-candle path
 * (the engine's step, the paper broker's step and its fills, the frame's reads and the strategy's `onData`) is compiled
 * into the replay loop as one piece rather than as calls: fewer calls, and V8's escape analysis can then keep a
 * candle's numbers out of the heap. Measured on this project's 2-core machine with the bench's controlled optimisation
 * case (CPU per trial of `strategies/macd.ts`, median of 10, against the hand-written loop in the same process, two
 * runs each way, alternately): 1,000,000 candles 66–68 ms → 48–49 ms (3.4–3.6× the loop → 2.5–2.6×), 100,000 candles
 * 7.2–7.9 ms → 5.3–5.5 ms (3.6–3.9× → 2.6–2.7×). What a trial computes does not depend on them.
 */
export const TRIAL_INLINING_FLAGS = [
  '--max-inlined-bytecode-size=5000',
  '--max-inlined-bytecode-size-cumulative=10000',
  '--max-inlined-bytecode-size-absolute=20000',
] as const;

/**
 * Sets {@link TRIAL_INLINING_FLAGS} (with `v8.setFlagsFromString`): V8 flags are the process's, so every thread's
 * compilations from then on use them. Called where trials are run (a pool's worker thread, a trial worker on the bus,
 * the bench) before the first trial, so that its code is compiled with them. Idempotent.
 */
export function raiseInliningBudget(): void {
  for (const flag of TRIAL_INLINING_FLAGS) setFlagsFromString(flag);
}
