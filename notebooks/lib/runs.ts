/**
 * Reading run folders (`runs/<run-id>/`) back into plain records, for the notebooks.
 *
 * The files are the ones `framework/report/run-writer.ts` writes: `summary.json` and the Parquet files `trades.parquet`,
 * `signals.parquet` (a live run's journal is `signals.jsonl`, read the same way by the framework's `readSignals`) and
 * `equity.parquet`. Numbers JSON cannot hold were written to `summary.json` as the strings `"NaN"`, `"Infinity"` and
 * `"-Infinity"`; they are read back as numbers.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Trade } from '../../framework/broker/types';
import { EQUITY_FILE, readEquityFile } from '../../framework/report/equity-file';
import { readSignals } from '../../framework/report/journal';
import { readTradesFile, TRADES_FILE } from '../../framework/report/trades-file';
import type { RunSummary, SignalRecord } from '../../framework/report/run-summary';

/** One row of `equity.parquet`: marked at the close of the candle opened at `time` (UTC epoch ms); quote currency. */
export interface EquityRow {
  readonly time: number;
  readonly equity: number;
  readonly cash: number;
  readonly positionValue: number;
}

/** A run read back from its folder. */
export interface LoadedRun {
  readonly dir: string;
  readonly summary: RunSummary;
  readonly trades: readonly Trade[];
  readonly signals: readonly SignalRecord[];
  readonly equity: readonly EquityRow[];
}

/** Reads the four files of the run folder `dir`. */
export function readRun(dir: string): LoadedRun {
  return {
    dir,
    summary: JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8'), revive) as RunSummary,
    trades: readTradesFile(path.join(dir, TRADES_FILE)),
    signals: readSignals(dir),
    equity: equityRows(path.join(dir, EQUITY_FILE)),
  };
}

/**
 * The folder of the newest complete run of strategy `name` and `mode` under `runsRoot`, or null. Run ids start with
 * their UTC start time (`YYYYMMDD-HHMMSS-<name>-<hex>`), so the newest sorts last.
 */
export function newestRun(runsRoot: string, name: string, mode: RunSummary['mode']): string | null {
  if (!existsSync(runsRoot)) return null;
  const candidates = readdirSync(runsRoot)
    .filter((id) => id.slice(16, -5) === name)
    .filter((id) => ['summary.json', EQUITY_FILE].every((file) => existsSync(path.join(runsRoot, id, file))))
    .sort();
  for (const id of candidates.reverse()) {
    const summary = JSON.parse(readFileSync(path.join(runsRoot, id, 'summary.json'), 'utf8')) as RunSummary;
    if (summary.mode === mode) return path.join(runsRoot, id);
  }
  return null;
}

function equityRows(file: string): EquityRow[] {
  const curve = readEquityFile(file);
  return Array.from(curve.time, (time, i) => ({
    time,
    equity: curve.equity[i]!,
    cash: curve.cash[i]!,
    positionValue: curve.positionValue[i]!,
  }));
}

function revive(_key: string, value: unknown): unknown {
  if (value === 'NaN') return Number.NaN;
  if (value === 'Infinity') return Number.POSITIVE_INFINITY;
  if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
  return value;
}
