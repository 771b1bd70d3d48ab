/**
 * The trials of an optimisation on disk: `trials.jsonl`, one JSON line per finished trial, written and fsynced before
 * the next is recorded (so SIGKILL loses no finished trial, and a line cut short by a crash is dropped and rewritten),
 * and its compaction `trials.parquet`, rewritten whole and renamed into place.
 *
 * @module
 */
import { closeSync, fdatasyncSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parquet } from '../store/parquet';
import { CorruptDataError } from '../core/errors';
import type { Metrics } from '../report/metrics';
import { jsonLine } from '../report/json-lines';
import { codecTable, float64Column, NullableFloat64Column, timestampColumn, Utf8Column, type TableColumn } from '../store/arrow-columns';
import { fsyncDir, writeAll } from '../store/durable';
import type { StrategyParameters } from '../strategy/base-strategy';

/** File name of the trial log inside `runs/optimize-<id>/`. */
export const TRIALS_LOG_FILE = 'trials.jsonl';
/** File name of the trials' Parquet compaction inside `runs/optimize-<id>/`. */
export const TRIALS_PARQUET_FILE = 'trials.parquet';

/**
 * One finished trial.
 *
 * - `id`: `w<window>-t<index>` for trial `index` of window `window`'s in-sample search, `w<window>-oos` for the
 *   out-of-sample run of that window's chosen parameters;
 * - `sample`: `in` or `out`; `index`: the trial's index in its search (−1 out of sample);
 * - `params`: every parameter value of the run; `point`: the sampler's unit-cube coordinates (empty out of sample);
 * - `score`: the objective (null when undefined or a constraint is missed);
 * - `from`, `to`: the span's open times `[from, to)` (UTC epoch ms), `candles` replayed;
 * - `metrics`: the backtest's metrics; `sharpePerCandle`, `skewness`, `kurtosis`: of the per-candle returns (Sharpe not
 *   annualised; kurtosis not excess), for the deflated Sharpe ratio;
 * - `equity`: out of sample only, the equity curve thinned to at most 1,000 points (open time, quote currency).
 */
export interface TrialRow {
  readonly id: string;
  readonly window: number;
  readonly sample: 'in' | 'out';
  readonly index: number;
  readonly params: StrategyParameters;
  readonly point: readonly number[];
  readonly score: number | null;
  readonly from: number;
  readonly to: number;
  readonly candles: number;
  readonly metrics: Metrics;
  readonly sharpePerCandle: number | null;
  readonly skewness: number;
  readonly kurtosis: number;
  readonly equity?: { readonly time: readonly number[]; readonly equity: readonly number[] };
}

/** An open `trials.jsonl`: the rows already in it, and {@link TrialLog.append} for new ones. */
export class TrialLog {
  readonly #fd: number;
  readonly rows: TrialRow[];

  private constructor(fd: number, rows: TrialRow[]) {
    this.#fd = fd;
    this.rows = rows;
  }

  /**
   * Opens (or creates) the log in `dir` and reads its rows; a last line without its newline (a write cut by a crash)
   * is cut off the file.
   *
   * @throws {@link "core/errors"!CorruptDataError | CorruptDataError} naming the line when a complete line is not a trial row.
   */
  static open(dir: string): TrialLog {
    const path = join(dir, TRIALS_LOG_FILE);
    const created = !existsSync(path);
    const fd = openSync(path, 'a+');
    if (created) fsyncDir(dir);
    const text = readFileSync(path, 'utf8');
    const complete = text.lastIndexOf('\n') + 1;
    if (complete < text.length) {
      ftruncateSync(fd, Buffer.byteLength(text.slice(0, complete)));
      fsyncSync(fd);
    }
    const rows = text
      .slice(0, complete)
      .split('\n')
      .filter((line) => line !== '')
      .map((line, i) => {
        try {
          return reviveRow(JSON.parse(line) as TrialRow);
        } catch (error) {
          throw new CorruptDataError(`${path}: line ${i + 1} is not a trial record`, { cause: error });
        }
      });
    return new TrialLog(fd, rows);
  }

