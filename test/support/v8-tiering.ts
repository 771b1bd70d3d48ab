/**
 * Vitest global set-up: every process of the test run (the forks vitest starts, and the commands, workers and README
 * commands they start, which inherit `NODE_OPTIONS`) preloads test/support/v8-tiering.cjs, which gives V8 8 times its
 * default interrupt budget before it considers a function for TurboFan.
 *
 * Why: the suite starts some 270 Node processes, most of them commands that run for about a second. V8 optimizes a
 * function with TurboFan (on a background thread, so in CPU time, not in their wall time) once it has run a certain
 * amount of bytecode; in a one-second command most of that optimized code is barely used before the process ends. On
 * the 2-core machine, with the budget 8 times larger: a MACD backtest of the 15m candles 1.11 against 1.33 s of CPU,
 * a 30-trial walk-forward optimisation 1.21 against 1.27 s (five and three alternating runs); code that runs hot for
 * longer is still optimized, later. The flag changes when V8 optimizes, never what the code computes: the tests prove
 * the same behaviour. Speed is measured by `npm run bench`, which runs with V8's defaults, as users' commands do.
 */
import { fileURLToPath } from 'node:url';

const PRELOAD = fileURLToPath(new URL('./v8-tiering.cjs', import.meta.url));

export default function setup(): () => void {
  const previous = process.env['NODE_OPTIONS'];
  process.env['NODE_OPTIONS'] = [previous, `--require ${JSON.stringify(PRELOAD)}`].filter((part) => part !== undefined && part !== '').join(' ');
  return () => {
    if (previous === undefined) delete process.env['NODE_OPTIONS'];
    else process.env['NODE_OPTIONS'] = previous;
  };
}
