/**
 * What an optimisation leaves for the researcher besides its trials: the walk-forward table printed at the end and the
 * best parameters as a file the backtest reads back (`--params-file`).
 *
 * @module
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Table from 'cli-table3';
import { FrameworkError } from '../core/errors';
import { formatMinute, formatNumber, formatPercent } from '../report/format';
import type { Metrics } from '../report/metrics';
import type { StrategyParameters } from '../strategy/base-strategy';
import type { OptimizeResult } from './optimize';

/** File name of the best parameters inside `runs/optimize-<id>/`. */
export const BEST_PARAMS_FILE = 'best-params.json';

/**
 * The best parameters of an optimisation, as `npm run backtest -- <strategy> --params-file <file>` reads them:
 * `params` (every parameter), and the in-sample span `[from, to)` (UTC epoch ms) they were chosen on, which the
 * backtest replays unless `--from`/`--to` are given, so that it reproduces `metrics`, the trial's, exactly. `trial`
 * names the row of `trials.parquet`.
 */
export interface ParamsFile {
  readonly strategy: string;
  readonly trial: string;
  readonly params: StrategyParameters;
  readonly from: number;
  readonly to: number;
  readonly metrics: Metrics;
}

/**
 * Writes `best-params.json`: the chosen trial of the last window that has one (the parameters to trade next).
 *
 * @returns its path, or null when no window chose a trial.
 */
export function writeBestParams(result: OptimizeResult): string | null {
  const chosen = [...result.windows].reverse().find((w) => w.chosen !== null)?.chosen ?? null;
  if (chosen === null) return null;
  const file: ParamsFile = {
    strategy: result.config.strategy.file,
    trial: chosen.id,
    params: chosen.params,
    from: chosen.from,
    to: chosen.to,
    metrics: chosen.metrics,
  };
  const path = join(result.dir, BEST_PARAMS_FILE);
  writeFileSync(path, `${JSON.stringify(file, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n`);
  return path;
}

/** What a parameters file gives: the parameter values as `--param` strings, and the span (UTC epoch ms) if it names one. */
export interface ParamsFileContents {
  readonly params: Record<string, string>;
  readonly from?: number;
  readonly to?: number;
}

/**
 * Reads a parameters file (see {@link ParamsFile}; only `params`, `from` and `to` are used) as `--param`-style strings
 * and the span.
 *
 * @throws {@link "core/errors"!FrameworkError | FrameworkError} naming the file when it cannot be read or has no `params` object of numbers, strings
 *   and booleans.
 */
export function readParamsFile(text: string, path: string): ParamsFileContents {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new FrameworkError(`--params-file ${path}: not JSON (${(error as Error).message})`);
  }
  const record = parsed as { params?: unknown; from?: unknown; to?: unknown };
  const params = record?.params;
  if (params === null || typeof params !== 'object' || Array.isArray(params) || !Object.values(params).every((v) => ['number', 'string', 'boolean'].includes(typeof v))) {
    throw new FrameworkError(`--params-file ${path}: expected { "params": { "name": value, … } } with numbers, strings or booleans`);
  }
  return {
    params: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])),
    ...(typeof record.from === 'number' && { from: record.from }),
    ...(typeof record.to === 'number' && { to: record.to }),
  };
}

/** The walk-forward windows as a text table: spans, chosen parameters, in-sample vs out-of-sample metrics, DSR. */
export function formatWindows(result: OptimizeResult): string {
  const table = new Table({
    head: ['Window', 'In sample (UTC)', 'Out of sample (UTC)', 'Chosen', 'Sharpe IS / OOS', 'Return IS / OOS', 'Trades IS / OOS', 'DSR'],
    style: { head: [], border: [] },
  });
  for (const w of result.windows) {
    const is = w.chosen?.metrics;
    const oos = w.outOfSample?.metrics;
    table.push([
      String(w.window.index),
      `${formatMinute(w.window.inSample.from)} → ${formatMinute(w.window.inSample.to)}`,
      `${formatMinute(w.window.outOfSample.from)} → ${formatMinute(w.window.outOfSample.to)}`,
      w.chosen === null ? 'none feasible' : Object.entries(w.chosen.params).map(([k, v]) => `${k}=${String(v)}`).join(' '),
      `${formatNumber(is?.sharpe ?? null, 2)} / ${formatNumber(oos?.sharpe ?? null, 2)}`,
      `${formatPercent(is?.totalReturn ?? null)} / ${formatPercent(oos?.totalReturn ?? null)}`,
      `${is?.trades ?? 'n/a'} / ${oos?.trades ?? 'n/a'}`,
      formatNumber(w.deflatedSharpe, 3),
    ]);
  }
  return table.toString();
}