  /** Appends a row and returns once it is on disk (fdatasync). */
  append(row: TrialRow): void {
    writeAll(this.#fd, Buffer.from(`${jsonLine(row)}\n`));
    fdatasyncSync(this.#fd);
    this.rows.push(row);
  }

  /** Closes the log's file. */
  close(): void {
    closeSync(this.#fd);
  }
}

/** Earlier names of metrics, by their current names: the logs of searches made before the rename resume. */
const FORMER_METRIC_NAMES: Readonly<Record<string, keyof Metrics>> = { expectancyPct: 'expectancyFraction' };

/** Non-finite metrics were written as strings (`"Infinity"`): numbers again; metrics under a former name renamed. */
function reviveRow(row: TrialRow): TrialRow {
  const metrics = Object.fromEntries(
    Object.entries(row.metrics).map(([k, v]) => [FORMER_METRIC_NAMES[k] ?? k, typeof v === 'string' ? Number(v) : v]),
  ) as unknown as Metrics;
  return { ...row, metrics };
}

/** The metric columns of `trials.parquet`, in order. */
const METRIC_KEYS: readonly (keyof Metrics)[] = [
  'totalReturn', 'cagr', 'sharpe', 'sortino', 'calmar', 'maxDrawdown', 'maxDrawdownDuration', 'trades', 'winRate',
  'profitFactor', 'expectancy', 'expectancyFraction', 'exposure', 'buyAndHoldReturn', 'startEquity', 'endEquity',
];

/**
 * Writes `rows` as `dir/trials.parquet` (Snappy), replacing it atomically (a temporary file, fsynced, renamed).
 * Columns: `id`, `window`, `sample`, `trial` (index), `param_<name>` per parameter (Float64 for numbers, Utf8 otherwise),
 * `score`, `from`, `to` (UTC ms timestamps), `candles`, each metric by its `Metrics` name (null where undefined), and
 * `sharpe_per_candle`, `skewness`, `kurtosis`.
 */
export function writeTrialsParquet(dir: string, rows: readonly TrialRow[]): string {
  const n = rows.length;
  const strings = (pick: (r: TrialRow) => string | undefined) => {
    const column = new Utf8Column(n);
    rows.forEach((r, i) => column.set(i, pick(r)));
    return column;
  };
  const numbers = (name: string, pick: (r: TrialRow) => number | null | undefined): TableColumn => {
    const column = new NullableFloat64Column(n);
    rows.forEach((r, i) => {
      const v = pick(r);
      column.set(i, v === null || v === undefined || Number.isNaN(v) ? undefined : v);
    });
    return column.column(name);
  };
  const time = (name: string, pick: (r: TrialRow) => number): TableColumn =>
    timestampColumn(name, Float64Array.from(rows, pick), false, (row, value) => new CorruptDataError(`trial ${row}: ${name} ${value} is not whole ms`));
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.params)))];
  const columns: TableColumn[] = [
    strings((r) => r.id).column('id', false),
    float64Column('window', Float64Array.from(rows, (r) => r.window)),
    strings((r) => r.sample).column('sample', false),
    float64Column('trial', Float64Array.from(rows, (r) => r.index)),
    ...names.map((name) =>
      rows.every((r) => typeof r.params[name] !== 'string' && typeof r.params[name] !== 'boolean')
        ? numbers(`param_${name}`, (r) => r.params[name] as number | undefined)
        : strings((r) => (r.params[name] === undefined ? undefined : String(r.params[name]))).column(`param_${name}`, true),
    ),
    numbers('score', (r) => r.score),
    time('from', (r) => r.from),
    time('to', (r) => r.to),
    float64Column('candles', Float64Array.from(rows, (r) => r.candles)),
    ...METRIC_KEYS.map((key) => numbers(key, (r) => r.metrics[key])),
    numbers('sharpe_per_candle', (r) => r.sharpePerCandle),
    numbers('skewness', (r) => r.skewness),
    numbers('kurtosis', (r) => r.kurtosis),
  ];
  const table = codecTable(columns.map(([field]) => field), columns.map(([, data]) => data), n);
  const bytes = parquet.writeParquet(table, new parquet.WriterPropertiesBuilder().setCompression(parquet.Compression.SNAPPY).build());
  const path = join(dir, TRIALS_PARQUET_FILE);
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    writeAll(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  fsyncDir(dirname(path));
  return path;
}
