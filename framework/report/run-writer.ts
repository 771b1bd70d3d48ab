import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { EquityCurve } from '../broker/equity-curve';
import type { Trade } from '../broker/types';
import { FrameworkError } from '../core/errors';
import { isoUtc } from '../core/time';
import { writeArtifact } from './artifact';
import { EQUITY_FILE, writeEquityFile } from './equity-file';
import { jsonNumbers, withIso } from './json-lines';
import type { RunSummary } from './run-summary';
import type { SignalJournal } from './signal-journal';
import { SIGNALS_FILE, writeSignalsFile } from './signals-file';
import { TRADES_FILE, writeTradesFile } from './trades-file';

/** A run's directory: its run id and its path (`runsRoot` joined with the run id). */
export interface RunDir {
  readonly runId: string;
  readonly dir: string;
}

/**
 * What {@link writeRunArtifacts} writes. `signals` is omitted when a {@link "report/journal"!RunJournal | RunJournal}
 * already wrote the journal, `signals.jsonl`, during the run (live runs).
 */
export interface RunArtifacts {
  readonly summary: RunSummary;
  readonly trades: readonly Trade[];
  readonly signals?: SignalJournal;
  readonly equity: EquityCurve;
}

/** Paths of the run's files; `signals` is null when no journal was given to write. */
export interface RunFiles {
  readonly summary: string;
  readonly trades: string;
  readonly signals: string | null;
  readonly equity: string;
}

const ATTEMPTS = 16;

/**
 * Creates a new, empty run directory `<runsRoot>/<runId>` (and `runsRoot` if needed). The run id is
 * `YYYYMMDD-HHMMSS-<strategy>-<4 hex>`: the UTC wall-clock time, the strategy name with every run of characters
 * other than letters, digits, `_` and `-` replaced by `-`, and 4 random hex digits. An existing directory is never
 * reused: on a collision another suffix is drawn.
 *
 * @param runsRoot - folder holding all runs, e.g. `runs`.
 * @param strategyName - e.g. `SmaCross`.
 * @param now - wall-clock time in UTC epoch ms (default: now).
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} when the name has no usable character or no free
 *   directory name is found; file-system errors (permissions) propagate.
 */
export function createRunDir(runsRoot: string, strategyName: string, now: number = Date.now()): RunDir {
  const name = strategyName.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '');
  if (name === '') throw new FrameworkError(`invalid strategy name ${JSON.stringify(strategyName)} for a run id`);
  const stamp = isoUtc(now).replace(/[-:]/g, '').replace('T', '-').slice(0, 15); // YYYYMMDD-HHMMSS
  mkdirSync(runsRoot, { recursive: true });
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const runId = `${stamp}-${name}-${randomBytes(2).toString('hex')}`;
    const dir = join(runsRoot, runId);
    try {
      mkdirSync(dir);
      return { runId, dir };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new FrameworkError(`no free run directory for ${name} at ${stamp} in ${runsRoot} after ${ATTEMPTS} attempts`);
}

/**
 * Writes a run's artifacts into `dir` (which must exist, e.g. from {@link createRunDir}):
 *
 * - `summary.json`: the {@link RunSummary}, indented, with `firstCandleIso`, `lastCandleIso`, `startedAtIso`,
 *   `finishedAtIso` next to the epoch-ms fields;
 * - `trades.parquet`: one row per {@link Trade} (schema in `report/trades-file.ts`);
 * - `signals.parquet` (when `signals` is given): the signal journal, one row per signal (schema in
 *   `report/signals-file.ts`);
 * - `equity.parquet`: the {@link EquityCurve}, one row per candle (schema in `report/equity-file.ts`).
 *
 * In `summary.json` numbers that JSON cannot hold are written as the strings `"Infinity"`, `"-Infinity"` and `"NaN"`
 * (e.g. a profit factor with no losing trade).
 *
 * @returns the paths written.
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} when one of the files already exists (nothing is
 *   overwritten); other file-system errors propagate.
 */
export async function writeRunArtifacts(dir: string, artifacts: RunArtifacts): Promise<RunFiles> {
  const { summary, trades, signals, equity } = artifacts;
  const files: RunFiles = {
    summary: join(dir, 'summary.json'),
    trades: join(dir, TRADES_FILE),
    signals: signals === undefined ? null : join(dir, SIGNALS_FILE),
    equity: join(dir, EQUITY_FILE),
  };
  writeArtifact(files.summary, `${JSON.stringify(withIso(summary, ['firstCandle', 'lastCandle', 'startedAt', 'finishedAt']), jsonNumbers, 2)}\n`);
  writeTradesFile(files.trades, trades);
  if (signals !== undefined && files.signals !== null) writeSignalsFile(files.signals, signals);
  await writeEquityFile(files.equity, equity);
  return files;
}
