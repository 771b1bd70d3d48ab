/**
 * A progress bar for long commands (downloads, backtests), drawn on standard error with `cli-progress` so that standard
 * output keeps only the command's result. `cli-progress` is required only when a bar is drawn (standard error is a
 * terminal), so that a command run from a script or a test does not load it.
 *
 * @module
 */
import { createRequire } from 'node:module';

/** A running progress bar; see {@link startProgress}. */
export interface Progress {
  /**
   * Moves the bar to `value` (out of the `total` given to {@link startProgress}); `detail` is shown after the counts,
   * e.g. the open time reached.
   */
  update(value: number, detail?: string): void;
  /** Draws the final state and moves to the next line. Idempotent. */
  stop(): void;
}

/** A progress that shows nothing: what {@link startProgress} returns when the bar is disabled. */
const SILENT: Progress = { update: () => undefined, stop: () => undefined };

/**
 * Starts a progress bar on standard error:
 * `download binance BTC/USDT 15m [████░░░░] 42% | 14000/33000 | ETA 3s | 2024-05-01T00:00:00.000Z`.
 * It is drawn only when `enabled` and standard error is a terminal (a redirected or piped stderr gets nothing, so logs
 * and test harnesses stay clean), at most 10 times a second.
 *
 * @param label - what is progressing, shown first.
 * @param total - the value that means done (e.g. candles to fetch); values above it show 100%.
 * @param enabled - e.g. `false` under `--quiet`; default `true`.
 */
export function startProgress(label: string, total: number, enabled = true): Progress {
  if (!enabled || process.stderr.isTTY !== true) return SILENT;
  const { Presets, SingleBar } = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted}{detail}`,
      hideCursor: true,
      etaBuffer: 50,
    },
    Presets.shades_classic,
  );
  bar.start(Math.max(total, 0), 0, { detail: '' });
  let stopped = false;
  return {
    update: (value, detail) => {
      if (!stopped) bar.update(Math.min(value, total), { detail: detail === undefined ? '' : ` | ${detail}` });
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
